#include "os/temp_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
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

}  // namespace ppool::os
