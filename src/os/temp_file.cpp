#include "os/temp_file.hpp"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <sys/sendfile.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

std::string temp_dir() {
    const char* dir = std::getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

}  // namespace

TempFile TempFile::create() {
    std::string dir = temp_dir();
    TempFile file;
    int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        // No O_TMPFILE here: create a named file and unlink it at once.
        std::string path = dir + "/ppool-spill-XXXXXX";
        fd = ::mkostemp(path.data(), O_CLOEXEC);
        if (fd >= 0) ::unlink(path.c_str());
    }
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create a temporary file in " + dir);
    file.m_fd.reset(fd);
    return file;
}

void TempFile::append(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::pwrite(m_fd.get(), data.data(), data.size(), static_cast<off_t>(m_size));
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "cannot store the output");
        }
        m_size += static_cast<std::uint64_t>(n);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void TempFile::for_each_block(const std::function<void(std::string_view)>& block, std::size_t max) const {
    std::unique_ptr<char[]> buffer(new char[max]);
    std::uint64_t at = 0;
    while (at < m_size) {
        ssize_t n = ::pread(m_fd.get(), buffer.get(), max, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "cannot read back the output");
        block(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
        at += static_cast<std::uint64_t>(n);
    }
}

bool TempFile::send_to(int fd) const {
    off_t at = 0;
    while (static_cast<std::uint64_t>(at) < m_size) {
        std::uint64_t left = m_size - static_cast<std::uint64_t>(at);
        ssize_t n = ::sendfile(fd, m_fd.get(), &at, static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 30)));
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        // Nothing sent yet and the kernel cannot do it for this descriptor
        // (O_APPEND, a terminal on an old kernel): the caller copies instead.
        if (n < 0 && at == 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) return false;
        if (n < 0 && errno == EAGAIN) {
            // A non-blocking descriptor that is full: wait until it takes more.
            struct pollfd p {fd, POLLOUT, 0};
            ::poll(&p, 1, -1);
            continue;
        }
        throw std::system_error(n < 0 ? errno : EIO, std::generic_category(), "write");
    }
    return true;
}

}  // namespace ppool::os
