#include "os/file_parts.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

[[noreturn]] void fail(const std::string& what, int error = errno) {
    throw std::system_error(error, std::generic_category(), what);
}

[[noreturn]] void fail_text(const std::string& what) { throw std::runtime_error(what); }

std::string parent_of(const std::string& path) {
    auto slash = path.find_last_not_of('/');
    slash = slash == std::string::npos ? std::string::npos : path.rfind('/', slash);
    if (slash == std::string::npos) return {};
    auto end = path.find_last_not_of('/', slash);
    return end == std::string::npos ? std::string("/") : path.substr(0, end + 1);
}

}  // namespace

std::vector<std::string> make_parent_dirs(const std::string& path) {
    std::vector<std::string> missing;
    for (auto dir = parent_of(path); !dir.empty() && dir != "/" && dir != "." && dir != ".."; dir = parent_of(dir)) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) == 0) break;
        if (errno != ENOENT) fail("cannot look at " + dir);
        missing.push_back(dir);
    }
    std::vector<std::string> made;
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0777) != 0 && errno != EEXIST) fail("cannot create directory " + *it);
        made.push_back(*it);
    }
    return made;
}

void remove_with_empty_dirs(const std::string& path, const std::vector<std::string>& made) {
    ::unlink(path.c_str());
    for (auto it = made.rbegin(); it != made.rend(); ++it)
        if (::rmdir(it->c_str()) != 0) break;
    if (path.empty() || path.front() == '/') return;
    for (auto dir = parent_of(path); !dir.empty() && dir != "." && dir != ".."; dir = parent_of(dir))
        if (::rmdir(dir.c_str()) != 0) break;
}

void IncomingFile::begin(std::string path, std::uint32_t mode) {
    abort();
    made = make_parent_dirs(path);
    auto dir = parent_of(path);
    m_temp = (dir.empty() ? std::string() : dir + "/") + ".ppool-XXXXXX";
    int fd = ::mkostemp(m_temp.data(), O_CLOEXEC);
    if (fd < 0) {
        auto error = errno;
        m_temp.clear();
        fail("cannot write " + path, error);
    }
    m_fd = os::Fd(fd);
    m_path = std::move(path);
    m_mode = mode;
}

void IncomingFile::append(std::string_view data) {
    while (!data.empty()) {
        auto n = ::write(m_fd.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot write " + m_path);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void IncomingFile::commit() {
    if (::fchmod(m_fd.get(), static_cast<mode_t>(m_mode)) != 0) fail("cannot set the mode of " + m_path);
    if (::close(m_fd.release()) != 0) fail("cannot write " + m_path);
    if (::rename(m_temp.c_str(), m_path.c_str()) != 0) fail("cannot write " + m_path);
    m_temp.clear();
}

void IncomingFile::abort() {
    m_fd.reset();
    if (!m_temp.empty()) ::unlink(m_temp.c_str());
    m_temp.clear();
}

OutgoingFile::OutgoingFile(const std::string& path) : m_path(path) {
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (raw < 0) fail("cannot read " + path);
    m_fd = os::Fd(raw);
    struct stat st {};
    if (::fstat(m_fd.get(), &st) != 0) fail("cannot read " + path);
    if (S_ISDIR(st.st_mode)) fail("cannot read " + path, EISDIR);
    if (!S_ISREG(st.st_mode)) fail_text("not a regular file");
    m_mode = static_cast<std::uint32_t>(st.st_mode & 07777);
}

bool OutgoingFile::read(std::string& data, std::size_t max) {
    data.resize(max);
    std::size_t got = 0;
    while (got < max) {
        auto n = ::read(m_fd.get(), data.data() + got, max - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("cannot read " + m_path);
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    return got < max;
}

std::string failure_reason(const std::exception& e) {
    if (const auto* s = dynamic_cast<const std::system_error*>(&e)) return s->code().message();
    return e.what();
}

}  // namespace ppool::os
