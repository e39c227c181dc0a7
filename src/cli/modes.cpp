#include "cli/modes.hpp"

#include "cli/command_template.hpp"
#include "cli/input.hpp"
#include "cli/sink.hpp"
#include "cli/stream_runs.hpp"
#include "os/signals.hpp"
#include "ppool/plugins.hpp"
#include "ppool/pool.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fmt/format.h>
#include <iostream>

namespace ppool::cli {

namespace {

constexpr std::string_view k_command_task = "@command";

/// The registered task named on the command line; UsageError if unknown.
std::string registered_task(const std::string& name) {
    const TaskInfo* info = TaskRegistry::global().find(name);
    if (!info || info->is_command()) throw UsageError(fmt::format("unknown task '{}' (see 'ppool tasks')", name));
    return name;
}

/// The task the pool runs: the registered one, or the command line's command
/// registered under a private name before the workers are forked.
std::string prepare_task(const Options& o, bool with_item) {
    if (!o.task.empty()) {
        if (!o.words.empty()) throw UsageError("give either --task NAME or a command, not both");
        return registered_task(o.task);
    }
    if (o.words.empty()) throw UsageError("no command given (and no --task NAME)");
    auto command = std::make_shared<const CommandTemplate>(o.words, with_item);
    if (!TaskRegistry::global().find(k_command_task))
        TaskRegistry::global().add_command(std::string(k_command_task), "the command line's command",
                                           [command](const TaskContext& c) { return command->build(c); });
    return std::string(k_command_task);
}

PoolOptions pool_options(const Options& o) {
    PoolOptions p;
    p.processes = o.processes;
    p.initializer = o.init_task.empty() ? std::string() : registered_task(o.init_task);
    p.initargs = o.initargs;
    p.initializer_command = o.initializer;
    p.maxtasksperchild = o.max_tasks_per_worker;
    p.task_timeout = o.timeout;
    p.fail_fast = o.fail_fast;
    return p;
}

std::unique_ptr<Sink> make_sink(const Options& o) {
    return o.json ? make_json_sink(o.mode == Mode::map) : make_text_sink();
}

/// Streams results as they come; flushes whenever it would otherwise wait.
int stream(ResultIterator& results, Sink& sink) {
    bool failed = false;
    for (;;) {
        if (!results.has_ready()) sink.flush();
        auto r = results.next_result();
        if (!r) break;
        sink.write(*r);
        failed = failed || !r->ok;
    }
    sink.finish();
    return failed ? 1 : 0;
}

/// All or nothing: results are written only once every task succeeded.
int run_map(Pool& pool, const std::string& task, ItemSource& source, const Options& o, Sink& sink) {
    auto items = read_all(source);
    std::size_t chunksize = o.chunksize ? o.chunksize : Pool::default_chunksize(items.size(), pool.processes());
    auto results = pool.imap(task, std::move(items), chunksize);
    std::vector<TaskResult> done;
    bool failed = false;
    while (auto r = results.next_result()) {
        if (!r->ok) {
            failed = true;
            sink.report_failure(*r);
        }
        done.push_back(std::move(*r));
    }
    if (failed) return 1;
    for (const auto& r : done) sink.write(r);
    sink.finish();
    return 0;
}

int run_items(const Options& o) {
    // Resolve everything a user can get wrong before a worker starts.
    auto task = prepare_task(o, true);
    auto options = pool_options(o);
    auto source = open_inputs(o);
    // Signals are caught before the fork so that workers start with them blocked.
    os::SignalCatcher catcher{SIGINT, SIGTERM, SIGHUP};
    os::ignore_write_signals();
    Pool pool(options);
    auto sink = make_sink(o);
    if (o.mode == Mode::map) return run_map(pool, task, *source, o, *sink);
    std::size_t chunksize = std::max<std::size_t>(o.chunksize, 1);
    auto results = o.mode == Mode::imap ? pool.imap(task, std::move(source), chunksize)
                                        : pool.imap_unordered(task, std::move(source), chunksize);
    return runs_wanted(o) ? stream_runs(results, *sink) : stream(results, *sink);
}

int run_apply(const Options& o) {
    std::string item;
    std::string task;
    if (!o.task.empty()) {
        if (o.words.size() != 1) throw UsageError("apply --task NAME takes exactly one ITEM");
        task = registered_task(o.task);
        item = o.words[0];
    } else {
        task = prepare_task(o, false);
    }
    auto options = pool_options(o);
    if (options.processes == 0) options.processes = 1;
    os::SignalCatcher catcher{SIGINT, SIGTERM, SIGHUP};
    os::ignore_write_signals();
    Pool pool(options);
    auto sink = make_json_sink(false);
    if (!o.json) sink = make_text_sink();
    std::vector<std::string> items{std::move(item)};
    auto results = pool.imap(task, std::move(items), 1);
    auto r = results.next_result();
    sink->write(*r);
    sink->finish();
    return r->ok ? 0 : 1;
}

int list_tasks() {
    auto tasks = TaskRegistry::global().list();
    std::size_t width = 0;
    for (auto* t : tasks) width = std::max(width, t->name.size());
    std::string out;
    for (auto* t : tasks)
        if (!t->is_command()) out += fmt::format("{:<{}}  {}\n", t->name, width, t->description);
    std::cout << out << std::flush;
    return 0;
}

}  // namespace

int run_mode(const Options& o) {
    // Plugins first: their tasks must exist before names are checked and workers fork.
    if (const char* path = std::getenv("PPOOL_PLUGIN_PATH"))
        for (const auto& plugin : split_plugin_path(path)) load_plugin(plugin);
    for (const auto& plugin : o.plugins) load_plugin(plugin);
    switch (o.mode) {
    case Mode::tasks: return list_tasks();
    case Mode::apply: return run_apply(o);
    default: return run_items(o);
    }
}

}  // namespace ppool::cli
