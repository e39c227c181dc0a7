#pragma once

#include <csignal>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace ppool::os {

/// What a spawned command gets: argv (argv[0] searched in PATH), a complete
/// environment, and the descriptors to install as its stdin, stdout, stderr.
struct SpawnRequest {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    bool new_process_group = true;
    /// The child's signal mask; null: the mask this process had before ppool's own blocking.
    const sigset_t* mask = nullptr;
    /// The file to run (found by ProgramPaths); empty: argv[0], searched in PATH.
    std::string program = {};
};

/// Outcome of a spawn: the child's pid, or the errno of a failed exec.
struct SpawnResult {
    pid_t pid = -1;
    int error = 0;
};

/// Starts the command with posix_spawnp (posix_spawn given `program`; vfork-fast); the child starts in its
/// own process group with default signal handling and the pre-ppool signal
/// mask. An exec failure is returned as `error` (glibc reports it through its
/// own close-on-exec pipe), never as a running child.
SpawnResult spawn(const SpawnRequest& request);

/// The file `name` names, searched in `path` (a PATH value) as execvp
/// searches, the first that may be executed; `name` itself when it holds a
/// '/'; empty if none.
std::string find_program(const std::string& name, std::string_view path);

/// Where each program name was found in PATH, as a shell's hash table keeps
/// it: a run searches PATH once for a program, not once for every task (each
/// directory before the program's is a failed exec). A program that has gone
/// is forgotten, and searched again.
class ProgramPaths {
public:
    /// The file `name` runs with PATH `path`; empty if none is found.
    std::string find(const std::string& name, std::string_view path);
    /// Forgets where `name` was: its file is gone.
    void forget(const std::string& name) { m_found.erase(name); }

private:
    std::string m_path;  ///< the PATH the names were found in
    std::unordered_map<std::string, std::string> m_found;
};

/// argv or envp for exec: pointers to the strings' bytes, then a null pointer.
std::vector<char*> c_strings(const std::vector<std::string>& strings);

/// This process's environment, as "NAME=value" strings: what a spawned command inherits.
std::vector<std::string> environment();

/// The exit status a shell gives for an exec failure: 127 not found, else 126.
int exec_failure_status(int error);

}  // namespace ppool::os
