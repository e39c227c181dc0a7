#include "os/sysload.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace ppool::os {

namespace {

/// The start of the file `variable` names, else of `path`; empty if unreadable.
std::string read_small(const char* variable, const char* path) {
    const char* chosen = std::getenv(variable);
    if (!chosen || !*chosen) chosen = path;
    int fd = ::open(chosen, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string text(8192, '\0');
    std::size_t size = 0;
    while (size < text.size()) {
        auto n = ::read(fd, text.data() + size, text.size() - size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        size += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text.resize(size);
    return text;
}

}  // namespace

std::optional<double> parse_loadavg(std::string_view text) {
    auto end = text.find_first_of(" \t\n");
    auto field = text.substr(0, end);
    double value = 0;
    auto [stop, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || error != std::errc() || stop != field.data() + field.size() || value < 0)
        return std::nullopt;
    return value;
}

std::optional<std::uint64_t> parse_meminfo(std::string_view text) {
    constexpr std::string_view k_key = "MemAvailable:";
    auto at = text.find(k_key);
    if (at == std::string_view::npos || (at > 0 && text[at - 1] != '\n')) return std::nullopt;
    auto rest = text.substr(at + k_key.size());
    rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(" \t")));
    std::uint64_t kib = 0;
    auto [stop, error] = std::from_chars(rest.data(), rest.data() + rest.size(), kib);
    if (error != std::errc() || stop == rest.data()) return std::nullopt;
    return kib * 1024;
}

std::optional<double> load_average() { return parse_loadavg(read_small("PPOOL_TEST_LOADAVG", "/proc/loadavg")); }

std::optional<std::uint64_t> memory_available() {
    return parse_meminfo(read_small("PPOOL_TEST_MEMINFO", "/proc/meminfo"));
}

}  // namespace ppool::os
