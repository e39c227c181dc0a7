#include "cli/joblog.hpp"

#include "worker/command_template.hpp"

#include <iterator>

#include "os/file.hpp"
#include "ppool/errors.hpp"

#include <cerrno>
#include <chrono>
#include <memory>
#include <cstring>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <optional>
#include <system_error>
#include <vector>

namespace ppool::cli {

const std::string_view k_joblog_header =
    "seq\thost\tstart\truntime\texit_code\tsignal\tstatus\tattempts\tkey\titem\tcommand";
const std::string_view k_joblog_header_without_host =
    "seq\tstart\truntime\texit_code\tsignal\tstatus\tattempts\tkey\titem\tcommand";

namespace {

/// Where --resume finds what it reads in the lines under a header.
struct Columns {
    std::size_t count;
    std::size_t status;
    std::size_t key;
};

/// The columns under `header`, if it is a ppool joblog's.
std::optional<Columns> columns_of(std::string_view header) {
    if (header == k_joblog_header) return Columns{11, 6, 8};
    if (header == k_joblog_header_without_host) return Columns{10, 5, 7};
    return std::nullopt;
}

std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        auto tab = line.find('\t');
        fields.push_back(line.substr(0, tab));
        if (tab == std::string_view::npos) return fields;
        line.remove_prefix(tab + 1);
    }
}

/// "a FIFO", "a directory": what a file that is not a regular file is.
std::string_view a_file_of_type(os::FileType type) {
    switch (type) {
    case os::FileType::regular: return "a regular file";
    case os::FileType::directory: return "a directory";
    case os::FileType::fifo: return "a FIFO";
    case os::FileType::socket: return "a socket";
    case os::FileType::character_device: return "a character device";
    case os::FileType::block_device: return "a block device";
    case os::FileType::other: break;
    }
    return "not a regular file";
}

/// The joblog's text for --resume: it must be read back whole, which only a
/// regular file allows (a FIFO would block, a device has no past).
std::string read_joblog(const std::string& path) {
    os::FileContent content;
    try {
        content = os::read_regular_file(path);
    } catch (const std::system_error& e) {
        throw UsageError(fmt::format("cannot read the joblog '{}': {}", path, e.code().message()));
    }
    if (content.type && *content.type != os::FileType::regular)
        throw UsageError(fmt::format("--resume reads the joblog back, which must be a regular file; '{}' is {}", path,
                                     a_file_of_type(*content.type)));
    return std::move(content.text);
}

/// Why the joblog could not be opened for writing, in the user's terms.
std::string open_failure(const std::string& path, int error) {
    std::optional<os::FileType> type;
    try {
        if (error == ENXIO) type = os::file_type(path);
    } catch (const std::system_error&) {
    }
    // Opened without blocking: a FIFO nobody reads fails at once, with ENXIO.
    if (type == os::FileType::fifo) return "no process is reading the FIFO";
    if (type == os::FileType::socket) return "it is a socket";
    return std::strerror(error);
}

class SkipSucceeded final : public ItemSource {
public:
    SkipSucceeded(std::unique_ptr<ItemSource> source, std::unordered_map<std::string, std::uint64_t> done,
                  std::string identity)
        : m_source(std::move(source)), m_done(std::move(done)), m_identity(std::move(identity)) {}
    int fd() const override { return m_source->fd(); }
    bool read_more(std::vector<std::string>& out) override {
        m_batch.clear();
        bool more = m_source->read_more(m_batch);
        for (auto& item : m_batch)
            if (!consume(item)) out.push_back(std::move(item));
        return more;
    }

private:
    std::unique_ptr<ItemSource> m_source;
    std::unordered_map<std::string, std::uint64_t> m_done;
    std::string m_identity;
    std::vector<std::string> m_batch;

    /// Whether the item already succeeded (one success used up).
    bool consume(const std::string& item) {
        if (m_done.empty()) return false;
        auto it = m_done.find(joblog_key(m_identity, item));
        if (it == m_done.end()) return false;
        if (--it->second == 0) m_done.erase(it);
        return true;
    }
};

/// Seconds with three decimals, as the joblog writes times.
std::string seconds(double s) { return fmt::format("{:.3f}", s); }

}  // namespace

std::string joblog_key(std::string_view task_identity, std::string_view item) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // The NUL keeps ("ab", "c") apart from ("a", "bc").
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), task_identity.data(), task_identity.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), "", 1) != 1 || EVP_DigestUpdate(ctx.get(), item.data(), item.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
        throw Error("SHA-256 is not available");
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::string joblog_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
    return out;
}

std::unordered_map<std::string, std::uint64_t> succeeded_keys(const std::string& path) {
    std::unordered_map<std::string, std::uint64_t> done;
    std::string text = read_joblog(path);
    std::string_view rest = text;
    std::optional<Columns> columns;
    // Only whole lines: a crash may have cut the last one short.
    for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
        auto line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
        if (!columns) {
            columns = columns_of(line);
            if (!columns)
                throw UsageError(fmt::format("'{}' is not a ppool joblog (its first line is not the header)", path));
            continue;
        }
        if (line.empty() || columns_of(line)) continue;
        auto fields = split_tabs(line);
        if (fields.size() != columns->count) continue;
        if (fields[columns->status] == "ok") ++done[std::string(fields[columns->key])];
    }
    return done;
}

std::unique_ptr<ItemSource> skip_succeeded(std::unique_ptr<ItemSource> source,
                                           std::unordered_map<std::string, std::uint64_t> done,
                                           std::string task_identity) {
    return std::make_unique<SkipSucceeded>(std::move(source), std::move(done), std::move(task_identity));
}

Joblog::Joblog(const std::string& path, std::string task_identity,
               std::function<std::string(const ResultRun::Entry&)> command, bool args_input)
    : m_path(path), m_task_identity(std::move(task_identity)), m_command(std::move(command)),
      m_args_input(args_input) {
    int error = 0;
    m_fd = os::open_append(path, error);
    if (!m_fd) throw UsageError(fmt::format("cannot write the joblog '{}': {}", path, open_failure(path, error)));
    // A log line appended to a disk device would overwrite whatever is there.
    if (auto type = os::file_type(m_fd.get()); type == os::FileType::block_device)
        throw UsageError(fmt::format("the joblog '{}' is {}", path, a_file_of_type(type)));
    auto end = os::file_end(m_fd.get(), path);
    if (end.size == 0) {
        write(std::string(k_joblog_header) + "\n");
        return;
    }
    // A joblog begun without the host column goes on without it: --resume
    // reads it as it is, and no file mixes the two.
    auto old_header = std::string(k_joblog_header_without_host) + "\n";
    m_with_host = os::file_start(path, old_header.size()) != old_header;
    if (end.last && *end.last != '\n')
        // A line cut short by a crash is ended, so that the next one stands alone.
        write("\n");
}

void Joblog::write(std::string_view text) {
    try {
        os::write_all(m_fd.get(), text);
    } catch (const std::system_error& e) {
        // Not a bare "write": the user must learn which file, as it is not stdout.
        throw Error(fmt::format("cannot write the joblog '{}': {}", m_path, e.code().message()));
    }
}

void Joblog::record(const ResultRun& results) {
    using namespace std::chrono;
    double now = duration<double>(system_clock::now().time_since_epoch()).count();
    std::string lines;
    for (std::size_t i = 0; i < results.size(); ++i) {
        auto r = results[i];
        std::string item = m_args_input ? worker::join_args(r.input) : std::string();
        fmt::format_to(std::back_inserter(lines), "{}\t", r.seq);
        if (m_with_host) {
            lines += joblog_escape(r.host);
            lines += '\t';
        }
        fmt::format_to(std::back_inserter(lines), "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                       seconds(now - r.duration_s()), seconds(r.duration_s()),
                       r.exit_code ? std::to_string(*r.exit_code) : "-", r.signal.value_or(0), to_string(r.status),
                       r.attempts, joblog_key(m_task_identity, r.input), joblog_escape(m_args_input ? item : r.input),
                       joblog_escape(m_command(r)));
    }
    // One write for the tasks that finished together: a reader (or a crash) never sees half a line.
    write(lines);
}

}  // namespace ppool::cli
