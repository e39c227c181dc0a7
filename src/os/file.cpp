#include "os/file.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

FileType type_of(mode_t mode) {
    if (S_ISREG(mode)) return FileType::regular;
    if (S_ISDIR(mode)) return FileType::directory;
    if (S_ISFIFO(mode)) return FileType::fifo;
    if (S_ISSOCK(mode)) return FileType::socket;
    if (S_ISCHR(mode)) return FileType::character_device;
    if (S_ISBLK(mode)) return FileType::block_device;
    return FileType::other;
}

}  // namespace

std::optional<FileType> file_type(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return type_of(st.st_mode);
    if (errno == ENOENT) return std::nullopt;
    throw_errno(path);
}

FileType file_type(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno("fstat");
    return type_of(st.st_mode);
}

Fd open_append(const std::string& path, int& error) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666));
    error = fd ? 0 : errno;
    // Non-blocking only to open: a FIFO's reader may be slow, and must be waited for.
    if (fd) set_nonblocking(fd.get(), false);
    return fd;
}

std::string current_directory() {
    char* here = ::getcwd(nullptr, 0);
    if (!here) throw_errno("getcwd");
    std::string path(here);
    std::free(here);
    return path;
}

int enter_directory(const std::string& path) { return ::chdir(path.c_str()) == 0 ? 0 : errno; }

DirectoryGuard::DirectoryGuard() : m_fd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}

DirectoryGuard::~DirectoryGuard() {
    // Best effort: a directory removed meanwhile leaves the process where it is.
    if (m_fd) [[maybe_unused]] int r = ::fchdir(m_fd.get());
}

FileContent read_regular_file(const std::string& path) {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever.
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) {
        int error = errno;
        // A socket cannot be opened at all: say what it is rather than ENXIO.
        if (auto type = file_type(path); !type || *type != FileType::regular) return FileContent{type, {}};
        throw std::system_error(error, std::generic_category(), path);
    }
    FileContent content{file_type(fd.get()), {}};
    if (content.type != FileType::regular) return content;
    while (read_some(fd.get(), content.text, 1 << 16) != IoStatus::closed) {
    }
    return content;
}

FileEnd file_end(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(path);
    FileEnd end{static_cast<std::uint64_t>(st.st_size), std::nullopt};
    if (st.st_size == 0) return end;
    // An O_APPEND descriptor is write-only: read the last byte through a second one.
    Fd reader(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    char last = 0;
    if (reader && ::pread(reader.get(), &last, 1, st.st_size - 1) == 1) end.last = last;
    return end;
}

std::string file_start(const std::string& path, std::size_t max) {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer.
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd || file_type(fd.get()) != FileType::regular) return {};
    std::string text(max, '\0');
    std::size_t got = 0;
    while (got < max) {
        auto n = ::pread(fd.get(), text.data() + got, max - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return text;
}

}  // namespace ppool::os
