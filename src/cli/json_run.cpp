// JSON objects of a run's results, written without a TaskResult: the JSON
// output of a million small results is mostly this.
#include "cli/json.hpp"

#include <cstring>
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
        return fmt::format_to(p, FMT_COMPILE("e-{:02}"), -exponent);
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

void append_json_run_entry(std::string& out, const ResultRun::Entry& e, int worker) {
    constexpr std::size_t k_small = 256;
    if (e.input.size() + e.output.size() > k_small || e.duration_ns >= k_exact_ns_limit || !is_plain(e.input) ||
        !is_plain(e.output)) {
        // Anything unusual: the per-item path's own code, so the bytes are the same.
        TaskResult r;
        r.seq = e.seq;
        r.input = e.input;
        r.ok = true;
        r.status = Status::ok;
        r.output = e.output;
        r.duration_s = e.duration_s;
        r.worker = worker;
        append_json_result(out, r);
        return;
    }
    // The object append_json_result makes of a successful registered-task result, in one append.
    char buffer[k_small + 256];
    char* p = put(buffer, "{\"seq\":");
    p = fmt::format_to(p, FMT_COMPILE("{}"), e.seq);
    p = put(p, ",\"input\":\"");
    p = put(p, e.input);
    p = put(p, "\",\"ok\":true,\"status\":\"ok\",\"output\":\"");
    p = put(p, e.output);
    p = put(p, "\",\"stderr\":null,\"exit_code\":null,\"signal\":null,\"timed_out\":false,\"error\":null,\"duration_s\":");
    p = put_seconds(p, e.duration_ns);
    p = put(p, ",\"worker\":");
    p = fmt::format_to(p, FMT_COMPILE("{}"), worker);
    *p++ = '}';
    out.append(buffer, p);
}

}  // namespace ppool::cli
