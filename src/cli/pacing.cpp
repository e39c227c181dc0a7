#include "cli/pacing.hpp"

#include "cli/options.hpp"
#include "cli/values.hpp"
#include "os/cpu.hpp"
#include "ppool/errors.hpp"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <fmt/format.h>

namespace ppool::cli {

namespace {

/// Memory sizes beyond this are a typing mistake (1 PiB).
constexpr std::uint64_t k_max_memfree = std::uint64_t{1} << 50;
/// The longest --delay: a day.
constexpr double k_max_delay_s = 86400;

/// `text` as a finite number >= 0 in decimal digits, maybe with a fraction.
std::optional<double> plain_number(std::string_view text) {
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    double value = 0;
    auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
    if (error != std::errc() || stop != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

/// "N" or "N%" with N a whole number from 1, as --halt's count.
std::optional<HaltRule> halt_count(HaltRule rule, std::string_view text) {
    rule.percent = !text.empty() && text.back() == '%';
    if (rule.percent) text.remove_suffix(1);
    auto n = parse_whole(text, 1, rule.percent ? 100 : std::numeric_limits<std::int64_t>::max());
    if (!n) return std::nullopt;
    rule.count = *n;
    return rule;
}

}  // namespace

std::optional<HaltRule> parse_halt(std::string_view text) {
    using When = HaltRule::When;
    using On = HaltRule::On;
    // GNU parallel's older spellings.
    if (text == "never" || text == "0") return HaltRule{};
    if (text == "1") return HaltRule{When::soon, On::fail, 1, false};
    if (text == "2") return HaltRule{When::now, On::fail, 1, false};
    if (text == "-1") return HaltRule{When::soon, On::success, 1, false};
    if (text == "-2") return HaltRule{When::now, On::success, 1, false};
    if (!text.empty() && text.back() == '%' && text.find(',') == std::string_view::npos) {
        auto rule = halt_count(HaltRule{When::soon, On::fail, 1, true}, text);
        if (rule && rule->count < 100) return rule;
        return std::nullopt;
    }
    auto comma = text.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    auto when = text.substr(0, comma);
    auto why = text.substr(comma + 1);
    auto equals = why.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    auto on = why.substr(0, equals);
    HaltRule rule;
    if (when == "now") rule.when = When::now;
    else if (when == "soon") rule.when = When::soon;
    else return std::nullopt;
    if (on == "fail") rule.on = On::fail;
    else if (on == "success") rule.on = On::success;
    else if (on == "done") rule.on = On::done;
    else return std::nullopt;
    return halt_count(rule, why.substr(equals + 1));
}

std::optional<double> parse_duration(std::string_view text) {
    if (auto seconds = plain_number(text)) return seconds;
    if (text.empty()) return std::nullopt;
    double total = 0;
    while (!text.empty()) {
        auto unit_at = text.find_first_of("smhd");
        if (unit_at == std::string_view::npos) return std::nullopt;
        auto number = plain_number(text.substr(0, unit_at));
        if (!number) return std::nullopt;
        switch (text[unit_at]) {
        case 's': total += *number; break;
        case 'm': total += *number * 60; break;
        case 'h': total += *number * 3600; break;
        default: total += *number * 86400; break;
        }
        text.remove_prefix(unit_at + 1);
    }
    return total;
}

std::optional<double> parse_load(std::string_view text, unsigned cpus) {
    bool percent = !text.empty() && text.back() == '%';
    if (percent) text.remove_suffix(1);
    auto value = plain_number(text);
    if (!value) return std::nullopt;
    if (percent) *value = *value * cpus / 100;
    // As GNU parallel: 0 is taken as 0.01.
    return std::max(*value, 0.01);
}

void add_pacing_options(CLI::App& sub, PacingOptions& raw) {
    auto add = [&sub](const std::string& name, std::optional<std::string>& value, const std::string& help,
                      const std::string& type_name) {
        auto keep = [&value](const std::string& typed) { value = typed; };
        sub.add_option_function<std::string>(name, keep, help)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
            ->group("Workflow")
            ->type_name(type_name);
    };
    add("--halt", raw.halt, "stop early: now|soon,fail|success|done=N or N%", "WHEN,WHY");
    add("--delay", raw.delay, "start tasks at least SECS apart (1.5, 2m, 1h30m)", "SECS");
    add("--load", raw.load, "no start while the 1-minute load is above MAX", "MAX");
    add("--memfree", raw.memfree, "no start while free memory is below SIZE", "SIZE");
}

void check_pacing(Options& o, const PacingOptions& raw) {
    if (raw.halt) {
        auto rule = parse_halt(*raw.halt);
        if (!rule)
            throw UsageError(fmt::format("--halt needs now or soon, then fail, success or done =N or =N% "
                                         "(as in now,fail=1), not '{}'",
                                         *raw.halt));
        o.halt = *rule;
    }
    if (raw.delay) {
        auto seconds = parse_duration(*raw.delay);
        if (!seconds || *seconds > k_max_delay_s)
            throw UsageError(fmt::format("--delay needs seconds from 0 to a day (2.5, 30s, 1m30s), not '{}'",
                                         *raw.delay));
        o.delay = *seconds;
    }
    if (raw.load) {
        auto load = parse_load(*raw.load, static_cast<unsigned>(os::usable_cpus()));
        if (!load) throw UsageError(fmt::format("--load needs a load average or N% of the CPUs, not '{}'", *raw.load));
        o.load = *load;
    }
    if (raw.memfree) {
        auto bytes = parse_gnu_size(*raw.memfree, k_max_memfree);
        if (!bytes)
            throw UsageError(fmt::format("--memfree needs a size in bytes, with k, m, g, t or K, M, G, T "
                                         "(as 2G), not '{}'",
                                         *raw.memfree));
        o.memfree = *bytes;
    }
}

void check_timeout(Options& o, const std::string& typed) {
    if (!typed.empty() && typed.back() == '%') {
        auto percent = plain_number(std::string_view(typed).substr(0, typed.size() - 1));
        if (!percent || *percent <= 0)
            throw UsageError(fmt::format("--timeout needs seconds or a percentage above 0 of the median run "
                                         "time (200%), not '{}'",
                                         typed));
        o.timeout_percent = *percent;
        return;
    }
    auto seconds = parse_seconds(typed);
    if (!seconds) seconds = parse_duration(typed);
    if (!seconds || *seconds <= 0)
        throw UsageError(fmt::format("--timeout needs a positive number of seconds, not '{}'", typed));
    o.timeout = *seconds;
}

}  // namespace ppool::cli
