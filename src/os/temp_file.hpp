#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "os/fd.hpp"

namespace ppool::os {

/// A temporary file with no name: created unlinked in $TMPDIR (or /tmp), so
/// that nothing is left behind however the process ends.
class TempFile {
public:
    /// Creates the file; throws std::system_error.
    static TempFile create();

    /// Appends bytes; throws std::system_error (ENOSPC, EFBIG, ...) and never
    /// writes part of `data` silently.
    void append(std::string_view data);
    std::uint64_t size() const { return m_size; }
    /// Calls `block` with the contents in order, in pieces of at most `max` bytes.
    void for_each_block(const std::function<void(std::string_view)>& block, std::size_t max = 1 << 20) const;
    /// Writes the contents to `fd` with sendfile (no copy through this
    /// process); false, having written nothing, where the kernel cannot send
    /// to that descriptor. Throws std::system_error (EPIPE, ENOSPC, ...).
    bool send_to(int fd) const;

private:
    Fd m_fd;
    std::uint64_t m_size = 0;
};

}  // namespace ppool::os
