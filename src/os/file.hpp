#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "os/fd.hpp"

namespace ppool::os {

/// Opens (creating it, mode 0666 less the umask) `path` for appending,
/// close-on-exec; the errno of a failure in `error`.
Fd open_append(const std::string& path, int& error);

/// The whole content of the file at `path`; no value if it does not exist.
/// Throws std::system_error for other failures.
std::optional<std::string> read_file(const std::string& path);

/// The size of an open file and its last byte (if it has one).
struct FileEnd {
    std::uint64_t size = 0;
    std::optional<char> last;
};
FileEnd file_end(int fd, const std::string& path);

}  // namespace ppool::os
