#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool {

/// A registered task: runs inside a worker, item in, result out. An exception
/// fails that item, with the exception's message as the error.
using TaskFunction = std::function<std::string(std::string_view item)>;

/// What a command task knows of the item it runs for.
struct TaskContext {
    std::string_view item;   ///< the item
    std::uint64_t seq = 0;   ///< 1-based sequence number
    int worker = 0;          ///< 0-based worker slot
};

/// Builds the argv of a command task for one item (argv[0] is looked up in PATH).
using CommandBuilder = std::function<std::vector<std::string>(const TaskContext&)>;

/// A command task as data, which reaches any worker, wherever it runs. Its
/// words hold replacement strings ({} {.} {/} {//} {/.} {#} {%}) and run
/// directly, or under /bin/sh -c when they are one word with shell syntax.
struct CommandLine {
    std::vector<std::string> words;  ///< the command and its arguments, replacement strings in them
    bool append_item = true;     ///< add the item as the last word when no replacement string uses it
    bool item_on_stdin = false;  ///< write the item to the command's stdin instead (`--pipe`)
    /// The item is a list of arguments (several input sources, columns, -N):
    /// `{1}` `{2}` ... are its arguments, `{}` all of them as separate words.
    bool item_is_args = false;
    bool context_replace = false;  ///< -X: a word holding `{}` is repeated for every argument
    std::string replace = {};      ///< -I: what stands for the item instead of `{}`
    /// --pipepart: the item is "OFFSET LENGTH" of this file, whose bytes the
    /// worker reads and writes to the command's stdin.
    std::string stdin_file = {};
    /// Run the words as one shell script, joined by spaces as GNU parallel
    /// joins them: each word but a shell operator (`|`, `>`, `&&`, `;` ...)
    /// stays the one word it was, and replacement strings are quoted. A single
    /// word with shell syntax is a script already.
    bool in_shell = false;
    /// The shell that runs a script (`SHELL -c SCRIPT`); empty for /bin/sh.
    std::string shell = {};
};

/// A task known to the registry: either a function or a command builder.
struct TaskInfo {
    std::string name;            ///< what the task is called by (`--task`, Pool's calls)
    std::string description;     ///< one line for `ppool tasks`
    TaskFunction function;       ///< a function task's function; empty for a command
    CommandBuilder command;      ///< a command task's builder; empty for a function
    bool item_on_stdin = false;  ///< a command that reads the item on stdin (`--pipe`)
    /// Set for a command task added as data: what a worker started apart
    /// from this process (not forked from it) rebuilds the command from.
    std::optional<CommandLine> command_line;
    /// Whether it is a command task (it has a builder).
    bool is_command() const { return static_cast<bool>(command); }
};

/// The tasks workers can run. Workers are forked copies of the process, so a
/// task must be registered before the Pool that runs it is constructed.
class TaskRegistry {
public:
    /// The process-wide registry, with the built-in tasks already in it.
    static TaskRegistry& global();

    /// Adds a function task; throws UsageError if the name is taken or empty.
    void add(std::string name, std::string description, TaskFunction function);
    /// Adds a command task; throws UsageError if the name is taken or empty.
    /// With `item_on_stdin` the item is written to the command's stdin. Only
    /// forked workers can run it: a builder is code, not data.
    void add_command(std::string name, std::string description, CommandBuilder builder, bool item_on_stdin = false);
    /// Adds a command task as data, which every kind of worker can run; throws
    /// UsageError if the name is taken or empty, or the words are not a command.
    void add_command(std::string name, std::string description, CommandLine line);
    /// The task called `name`, or nullptr. Tasks are never removed or moved:
    /// the pointer stays valid while the registry lives, whatever is added later.
    const TaskInfo* find(std::string_view name) const;
    /// All tasks, sorted by name.
    std::vector<const TaskInfo*> list() const;
    /// Errors from static registrations (duplicates), reported by the CLI at start.
    const std::vector<std::string>& registration_errors() const { return m_errors; }

    /// For static registration: records an error instead of throwing.
    void add_static(const char* name, const char* description, TaskFunction function);

private:
    TaskRegistry();
    void insert(TaskInfo info);
    // A deque: a task found once stays where it is while others are added.
    std::deque<TaskInfo> m_tasks;
    std::vector<std::string> m_errors;
};

namespace detail {
struct TaskRegistrar {
    TaskRegistrar(const char* name, const char* description, TaskFunction function) {
        TaskRegistry::global().add_static(name, description, std::move(function));
    }
};
}  // namespace detail

}  // namespace ppool

#define PPOOL_DETAIL_CONCAT2(a, b) a##b
#define PPOOL_DETAIL_CONCAT(a, b) PPOOL_DETAIL_CONCAT2(a, b)

/// Registers a task in one line at namespace scope:
/// `PPOOL_REGISTER_TASK("reverse", "reverses the item", [](std::string_view s) { ... });`
#define PPOOL_REGISTER_TASK(name, description, fn)                                   \
    static const ::ppool::detail::TaskRegistrar PPOOL_DETAIL_CONCAT(ppool_task_,     \
                                                                    __COUNTER__) {   \
        name, description, fn                                                        \
    }
