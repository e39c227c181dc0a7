#include "cli/encoding.hpp"
#include "cli/json.hpp"
#include "cli/output.hpp"
#include "cli/sink.hpp"
#include "worker/command_template.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/compile.h>
#include <fmt/format.h>
#include <type_traits>

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

/// Appends an integer or a double (shortest form that reads back the same).
template <class T>
void append_number(std::string& out, T value) {
    if constexpr (std::is_floating_point_v<T>) {
        char buffer[32];
        auto end = fmt::format_to(buffer, FMT_COMPILE("{}"), value);
        out.append(buffer, end);
    } else {
        fmt::format_int text(value);
        out.append(text.data(), text.size());
    }
}

/// `,"key":"text"`, or `,"key":null,"key_base64":"..."` when the bytes are not UTF-8.
void put_text(std::string& out, std::string_view key, std::string_view value) {
    out += ",\"";
    out += key;
    out += "\":";
    if (is_valid_utf8(value)) {
        append_json_string(out, value);
        return;
    }
    out += "null,\"";
    out += key;
    out += "_base64\":\"";
    out += base64(value);
    out += '"';
}

template <class T>
void put_optional(std::string& out, std::string_view key, const std::optional<T>& value) {
    out += ",\"";
    out += key;
    out += "\":";
    if (value)
        append_number(out, *value);
    else
        out += "null";
}

// An object is assembled by hand: this runs once per result, millions of times a second.

/// `,"input":["a","b"]` for an item that is a list of arguments, or
/// `,"input":null,"input_base64":[...]` when one of them is not UTF-8.
void put_args(std::string& out, std::string_view item) {
    std::vector<std::string_view> args;
    try {
        args = worker::split_args(item);
    } catch (const std::invalid_argument&) {
        return put_text(out, "input", item);
    }
    bool text = std::all_of(args.begin(), args.end(), [](std::string_view a) { return is_valid_utf8(a); });
    out += text ? ",\"input\":[" : ",\"input\":null,\"input_base64\":[";
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i > 0) out += ',';
        if (text) {
            append_json_string(out, args[i]);
        } else {
            out += '"';
            out += base64(args[i]);
            out += '"';
        }
    }
    out += ']';
}

/// `{"seq":..,"input":..,"ok":..,"status":".."`
void append_json_head(std::string& out, const ResultRun::Entry& r, bool args_input = false) {
    out += "{\"seq\":";
    append_number(out, r.seq);
    if (args_input)
        put_args(out, r.input);
    else
        put_text(out, "input", r.input);
    out += r.ok() ? ",\"ok\":true,\"status\":\"" : ",\"ok\":false,\"status\":\"";
    out += to_string(r.status);
    out += '"';
}

void put_stderr(std::string& out, const ResultRun::Entry& r) {
    if (r.is_command)
        put_text(out, "stderr", r.stderr_text);
    else
        out += ",\"stderr\":null";
}

/// `,"exit_code":..,...,"worker":..,"host":..,"attempts":..}`
void append_json_tail(std::string& out, const ResultRun::Entry& r) {
    put_optional(out, "exit_code", r.exit_code);
    put_optional(out, "signal", r.signal);
    out += r.timed_out() ? ",\"timed_out\":true" : ",\"timed_out\":false";
    if (r.ok())
        out += ",\"error\":null";
    else
        put_text(out, "error", r.describe_failure());
    out += ",\"duration_s\":";
    append_number(out, r.duration_s());
    out += ",\"worker\":";
    append_number(out, r.worker);
    put_text(out, "host", r.host);
    out += ",\"attempts\":";
    append_number(out, r.attempts);
    out += '}';
}

/// `,"key":...` for output kept on disk: checked, then written straight to
/// `fd` a block at a time (escaped, or base64 if it is not UTF-8).
void put_large(OutputBuffer& buffer, int fd, std::string_view key, const LargeOutput& large) {
    Utf8Checker checker;
    large.for_each_block([&](std::string_view b) { checker.feed(b); });
    bool text = checker.finish();
    auto& out = buffer.data();
    out += ",\"";
    out += key;
    out += text ? "\":\"" : "\":null,\"";
    if (!text) {
        out += key;
        out += "_base64\":\"";
    }
    buffer.flush();
    buffer.before_write();
    Base64Stream encoder;
    large.for_each_block([&](std::string_view b) {
        std::string piece;
        if (text) {
            append_json_string(piece, b);
            piece = piece.substr(1, piece.size() - 2);  // without the quotes
        } else {
            piece = encoder.feed(b);
        }
        write_output(fd, piece);
    });
    if (!text) out += encoder.finish();
    out += '"';
}

class JsonSink final : public Sink {
public:
    JsonSink(bool array, SinkOptions options) : m_array(array), m_options(std::move(options)) {}
    void write(ResultRun& run) override {
        if (!m_array) {
            write_json_lines(m_out, run, [this](const ResultRun::Entry& e) { write_one(e); });
            return;
        }
        while (!run.empty()) write_one(run.pop());
    }
    void report_failure(const ResultRun::Entry& r) override { m_out.report_failure(r); }
    void flush() override { m_out.flush(); }
    void finish() override {
        if (m_array) m_out.data() += m_first ? "[]\n" : "\n]\n";
        m_out.flush();
    }

private:
    void write_one(const ResultRun::Entry& r) {
        auto& out = m_out.data();
        if (m_array) out += m_first ? "[\n" : ",\n";
        m_first = false;
        if (r.large_output || r.large_stderr)
            write_large(r);
        else
            append_json_result(out, r, m_options.args_input);
        if (!m_array) out += '\n';
        m_out.maybe_flush();
    }

    /// The same object as append_json_result, with the large fields streamed.
    void write_large(const ResultRun::Entry& r) {
        append_json_head(m_out.data(), r, m_options.args_input);
        if (r.large_output)
            put_large(m_out, 1, "output", *r.large_output);
        else
            put_text(m_out.data(), "output", r.output);
        if (r.large_stderr)
            put_large(m_out, 1, "stderr", *r.large_stderr);
        else
            put_stderr(m_out.data(), r);
        append_json_tail(m_out.data(), r);
    }

    bool m_array;
    SinkOptions m_options;
    bool m_first = true;
    OutputBuffer m_out{1, m_options};
};

}  // namespace

void append_json_result(std::string& out, const ResultRun::Entry& r, bool args_input) {
    if (!args_input && is_fast_entry(r)) return append_fast_entry(out, r);
    append_json_head(out, r, args_input);
    if (r.large_output)
        put_text(out, "output", r.large_output->read_all());
    else
        put_text(out, "output", r.output);
    if (r.large_stderr)
        put_text(out, "stderr", r.large_stderr->read_all());
    else
        put_stderr(out, r);
    append_json_tail(out, r);
}

std::unique_ptr<Sink> make_json_sink(bool array, SinkOptions options) {
    return std::make_unique<JsonSink>(array, std::move(options));
}

}  // namespace ppool::cli
