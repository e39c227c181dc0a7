#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "os/fd.hpp"

namespace ppool::os {

/// What `stat` says a file is.
enum class FileType { regular, directory, fifo, socket, character_device, block_device, other };

/// The type of the file at `path`, following symbolic links; nothing if it
/// does not exist. Throws std::system_error for other failures.
std::optional<FileType> file_type(const std::string& path);

/// The type of an open file.
FileType file_type(int fd);

/// Opens (creating it, mode 0666 less the umask) `path` for appending,
/// close-on-exec, never blocking in open(): a FIFO that no process reads
/// fails with ENXIO instead of waiting for a reader. A terminal does not
/// become the controlling one. The errno of a failure in `error`.
Fd open_append(const std::string& path, int& error);

/// This process's working directory; throws std::system_error.
std::string current_directory();

/// Makes `path` the working directory; the errno of a failure, else 0.
int enter_directory(const std::string& path);

/// Takes the process back to the working directory it had when made.
class DirectoryGuard {
public:
    DirectoryGuard();
    ~DirectoryGuard();
    DirectoryGuard(const DirectoryGuard&) = delete;
    DirectoryGuard& operator=(const DirectoryGuard&) = delete;

private:
    Fd m_fd;
};

/// A file's content, read only if it is a regular file.
struct FileContent {
    std::optional<FileType> type;  ///< nothing: the file does not exist
    std::string text;              ///< the content of a regular file
};

/// Reads the file at `path` if it is a regular file; anything else (a FIFO,
/// a device, a directory, a socket) is left unread, and never blocks, and
/// `type` says what it is. Throws std::system_error for other failures.
FileContent read_regular_file(const std::string& path);

/// The size of an open file and its last byte (if it has one).
struct FileEnd {
    std::uint64_t size = 0;
    std::optional<char> last;
};
FileEnd file_end(int fd, const std::string& path);

/// Up to `max` bytes from the start of the regular file at `path`; empty for
/// a file that is not regular, or cannot be opened or read.
std::string file_start(const std::string& path, std::size_t max);

}  // namespace ppool::os
