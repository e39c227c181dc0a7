#include "cli/values.hpp"

#include <algorithm>

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <string>

namespace ppool::cli {

std::optional<std::uint64_t> parse_whole(std::string_view text, std::uint64_t min, std::uint64_t max) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    // from_chars takes no sign, space or base prefix, and reports overflow:
    // only what a user would read as a plain number gets through.
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
    if (value < min || value > max) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> parse_processes(std::string_view text, std::uint64_t cpus, std::uint64_t max) {
    if (text.empty()) return std::nullopt;
    std::optional<std::uint64_t> n;
    if (text.front() == '+') {
        if (auto more = parse_whole(text.substr(1), 0, max)) n = cpus + *more;
    } else if (text.front() == '-') {
        if (auto fewer = parse_whole(text.substr(1), 0, max)) n = *fewer < cpus ? cpus - *fewer : 0;
    } else if (text.back() == '%') {
        if (auto percent = parse_whole(text.substr(0, text.size() - 1), 1, 1'000'000))
            n = std::max<std::uint64_t>(1, cpus * *percent / 100);
    } else {
        n = parse_whole(text, 1, max);
    }
    if (!n || *n > max) return std::nullopt;
    return *n;
}

std::optional<double> parse_seconds(std::string_view text) {
    double value = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
    if (!std::isfinite(value) || value <= 0) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::uint64_t max) {
    int shift = 0;
    if (!text.empty()) {
        switch (text.back()) {
        case 'K': case 'k': shift = 10; break;
        case 'M': case 'm': shift = 20; break;
        case 'G': case 'g': shift = 30; break;
        }
    }
    if (shift > 0) text.remove_suffix(1);
    auto number = parse_whole(text, 1, max >> shift);
    if (!number) return std::nullopt;
    return *number << shift;
}

std::string format_size(std::uint64_t bytes) {
    constexpr std::string_view k_units[] = {"GiB", "MiB", "KiB"};
    int shift = 30;
    for (auto unit : k_units) {
        std::uint64_t size = std::uint64_t{1} << shift;
        if (bytes >= size && bytes % size == 0) return fmt::format("{} {}", bytes >> shift, unit);
        shift -= 10;
    }
    return fmt::format("{} {}", bytes, bytes == 1 ? "byte" : "bytes");
}

std::optional<std::uint64_t> parse_gnu_size(std::string_view text, std::uint64_t max) {
    constexpr std::string_view k_suffixes = "kmgtKMGT";
    double factor = 1;
    if (!text.empty() && k_suffixes.find(text.back()) != std::string_view::npos) {
        auto at = k_suffixes.find(text.back());
        double base = at < 4 ? 1000.0 : 1024.0;
        for (std::size_t i = 0; i <= at % 4; ++i) factor *= base;
        text.remove_suffix(1);
    }
    // Digits, at most one point, and a digit before it.
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    if (text.find_first_not_of("0123456789.") != std::string_view::npos) return std::nullopt;
    if (std::count(text.begin(), text.end(), '.') > 1 || text.back() == '.') return std::nullopt;
    if (text.size() > 30) return std::nullopt;
    double value = std::stod(std::string(text)) * factor;
    if (!(value >= 1) || value > static_cast<double>(max)) return std::nullopt;
    return static_cast<std::uint64_t>(value);
}

}  // namespace ppool::cli
