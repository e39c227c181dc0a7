#include "os/limits.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <dirent.h>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ppool::os {

namespace {

std::optional<std::uint64_t> soft_limit(int resource) {
    rlimit limit{};
    if (::getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
    return static_cast<std::uint64_t>(limit.rlim_cur);
}

/// Calls `entry` with each name in directory `path`; false if it cannot be read.
template <class F>
bool for_each_entry(const char* path, F entry) {
    DIR* dir = ::opendir(path);
    if (!dir) return false;
    while (dirent* e = ::readdir(dir)) entry(e->d_name);
    ::closedir(dir);
    return true;
}

}  // namespace

std::optional<std::uint64_t> memory_limit() {
    auto as = soft_limit(RLIMIT_AS);
    auto data = soft_limit(RLIMIT_DATA);
    if (as && data) return std::min(*as, *data);
    return as ? as : data;
}

std::uint64_t open_file_limit() { return soft_limit(RLIMIT_NOFILE).value_or(1 << 20); }

std::uint64_t open_file_count() {
    std::uint64_t count = 0;
    for_each_entry("/proc/self/fd", [&](const char* name) { count += std::isdigit(static_cast<unsigned char>(name[0])) != 0; });
    // One of them was the directory being read.
    return count > 0 ? count - 1 : 0;
}

std::optional<std::uint64_t> process_limit() {
    if (::getuid() == 0) return std::nullopt;
    return soft_limit(RLIMIT_NPROC);
}

std::uint64_t user_process_count() {
    uid_t uid = ::getuid();
    std::uint64_t count = 0;
    for_each_entry("/proc", [&](const char* name) {
        if (!std::isdigit(static_cast<unsigned char>(name[0]))) return;
        std::string dir = std::string("/proc/") + name;
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || st.st_uid != uid) return;
        // Threads count too: RLIMIT_NPROC counts tasks.
        std::ifstream status(dir + "/status");
        std::string line;
        std::uint64_t threads = 1;
        while (std::getline(status, line))
            if (line.rfind("Threads:", 0) == 0) threads = std::stoull(line.substr(8));
        count += threads;
    });
    return count;
}

std::string cgroup_value(const std::string& name) {
    std::ifstream self("/proc/self/cgroup");
    std::string line, path;
    while (std::getline(self, line))
        if (line.rfind("0::", 0) == 0) path = line.substr(3);
    if (path.empty()) return {};
    std::ifstream file("/sys/fs/cgroup" + path + "/" + name);
    if (!file && path != "/") file.open("/sys/fs/cgroup/" + name);
    std::string value;
    std::getline(file, value);
    return value;
}

std::optional<std::uint64_t> cgroup_processes_left() {
    auto max = cgroup_value("pids.max");
    auto current = cgroup_value("pids.current");
    std::uint64_t m = 0, c = 0;
    auto parsed = [](const std::string& text, std::uint64_t& v) {
        auto r = std::from_chars(text.data(), text.data() + text.size(), v);
        return r.ec == std::errc{} && r.ptr == text.data() + text.size();
    };
    if (!parsed(max, m) || !parsed(current, c)) return std::nullopt;
    return m > c ? m - c : 0;
}

}  // namespace ppool::os
