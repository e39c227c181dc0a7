#pragma once

#include <string_view>

namespace ppool::cli {

/// The exit status of a command whose server went away while it used it
/// (a client command waiting on it, a mode run on its workers).
inline constexpr int k_exit_server_lost = 4;

/// Whether `word` names `ppool serve` or one of its client commands (submit, get...).
bool is_server_command(std::string_view word);

/// Runs `ppool serve` or a client command (argv[1]); returns the exit status.
int run_server_command(int argc, char** argv);

/// The client commands; `run_server_command` hands them here.
int run_client_command(std::string_view command, int argc, char** argv);

}  // namespace ppool::cli
