#pragma once

#include "os/fd.hpp"

#include <string>

namespace ppool::os {

/// While alive, descriptor 1 is a copy of descriptor 2, so that code loaded
/// into the process (a plugin's load-time code) cannot write into stdout.
/// C stdio and std::cout are flushed on entry, so that what was written
/// before reaches the real stdout, and on exit, so that what was written
/// meanwhile goes to stderr and nothing of it reaches stdout later.
/// Throws std::system_error if the descriptors cannot be set up.
class StdoutToStderr {
public:
    StdoutToStderr();
    ~StdoutToStderr();
    StdoutToStderr(const StdoutToStderr&) = delete;
    StdoutToStderr& operator=(const StdoutToStderr&) = delete;

private:
    Fd m_stdout;  ///< the real stdout; empty when descriptor 1 was closed
};

/// While alive, an exit() or std::quick_exit() called anywhere in the
/// process does not end it quietly with the caller's status: C stdio is
/// flushed, the line `message_start` + "exit(STATUS)" (or "quick_exit()") +
/// `message_end` is written to stderr, and the process ends with `status`.
/// _exit(), _Exit() and a fatal signal cannot be caught. The innermost of
/// nested traps is the one that springs.
class ExitTrap {
public:
    ExitTrap(std::string message_start, std::string message_end, int status);
    ~ExitTrap();
    ExitTrap(const ExitTrap&) = delete;
    ExitTrap& operator=(const ExitTrap&) = delete;

    /// Writes the message for `call` (such as "exit(7)") and ends the process.
    [[noreturn]] void spring(const std::string& call) const;

private:
    std::string m_start;
    std::string m_end;
    int m_status;
    const ExitTrap* m_outer;
};

}  // namespace ppool::os
