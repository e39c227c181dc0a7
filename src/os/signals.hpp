#pragma once

#include <csignal>
#include <initializer_list>
#include <sys/types.h>

namespace ppool::os {

/// Catches the given signals for the life of the object: they are blocked,
/// recorded by a handler, and delivered only inside the event loop's wait
/// (habit: signals are blocked except inside the wait). One at a time per process.
class SignalCatcher {
public:
    explicit SignalCatcher(std::initializer_list<int> signals);
    ~SignalCatcher();
    SignalCatcher(const SignalCatcher&) = delete;
    SignalCatcher& operator=(const SignalCatcher&) = delete;

    /// The mask the process had before, which children get back.
    const sigset_t& original_mask() const { return m_original; }

private:
    sigset_t m_original{};
    sigset_t m_caught{};
    struct sigaction m_old_actions[NSIG]{};
};

/// The mask to wait under (the blocked set minus the caught signals), or
/// nullptr when no catcher is installed.
const sigset_t* wait_mask();

/// The first caught signal not yet taken, or 0; clears it.
int take_caught_signal();

/// The caught signal, if any, without clearing it.
int peek_caught_signal();

/// The mask children should start with: the one before any catcher.
sigset_t child_mask();

/// Ignores SIGPIPE and SIGXFSZ, so that a vanished reader shows up as EPIPE
/// and a file size limit as EFBIG: errors to report, not deaths.
void ignore_write_signals();

}  // namespace ppool::os

namespace ppool::os {

/// In a freshly forked child: forgets the parent's catcher (the child gets
/// the original mask back and waits under it).
void forget_catcher_in_child();

/// Holds `signo` back (blocked) for this thread while alive; what arrives
/// meanwhile is delivered when it ends.
class SignalHold {
public:
    explicit SignalHold(int signo);
    ~SignalHold();
    SignalHold(const SignalHold&) = delete;
    SignalHold& operator=(const SignalHold&) = delete;
    /// The mask from before the hold: what a child started meanwhile should get.
    const sigset_t& previous() const { return m_previous; }

private:
    sigset_t m_previous;
};

/// Forks with `signo` held back in the child, which lets it through once it
/// has its handler; the parent's mask is as it was. Returns 0 in the child,
/// the child's pid in the parent, -1 with errno set when no child was made.
pid_t fork_holding(int signo);

}  // namespace ppool::os
