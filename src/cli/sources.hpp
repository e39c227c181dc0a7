#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.hpp"
#include "ppool/item_source.hpp"

namespace ppool::cli {

/// What the input sources make: the items the pool gets, and how a command
/// takes them.
struct Inputs {
    std::unique_ptr<ItemSource> source;
    /// Each item is a list of arguments (worker::append_arg): several input
    /// sources, columns, or several items per command.
    bool args = false;
    /// --header: the name of every column, the first being {1}.
    std::vector<std::string> names;
};

/// `source` (lists of arguments) with every item's arguments joined by a
/// space, as `{}` shows them: what a registered task gets.
std::unique_ptr<ItemSource> joined_args(std::unique_ptr<ItemSource> source);

/// How much of a command line -X and -m may fill.
struct LineBudget {
    std::size_t fixed = 0;    ///< the command without its arguments
    std::size_t per_arg = 1;  ///< added to each argument's length (a space, quotes, -X's context)
};

/// Opens the input sources (SPEC 3c): one source streams as it is read, as
/// before; several are combined as GNU parallel combines them; columns are
/// split; -N, -n, -X and -m group items into one command's arguments. A
/// --header line is read before this returns. Throws UsageError for what
/// cannot be opened or parsed.
Inputs open_sources(const Options& options, const LineBudget& budget);

/// Whether --pipe cuts its chunks by size or by records (--block,
/// --recstart, --recend) rather than by a number of items.
bool uses_records(const Options& options);

/// --pipe's chunks by size: whole records, each chunk the longest run of them
/// that fits --block bytes (default 1M), a longer record alone; read from the
/// input as it comes. --pipepart: the chunks of the -a file as "OFFSET LENGTH",
/// which the worker reads itself.
std::unique_ptr<ItemSource> record_chunks(const Options& options);

/// Cuts a byte stream into chunks of whole records.
class RecordChunker {
public:
    RecordChunker(std::string recstart, std::string recend, std::size_t block);
    /// Appends the chunks that `data` completes.
    void feed(std::string_view data, std::vector<std::string>& chunks);
    /// Ends the stream: the rest as chunks.
    void finish(std::vector<std::string>& chunks);
    /// In `text`, the last record boundary after `from` with the record start
    /// after it at most at `limit` or, failing that, the first boundary after
    /// `limit`; npos if `text` does not show one.
    std::size_t boundary(std::string_view text, std::size_t from, std::size_t limit) const;

private:
    void cut(std::vector<std::string>& chunks, bool at_end);
    std::string m_start;
    std::string m_end;
    std::string m_pattern;  ///< recend + recstart: a boundary lies between them
    std::size_t m_block;
    std::string m_buffer;
};

/// Whether the options need more than one plain list of items.
bool uses_arguments(const Options& options);

/// The most bytes one command line may have: xargs' limit, the argument
/// space less the environment and 2048 bytes, at most 128 KiB.
std::size_t default_max_chars();

/// Splits a line into columns at every match of `colsep` (a regular
/// expression; a plain character is matched as it is).
class ColumnSplitter {
public:
    explicit ColumnSplitter(std::string colsep);
    std::vector<std::string> split(std::string_view line) const;

private:
    struct Regex;
    std::string m_colsep;
    std::shared_ptr<const Regex> m_regex;  ///< null: m_colsep is matched as it is
};

/// RFC 4180 CSV records (quoted fields, doubled quotes, separators and line
/// breaks inside quotes), parsed by libcsv as the bytes come.
class CsvParser {
public:
    explicit CsvParser(char separator = ',');
    ~CsvParser();
    CsvParser(const CsvParser&) = delete;
    CsvParser& operator=(const CsvParser&) = delete;
    /// Appends the records that `data` completes; throws UsageError for malformed CSV.
    void feed(std::string_view data, std::vector<std::vector<std::string>>& records);
    /// Ends the input: the last record, if it has no line break.
    void finish(std::vector<std::vector<std::string>>& records);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace ppool::cli
