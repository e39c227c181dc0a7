#pragma once

#include <functional>
#include <cstdint>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "ppool/result_run.hpp"

namespace ppool::cli {

/// What --results needs to know besides its name.
struct ResultsConfig {
    std::string name;                ///< DIR, a name with replacement strings, or FILE.csv/.tsv/.json
    std::vector<std::string> names;  ///< --header's column names (empty: numbered 1, 2, ...)
    bool args_input = false;         ///< items are lists of arguments
    std::string replace;             ///< -I's replacement string
    /// The command line run for a result, as the joblog shows it.
    std::function<std::string(const ResultRun::Entry&)> command;
};

/// GNU parallel's --results: each task's stdout, stderr and sequence number
/// in files of a directory tree (DIR/1/VALUE/stdout, stderr, seq; with
/// --header the columns' names instead of 1, 2, ...), in files named by a
/// name with replacement strings (NAME, NAME.err, NAME.seq; or NAME/stdout ...
/// when it ends in /), or one CSV, TSV or JSON Lines file of every task
/// (-.csv, -.tsv, -.json: on standard output).
class ResultsWriter {
public:
    /// Creates the directory or the file; UsageError if it cannot be.
    explicit ResultsWriter(ResultsConfig config);
    ~ResultsWriter();
    /// Writes the results of finished tasks; Error if a file cannot be written.
    void record(const ResultRun& run);
    /// A piece of task `seq`'s output (stream 1) or stderr (2) that came
    /// while it ran (--line-buffer, --ungroup), kept for its files.
    void add_output(std::uint64_t seq, int stream, std::string_view data);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

/// A field as GNU parallel writes it in a CSV or TSV file: in double quotes
/// (doubled inside) when it holds one, white space or the separator.
std::string csv_field(std::string_view text, char separator);

}  // namespace ppool::cli
