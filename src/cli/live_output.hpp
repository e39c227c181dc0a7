#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "cli/sink.hpp"
#include "ppool/pool.hpp"

namespace ppool::cli {

/// --line-buffer and --ungroup: a command's output written as it comes,
/// stdout to stdout and stderr to stderr, from every running task.
class LiveOutput {
public:
    /// `whole_lines`: --line-buffer (a line is never cut, and --tag or
    /// --tagstring prefix each); otherwise --ungroup (bytes as they come).
    LiveOutput(bool whole_lines, const SinkOptions& options) : m_lines(whole_lines), m_options(options) {}
    /// Writes what may be written of a piece now.
    void write(const OutputPiece& piece);
    /// Task `seq` ended: what is left of its last lines goes out (with a
    /// newline added after a prefixed one, as --tag adds it).
    void finish(std::uint64_t seq);
    /// Every task ended: what is left of any goes out.
    void finish_all();

private:
    struct Partial {
        std::string rest;  ///< the start of a line not yet ended
        std::string tag;   ///< the line prefix, TAB included; empty without --tag
    };
    void write_fd(int fd, std::string_view data);
    void end(int stream, Partial& partial);

    bool m_lines;
    const SinkOptions& m_options;
    std::map<std::pair<std::uint64_t, int>, Partial> m_partial;  ///< by task and stream
    std::string m_out;
};

}  // namespace ppool::cli
