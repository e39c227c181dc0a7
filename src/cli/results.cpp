#include "cli/results.hpp"

#include "os/fd.hpp"
#include "ppool/errors.hpp"
#include "worker/command_template.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csv.h>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ppool::cli {

namespace {

enum class Kind { tree, named, csv, tsv, json };

bool ends_with(std::string_view text, std::string_view end) {
    return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

/// A value as a directory name, as GNU parallel writes it: \ as \\ and / as \_.
std::string path_component(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '/') out += "\\_";
        else out += c;
    }
    return out;
}

/// Makes `dir` and its parents; Error saying which one cannot be made.
void make_dirs(const std::string& dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) throw Error(fmt::format("--results: cannot create directory '{}': {}", dir, error.message()));
}

/// Creates or truncates `path` and writes `before`, `data` and the blocks of `large` to it.
void write_file(const std::string& path, std::string_view before, std::string_view data,
                const LargeOutput* large = nullptr) {
    os::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (!fd) throw Error(fmt::format("--results: cannot write '{}': {}", path, std::strerror(errno)));
    try {
        os::write_all(fd.get(), before);
        os::write_all(fd.get(), data);
        if (large) large->for_each_block([&](std::string_view b) { os::write_all(fd.get(), b); });
    } catch (const std::system_error& e) {
        throw Error(fmt::format("--results: cannot write '{}': {}", path, e.code().message()));
    }
}

/// An output's bytes, whether kept in memory or stored apart, after `before`.
std::string whole(std::string before, std::string_view text, const LargeOutput* large) {
    std::string out = std::move(before);
    out += text;
    if (large) large->for_each_block([&](std::string_view b) { out += b; });
    return out;
}

}  // namespace

std::string csv_field(std::string_view text, char separator) {
    bool quote = false;
    for (char c : text)
        if (c == '"' || c == separator || c == ' ' || (c >= '\t' && c <= '\r')) quote = true;
    if (!quote) return std::string(text);
    // libcsv writes the quoted field: quotes around, each quote inside doubled.
    std::string out(text.size() * 2 + 2, '\0');
    out.resize(csv_write(out.data(), out.size(), text.data(), text.size()));
    return out;
}

struct ResultsWriter::State {
    ResultsConfig config;
    Kind kind = Kind::tree;
    std::unique_ptr<worker::CommandTemplate> name;  // with replacement strings
    os::Fd file;                                    // csv, tsv, json
    bool header_written = false;
    /// What came as the tasks ran (--line-buffer, --ungroup), by task: stdout, stderr.
    std::map<std::uint64_t, std::pair<std::string, std::string>> live;
    std::pair<std::string, std::string> taken;  // the current task's

    std::vector<std::string> values(const ResultRun::Entry& r) const {
        std::vector<std::string> out;
        if (config.args_input)
            for (auto arg : worker::split_args(r.input)) out.emplace_back(arg);
        else
            out.emplace_back(r.input);
        return out;
    }

    void write(std::string_view text) {
        try {
            os::write_all(file.get(), text);
        } catch (const std::system_error& e) {
            throw Error(fmt::format("--results: cannot write '{}': {}", config.name, e.code().message()));
        }
    }

    void write_files(const ResultRun::Entry& r) {
        std::string out_path, err_path, seq_path;
        std::string dir;
        if (kind == Kind::named) {
            std::string expanded = name->expand(TaskContext{r.input, r.seq, r.worker});
            if (ends_with(expanded, "/")) {
                dir = expanded;
            } else {
                out_path = expanded;
                err_path = expanded + ".err";
                seq_path = expanded + ".seq";
                auto parent = std::filesystem::path(expanded).parent_path();
                if (!parent.empty()) make_dirs(parent.string());
            }
        } else {
            dir = config.name;
            auto v = values(r);
            for (std::size_t i = 0; i < v.size(); ++i) {
                bool named = i < config.names.size() && !config.names[i].empty();
                dir += '/';
                dir += named ? path_component(config.names[i]) : std::to_string(i + 1);
                dir += '/';
                dir += path_component(v[i]);
            }
        }
        if (!dir.empty()) {
            make_dirs(dir);
            if (!ends_with(dir, "/")) dir += '/';
            out_path = dir + "stdout";
            err_path = dir + "stderr";
            seq_path = dir + "seq";
        }
        write_file(out_path, taken.first, r.output, r.large_output);
        write_file(err_path, taken.second, r.stderr_text, r.large_stderr);
        write_file(seq_path, {}, std::to_string(r.seq));
    }

    /// One CSV or TSV line of `fields`.
    static std::string row(const std::vector<std::string>& fields, char sep) {
        std::string line;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (i > 0) line += sep;
            line += csv_field(fields[i], sep);
        }
        line += '\n';
        return line;
    }

    void write_row(const ResultRun::Entry& r, double now) {
        char sep = kind == Kind::csv ? ',' : '\t';
        auto v = values(r);
        std::string text;
        if (!header_written) {
            // GNU parallel's columns, one V per argument (or the --header names).
            std::vector<std::string> header{"Seq",    "Host",    "Starttime", "JobRuntime", "Send",
                                            "Receive", "Exitval", "Signal",    "Command"};
            for (std::size_t i = 0; i < v.size(); ++i)
                header.push_back(i < config.names.size() && !config.names[i].empty() ? config.names[i]
                                                                                      : fmt::format("V{}", i + 1));
            header.push_back("Stdout");
            header.push_back("Stderr");
            text = row(header, sep);
            header_written = true;
        }
        std::string output = whole(std::move(taken.first), r.output, r.large_output);
        std::vector<std::string> fields{std::to_string(r.seq),
                                        std::string(r.host),
                                        fmt::format("{:.3f}", now - r.duration_s()),
                                        fmt::format("{:.3f}", r.duration_s()),
                                        "0",
                                        std::to_string(output.size()),
                                        std::to_string(r.exit_code.value_or(r.ok() ? 0 : -1)),
                                        std::to_string(r.signal.value_or(0)),
                                        config.command(r)};
        for (auto& value : v) fields.push_back(std::move(value));
        fields.push_back(std::move(output));
        fields.push_back(whole(std::move(taken.second), r.stderr_text, r.large_stderr));
        text += row(fields, sep);
        write(text);
    }

    void write_json(const ResultRun::Entry& r, double now) {
        nlohmann::ordered_json record;
        std::string output = whole(std::move(taken.first), r.output, r.large_output);
        record["Seq"] = r.seq;
        record["Host"] = std::string(r.host);
        record["Starttime"] = std::round((now - r.duration_s()) * 1000) / 1000;
        record["JobRuntime"] = std::round(r.duration_s() * 1000) / 1000;
        record["Send"] = 0;
        record["Receive"] = output.size();
        record["Exitval"] = r.exit_code.value_or(r.ok() ? 0 : -1);
        record["Signal"] = r.signal.value_or(0);
        record["Command"] = config.command(r);
        record["V"] = values(r);
        record["Stdout"] = std::move(output);
        record["Stderr"] = whole(std::move(taken.second), r.stderr_text, r.large_stderr);
        // Bytes that are not UTF-8 cannot be JSON strings: each becomes U+FFFD.
        write(record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    }
};

ResultsWriter::ResultsWriter(ResultsConfig config) : m_state(std::make_unique<State>()) {
    auto& s = *m_state;
    s.config = std::move(config);
    const auto& name = s.config.name;
    if (ends_with(name, ".csv")) s.kind = Kind::csv;
    else if (ends_with(name, ".tsv")) s.kind = Kind::tsv;
    else if (ends_with(name, ".json")) s.kind = Kind::json;
    if (s.kind != Kind::tree && name.rfind("-.", 0) == 0) {
        // GNU parallel's -.csv, -.tsv, -.json: the file is standard output.
        s.file = os::Fd(::fcntl(1, F_DUPFD_CLOEXEC, 3));
        if (!s.file) throw UsageError(fmt::format("--results {}: cannot use standard output: {}", name,
                                                  std::strerror(errno)));
        return;
    }
    if (s.kind != Kind::tree) {
        s.file = os::Fd(::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
        if (!s.file) throw UsageError(fmt::format("--results: cannot write '{}': {}", name, std::strerror(errno)));
        return;
    }
    CommandLine line{{name}, false, false, s.config.args_input, false, s.config.replace};
    auto tmpl = std::make_unique<worker::CommandTemplate>(line);
    if (tmpl->has_token()) {
        s.kind = Kind::named;
        s.name = std::move(tmpl);
        return;
    }
    std::error_code error;
    std::filesystem::create_directories(name, error);
    if (error || ::access(name.c_str(), W_OK | X_OK) != 0)
        throw UsageError(fmt::format("--results: cannot create the directory '{}': {}", name,
                                     error ? error.message() : std::strerror(errno)));
}

ResultsWriter::~ResultsWriter() = default;

void ResultsWriter::add_output(std::uint64_t seq, int stream, std::string_view data) {
    auto& texts = m_state->live[seq];
    (stream == 1 ? texts.first : texts.second) += data;
}

void ResultsWriter::record(const ResultRun& run) {
    using namespace std::chrono;
    double now = duration<double>(system_clock::now().time_since_epoch()).count();
    auto& s = *m_state;
    for (std::size_t i = 0; i < run.size(); ++i) {
        auto r = run[i];
        s.taken = {};
        if (auto it = s.live.find(r.seq); it != s.live.end()) {
            s.taken = std::move(it->second);
            s.live.erase(it);
        }
        switch (s.kind) {
        case Kind::tree:
        case Kind::named: s.write_files(r); break;
        case Kind::csv:
        case Kind::tsv: s.write_row(r, now); break;
        case Kind::json: s.write_json(r, now); break;
        }
    }
}

}  // namespace ppool::cli
