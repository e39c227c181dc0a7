#include "os/spawn.hpp"

#include "os/signals.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <spawn.h>
#include <system_error>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

namespace ppool::os {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

namespace {

/// posix_spawn attributes with RAII clean-up.
struct SpawnSetup {
    posix_spawnattr_t attr;
    SpawnSetup() { posix_spawnattr_init(&attr); }
    ~SpawnSetup() { posix_spawnattr_destroy(&attr); }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
};

/// The file actions of the last spawn on this thread, kept for the next:
/// making them checks each descriptor against the open file limit (two
/// getrlimit calls per dup2), and a worker passes the same three descriptor
/// numbers to every command it runs.
class FileActions {
public:
    FileActions() { posix_spawn_file_actions_init(&m_actions); }
    ~FileActions() { posix_spawn_file_actions_destroy(&m_actions); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;

    const posix_spawn_file_actions_t* get(const int (&targets)[3]) {
        if (m_valid && std::equal(targets, targets + 3, m_targets)) return &m_actions;
        posix_spawn_file_actions_destroy(&m_actions);
        posix_spawn_file_actions_init(&m_actions);
        // Kept only if every action was taken (a bad descriptor is left out, as before).
        m_valid = true;
        for (int target = 0; target < 3; ++target)
            if (targets[target] >= 0 && posix_spawn_file_actions_adddup2(&m_actions, targets[target], target) != 0)
                m_valid = false;
        std::copy(targets, targets + 3, m_targets);
        return &m_actions;
    }

private:
    posix_spawn_file_actions_t m_actions;
    int m_targets[3] = {-1, -1, -1};
    bool m_valid = false;
};

}  // namespace

SpawnResult spawn(const SpawnRequest& request) {
    SpawnSetup setup;
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (request.new_process_group) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&setup.attr, 0);
    }
    posix_spawnattr_setflags(&setup.attr, flags);
    sigset_t mask = request.mask ? *request.mask : child_mask();
    posix_spawnattr_setsigmask(&setup.attr, &mask);
    // Every signal a parent may have caught or ignored starts at its default.
    sigset_t defaults;
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    int targets[3] = {request.stdin_fd, request.stdout_fd, request.stderr_fd};
    thread_local FileActions kept;
    const posix_spawn_file_actions_t* actions = kept.get(targets);

    auto argv = c_strings(request.argv);
    auto envp = c_strings(request.env);
    pid_t pid = -1;
    int rc = request.program.empty()
                 ? posix_spawnp(&pid, argv[0], actions, &setup.attr, argv.data(), envp.data())
                 : posix_spawn(&pid, request.program.c_str(), actions, &setup.attr, argv.data(), envp.data());
    if (rc != 0) return SpawnResult{-1, rc};
    return SpawnResult{pid, 0};
}

std::string find_program(const std::string& name, std::string_view path) {
    if (name.find('/') != std::string::npos) return name;
    if (name.empty()) return {};
    for (;;) {
        auto colon = path.find(':');
        std::string_view dir = path.substr(0, colon);
        std::string candidate = std::string(dir.empty() ? "." : dir) + "/" + name;
        // A directory of that name is passed over, as execvp passes it over.
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
        if (colon == std::string_view::npos) return {};
        path.remove_prefix(colon + 1);
    }
}

std::string ProgramPaths::find(const std::string& name, std::string_view path) {
    if (path != m_path) {
        m_found.clear();
        m_path = path;
    }
    auto it = m_found.find(name);
    if (it != m_found.end()) return it->second;
    auto found = find_program(name, path);
    if (!found.empty()) m_found.emplace(name, found);
    return found;
}

std::vector<std::string> environment() {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    return env;
}

int exec_failure_status(int error) { return error == ENOENT ? 127 : 126; }

}  // namespace ppool::os
