#include "os/private_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

/// Where to make the directory: a Unix socket's path must fit in 108 bytes,
/// so a long $TMPDIR gives way to /tmp.
std::string base_dir() {
    const char* dir = std::getenv("TMPDIR");
    std::string base = dir && *dir ? dir : "/tmp";
    return base.size() <= 60 ? base : "/tmp";
}

}  // namespace

PrivateDir PrivateDir::create(const std::string& prefix) {
    std::string path = base_dir() + "/" + prefix + "-XXXXXX";
    // mkdtemp makes it 0700 whatever the umask.
    if (!::mkdtemp(path.data()))
        throw std::system_error(errno, std::generic_category(), "cannot create a directory in " + base_dir());
    PrivateDir dir;
    dir.m_path = std::move(path);
    return dir;
}

PrivateDir& PrivateDir::operator=(PrivateDir&& other) noexcept {
    if (this != &other) {
        remove();
        m_path = std::move(other.m_path);
        other.m_path.clear();
    }
    return *this;
}

void PrivateDir::remove() noexcept {
    if (m_path.empty()) return;
    // Only what ppool puts there: files and sockets, no subdirectories.
    if (DIR* dir = ::opendir(m_path.c_str())) {
        int fd = ::dirfd(dir);
        while (dirent* entry = ::readdir(dir)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..") ::unlinkat(fd, name.c_str(), 0);
        }
        ::closedir(dir);
    }
    ::rmdir(m_path.c_str());
    m_path.clear();
}

}  // namespace ppool::os
