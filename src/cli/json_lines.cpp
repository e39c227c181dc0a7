// JSON Lines of a run's results: the fast path of the one JSON writer, for
// the small successful results that a million-item run is mostly made of.
#include "cli/json.hpp"
#include "cli/sink.hpp"

#include <cstring>
#include <memory>
#include <fmt/compile.h>
#include <fmt/format.h>

namespace ppool::cli {

namespace {

/// Whether `s` is printed as it is: ASCII that JSON needs no escape for.
bool is_plain(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
    return true;
}

char* put(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

/// The digits of ns / 1e9 as the shortest decimal that reads back as that
/// double, laid out as fmt lays out "{}": exponent form below 1e-4.
char* put_seconds(char* p, std::uint64_t ns) {
    if (ns == 0) return put(p, "0");
    fmt::format_int text(ns);
    std::string_view digits(text.data(), text.size());
    // Below 10^15 ns the double's 15+ digits hold every digit of ns, and no
    // shorter decimal reads back as the same double.
    int exponent = static_cast<int>(digits.size()) - 1 - 9;
    while (digits.back() == '0') digits.remove_suffix(1);
    auto n = static_cast<int>(digits.size());
    if (exponent < -4) {
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            p = put(p, digits.substr(1));
        }
        // At least 1 ns: the exponent is -5 to -9, written as fmt writes it, "e-05".
        p = put(p, "e-0");
        *p++ = static_cast<char>('0' - exponent);
        return p;
    }
    if (exponent < 0) {
        p = put(p, "0.");
        for (int i = -1; i > exponent; --i) *p++ = '0';
        return put(p, digits);
    }
    int whole = exponent + 1;
    for (int i = 0; i < whole; ++i) *p++ = i < n ? digits[static_cast<std::size_t>(i)] : '0';
    if (n > whole) {
        *p++ = '.';
        p = put(p, digits.substr(static_cast<std::size_t>(whole)));
    }
    return p;
}

constexpr std::uint64_t k_exact_ns_limit = 1'000'000'000'000'000;

}  // namespace

void append_seconds(std::string& out, std::uint64_t ns) {
    char buffer[64];
    char* end = ns < k_exact_ns_limit ? put_seconds(buffer, ns)
                                      : fmt::format_to(buffer, FMT_COMPILE("{}"), static_cast<double>(ns) / 1e9);
    out.append(buffer, end);
}

namespace {

constexpr std::size_t k_small = 256;

/// Writes the object append_json_result makes of a fast entry (at most k_small + 256 bytes).
char* put_entry(char* p, const ResultRun::Entry& e) {
    p = put(p, "{\"seq\":");
    p = fmt::format_to(p, FMT_COMPILE("{}"), e.seq);
    p = put(p, ",\"input\":\"");
    p = put(p, e.input);
    p = put(p, "\",\"ok\":true,\"status\":\"ok\",\"output\":\"");
    p = put(p, e.output);
    p = put(p, "\",\"stderr\":null,\"exit_code\":null,\"signal\":null,\"timed_out\":false,\"error\":null,\"duration_s\":");
    p = put_seconds(p, e.duration_ns);
    p = put(p, ",\"worker\":");
    p = fmt::format_to(p, FMT_COMPILE("{}"), e.worker);
    p = put(p, ",\"host\":\"");
    p = put(p, e.host);
    p = put(p, "\",\"attempts\":");
    p = fmt::format_to(p, FMT_COMPILE("{}"), e.attempts);
    *p++ = '}';
    return p;
}

}  // namespace

bool is_fast_entry(const ResultRun::Entry& e) {
    return e.ok() && !e.is_command && !e.large_output && !e.large_stderr &&
           e.input.size() + e.output.size() + e.host.size() <= k_small && e.duration_ns < k_exact_ns_limit &&
           is_plain(e.input) && is_plain(e.output) && is_plain(e.host);
}

void append_fast_entry(std::string& out, const ResultRun::Entry& e) {
    char buffer[k_small + 256];
    out.append(buffer, put_entry(buffer, e));
}

void write_json_lines(OutputBuffer& out, ResultRun& run, const std::function<void(const ResultRun::Entry&)>& other) {
    // Lines are built in place in a block that goes to stdout, behind what
    // `out` holds, once full: JSON is ~90 times the bytes of the text output,
    // and each copy of it counts. Only the last, partial block is buffered.
    constexpr std::size_t k_block = 1 << 16;
    static const auto block = std::make_unique_for_overwrite<char[]>(k_block + k_small + 512);
    char* begin = block.get();
    char* p = begin;
    while (!run.empty()) {
        auto e = run.pop();
        if (!is_fast_entry(e)) {
            out.data().append(begin, p);
            p = begin;
            other(e);
            continue;
        }
        p = put_entry(p, e);
        *p++ = '\n';
        if (static_cast<std::size_t>(p - begin) >= k_block) {
            out.write_through(std::string_view(begin, static_cast<std::size_t>(p - begin)));
            p = begin;
        }
    }
    out.data().append(begin, p);
    out.maybe_flush();
}

}  // namespace ppool::cli
