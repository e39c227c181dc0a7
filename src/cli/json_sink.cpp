#include "cli/encoding.hpp"
#include "cli/sink.hpp"

#include <nlohmann/json.hpp>

namespace ppool::cli {

namespace {

using Json = nlohmann::ordered_json;

/// Sets `key`, or `key` null and `key_base64` when the bytes are not UTF-8.
void put_text(Json& object, const char* key, const std::string& value) {
    if (is_valid_utf8(value)) {
        object[key] = value;
    } else {
        object[key] = nullptr;
        object[std::string(key) + "_base64"] = base64(value);
    }
}

template <class T>
Json optional_value(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

Json to_json(const TaskResult& r) {
    Json o;
    o["seq"] = r.seq;
    put_text(o, "input", r.input);
    o["ok"] = r.ok;
    o["status"] = std::string(to_string(r.status));
    put_text(o, "output", r.output);
    if (r.is_command)
        put_text(o, "stderr", r.stderr_text);
    else
        o["stderr"] = nullptr;
    o["exit_code"] = optional_value(r.exit_code);
    o["signal"] = optional_value(r.signal);
    o["timed_out"] = r.timed_out;
    if (r.ok)
        o["error"] = nullptr;
    else
        put_text(o, "error", r.describe_failure());
    o["duration_s"] = r.duration_s;
    o["worker"] = r.worker;
    return o;
}

class JsonSink final : public Sink {
public:
    explicit JsonSink(bool array) : m_array(array) {}
    void write(const TaskResult& r) override {
        auto& out = m_out.data();
        if (m_array) out += m_first ? "[\n" : ",\n";
        m_first = false;
        out += to_json(r).dump();
        if (!m_array) out += '\n';
        m_out.maybe_flush();
    }
    void report_failure(const TaskResult& r) override { os_failure(r); }
    void flush() override { m_out.flush(); }
    void finish() override {
        if (m_array) m_out.data() += m_first ? "[]\n" : "\n]\n";
        m_out.flush();
    }

private:
    void os_failure(const TaskResult& r) {
        m_out.flush();
        OutputBuffer err(2);
        err.data() = failure_line(r);
        err.flush();
    }
    bool m_array;
    bool m_first = true;
    OutputBuffer m_out{1};
};

}  // namespace

std::unique_ptr<Sink> make_json_sink(bool array) { return std::make_unique<JsonSink>(array); }

}  // namespace ppool::cli
