#include "os/file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

}  // namespace

Fd open_append(const std::string& path, int& error) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    error = fd < 0 ? errno : 0;
    return Fd(fd);
}

std::optional<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno(path);
    }
    Fd owner(fd);
    std::string text;
    while (read_some(fd, text, 1 << 16) != IoStatus::closed) {
    }
    return text;
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

}  // namespace ppool::os
