#pragma once

#include <initializer_list>

namespace ppool::os {

/// Splits this process in two so that nothing the rest of it starts can
/// outlive it, however it ends. The child returns and goes on in this
/// process's group, getting `death_signal` when its parent dies. This process
/// stays as the child's keeper and never returns: a child subreaper that
/// passes SIGTERM on to the child and holds only descriptors 0 to 2 and
/// `keep`. Once the child has ended, even by a third party's SIGKILL, the
/// keeper kills (SIGKILL) what it left behind: every process re-parented to
/// the keeper, with the process group it leads; then the keeper ends as the
/// child ended, closing `keep` (the channel to whoever watches this process,
/// which then learns that nothing is left).
///
/// For a single-threaded process that leads its group. Where no second
/// process can be made (a process limit), it returns without a keeper.
void split_off_keeper(int death_signal, std::initializer_list<int> keep);

}  // namespace ppool::os
