#include "cli/sources.hpp"

#include "cli/input.hpp"
#include "os/event_loop.hpp"
#include "os/fd.hpp"
#include "os/signals.hpp"
#include "ppool/errors.hpp"
#include "worker/command_template.hpp"

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <csv.h>
#include <deque>
#include <fcntl.h>
#include <fmt/format.h>
#include <regex>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

extern char** environ;

namespace ppool::cli {

using worker::append_arg;
using worker::split_args;

namespace {

constexpr std::size_t k_batch = 4096;
constexpr std::size_t k_max_header_lines = 100;

/// Waits until `source` may have more, in the event loop's way, so that a caught signal ends the wait.
void wait_for(const ItemSource& source) {
    if (int fd = source.fd(); fd >= 0) {
        os::PollSet set;
        set.add(fd, POLLIN);
        if (os::wait(set, std::nullopt) == os::Wake::signal) throw Interrupted(os::take_caught_signal());
    }
}

std::string encode(const std::vector<std::string>& args) {
    std::string item;
    for (const auto& arg : args) append_arg(item, arg);
    return item;
}

/// Reads what a descriptor has (one read, so it never blocks after poll said
/// "readable"); false at its end.
bool read_input(const os::Fd& fd, std::string& buffer) {
    buffer.clear();
    try {
        return os::read_some(fd.get(), buffer, 1 << 16) != os::IoStatus::closed;
    } catch (const std::system_error& e) {
        // Input cut short by an error is not the end of the input.
        throw UsageError(std::string("cannot read the input: ") + e.code().message());
    }
}

/// The CSV records of a descriptor, each as a list of arguments.
class CsvSource final : public ItemSource {
public:
    CsvSource(int fd, char separator) : m_fd(fd), m_parser(separator) {}
    int fd() const override { return m_fd.get(); }
    bool read_more(std::vector<std::string>& out) override {
        if (!m_fd) return false;
        m_records.clear();
        if (read_input(m_fd, m_buffer)) {
            m_parser.feed(m_buffer, m_records);
        } else {
            m_parser.finish(m_records);
            m_fd.reset();
        }
        for (const auto& record : m_records) out.push_back(encode(record));
        return true;
    }

private:
    os::Fd m_fd;
    CsvParser m_parser;
    std::string m_buffer;
    std::vector<std::vector<std::string>> m_records;
};

/// Every item of a source split into columns.
class ColumnsSource final : public ItemSource {
public:
    ColumnsSource(std::unique_ptr<ItemSource> source, ColumnSplitter splitter)
        : m_source(std::move(source)), m_splitter(std::move(splitter)) {}
    int fd() const override { return m_source->fd(); }
    bool read_more(std::vector<std::string>& out) override {
        m_batch.clear();
        bool more = m_source->read_more(m_batch);
        for (const auto& item : m_batch) out.push_back(encode(m_splitter.split(item)));
        return more;
    }

private:
    std::unique_ptr<ItemSource> m_source;
    ColumnSplitter m_splitter;
    std::vector<std::string> m_batch;
};

/// Every item of a source, a list of arguments, joined by a space.
class JoinedSource final : public ItemSource {
public:
    explicit JoinedSource(std::unique_ptr<ItemSource> source) : m_source(std::move(source)) {}
    int fd() const override { return m_source->fd(); }
    bool read_more(std::vector<std::string>& out) override {
        m_batch.clear();
        bool more = m_source->read_more(m_batch);
        for (const auto& item : m_batch) out.push_back(worker::join_args(item));
        return more;
    }

private:
    std::unique_ptr<ItemSource> m_source;
    std::vector<std::string> m_batch;
};

/// A source whose first items were read ahead (a header): they come first.
class Lookahead final : public ItemSource {
public:
    explicit Lookahead(std::unique_ptr<ItemSource> source) : m_source(std::move(source)) {}
    /// Reads, waiting as needed, until `n` items are ahead or the input ended.
    const std::deque<std::string>& peek(std::size_t n) {
        std::vector<std::string> batch;
        while (m_pending.size() < n && !m_ended) {
            wait_for(*m_source);
            batch.clear();
            m_ended = !m_source->read_more(batch);
            for (auto& item : batch) m_pending.push_back(std::move(item));
        }
        return m_pending;
    }
    void drop(std::size_t n) { m_pending.erase(m_pending.begin(), m_pending.begin() + static_cast<long>(n)); }
    int fd() const override { return m_pending.empty() && !m_ended ? m_source->fd() : -1; }
    bool read_more(std::vector<std::string>& out) override {
        if (!m_pending.empty()) {
            for (auto& item : m_pending) out.push_back(std::move(item));
            m_pending.clear();
            return true;
        }
        if (m_ended) return false;
        m_ended = !m_source->read_more(out);
        return !m_ended || !out.empty();
    }

private:
    std::unique_ptr<ItemSource> m_source;
    std::deque<std::string> m_pending;
    bool m_ended = false;
};

/// Every combination of the groups' rows, the first group's changing slowest
/// (GNU parallel's order), made as they are asked for.
class ProductSource final : public ItemSource {
public:
    explicit ProductSource(std::vector<std::vector<std::string>> groups)
        : m_groups(std::move(groups)), m_index(m_groups.size(), 0) {
        for (const auto& group : m_groups) m_done = m_done || group.empty();
    }
    int fd() const override { return -1; }
    bool read_more(std::vector<std::string>& out) override {
        if (m_done) return false;
        for (std::size_t n = 0; n < k_batch && !m_done; ++n) {
            std::string item;
            for (std::size_t g = 0; g < m_groups.size(); ++g) item += m_groups[g][m_index[g]];
            out.push_back(std::move(item));
            // The odometer: the last group turns fastest.
            std::size_t g = m_groups.size();
            for (;;) {
                if (g == 0) {
                    m_done = true;
                    break;
                }
                --g;
                if (++m_index[g] < m_groups[g].size()) break;
                m_index[g] = 0;
            }
        }
        return true;
    }

private:
    std::vector<std::vector<std::string>> m_groups;
    std::vector<std::size_t> m_index;
    bool m_done = false;
};

/// Several items as one command's arguments: `n` of them (-N, -n), or as
/// many as fit one command line (-m, -X).
class GroupSource final : public ItemSource {
public:
    GroupSource(std::unique_ptr<ItemSource> source, bool args, std::size_t n, std::size_t limit, LineBudget budget)
        : m_source(std::move(source)), m_args(args), m_n(n), m_limit(limit), m_budget(budget) {}
    int fd() const override { return m_ended ? -1 : m_source->fd(); }
    bool read_more(std::vector<std::string>& out) override {
        if (m_ended) return false;
        m_batch.clear();
        m_ended = !m_source->read_more(m_batch);
        for (const auto& item : m_batch) add(item, out);
        if (m_ended && m_count > 0) emit(out);
        return !m_ended || !out.empty();
    }

private:
    void add(const std::string& item, std::vector<std::string>& out) {
        // -N counts items: a combination of several sources is one.
        std::size_t cost = 0;
        if (m_args) {
            for (auto arg : split_args(item)) cost += arg.size() + m_budget.per_arg;
        } else {
            cost = item.size() + m_budget.per_arg;
        }
        if (m_n == 0 && m_count > 0 && m_budget.fixed + m_chars + cost > m_limit) emit(out);
        if (m_args)
            m_group += item;
        else
            append_arg(m_group, item);
        m_chars += cost;
        ++m_count;
        if (m_n > 0 && m_count >= m_n) emit(out);
    }
    void emit(std::vector<std::string>& out) {
        out.push_back(std::move(m_group));
        m_group.clear();
        m_count = 0;
        m_chars = 0;
    }
    std::unique_ptr<ItemSource> m_source;
    bool m_args;
    std::size_t m_n;
    std::size_t m_limit;
    LineBudget m_budget;
    bool m_ended = false;
    std::vector<std::string> m_batch;
    std::string m_group;
    std::size_t m_count = 0;
    std::size_t m_chars = 0;
};

/// --pipe's chunks of whole records, read from a descriptor as it comes.
class RecordSource final : public ItemSource {
public:
    RecordSource(int fd, RecordChunker chunker) : m_fd(fd), m_chunker(std::move(chunker)) {}
    int fd() const override { return m_fd.get(); }
    bool read_more(std::vector<std::string>& out) override {
        if (!m_fd) return false;
        if (read_input(m_fd, m_buffer)) {
            m_chunker.feed(m_buffer, out);
        } else {
            m_chunker.finish(out);
            m_fd.reset();
        }
        return true;
    }

private:
    os::Fd m_fd;
    RecordChunker m_chunker;
    std::string m_buffer;
};

/// --pipepart: the parts of a file, each ending at the first record boundary
/// more than the block size after its start, as "OFFSET LENGTH"; only the
/// bytes around the boundaries are read.
class PartSource final : public ItemSource {
public:
    PartSource(int fd, std::string path, std::string recstart, std::string recend, std::uint64_t block)
        : m_fd(fd), m_path(std::move(path)), m_pattern(recend + recstart), m_end_size(recend.size()),
          m_block(std::max<std::uint64_t>(block, 1)) {
        struct stat st {};
        if (::fstat(m_fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
            throw UsageError(fmt::format("--pipepart needs a regular file, which '{}' is not", m_path));
        m_size = static_cast<std::uint64_t>(st.st_size);
    }
    int fd() const override { return -1; }
    bool read_more(std::vector<std::string>& out) override {
        for (std::size_t n = 0; n < k_batch && m_start < m_size; ++n) {
            std::uint64_t at = m_start + m_block;
            std::uint64_t end = at < m_size ? boundary_from(at) : m_size;
            out.push_back(fmt::format("{} {}", m_start, end - m_start));
            m_start = end;
        }
        return m_start < m_size || !out.empty();
    }

private:
    /// The first record boundary after `at`, or the end of the file.
    std::uint64_t boundary_from(std::uint64_t at) {
        std::uint64_t from = at >= m_end_size ? at - m_end_size : 0;
        std::string window;
        for (std::size_t want = 1 << 16;; want *= 2) {
            window.resize(static_cast<std::size_t>(std::min<std::uint64_t>(want, m_size - from)));
            std::size_t done = 0;
            while (done < window.size()) {
                ssize_t n =
                    ::pread(m_fd.get(), window.data() + done, window.size() - done, static_cast<off_t>(from + done));
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw UsageError(fmt::format("cannot read '{}': {}", m_path, std::strerror(errno)));
                if (n == 0) break;
                done += static_cast<std::size_t>(n);
            }
            window.resize(done);
            for (auto pos = window.find(m_pattern); pos != std::string::npos; pos = window.find(m_pattern, pos + 1))
                if (from + pos + m_end_size > at) return from + pos + m_end_size;
            if (from + window.size() >= m_size) return m_size;
        }
    }

    os::Fd m_fd;
    std::string m_path;
    std::string m_pattern;
    std::size_t m_end_size;
    std::uint64_t m_block;
    std::uint64_t m_size = 0;
    std::uint64_t m_start = 0;
};

/// One input source as it is read: its items (lists of columns with
/// --colsep or --csv), and the names its header gives them.
struct Stream {
    std::unique_ptr<ItemSource> items;
    std::vector<std::string> names;
    bool args = false;
};

/// The number of leading lines that make the header: 1 for ':', else as
/// many as --header's regular expression matches, each line with its newline.
std::size_t header_lines(const std::string& header, Lookahead& source) {
    if (header == ":") return 1;
    std::regex re;
    try {
        re = std::regex(header, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw UsageError(fmt::format("--header '{}' is not a regular expression: {}", header, e.what()));
    }
    std::string text;
    for (std::size_t k = 1; k <= k_max_header_lines; ++k) {
        const auto& lines = source.peek(k);
        if (lines.size() < k) break;
        text += lines[k - 1];
        text += '\n';
        if (std::regex_match(text, re)) return k;
    }
    throw UsageError(fmt::format("--header '{}' matches none of the first lines of the input", header));
}

Stream open_stream(const InputSource& input, const Options& o) {
    Stream s;
    char separator = o.null ? '\0' : '\n';
    std::optional<ColumnSplitter> splitter;
    if (o.colsep && !o.csv) splitter.emplace(*o.colsep);
    std::unique_ptr<ItemSource> raw;
    char csv_separator = o.colsep ? (*o.colsep)[0] : ',';
    if (o.csv) {
        s.args = true;
        if (input.from_file) {
            raw = std::make_unique<CsvSource>(open_input(input.file), csv_separator);
        } else {
            // Each ::: item is one record.
            std::vector<std::string> items;
            for (const auto& item : input.items) {
                CsvParser parser(csv_separator);
                std::vector<std::vector<std::string>> records;
                parser.feed(item, records);
                parser.finish(records);
                for (const auto& record : records) items.push_back(encode(record));
            }
            raw = items_from(std::move(items));
        }
    } else if (input.from_file) {
        raw = items_from_fds({open_input(input.file)}, separator, o.max_item_size);
    } else {
        raw = items_from(input.items);
    }
    if (o.header) {
        auto ahead = std::make_unique<Lookahead>(std::move(raw));
        std::size_t lines = o.csv ? 1 : header_lines(*o.header, *ahead);
        const auto& first = ahead->peek(lines);
        if (!first.empty()) {
            if (o.csv)
                for (auto name : split_args(first.front())) s.names.emplace_back(name);
            else if (splitter)
                s.names = splitter->split(first.front());
            else
                s.names.push_back(first.front());
        }
        ahead->drop(std::min(lines, first.size()));
        raw = std::move(ahead);
    }
    if (splitter) {
        s.args = true;
        raw = std::make_unique<ColumnsSource>(std::move(raw), *splitter);
    }
    s.items = std::move(raw);
    return s;
}

/// Every item of a stream as a list of arguments.
std::vector<std::string> read_rows(Stream& stream) {
    std::vector<std::string> rows;
    for_each_item(*stream.items, [&](std::string& item) {
        if (stream.args) {
            rows.push_back(std::move(item));
        } else {
            std::string row;
            append_arg(row, item);
            rows.push_back(std::move(row));
        }
    });
    return rows;
}

/// Sources linked by position: the shortest says how many rows (`:::+`), or
/// with --link the longest, the others starting over.
std::vector<std::string> link_rows(const std::vector<std::vector<std::string>>& sources, bool wrap) {
    std::size_t n = sources.front().size();
    for (const auto& rows : sources) n = wrap ? std::max(n, rows.size()) : std::min(n, rows.size());
    std::vector<std::string> linked;
    for (const auto& rows : sources)
        if (rows.empty()) return linked;
    linked.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::string row;
        for (const auto& rows : sources) row += rows[i % rows.size()];
        linked.push_back(std::move(row));
    }
    return linked;
}

}  // namespace

struct ColumnSplitter::Regex {
    std::regex re;
};

ColumnSplitter::ColumnSplitter(std::string colsep) : m_colsep(std::move(colsep)) {
    constexpr std::string_view k_meta = "\\^$.|?*+()[]{}";
    if (m_colsep.find_first_of(k_meta) == std::string::npos) return;
    try {
        m_regex = std::make_shared<const Regex>(Regex{std::regex(m_colsep, std::regex::ECMAScript)});
    } catch (const std::regex_error& e) {
        throw UsageError(fmt::format("--colsep '{}' is not a regular expression: {}", m_colsep, e.what()));
    }
}

std::vector<std::string> ColumnSplitter::split(std::string_view line) const {
    std::vector<std::string> columns;
    if (!m_regex) {
        for (;;) {
            auto at = line.find(m_colsep);
            if (at == std::string_view::npos) break;
            columns.emplace_back(line.substr(0, at));
            line.remove_prefix(at + m_colsep.size());
        }
        columns.emplace_back(line);
        return columns;
    }
    std::size_t start = 0;
    auto begin = std::cregex_iterator(line.data(), line.data() + line.size(), m_regex->re);
    for (auto it = begin; it != std::cregex_iterator(); ++it) {
        auto at = static_cast<std::size_t>(it->position());
        auto length = static_cast<std::size_t>(it->length());
        // A match of nothing separates nothing.
        if (length == 0 || at < start) continue;
        columns.emplace_back(line.substr(start, at - start));
        start = at + length;
    }
    columns.emplace_back(line.substr(start));
    return columns;
}

struct CsvParser::State {
    csv_parser parser{};
    std::vector<std::string> record;
    std::vector<std::vector<std::string>>* records = nullptr;

    static void on_field(void* data, std::size_t size, void* self) {
        auto* state = static_cast<State*>(self);
        state->record.emplace_back(data ? static_cast<const char*>(data) : "", data ? size : 0);
    }
    static void on_record(int, void* self) {
        auto* state = static_cast<State*>(self);
        state->records->push_back(std::move(state->record));
        state->record.clear();
    }
    [[noreturn]] void fail() {
        throw UsageError(fmt::format("--csv: the input is not valid CSV: {}", csv_strerror(csv_error(&parser))));
    }
};

CsvParser::CsvParser(char separator) : m_state(std::make_unique<State>()) {
    if (csv_init(&m_state->parser, CSV_STRICT | CSV_STRICT_FINI) != 0) throw std::bad_alloc();
    csv_set_delim(&m_state->parser, static_cast<unsigned char>(separator));
    // RFC 4180: spaces are part of a field.
    csv_set_space_func(&m_state->parser, [](unsigned char) { return 0; });
}

CsvParser::~CsvParser() { csv_free(&m_state->parser); }

void CsvParser::feed(std::string_view data, std::vector<std::vector<std::string>>& records) {
    m_state->records = &records;
    if (csv_parse(&m_state->parser, data.data(), data.size(), State::on_field, State::on_record, m_state.get()) !=
        data.size())
        m_state->fail();
}

void CsvParser::finish(std::vector<std::vector<std::string>>& records) {
    m_state->records = &records;
    if (csv_fini(&m_state->parser, State::on_field, State::on_record, m_state.get()) != 0) m_state->fail();
}

std::unique_ptr<ItemSource> joined_args(std::unique_ptr<ItemSource> source) {
    return std::make_unique<JoinedSource>(std::move(source));
}

RecordChunker::RecordChunker(std::string recstart, std::string recend, std::size_t block)
    : m_start(std::move(recstart)), m_end(std::move(recend)), m_pattern(m_end + m_start),
      m_block(std::max<std::size_t>(block, 1)) {}

std::size_t RecordChunker::boundary(std::string_view text, std::size_t from, std::size_t limit) const {
    const std::size_t end = m_end.size();
    // A boundary at b: the record end just before b, the record start at b.
    auto valid = [&](std::size_t pos) {
        return pos >= from && pos + end > from && pos + m_pattern.size() <= text.size();
    };
    // The record start after it must be within the block too, as GNU parallel has it.
    if (limit >= m_pattern.size()) {
        for (auto pos = text.rfind(m_pattern, limit - m_pattern.size()); pos != std::string_view::npos && pos >= from;
             pos = pos == 0 ? std::string_view::npos : text.rfind(m_pattern, pos - 1))
            if (valid(pos)) return pos + end;
    }
    // No record fits: the first that ends after `limit`, alone.
    auto pos = text.find(m_pattern, limit + 1 >= end ? limit + 1 - end : 0);
    while (pos != std::string_view::npos && !(pos >= from && pos + end > limit)) pos = text.find(m_pattern, pos + 1);
    if (pos == std::string_view::npos || pos + m_pattern.size() > text.size()) return std::string_view::npos;
    return pos + end;
}

void RecordChunker::cut(std::vector<std::string>& chunks, bool at_end) {
    std::size_t start = 0;
    while (start < m_buffer.size()) {
        std::size_t rest = m_buffer.size() - start;
        // Less than a block left at the end: the last chunk (a full block is cut as any other).
        if (at_end && rest < m_block) {
            chunks.push_back(m_buffer.substr(start));
            start = m_buffer.size();
            break;
        }
        // A full block, and the start of the record after it, must be here to choose.
        if (!at_end && rest < m_block + m_start.size()) break;
        auto at = boundary(m_buffer, start, start + m_block);
        if (at == std::string::npos) {
            if (!at_end) break;
            at = m_buffer.size();
        }
        chunks.push_back(m_buffer.substr(start, at - start));
        start = at;
    }
    m_buffer.erase(0, start);
}

void RecordChunker::feed(std::string_view data, std::vector<std::string>& chunks) {
    m_buffer.append(data);
    cut(chunks, false);
}

void RecordChunker::finish(std::vector<std::string>& chunks) { cut(chunks, true); }

bool uses_records(const Options& o) { return o.pipe && (o.block || o.pipepart || !o.recstart.empty() || o.recend); }

bool uses_arguments(const Options& o) {
    return o.inputs.size() + o.sources.size() > 1 || o.colsep || o.csv || o.header || o.max_args || o.fill_line;
}

std::size_t default_max_chars() {
    constexpr std::size_t k_xargs_max = 128 * 1024;
    long arg_max = ::sysconf(_SC_ARG_MAX);
    std::size_t room = arg_max > 0 ? static_cast<std::size_t>(arg_max) : k_xargs_max;
    std::size_t env = 0;
    for (char** e = environ; e && *e; ++e) env += std::strlen(*e) + 1 + sizeof(char*);
    room = room > env + 2048 + 1024 ? room - env - 2048 : 1024;
    return std::min(room, k_xargs_max);
}

std::unique_ptr<ItemSource> record_chunks(const Options& o) {
    constexpr std::size_t k_default_block = 1 << 20;
    std::string recend = o.recend ? *o.recend : std::string(1, o.null ? '\0' : '\n');
    if (o.pipepart)
        return std::make_unique<PartSource>(open_input(o.inputs.front()), o.inputs.front(), o.recstart, recend,
                                            o.block ? o.block : k_default_block);
    RecordChunker chunker(o.recstart, recend, o.block ? o.block : k_default_block);
    if (!o.sources.empty() && !o.sources.front().from_file) {
        // ::: items: the text they make, one item a record.
        std::string text;
        for (const auto& item : o.sources.front().items) text.append(item).append(recend);
        std::vector<std::string> chunks;
        chunker.feed(text, chunks);
        chunker.finish(chunks);
        return items_from(std::move(chunks));
    }
    std::string path = !o.sources.empty() ? o.sources.front().file : !o.inputs.empty() ? o.inputs.front() : "-";
    return std::make_unique<RecordSource>(open_input(path), std::move(chunker));
}

Inputs open_sources(const Options& o, const LineBudget& budget) {
    std::vector<InputSource> inputs;
    for (const auto& path : o.inputs) inputs.push_back(InputSource{{}, path, true, false});
    for (const auto& source : o.sources) inputs.push_back(source);
    if (inputs.empty()) inputs.push_back(InputSource{{}, "-", true, false});
    Inputs result;
    if (inputs.size() == 1) {
        auto stream = open_stream(inputs.front(), o);
        result.source = std::move(stream.items);
        result.args = stream.args;
        result.names = std::move(stream.names);
    } else {
        // Every source but a single one is read whole: its rows are combined with every other's.
        std::vector<std::vector<std::string>> groups;
        std::vector<std::vector<std::string>> linked;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            auto stream = open_stream(inputs[i], o);
            for (auto& name : stream.names) result.names.push_back(std::move(name));
            if (i > 0 && !inputs[i].linked && !o.link) {
                groups.push_back(link_rows(linked, false));
                linked.clear();
            }
            linked.push_back(read_rows(stream));
        }
        groups.push_back(link_rows(linked, o.link));
        result.source = std::make_unique<ProductSource>(std::move(groups));
        result.args = true;
    }
    if (o.max_args || o.fill_line) {
        std::size_t limit = o.max_chars ? o.max_chars : default_max_chars();
        result.source = std::make_unique<GroupSource>(std::move(result.source), result.args, o.max_args, limit, budget);
        result.args = true;
    }
    return result;
}

}  // namespace ppool::cli
