#include "cli/options.hpp"

#include "cli/help.hpp"
#include "cli/output.hpp"
#include "cli/suggest.hpp"

#include "ppool/errors.hpp"

#include <CLI/CLI.hpp>
#include <cmath>
#include <fmt/format.h>
#include <algorithm>
#include <sstream>

#ifndef PPOOL_VERSION
#define PPOOL_VERSION "0.0.0"
#endif

namespace ppool::cli {

const std::vector<ModeInfo> k_modes = {
    {Mode::map, "map", "", "all results in input order once all succeeded"},
    {Mode::imap, "imap", "", "stream the results in input order"},
    {Mode::imap_unordered, "imap-unordered", "unordered", "stream the results in completion order"},
    {Mode::apply, "apply", "", "run one task in a pool worker, print its result"},
    {Mode::tasks, "tasks", "", "list the registered tasks"},
};

namespace {

/// Raw option values, checked after parsing so that errors can say what is wrong.
struct RawOptions {
    long long processes = 0;
    bool processes_set = false;
    long long chunksize = 0;
    bool chunksize_set = false;
    std::string timeout;
    bool timeout_set = false;
    long long max_tasks = 0;
    bool max_tasks_set = false;
    std::string format = "text";
    bool json = false;
    long long retries = 0;
    std::string progress;
    bool progress_set = false;
};

void add_plugin_option(CLI::App& sub, Options& o) {
    sub.add_option("--plugin", o.plugins, "load tasks from a plugin (repeatable)")->group("Task")->type_name("FILE");
}

/// The options of a pool mode, group by group in the order --help shows them.
void add_pool_options(CLI::App& sub, Options& o, RawOptions& raw, bool takes_items) {
    sub.add_option("-j,--processes", raw.processes, "number of worker processes (default: CPUs)")
        ->group("Pool")
        ->type_name("N")
        ->each([&](const std::string&) { raw.processes_set = true; });
    if (takes_items)
        sub.add_option("-c,--chunksize", raw.chunksize, "items handed to a worker at a time")
            ->group("Pool")
            ->type_name("N")
            ->each([&](const std::string&) { raw.chunksize_set = true; });
    sub.add_option("--initializer", o.initializer, "shell command each worker runs once at start")
        ->group("Pool")
        ->type_name("CMD");
    sub.add_option("--init-task", o.init_task, "registered task each worker runs once at start")
        ->group("Pool")
        ->type_name("NAME");
    sub.add_option("--initargs", o.initargs, "the item --init-task gets")->group("Pool")->type_name("STR");
    sub.add_option("--max-tasks-per-worker", raw.max_tasks, "replace a worker after N tasks")
        ->group("Pool")
        ->type_name("N")
        ->each([&](const std::string&) { raw.max_tasks_set = true; });

    sub.add_option("-t,--task", o.task, "run a registered task, not a command")->group("Task")->type_name("NAME");
    sub.add_option("--timeout", raw.timeout, "per-task time limit; fractions allowed")
        ->group("Task")
        ->type_name("SECONDS")
        ->each([&](const std::string&) { raw.timeout_set = true; });
    add_plugin_option(sub, o);

    if (takes_items) {
        sub.add_option("-a,--input", o.inputs, "read items from FILE (repeatable; - is stdin)")
            ->group("Input")
            ->type_name("FILE");
        sub.add_flag("-0,--null", o.null, "items are NUL-separated, not lines")->group("Input");
        sub.add_flag("--pipe", o.pipe, "write each chunk to one command's stdin")->group("Input");
    }

    sub.add_option("--format", raw.format, "text (the default) or json")->group("Output")->type_name("text|json");
    sub.add_flag("--json", raw.json, "the same as --format json")->group("Output");
    if (takes_items) {
        sub.add_flag("--tag", o.tag, "prefix output lines with the item and a TAB")->group("Output");

        sub.add_flag("--fail-fast", o.fail_fast, "stop at the first failure, exit 1")->group("Workflow");
        sub.add_option("--joblog", o.joblog, "append a line per finished task to FILE")
            ->group("Workflow")
            ->type_name("FILE");
        sub.add_flag("--resume", o.resume, "skip items the joblog lists as done")->group("Workflow");
        sub.add_option("--retries", raw.retries, "run a failed task up to N more times")
            ->group("Workflow")
            ->type_name("N");
        sub.add_flag("--dry-run", o.dry_run, "print what would run, run nothing")->group("Workflow");
        sub.add_option("--progress", raw.progress, "progress line on stderr: auto, always, never")
            ->group("Workflow")
            ->expected(0, 1)
            ->default_str("auto")
            ->option_text("[=WHEN]")
            ->each([&](const std::string&) { raw.progress_set = true; });
    }
}

/// The --progress value named `word`, if it is one.
std::optional<ProgressWhen> progress_when(std::string_view word) {
    if (word == "auto") return ProgressWhen::terminal;
    if (word == "always") return ProgressWhen::always;
    if (word == "never") return ProgressWhen::never;
    return std::nullopt;
}

/// Checks the workflow options (SPEC 3b) and how they combine.
void check_workflow(Options& o, const RawOptions& raw) {
    if (raw.retries < 0) throw UsageError(fmt::format("--retries must be 0 or more, not {}", raw.retries));
    if (raw.retries > 1000000) throw UsageError(fmt::format("--retries {} is too large", raw.retries));
    o.retries = static_cast<unsigned>(raw.retries);
    if (raw.progress_set || !raw.progress.empty()) {
        const std::string& when = raw.progress.empty() ? std::string("auto") : raw.progress;
        auto known = progress_when(when);
        if (known) o.progress = *known;
        else throw UsageError(fmt::format("--progress must be auto, always or never, not '{}'", when));
    }
    if (o.resume && o.joblog.empty()) throw UsageError("--resume needs --joblog FILE");
    if (o.pipe && !o.task.empty()) throw UsageError("--pipe works with commands, not --task");
    if (o.tag && o.json) throw UsageError("--tag is for text output; JSON already has the item in \"input\"");
    if (o.tag && o.pipe) throw UsageError("--tag needs items, which --pipe does not substitute");
    // Items after ":::" stand in for stdin.
    auto marker = std::find(o.words.begin(), o.words.end(), ":::");
    if (marker != o.words.end()) {
        if (o.mode == Mode::apply) throw UsageError("apply takes no ::: items");
        std::vector<std::string> items(marker + 1, o.words.end());
        o.words.erase(marker, o.words.end());
        if (std::find(items.begin(), items.end(), ":::") != items.end())
            throw UsageError("only one ::: list of items is supported");
        if (!o.inputs.empty()) throw UsageError("give items either after ::: or with -a FILE, not both");
        o.arg_items = std::move(items);
    }
}

/// Checks the numbers and names that CLI11 took as given.
void check(Options& o, const RawOptions& raw) {
    if (raw.processes_set && raw.processes < 1)
        throw UsageError(fmt::format("-j/--processes must be at least 1, not {}", raw.processes));
    if (raw.processes > 100000) throw UsageError(fmt::format("-j/--processes {} is too large", raw.processes));
    o.processes = static_cast<int>(raw.processes);
    if (raw.chunksize_set && raw.chunksize < 1)
        throw UsageError(fmt::format("-c/--chunksize must be at least 1, not {}", raw.chunksize));
    o.chunksize = static_cast<std::size_t>(raw.chunksize);
    if (raw.max_tasks_set && raw.max_tasks < 1)
        throw UsageError(fmt::format("--max-tasks-per-worker must be at least 1, not {}", raw.max_tasks));
    o.max_tasks_per_worker = static_cast<std::uint64_t>(raw.max_tasks);
    if (raw.timeout_set) {
        double seconds = 0;
        std::size_t used = 0;
        try {
            seconds = std::stod(raw.timeout, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != raw.timeout.size() || !std::isfinite(seconds) || seconds <= 0)
            throw UsageError(fmt::format("--timeout needs a positive number of seconds, not '{}'", raw.timeout));
        o.timeout = seconds;
    }
    if (raw.format != "text" && raw.format != "json")
        throw UsageError(fmt::format("--format must be text or json, not '{}'", raw.format));
    o.json = raw.json || raw.format == "json";
    if (!o.initargs.empty() && o.init_task.empty()) throw UsageError("--initargs needs --init-task");
    check_workflow(o, raw);
}

/// Whether `arg` names an option of `sub` that takes a value in the next argument.
bool takes_separate_value(CLI::App& sub, const std::string& arg, const char* next) {
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) return false;
    // "-j4": the value is attached.
    if (arg.rfind("--", 0) != 0 && arg.size() > 2) return false;
    const CLI::Option* opt = sub.get_option_no_throw(arg);
    if (!opt) return false;
    if (opt->get_expected_min() > 0) return true;
    // An optional value stands apart only where the word can be nothing else:
    // `--progress always`, but `--progress echo {}` starts the command.
    return arg == "--progress" && next && progress_when(next);
}

/// Every spelling of every option of `app`: "-j", "--processes", ...
std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::Option* opt : app.get_options()) {
        for (const auto& name : opt->get_lnames()) names.push_back("--" + name);
        for (const auto& name : opt->get_snames()) names.push_back("-" + name);
    }
    return names;
}

/// The usage error for an option `app` does not know, with the nearest known one.
UsageError unknown_option(const CLI::App& app, const std::string& option) {
    if (auto hint = nearest(option, option_names(app)))
        return UsageError(fmt::format("unknown option '{}' (did you mean '{}'?)", option, *hint));
    std::string help = app.get_parent() ? fmt::format("ppool {} --help", app.get_name()) : "ppool --help";
    return UsageError(fmt::format("unknown option '{}' (see '{}')", option, help));
}

/// Whether `arg`, in the options' place, names an option of `sub`: "--name",
/// "--name=value", "-x", "-xVALUE" or "-xy" (flags together).
bool known_option(CLI::App& sub, const std::string& arg) {
    std::string name = arg.rfind("--", 0) == 0 ? arg.substr(0, arg.find('=')) : arg.substr(0, 2);
    return sub.get_option_no_throw(name) != nullptr;
}

/// Splits argv into what CLI11 parses (program, mode, options) and the command
/// (or apply's ITEM): the command starts at the first word that is not an
/// option or an option's value, or after "--". Its own options stay its own.
std::vector<std::string> split_command(CLI::App& app, int argc, char** argv, std::vector<std::string>& command) {
    std::vector<std::string> args;
    int i = 1;
    if (i < argc && argv[i][0] != '-') {
        std::string mode = argv[i];
        bool known = false;
        for (const auto& info : k_modes) known = known || mode == info.name || mode == info.alias;
        if (!known) {
            std::vector<std::string> names;
            for (const auto& info : k_modes) {
                names.emplace_back(info.name);
                if (!info.alias.empty()) names.emplace_back(info.alias);
            }
            if (auto hint = nearest(mode, names))
                throw UsageError(fmt::format("unknown mode '{}' (did you mean '{}'?)", mode, *hint));
            throw UsageError(fmt::format("unknown mode '{}' (modes: map, imap, imap-unordered, apply, tasks)", mode));
        }
    }
    CLI::App* sub = nullptr;
    if (i < argc && argv[i][0] != '-') sub = app.get_subcommand(argv[i]);
    if (!sub) {
        // No mode: --help, --version, or a mistake.
        if (i == argc) throw UsageError("no mode given (modes: map, imap, imap-unordered, apply, tasks)");
        std::string first = argv[i];
        if (!known_option(app, first)) {
            CLI::App& pool_mode = *app.get_subcommand("imap");
            if (known_option(pool_mode, first))
                throw UsageError(fmt::format("the mode comes before '{}': ppool MODE [OPTIONS] ...", first));
            throw unknown_option(app, first.substr(0, first.find('=')));
        }
        for (; i < argc; ++i) args.emplace_back(argv[i]);
    } else {
        args.emplace_back(argv[i++]);
    }
    for (; sub && i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') break;
        if (!known_option(*sub, arg)) throw unknown_option(*sub, arg.substr(0, arg.find('=')));
        args.push_back(arg);
        if (takes_separate_value(*sub, arg, i + 1 < argc ? argv[i + 1] : nullptr) && i + 1 < argc)
            args.emplace_back(argv[++i]);
    }
    for (; sub && i < argc; ++i) command.emplace_back(argv[i]);
    // CLI11 wants the arguments in reverse order.
    std::reverse(args.begin(), args.end());
    return args;
}

/// --help or --version: the text goes out with one checked write, so that a
/// full disk is an error rather than a silent success.
Parsed print_and_exit(const CLI::App& app, const CLI::Error& e) {
    std::ostringstream text;
    int status = app.exit(e, text, text);
    write_output(1, text.str());
    return Parsed{std::nullopt, status};
}

}  // namespace

Parsed parse_command_line(int argc, char** argv) {
    CLI::App app{"ppool - a process pool for the command line", "ppool"};
    app.formatter(make_help_formatter());
    app.set_help_flag("-h,--help", "print this help and exit")->group("Other");
    app.set_version_flag("--version", std::string("ppool ") + PPOOL_VERSION, "print the version and exit")
        ->group("Other");
    app.require_subcommand(1);
    app.footer(help_footer());
    Options o;
    RawOptions raw;
    std::vector<CLI::App*> subs;
    for (const auto& info : k_modes) {
        auto* sub = app.add_subcommand(std::string(info.name), std::string(info.summary));
        if (!info.alias.empty()) sub->alias(std::string(info.alias));
        sub->group("Modes");
        subs.push_back(sub);
        if (info.mode == Mode::tasks) add_plugin_option(*sub, o);
        else add_pool_options(*sub, o, raw, info.mode != Mode::apply);
        // Last, so that --help comes after the mode's own options.
        sub->set_help_flag("-h,--help", "print this help and exit")->group("Other");
    }
    auto args = split_command(app, argc, argv, o.words);
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return print_and_exit(app, e);
    } catch (const CLI::CallForAllHelp& e) {
        return print_and_exit(app, e);
    } catch (const CLI::CallForVersion& e) {
        return print_and_exit(app, e);
    } catch (const CLI::ExtrasError& e) {
        // "The following argument(s) was/were not expected: WORD ..."
        std::string what = e.what();
        std::string word = what.substr(what.find(": ") + 2);
        word = word.substr(0, word.find(' '));
        auto selected = app.get_subcommands();
        const CLI::App& where = selected.empty() ? app : *selected.front();
        if (word.size() > 1 && word[0] == '-') throw unknown_option(where, word.substr(0, word.find('=')));
        throw UsageError(fmt::format("unexpected argument '{}' (see ppool --help)", word));
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (what.empty()) what = "invalid command line";
        throw UsageError(what + " (see ppool --help)");
    }
    for (std::size_t i = 0; i < subs.size(); ++i)
        if (subs[i]->parsed()) o.mode = k_modes[i].mode;
    if (o.mode == Mode::tasks && !o.words.empty())
        throw UsageError(fmt::format("tasks takes no arguments, not '{}'", o.words.front()));
    check(o, raw);
    return Parsed{std::move(o), 0};
}

}  // namespace ppool::cli
