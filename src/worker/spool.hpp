#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ppool/result.hpp"

namespace ppool::worker {

/// Collects one item's output as its parts arrive: in memory while small,
/// then in an unlinked temporary file, so that memory stays bounded however
/// large the output. A failed write (disk full) is remembered, never hidden.
class Spool {
public:
    /// Bytes kept in memory before the output moves to a temporary file.
    static constexpr std::size_t k_memory_limit = 4 << 20;

    void append(std::string_view data);
    /// Adds the final piece and hands the whole over: into `text` when it is
    /// small, else as `large`. Resets the spool. False if storing failed
    /// (the reason is in `error`).
    bool finish(std::string_view tail, std::string& text, std::shared_ptr<const LargeOutput>& large,
                std::string& error);
    void reset();

private:
    class File;
    std::string m_memory;
    std::shared_ptr<File> m_file;
    std::string m_error;
};

}  // namespace ppool::worker
