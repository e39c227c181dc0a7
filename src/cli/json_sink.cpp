#include "cli/encoding.hpp"
#include "cli/json.hpp"
#include "cli/sink.hpp"

#include <fmt/format.h>

namespace ppool::cli {

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char k_hex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0;  // start of the bytes that need no escaping
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(text.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            out += "\\u00";
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    out.append(text.data() + run, text.size() - run);
    out += '"';
}

namespace {

/// `"key":"text"`, or `"key":null,"key_base64":"..."` when the bytes are not UTF-8.
void put_text(std::string& out, std::string_view key, std::string_view value) {
    fmt::format_to(std::back_inserter(out), ",\"{}\":", key);
    if (is_valid_utf8(value)) {
        append_json_string(out, value);
    } else {
        fmt::format_to(std::back_inserter(out), "null,\"{}_base64\":\"{}\"", key, base64(value));
    }
}

template <class T>
void put_optional(std::string& out, std::string_view key, const std::optional<T>& value) {
    if (value)
        fmt::format_to(std::back_inserter(out), ",\"{}\":{}", key, *value);
    else
        fmt::format_to(std::back_inserter(out), ",\"{}\":null", key);
}

class JsonSink final : public Sink {
public:
    explicit JsonSink(bool array) : m_array(array) {}
    void write(const TaskResult& r) override {
        auto& out = m_out.data();
        if (m_array) out += m_first ? "[\n" : ",\n";
        m_first = false;
        append_json_result(out, r);
        if (!m_array) out += '\n';
        m_out.maybe_flush();
    }
    void report_failure(const TaskResult& r) override {
        m_out.flush();
        OutputBuffer err(2);
        err.data() = failure_line(r);
        err.flush();
    }
    void flush() override { m_out.flush(); }
    void finish() override {
        if (m_array) m_out.data() += m_first ? "[]\n" : "\n]\n";
        m_out.flush();
    }

private:
    bool m_array;
    bool m_first = true;
    OutputBuffer m_out{1};
};

}  // namespace

void append_json_result(std::string& out, const TaskResult& r) {
    fmt::format_to(std::back_inserter(out), "{{\"seq\":{}", r.seq);
    put_text(out, "input", r.input);
    fmt::format_to(std::back_inserter(out), ",\"ok\":{},\"status\":\"{}\"", r.ok, to_string(r.status));
    put_text(out, "output", r.output);
    if (r.is_command)
        put_text(out, "stderr", r.stderr_text);
    else
        out += ",\"stderr\":null";
    put_optional(out, "exit_code", r.exit_code);
    put_optional(out, "signal", r.signal);
    fmt::format_to(std::back_inserter(out), ",\"timed_out\":{}", r.timed_out);
    if (r.ok)
        out += ",\"error\":null";
    else
        put_text(out, "error", r.describe_failure());
    fmt::format_to(std::back_inserter(out), ",\"duration_s\":{},\"worker\":{}}}", r.duration_s, r.worker);
}

std::unique_ptr<Sink> make_json_sink(bool array) { return std::make_unique<JsonSink>(array); }

}  // namespace ppool::cli
