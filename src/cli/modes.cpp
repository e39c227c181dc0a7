#include "cli/modes.hpp"

#include "worker/command_template.hpp"
#include "cli/input.hpp"
#include "cli/joblog.hpp"
#include "cli/live_output.hpp"
#include "cli/results.hpp"
#include "cli/encoding.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/serve_cli.hpp"
#include "cli/sources.hpp"
#include "os/unix_socket.hpp"
#include "server/client.hpp"
#include "cli/sink.hpp"
#include "os/cpu.hpp"
#include "cli/suggest.hpp"
#include "os/signals.hpp"
#include "ppool/plugins.hpp"
#include "ppool/pool.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>
#include <unistd.h>

extern char** environ;

namespace ppool::cli {

using worker::CommandTemplate;
using worker::display_command;

namespace {

constexpr std::string_view k_command_task = "@command";
/// Items per --pipe chunk in the streaming modes when -c is not given.
constexpr std::size_t k_pipe_chunksize = 1000;

/// Whether a task is ppool's own business, not one to name (`@...`).
bool hidden(const TaskInfo& task) { return task.name.starts_with('@'); }

/// The registered task named on the command line; UsageError if unknown.
std::string registered_task(const std::string& name) {
    const TaskInfo* info = TaskRegistry::global().find(name);
    if (info && !info->is_command() && !hidden(*info)) return name;
    std::vector<std::string> names;
    for (const auto* task : TaskRegistry::global().list())
        if (!task->is_command() && !hidden(*task)) names.push_back(task->name);
    if (auto hint = nearest(name, names))
        throw UsageError(fmt::format("unknown task '{}' (did you mean '{}'? see 'ppool tasks')", name, *hint));
    throw UsageError(fmt::format("unknown task '{}' (see 'ppool tasks')", name));
}

/// The task the pool runs, and what the workflow options say about it.
struct PreparedTask {
    std::string name;                                  ///< registry name
    std::shared_ptr<const CommandTemplate> command;    ///< null for a registered task
    std::string identity;                              ///< what --resume keys items by, with the item

    /// What runs for an item, as --dry-run and the joblog show it.
    std::string describe(std::string_view item, std::uint64_t seq, int worker) const {
        if (!command) return fmt::format("--task {} {}", name, display_command({std::string(item)}));
        try {
            return display_command(command->build(TaskContext{item, seq, worker}));
        } catch (const std::exception& e) {
            return fmt::format("(no command: {})", e.what());
        }
    }
};

/// The command's words with --header's `{name}` as `{N}`, the column's position.
std::vector<std::string> named_columns(std::vector<std::string> words, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i].empty()) continue;
        std::string name = "{" + names[i] + "}";
        std::string position = "{" + std::to_string(i + 1) + "}";
        for (auto& word : words)
            for (auto at = word.find(name); at != std::string::npos; at = word.find(name, at + position.size()))
                word.replace(at, name.size(), position);
    }
    return words;
}

/// The value of an exported bash function `name` (`export -f name`), if
/// this process's environment has one.
const char* exported_function(std::string_view name) {
    return std::getenv(fmt::format("BASH_FUNC_{}%%", name).c_str());
}

/// The first word the command runs: the first of several words, or a
/// script's first blank-separated word.
std::string_view program_word(const std::vector<std::string>& words) {
    if (words.empty()) return {};
    std::string_view first = words.front();
    if (words.size() == 1) first = first.substr(0, first.find_first_of(" \t\n"));
    return first;
}

/// The shell that runs scripts: --shell, else $PPOOL_SHELL, else
/// $PARALLEL_SHELL; empty for /bin/sh.
std::string chosen_shell(const Options& o) {
    if (!o.shell.empty()) return o.shell;
    for (const char* name : {"PPOOL_SHELL", "PARALLEL_SHELL"})
        if (const char* value = std::getenv(name); value && *value) return value;
    return {};
}

/// How the command runs: as words, or as one script of the shell's, which
/// it is given shell operators among its words (unless -q), or when it
/// calls an exported bash function (with bash, unless a shell was chosen).
CommandLine command_line(const Options& o, bool with_item, bool args, const std::vector<std::string>& names) {
    CommandLine line{named_columns(o.words, names), with_item && !o.pipe, o.pipe, args, o.context_replace, o.replace};
    line.shell = chosen_shell(o);
    line.in_shell = !o.quote && worker::has_shell_operator(line.words);
    if (exported_function(program_word(line.words))) {
        line.in_shell = true;
        if (line.shell.empty()) line.shell = "bash";
    }
    return line;
}

/// The registered task, or the command line's command registered under a
/// private name before the workers are forked.
PreparedTask prepare_task(const Options& o, bool with_item, bool args = false,
                          const std::vector<std::string>& names = {}) {
    if (!o.task.empty()) {
        if (!o.words.empty()) throw UsageError("give either --task NAME or a command, not both");
        return PreparedTask{registered_task(o.task), nullptr, std::string("task", 5) + o.task};
    }
    if (o.words.empty()) throw UsageError("no command given (and no --task NAME)");
    CommandLine line = command_line(o, with_item, args, names);
    if (o.pipepart) {
        // The workers read the file themselves, wherever they run from.
        char* path = ::realpath(o.inputs.front().c_str(), nullptr);
        if (!path) throw UsageError(fmt::format("cannot read '{}': {}", o.inputs.front(), std::strerror(errno)));
        line.stdin_file = path;
        std::free(path);
    }
    auto command = std::make_shared<const CommandTemplate>(line);
    if (o.pipe && command->uses_item())
        throw UsageError("--pipe writes the items to the command's stdin: use {#} or {%}, not {} or its variants");
    std::string identity = o.pipe ? std::string("pipe", 5) : std::string("command", 8);
    for (const auto& word : line.words) identity.append(word).push_back('\0');
    if (line.in_shell || !line.shell.empty())
        identity.append(line.in_shell ? "shell" : "").append(line.shell).push_back('\0');
    if (args || o.context_replace || !o.replace.empty()) {
        // How the items fill the command is part of what it runs.
        identity.append(args ? "args" : "").append(o.context_replace ? "-X" : "").push_back('\0');
        identity.append(o.replace).push_back('\0');
    }
    if (!TaskRegistry::global().find(k_command_task))
        TaskRegistry::global().add_command(std::string(k_command_task), "the command line's command", std::move(line));
    return PreparedTask{std::string(k_command_task), command, std::move(identity)};
}

/// What -m and -X may put in one command line besides the items.
LineBudget line_budget(const Options& o) {
    LineBudget budget;
    bool shell = command_line(o, true, true, {}).in_shell ||
                 (o.words.size() == 1 && worker::needs_shell(o.words[0], o.replace));
    std::string_view all = o.replace.empty() ? std::string_view("{}") : std::string_view(o.replace);
    for (const auto& word : o.words) {
        budget.fixed += word.size() + 1;
        if (o.context_replace && word.find(all) != std::string::npos) budget.per_arg += word.size();
    }
    // Quotes around each item in a shell script.
    if (shell) budget.per_arg += 3;
    return budget;
}

/// A problem ppool runs on despite: one line on stderr.
void warn(std::string_view message) {
    auto line = fmt::format("ppool: warning: {}\n", message);
    // Best effort: a warning must not stop the run.
    [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

/// --env: NAME=VALUE for each variable named, and an exported bash function
/// of the name as bash keeps it; a name with neither passes nothing, as in
/// GNU parallel. The command's own exported function always goes along.
std::vector<std::string> passed_environment(const Options& o) {
    std::vector<std::string> names = o.env;
    if (o.task.empty() && exported_function(program_word(o.words)))
        names.emplace_back(program_word(o.words));
    std::vector<std::string> environment;
    auto add = [&](const std::string& variable) {
        if (std::find(environment.begin(), environment.end(), variable) == environment.end())
            environment.push_back(variable);
    };
    for (const auto& name : names) {
        if (const char* value = std::getenv(name.c_str())) add(fmt::format("{}={}", name, value));
        if (const char* body = exported_function(name)) add(fmt::format("BASH_FUNC_{}%%={}", name, body));
    }
    return environment;
}

/// This process's environment, for the server's workers that run its tasks.
std::vector<std::string> whole_environment() {
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "PPOOL_WORKER=", 13) != 0 && std::strncmp(*e, "PPOOL_SEQ=", 10) != 0)
            environment.emplace_back(*e);
    return environment;
}

PoolOptions pool_options(const Options& o) {
    PoolOptions p;
    p.processes = o.processes;
    p.initializer = o.init_task.empty() ? std::string() : registered_task(o.init_task);
    p.initargs = o.initargs;
    p.initializer_command = o.initializer;
    p.shell = chosen_shell(o);
    p.environment = passed_environment(o);
    p.maxtasksperchild = o.max_tasks_per_worker;
    p.task_timeout = o.timeout;
    p.fail_fast = o.fail_fast;
    p.halt = o.halt;
    p.delay_s = o.delay;
    p.max_load = o.load;
    p.min_memfree = o.memfree;
    p.task_timeout_percent = o.timeout_percent;
    p.retries = o.retries;
    p.make_jobserver = true;
    p.launcher = o.launcher;
    p.server = o.server;
    if (!o.server.empty()) p.environment = whole_environment();
    p.sshlogins = o.sshlogins;
    p.sshloginfile = o.sshloginfile;
    p.ssh = o.ssh;
    p.remote_ppool = o.remote_ppool;
    p.slurm = o.slurm;
    p.transfer = o.transfer_files;
    p.returns = o.returns;
    p.cleanup = o.cleanup;
    p.on_warning = [](const std::string& message) { warn(message); };
    return p;
}

/// The items as the pool gets them: --pipe chunks, without what --resume skips.
std::unique_ptr<ItemSource> prepare_items(const Options& o, const PreparedTask& task,
                                          std::unique_ptr<ItemSource> source) {
    if (o.pipe && !uses_records(o)) {
        std::size_t n = o.chunksize;
        if (n == 0 && o.mode == Mode::map) {
            // map's default chunksize needs the number of items.
            auto items = read_all(*source);
            int processes = o.processes > 0 ? o.processes : os::usable_cpus();
            n = Pool::default_chunksize(items.size(), processes);
            source = items_from(std::move(items));
        }
        source = group_items(std::move(source), n ? n : k_pipe_chunksize, o.null ? '\0' : '\n');
    }
    if (o.resume) source = skip_succeeded(std::move(source), succeeded_keys(o.joblog), task.identity);
    return source;
}

/// The number of tasks from the start, where it is known without running
/// them: from the items after ::: and the records of regular input files
/// (read once ahead for it, as GNU parallel reads its input for --eta),
/// combined as the sources are (every pair; linked ones as long as the
/// longest), and grouped by -N or -n. Nothing where stdin is a source, or
/// with --pipe, --resume, --header, -m or -X, whose tasks are known only as
/// they go.
std::optional<std::uint64_t> known_total(const Options& o) {
    if (o.pipe || o.resume || o.header || o.fill_line) return std::nullopt;
    if (o.sources.empty()) {
        // One -a file, or stdin.
        if (o.inputs.size() != 1 || o.inputs.front() == "-") return std::nullopt;
        auto n = count_records(o.inputs.front(), o.null ? '\0' : '\n');
        if (n && o.max_args > 0) *n = (*n + o.max_args - 1) / o.max_args;
        return n;
    }
    std::uint64_t total = 1;
    std::uint64_t group = 0;  // the sources linked so far
    for (std::size_t i = 0; i < o.sources.size(); ++i) {
        const auto& source = o.sources[i];
        std::optional<std::uint64_t> n = source.items.size();
        if (source.from_file)
            n = source.file == "-" ? std::nullopt : count_records(source.file, o.null ? '\0' : '\n');
        if (!n) return std::nullopt;
        bool linked = o.link || source.linked;
        if (i > 0 && !linked) {
            total *= group;
            group = 0;
        }
        group = std::max(group, *n);
    }
    total *= group;
    if (o.max_args > 0) total = (total + o.max_args - 1) / o.max_args;
    return total;
}

/// --dry-run: what would run for each item, in input order; nothing runs.
int dry_run(const PreparedTask& task, ItemSource& source) {
    std::string out;
    std::uint64_t seq = 0;
    for_each_item(source, [&](std::string& item) {
        out += task.describe(item, ++seq, 0);
        out += '\n';
        if (out.size() >= (1 << 16)) {
            write_output(1, out);
            out.clear();
        }
    });
    write_output(1, out);
    return 0;
}

/// What the progress line shows of a job: its total from the start where it
/// is known (`total`), else once its input has ended; running tasks never
/// more than there are workers (items handed out in chunks wait their turn).
ProgressCounts counts(const ResultIterator& results, std::optional<std::uint64_t> total, std::size_t workers) {
    auto p = results.progress();
    if (p.input_ended) total = p.read;
    return ProgressCounts{p.done, p.failed, std::min<std::uint64_t>(p.running, workers), total};
}

/// The next results, keeping the progress line fresh while waiting.
std::optional<ResultRun> next(ResultIterator& results, Progress& progress, std::optional<std::uint64_t> total,
                              std::size_t workers) {
    if (!progress.enabled()) return results.next_batch();
    for (;;) {
        progress.update(counts(results, total, workers));
        try {
            return results.next_batch(progress.interval_s());
        } catch (const TimeoutError&) {
        }
    }
}

/// Streams results as they come, whole runs at a time; flushes whenever it
/// would otherwise wait.
int stream(ResultIterator& results, Sink& sink, Progress& progress, std::optional<std::uint64_t> total,
           std::size_t workers) {
    bool failed = false;
    for (;;) {
        if (!results.has_ready()) sink.flush();
        auto run = next(results, progress, total, workers);
        if (!run) break;
        failed = failed || run->has_failure();
        sink.write(*run);
    }
    sink.finish();
    progress.finish(counts(results, total, workers));
    return failed ? 1 : 0;
}

/// All or nothing: results are written only once every task succeeded.
int run_map(Pool& pool, const std::string& task, ItemSource& source, const Options& o, Sink& sink,
            Progress& progress) {
    auto items = read_all(source);
    // Paced starts are starts of tasks, one a chunk.
    bool paced = o.delay > 0 || o.load > 0 || o.memfree > 0;
    std::size_t chunksize = o.pipe ? 1 : o.chunksize ? o.chunksize : paced ? 1 : Pool::default_chunksize(items.size(), pool.processes());
    std::uint64_t total = items.size();
    auto results = pool.imap(task, std::move(items), chunksize);
    std::vector<ResultRun> done;
    bool failed = false;
    while (auto run = next(results, progress, total, pool.processes())) {
        if (run->has_failure()) {
            failed = true;
            for (std::size_t i = 0; i < run->size(); ++i)
                if (auto e = (*run)[i]; !e.ok()) sink.report_failure(e);
        }
        done.push_back(std::move(*run));
    }
    progress.finish(counts(results, total, pool.processes()));
    if (failed) return 1;
    for (auto& run : done) sink.write(run);
    sink.finish();
    return 0;
}

SinkOptions sink_options(const Options& o, Progress& progress, bool args, const std::vector<std::string>& names) {
    SinkOptions options;
    options.tag = o.tag || o.tagstring;
    options.args_input = args;
    if (o.tagstring) {
        // Filled as the command is, with nothing quoted: the same replacement strings.
        CommandLine line{named_columns({*o.tagstring}, names), false, false, args, false, o.replace};
        auto tag = std::make_shared<const CommandTemplate>(line);
        options.tag_of = [tag](std::string_view input, std::uint64_t seq, int worker) {
            try {
                return tag_text(tag->expand(TaskContext{input, seq, worker})) + '\t';
            } catch (const std::exception&) {
                return tag_text(input) + '\t';
            }
        };
    }
    if (o.pipe) options.chunk_separator = o.null ? '\0' : '\n';
    if (progress.enabled()) options.before_write = [&progress] { progress.clear(); };
    return options;
}

std::unique_ptr<Sink> make_sink(const Options& o, SinkOptions options) {
    return o.json ? make_json_sink(o.mode == Mode::map, std::move(options)) : make_text_sink(std::move(options));
}

int run_items(const Options& o) {
    // Resolve everything a user can get wrong before a worker starts.
    Inputs inputs;
    if (uses_records(o))
        inputs.source = record_chunks(o);
    else if (uses_arguments(o))
        inputs = open_sources(o, line_budget(o));
    else
        inputs.source = open_inputs(o);
    if (!o.task.empty() && inputs.args) {
        // A registered task takes one string: the arguments as {} shows them.
        inputs.source = joined_args(std::move(inputs.source));
        inputs.args = false;
    }
    auto task = prepare_task(o, true, inputs.args, inputs.names);
    auto options = pool_options(o);
    auto source = prepare_items(o, task, std::move(inputs.source));
    if (o.dry_run) return dry_run(task, *source);
    std::optional<Joblog> joblog;
    if (!o.joblog.empty()) {
        joblog.emplace(o.joblog, task.identity,
                       [&task](const ResultRun::Entry& r) { return task.describe(r.input, r.seq, r.worker); },
                       inputs.args);
        options.on_results = [&joblog](const ResultRun& run) { joblog->record(run); };
    }
    std::optional<ResultsWriter> kept;
    if (!o.results.empty()) {
        kept.emplace(ResultsConfig{o.results, inputs.names, inputs.args, o.replace,
                                   [&task](const ResultRun::Entry& r) { return task.describe(r.input, r.seq, r.worker); }});
        options.on_results = [&kept, logged = std::move(options.on_results)](const ResultRun& run) {
            kept->record(run);
            if (logged) logged(run);
        };
    }
    Progress progress(o.progress, o.bar);
    auto shown = sink_options(o, progress, inputs.args, inputs.names);
    // GNU parallel writes a task's output to the --results files only, unless it is to come as it is written.
    shown.outputs_kept = !o.results.empty() && !o.json && !o.line_buffer && !o.ungroup;
    std::optional<LiveOutput> live;
    if (o.line_buffer || o.ungroup) {
        live.emplace(o.line_buffer, shown);
        options.on_output = [&live, &kept](const OutputPiece& piece) {
            if (kept) kept->add_output(piece.seq, piece.stream, piece.data);
            live->write(piece);
        };
        // A task's last line, if it has no newline, goes out as the task ends.
        options.on_results = [&live, logged = std::move(options.on_results)](const ResultRun& run) {
            for (std::size_t i = 0; i < run.size(); ++i) live->finish(run[i].seq);
            if (logged) logged(run);
        };
    }
    // The large output of the task next in order goes out as it comes, not
    // through a spill file, where nothing else wants the output and the task
    // runs once: not with a retry, a halt that stops running tasks, or hosts
    // whose loss runs their tasks again.
    shown.stream_next = o.mode == Mode::imap && !o.json && !shown.tag && !shown.outputs_kept && !live &&
                        o.retries == 0 && !o.fail_fast && o.halt.when == HaltRule::When::never &&
                        o.sshlogins.empty() && o.sshloginfile.empty() && !o.slurm;
    Sink* streamed = nullptr;
    if (shown.stream_next)
        options.on_output_part = [&streamed](std::uint64_t seq, std::string_view data) -> std::size_t {
            return streamed ? streamed->write_part(seq, data) : 0;
        };
    // Signals are caught before the fork so that workers start with them blocked.
    os::SignalCatcher catcher{SIGINT, SIGTERM, SIGHUP};
    os::ignore_write_signals();
    Pool pool(options);
    auto sink = make_sink(o, shown);
    streamed = sink.get();
    if (o.mode == Mode::map) return run_map(pool, task.name, *source, o, *sink, progress);
    std::size_t chunksize = o.pipe ? 1 : std::max<std::size_t>(o.chunksize, 1);
    auto total = progress.enabled() ? known_total(o) : std::nullopt;
    auto results = o.mode == Mode::imap ? pool.imap(task.name, std::move(source), chunksize)
                                        : pool.imap_unordered(task.name, std::move(source), chunksize);
    int status = stream(results, *sink, progress, total, pool.processes());
    if (live) live->finish_all();
    return status;
}

int run_apply(const Options& o) {
    std::string item;
    std::string task;
    if (!o.task.empty()) {
        if (o.words.size() != 1) throw UsageError("apply --task NAME takes exactly one ITEM");
        task = registered_task(o.task);
        item = o.words[0];
    } else {
        task = prepare_task(o, false).name;
    }
    auto options = pool_options(o);
    if (options.processes == 0) options.processes = 1;
    os::SignalCatcher catcher{SIGINT, SIGTERM, SIGHUP};
    os::ignore_write_signals();
    Pool pool(options);
    auto sink = o.json ? make_json_sink(false) : make_text_sink();
    std::vector<std::string> items{std::move(item)};
    auto results = pool.imap(task, std::move(items), 1);
    auto run = results.next_batch();
    bool failed = run->has_failure();
    sink->write(*run);
    sink->finish();
    return failed ? 1 : 0;
}

int list_tasks() {
    auto tasks = TaskRegistry::global().list();
    std::size_t width = 0;
    for (auto* t : tasks) width = std::max(width, t->name.size());
    std::string out;
    for (auto* t : tasks)
        if (!t->is_command() && !hidden(*t)) out += fmt::format("{:<{}}  {}\n", t->name, width, t->description);
    write_output(1, out);
    return 0;
}

}  // namespace

int run_mode(const Options& o) {
    // Plugins first: their tasks must exist before names are checked and workers fork.
    if (const char* path = std::getenv("PPOOL_PLUGIN_PATH"))
        for (const auto& plugin : split_plugin_path(path)) load_plugin(plugin);
    for (const auto& plugin : o.plugins) load_plugin(plugin);
    try {
        switch (o.mode) {
        case Mode::tasks: return list_tasks();
        case Mode::apply: return run_apply(o);
        default: return run_items(o);
        }
    } catch (const server::ServerLost& e) {
        // The server went away while the run waited for a worker of its.
        write_output(2, fmt::format("ppool: {}\n", e.what()));
        return k_exit_server_lost;
    } catch (const InitializerError& e) {
        // The server whose workers ran the tasks went away: its own status, as for every client of it.
        if (o.server.empty() || os::probe_unix_socket(o.server) == os::SocketProbe::live) throw;
        write_output(2, fmt::format("ppool: {}\n", e.what()));
        return k_exit_server_lost;
    }
}

}  // namespace ppool::cli
