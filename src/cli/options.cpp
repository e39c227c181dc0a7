#include "cli/options.hpp"
#include "server/client.hpp"

#include "cli/help.hpp"
#include "cli/output.hpp"
#include "cli/pacing.hpp"
#include "cli/suggest.hpp"
#include "cli/values.hpp"

#include "os/cpu.hpp"
#include "ppool/errors.hpp"
#include "worker/command_template.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <limits>
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

constexpr std::uint64_t k_max_processes = 100000;
constexpr std::uint64_t k_max_chunksize = 1000000000;
constexpr std::uint64_t k_max_tasks_per_worker = std::numeric_limits<std::int64_t>::max();
constexpr std::uint64_t k_max_retries = 1000000;
constexpr std::uint64_t k_max_max_item_size = std::uint64_t{1} << 40;

/// Option values as typed, checked after parsing so that an error can quote them.
struct RawOptions {
    std::optional<std::string> processes;
    std::optional<std::string> launcher;
    std::optional<std::string> chunksize;
    std::optional<std::string> timeout;
    std::optional<std::string> max_tasks;
    std::optional<std::string> retries;
    std::optional<std::string> max_item_size;
    std::optional<std::string> task;
    std::optional<std::string> init_task;
    std::optional<std::string> joblog;
    std::optional<std::string> max_args;
    std::optional<std::string> max_chars;
    std::optional<std::string> replace;
    std::optional<std::string> block;
    std::optional<std::string> shell;
    std::optional<std::string> results;
    std::string format = "text";
    std::string progress;
    bool progress_set = false;
    std::string server;
    bool server_set = false;
    bool eta = false;
    PacingOptions pacing;
};

/// A repeated option takes its last value, as in most Unix tools: a default
/// set in an alias or a script can be overridden further on.
CLI::Option* last_wins(CLI::Option* option) { return option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); }

/// An option whose value is kept as typed, for check() to convert.
CLI::Option* add_raw(CLI::App& sub, const std::string& names, std::optional<std::string>& value,
                     const std::string& help, const std::string& group, const std::string& type_name) {
    auto keep = [&value](const std::string& typed) { value = typed; };
    return last_wins(sub.add_option_function<std::string>(names, keep, help))->group(group)->type_name(type_name);
}

void add_plugin_option(CLI::App& sub, Options& o) {
    sub.add_option("--plugin", o.plugins, "load tasks from a plugin (repeatable)")->group("Task")->type_name("FILE");
}

/// --format and --json: whichever comes last says the format.
void add_format_options(CLI::App& sub, RawOptions& raw) {
    auto format = [&raw](const std::string& word) { raw.format = word; };
    // Triggered as parsed, so that the two options see each other in command-line order.
    sub.add_option_function<std::string>("--format", format, "text (the default) or json")
        ->trigger_on_parse()
        ->group("Output")
        ->type_name("text|json");
    sub.add_flag_callback("--json", [&raw] { raw.format = "json"; }, "the same as --format json")
        ->trigger_on_parse()
        ->group("Output");
}

/// GNU parallel's and xargs' ways of reading input and handing it to commands (SPEC 3c).
void add_input_source_options(CLI::App& sub, Options& o, RawOptions& raw) {
    sub.add_flag("--link", o.link, "pair the input sources by position")->group("Input");
    auto colsep = [&o](const std::string& typed) { o.colsep = typed; };
    last_wins(sub.add_option_function<std::string>("-C,--colsep", colsep, "split items into columns {1} {2} ..."))
        ->group("Input")
        ->type_name("REGEX");
    auto header = [&o](const std::string& typed) { o.header = typed; };
    last_wins(sub.add_option_function<std::string>("--header", header, "first line names the columns: {name}"))
        ->group("Input")
        ->type_name(":|REGEX");
    sub.add_flag("--csv", o.csv, "items are CSV records (RFC 4180): {1} {2} ...")->group("Input");
    add_raw(sub, "--block", raw.block, "--pipe chunks of about SIZE bytes (1M, 64k)", "Input", "SIZE");
    sub.add_flag("--pipepart", o.pipepart, "--pipe from -a FILE cut by offsets")->group("Input");
    last_wins(sub.add_option("--recstart", o.recstart, "--pipe records start with STR"))
        ->group("Input")
        ->type_name("STR");
    auto recend = [&o](const std::string& typed) { o.recend = typed; };
    last_wins(sub.add_option_function<std::string>("--recend", recend, "--pipe records end with STR"))
        ->group("Input")
        ->type_name("STR");
    add_raw(sub, "-N,--max-replace-args", raw.max_args, "N items per command, as {1} ... {N}", "Input", "N");
    add_raw(sub, "-n,--max-args", raw.max_args, "N items per command, appended (xargs -n)", "Input", "N");
    sub.add_flag("-m", o.fill_line, "as many items per command as fit a line")->group("Input");
    sub.add_flag("-X", o.context_replace, "as -m, repeating the word around {}")->group("Input");
    add_raw(sub, "-s,--max-chars", raw.max_chars, "-m/-X: longest command line (default: xargs')", "Input", "N");
    add_raw(sub, "-I", raw.replace, "STR stands for the item instead of {}", "Task", "STR");
}

/// The options of a pool mode, group by group in the order --help shows them.
void add_pool_options(CLI::App& sub, Options& o, RawOptions& raw, bool takes_items) {
    add_raw(sub, "-j,--processes", raw.processes, "workers: N, +N, -N, N% of CPUs (default: CPUs)", "Pool", "N");
    if (takes_items) add_raw(sub, "-c,--chunksize", raw.chunksize, "items handed to a worker at a time", "Pool", "N");
    last_wins(sub.add_option("--initializer", o.initializer, "shell command each worker runs once at start"))
        ->group("Pool")
        ->type_name("CMD");
    add_raw(sub, "--init-task", raw.init_task, "registered task each worker runs once at start", "Pool", "NAME");
    last_wins(sub.add_option("--initargs", o.initargs, "the item --init-task gets"))->group("Pool")->type_name("STR");
    add_raw(sub, "--max-tasks-per-worker", raw.max_tasks, "replace a worker after N tasks", "Pool", "N");
    add_raw(sub, "--launcher", raw.launcher, "how workers start: fork, exec, or a command", "Pool", "CMD");
    last_wins(sub.add_option("--server", raw.server, "borrow a ppool serve's warm workers (see serve)"))
        ->group("Pool")
        ->expected(0, 1)
        ->option_text("[=SOCKET]")
        ->each([&](const std::string&) { raw.server_set = true; });
    sub.add_option("-S,--sshlogin", o.sshlogins, "run workers over ssh: [N/][user@]host[:port]")
        ->group("Pool")
        ->type_name("LOGIN");
    last_wins(sub.add_option("--sshloginfile", o.sshloginfile, "read -S logins from FILE, one a line"))
        ->group("Pool")
        ->type_name("FILE");
    last_wins(sub.add_option("--ssh", o.ssh, "the ssh command and its options (default: ssh)"))
        ->group("Pool")
        ->type_name("CMD");
    last_wins(sub.add_option("--remote-ppool", o.remote_ppool, "the ppool the hosts run (default: ppool)"))
        ->group("Pool")
        ->type_name("PATH");
    sub.add_flag("--slurm", o.slurm, "run workers on this Slurm allocation's nodes")
        ->group("Pool");
    sub.add_flag("--transfer", o.transfer, "send the file each item names to its host first")->group("Pool");
    sub.add_option("--transferfile", o.transfer_files, "send FILE ({.}.idx) to the host too (repeatable)")
        ->group("Pool")
        ->type_name("FILE");
    sub.add_option("--return", o.returns, "bring FILE ({}.out) back afterwards (repeatable)")
        ->group("Pool")
        ->type_name("FILE");
    sub.add_flag("--cleanup", o.cleanup, "remove sent and returned files from the host")->group("Pool");
    sub.add_option("--trc", o.trc, "--transfer --return FILE --cleanup (repeatable)")->group("Pool")->type_name("FILE");

    add_raw(sub, "-t,--task", raw.task, "run a registered task, not a command", "Task", "NAME");
    add_raw(sub, "--timeout", raw.timeout, "per-task time limit (2.5, 1m) or N% of median", "Task", "SECONDS");
    add_raw(sub, "--shell", raw.shell, "shell for scripts ($PPOOL_SHELL, else /bin/sh)", "Task", "PATH");
    sub.add_option("--env", o.env, "pass variable or bash function NAME to all hosts")
        ->group("Task")
        ->type_name("NAME");
    sub.add_flag("-q,--quote", o.quote, "shell operators among the words are arguments")->group("Task");
    add_plugin_option(sub, o);

    if (takes_items) {
        sub.add_option("-a,--input", o.inputs, "read items from FILE (repeatable; - is stdin)")
            ->group("Input")
            ->type_name("FILE");
        sub.add_flag("-0,--null", o.null, "items are NUL-separated, not lines")->group("Input");
        add_raw(sub, "--max-item-size", raw.max_item_size, "largest item read, with K, M, G (default: 1G)", "Input",
                "SIZE");
        sub.add_flag("--pipe", o.pipe, "write each chunk to one command's stdin")->group("Input");
        add_input_source_options(sub, o, raw);
    }

    add_format_options(sub, raw);
    if (takes_items) {
        sub.add_flag("--tag", o.tag, "prefix output lines with the item and a TAB")->group("Output");
        auto tagstring = [&o](const std::string& typed) { o.tagstring = typed; };
        last_wins(sub.add_option_function<std::string>("--tagstring", tagstring,
                                                       "prefix output lines with STR ({} {#} ...)"))
            ->group("Output")
            ->type_name("STR");
        sub.add_flag("--line-buffer", o.line_buffer, "write whole lines of output as they come")->group("Output");
        sub.add_flag("-u,--ungroup", o.ungroup, "write output bytes as they come")->group("Output");
        add_raw(sub, "--results", raw.results, "each task's output in DIR or FILE.csv/tsv/json", "Output",
                "DIR|FILE");
        // GNU parallel's short spellings, taken as they are but not listed (an empty group is hidden).
        sub.add_flag("--lb", o.line_buffer, "--line-buffer")->group("");
        add_raw(sub, "--res", raw.results, "--results", "", "DIR|FILE");

        sub.add_flag("--fail-fast", o.fail_fast, "stop at the first failure, exit 1")->group("Workflow");
        add_pacing_options(sub, raw.pacing);
        add_raw(sub, "--joblog", raw.joblog, "append a line per finished task to FILE", "Workflow", "FILE");
        sub.add_flag("--resume", o.resume, "skip items the joblog lists as done")->group("Workflow");
        add_raw(sub, "--retries", raw.retries, "run a failed task up to N more times", "Workflow", "N");
        sub.add_flag("--dry-run", o.dry_run, "print what would run, run nothing")->group("Workflow");
        last_wins(sub.add_option("--progress", raw.progress, "progress line on stderr: auto, always, never"))
            ->group("Workflow")
            ->expected(0, 1)
            ->default_str("auto")
            ->option_text("[=WHEN]")
            ->each([&](const std::string&) { raw.progress_set = true; });
        sub.add_flag("--bar", o.bar, "progress as a bar: percent, counts, rate, ETA")->group("Workflow");
        sub.add_flag("--eta", raw.eta, "progress line with the ETA, on stderr")->group("Workflow");
    }
}

/// The --progress value named `word`, if it is one.
std::optional<ProgressWhen> progress_when(std::string_view word) {
    if (word == "auto") return ProgressWhen::terminal;
    if (word == "always") return ProgressWhen::always;
    if (word == "never") return ProgressWhen::never;
    return std::nullopt;
}

/// The value of a whole-number option, or a usage error quoting it as typed.
std::uint64_t whole_number(std::string_view option, const std::string& typed, std::uint64_t min, std::uint64_t max) {
    if (auto value = parse_whole(typed, min, max)) return *value;
    throw UsageError(fmt::format("{} must be a whole number from {} to {}, not '{}'", option, min, max, typed));
}

/// The value of --max-item-size, or a usage error quoting it as typed.
std::uint64_t item_size(const std::string& typed) {
    if (auto size = parse_size(typed, k_max_max_item_size)) return *size;
    throw UsageError(fmt::format("--max-item-size must be a size from 1 to 1024G (bytes, or with a K, M or G suffix), "
                                 "not '{}'",
                                 typed));
}

/// The value of an option that names something, which cannot be nothing.
std::string name_value(std::string_view option, const std::optional<std::string>& typed, std::string_view what) {
    if (!typed) return {};
    if (typed->empty()) throw UsageError(fmt::format("{} needs {}, not ''", option, what));
    return *typed;
}

void parse_sources(Options& o);
void check_arguments(Options& o, const RawOptions& raw);

/// Checks --tagstring, --line-buffer, --ungroup and --results, and how they combine.
void check_output(Options& o, const RawOptions& raw) {
    o.results = name_value("--results", raw.results, "a directory or a .csv, .tsv or .json file");
    if (o.tagstring && o.json)
        throw UsageError("--tagstring is for text output; JSON already has the item in \"input\"");
    if (o.tagstring && o.pipe) throw UsageError("--tagstring needs items, which --pipe does not substitute");
    if (o.json && o.results.rfind("-.", 0) == 0)
        throw UsageError(fmt::format("--results {} writes to stdout, where --json writes: give one of them", o.results));
    if (o.line_buffer && o.ungroup) throw UsageError("give one of --line-buffer and --ungroup, not both");
    if (!o.line_buffer && !o.ungroup) return;
    std::string_view live = o.line_buffer ? "--line-buffer" : "--ungroup";
    if (o.json)
        throw UsageError(fmt::format("{} writes output as it comes; JSON has it in each task's object: "
                                     "leave out one of them",
                                     live));
    if (o.mode == Mode::map)
        throw UsageError(fmt::format("map writes nothing until every task has succeeded: use {} with imap or "
                                     "imap-unordered",
                                     live));
    if (o.ungroup && (o.tag || o.tagstring))
        throw UsageError("--ungroup writes bytes as they come, not lines to prefix: use --line-buffer with --tag");
}

/// Checks the workflow options (SPEC 3b) and how they combine.
void check_workflow(Options& o, const RawOptions& raw) {
    o.pipe = o.pipe || o.pipepart;
    if (raw.retries) o.retries = static_cast<unsigned>(whole_number("--retries", *raw.retries, 0, k_max_retries));
    if (raw.progress_set || !raw.progress.empty()) {
        const std::string& when = raw.progress.empty() ? std::string("auto") : raw.progress;
        auto known = progress_when(when);
        if (known) o.progress = *known;
        else throw UsageError(fmt::format("--progress must be auto, always or never, not '{}'", when));
    }
    // GNU parallel's --bar and --eta write to stderr wherever it goes.
    if ((o.bar || raw.eta) && !raw.progress_set) o.progress = ProgressWhen::always;
    o.joblog = name_value("--joblog", raw.joblog, "a file name");
    if (o.resume && o.joblog.empty()) throw UsageError("--resume needs --joblog FILE");
    if (o.pipe && !o.task.empty()) throw UsageError("--pipe works with commands, not --task");
    if (o.tag && o.json) throw UsageError("--tag is for text output; JSON already has the item in \"input\"");
    if (o.tag && o.pipe) throw UsageError("--tag needs items, which --pipe does not substitute");
    check_output(o, raw);
    parse_sources(o);
    check_arguments(o, raw);
}

bool is_source_marker(const std::string& word) {
    return word == ":::" || word == ":::+" || word == "::::" || word == "::::+";
}

/// Takes the input sources after the command: `::: ITEM...`, `:::: FILE...`,
/// and their linked `+` forms, which never reach the command.
void parse_sources(Options& o) {
    auto marker = std::find_if(o.words.begin(), o.words.end(), is_source_marker);
    if (marker == o.words.end()) return;
    if (o.mode == Mode::apply) throw UsageError(fmt::format("apply takes no {} input sources", *marker));
    std::vector<std::string> rest(marker, o.words.end());
    o.words.erase(marker, o.words.end());
    bool have_source = !o.inputs.empty();
    std::string kind;
    for (const auto& word : rest) {
        if (is_source_marker(word)) {
            if (word.back() == '+' && !have_source)
                throw UsageError(fmt::format("'{}' links to the input source before it, and there is none", word));
            if (kind.rfind("::::", 0) == 0 && !have_source)
                throw UsageError(fmt::format("'{}' needs at least one file", kind));
            kind = word;
            if (word.rfind("::::", 0) == 0) {
                have_source = false;
                continue;
            }
            o.sources.push_back(InputSource{{}, {}, false, word == ":::+"});
            have_source = true;
            continue;
        }
        if (kind.rfind("::::", 0) == 0) {
            if (word.empty()) throw UsageError(fmt::format("'{}' needs a file name, not ''", kind));
            o.sources.push_back(InputSource{{}, word, true, kind == "::::+"});
            have_source = true;
        } else {
            o.sources.back().items.push_back(word);
        }
    }
    if (kind.rfind("::::", 0) == 0 && !have_source) throw UsageError(fmt::format("'{}' needs at least one file", kind));
}

/// Checks how the input source, column and grouping options combine.
void check_arguments(Options& o, const RawOptions& raw) {
    if (raw.max_args) o.max_args = whole_number("-N/-n/--max-args", *raw.max_args, 1, k_max_chunksize);
    if (raw.max_chars) o.max_chars = whole_number("-s/--max-chars", *raw.max_chars, 1, std::size_t{1} << 30);
    o.fill_line = o.fill_line || o.context_replace;
    if (raw.replace) {
        if (raw.replace->empty()) throw UsageError("-I needs a replacement string, not ''");
        o.replace = *raw.replace;
    }
    if (o.colsep && o.colsep->empty()) throw UsageError("--colsep needs a separator, not ''");
    if (o.header && o.header->empty()) throw UsageError("--header needs ':' or a regular expression, not ''");
    if (o.csv && o.colsep && o.colsep->size() != 1)
        throw UsageError(fmt::format("--csv takes a one-character --colsep, not '{}'", *o.colsep));
    if (o.max_args && o.fill_line) throw UsageError("give either -N/-n N or -m/-X, not both");
    if (o.max_chars && !o.fill_line) throw UsageError("--max-chars is for -m or -X");
    if (raw.block) {
        auto size = parse_gnu_size(*raw.block, k_max_max_item_size);
        if (!size)
            throw UsageError(fmt::format("--block must be a size from 1 to 1024G (bytes, or with a suffix k, m, g "
                                         "for powers of 1000 or K, M, G for powers of 1024), not '{}'",
                                         *raw.block));
        o.block = *size;
    }
    if (o.pipepart) {
        if (o.inputs.size() != 1 || o.inputs[0] == "-" || !o.sources.empty())
            throw UsageError("--pipepart needs exactly one -a FILE, which can be read at any offset (not stdin)");
        if (!o.sshlogins.empty() || !o.sshloginfile.empty())
            throw UsageError("--pipepart reads the file where the workers run: not with -S or --sshloginfile");
    }
    bool records = o.block || !o.recstart.empty() || o.recend;
    if (records && !o.pipe) throw UsageError("--block, --recstart and --recend are for --pipe or --pipepart");
    if (o.recend && o.recend->empty() && o.recstart.empty())
        throw UsageError("--recend '' needs --recstart: records must end somewhere");
    bool grouped = o.max_args || o.fill_line;
    bool columns = o.colsep || o.csv || o.header;
    bool several = o.inputs.size() + o.sources.size() > 1;
    if (o.pipe && (grouped || columns || several || !o.replace.empty()))
        throw UsageError("--pipe writes items to stdin: it takes one input source, and no -N, -n, -m, -X, -I, "
                         "--colsep, --csv or --header");
    if (!o.task.empty() && (grouped || !o.replace.empty()))
        throw UsageError("-N, -n, -m, -X and -I work with commands, not --task");
}

/// --return and --trc name files; --trc is --transfer --return FILE --cleanup.
void check_transfer(Options& o) {
    for (const auto& name : o.transfer_files)
        if (name.empty()) throw UsageError("--transferfile needs a file name, not ''");
    for (const auto& name : o.returns)
        if (name.empty()) throw UsageError("--return needs a file name, not ''");
    for (const auto& name : o.trc) {
        if (name.empty()) throw UsageError("--trc needs a file name, not ''");
        o.returns.push_back(name);
    }
    if (!o.trc.empty()) o.transfer = o.cleanup = true;
    // --transfer is --transferfile {}.
    if (o.transfer && std::find(o.transfer_files.begin(), o.transfer_files.end(), "{}") == o.transfer_files.end())
        o.transfer_files.insert(o.transfer_files.begin(), "{}");
    // A --pipe chunk is no file name: only {#} and {%} can name its files.
    if (o.pipe)
        for (const auto* names : {&o.transfer_files, &o.returns})
            for (const auto& name : *names)
                if (worker::CommandTemplate({name}).uses_item())
                    throw UsageError(fmt::format("--pipe has no items to name files by: use {{#}} or {{%}}, not '{}'",
                                                 name));
}

/// Converts and checks the values that CLI11 took as typed.
/// --shell and --env.
void check_shell(Options& o, const RawOptions& raw) {
    if (raw.shell) {
        if (raw.shell->find_first_not_of(" \t") == std::string::npos)
            throw UsageError(fmt::format("--shell needs the path or name of a shell, not '{}'", *raw.shell));
        o.shell = *raw.shell;
    }
    for (const auto& name : o.env) {
        bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
                     std::all_of(name.begin(), name.end(),
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
        if (!valid)
            throw UsageError(fmt::format("--env needs the name of a variable or bash function, not '{}'", name));
    }
}

void check(Options& o, const RawOptions& raw) {
    // The option, else PPOOL_LAUNCHER, else fork.
    const char* from_environment = std::getenv("PPOOL_LAUNCHER");
    if (raw.launcher && raw.launcher->empty()) throw UsageError("--launcher needs fork, exec or a command, not ''");
    o.launcher = raw.launcher ? *raw.launcher : from_environment && *from_environment ? from_environment : "fork";
    if (raw.server_set) {
        // The server's workers, started as the server started them.
        if (raw.launcher) throw UsageError("--server borrows the server's workers: not with --launcher");
        o.launcher.clear();
        o.server = server::client_socket_path(raw.server);
    }
    if (raw.processes) {
        auto n = parse_processes(*raw.processes, static_cast<std::uint64_t>(os::usable_cpus()), k_max_processes);
        if (!n)
            throw UsageError(fmt::format("-j/--processes must be a whole number from 1 to {}, or +N, -N or N% of the "
                                         "CPUs, not '{}'",
                                         k_max_processes, *raw.processes));
        if (*n == 0)
            throw UsageError(fmt::format("-j {} leaves no worker process on {} CPUs", *raw.processes,
                                         os::usable_cpus()));
        o.processes = static_cast<int>(*n);
    }
    if (raw.chunksize) o.chunksize = whole_number("-c/--chunksize", *raw.chunksize, 1, k_max_chunksize);
    if (raw.max_tasks)
        o.max_tasks_per_worker = whole_number("--max-tasks-per-worker", *raw.max_tasks, 1, k_max_tasks_per_worker);
    if (raw.timeout) check_timeout(o, *raw.timeout);
    check_pacing(o, raw.pacing);
    if (raw.max_item_size) o.max_item_size = item_size(*raw.max_item_size);
    o.task = name_value("-t/--task", raw.task, "a task name");
    o.init_task = name_value("--init-task", raw.init_task, "a task name");
    if (raw.format != "text" && raw.format != "json")
        throw UsageError(fmt::format("--format must be text or json, not '{}'", raw.format));
    o.json = raw.format == "json";
    if (!o.initargs.empty() && o.init_task.empty()) throw UsageError("--initargs needs --init-task");
    check_transfer(o);
    check_workflow(o, raw);
    check_shell(o, raw);
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
    if (auto hint = foreign_option_hint(option))
        return UsageError(fmt::format("unknown option '{}' ({})", option, *hint));
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

bool is_flag(const CLI::Option& option) { return option.get_expected_max() == 0; }

/// Checks "--name" or "--name=value" as getopt_long would; whether its value
/// is the next argument, `next` (null at the end).
bool long_option_takes_next(CLI::App& sub, const std::string& arg, const char* next) {
    auto equals = arg.find('=');
    std::string name = arg.substr(0, equals);
    const CLI::Option* opt = sub.get_option_no_throw(name);
    if (!opt) throw unknown_option(sub, name);
    if (equals != std::string::npos) {
        if (is_flag(*opt)) throw UsageError(fmt::format("option '{}' takes no value", name));
        return false;
    }
    if (opt->get_expected_min() > 0) {
        if (!next) throw UsageError(fmt::format("option '{}' needs a value", name));
        return true;
    }
    // An optional value stands apart only where the word can be nothing else:
    // `--progress always`, but `--progress echo {}` starts the command.
    return name == "--progress" && next && progress_when(next);
}

/// Checks "-x", "-xVALUE" or "-xyz" (flags together, the last one may take a
/// value) as getopt would; whether the value is the next argument.
bool short_options_take_next(CLI::App& sub, const std::string& arg, const char* next) {
    for (std::size_t i = 1; i < arg.size(); ++i) {
        std::string name = {'-', arg[i]};
        const CLI::Option* opt = sub.get_option_no_throw(name);
        if (!opt) throw unknown_option(sub, name);
        if (is_flag(*opt)) continue;
        // The rest of the argument is the value, or else the next argument is.
        if (i + 1 < arg.size()) return false;
        if (!next) throw UsageError(fmt::format("option '{}' needs a value", name));
        return true;
    }
    return false;
}

/// Checks an argument in the options' place; whether the next argument is its value.
bool takes_next_argument(CLI::App& sub, const std::string& arg, const char* next) {
    if (arg.rfind("--", 0) == 0) return long_option_takes_next(sub, arg, next);
    return short_options_take_next(sub, arg, next);
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
        takes_next_argument(app, first, nullptr);
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
        args.push_back(arg);
        if (takes_next_argument(*sub, arg, i + 1 < argc ? argv[i + 1] : nullptr)) args.emplace_back(argv[++i]);
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
    // Only the mode named first gets its options built (they are most of
    // ppool's start-up); with none named, every mode gets them, for the help
    // and the suggestions.
    std::string_view first = argc > 1 ? std::string_view(argv[1]) : std::string_view();
    bool named = std::any_of(k_modes.begin(), k_modes.end(),
                             [&](const ModeInfo& m) { return first == m.name || (!m.alias.empty() && first == m.alias); });
    for (const auto& info : k_modes) {
        auto* sub = app.add_subcommand(std::string(info.name), std::string(info.summary));
        if (!info.alias.empty()) sub->alias(std::string(info.alias));
        sub->group("Modes");
        subs.push_back(sub);
        bool chosen = !named || first == info.name || (!info.alias.empty() && first == info.alias);
        if (!chosen) {
            // Never parsed: the command line names another mode.
        } else if (info.mode == Mode::tasks) {
            add_plugin_option(*sub, o);
        } else {
            add_pool_options(*sub, o, raw, info.mode != Mode::apply);
        }
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
    } catch (const CLI::ParseError&) {
        // split_command() finds every mistake CLI11 knows of and words it; this is a backstop.
        throw UsageError("the command line cannot be parsed (see 'ppool --help')");
    }
    for (std::size_t i = 0; i < subs.size(); ++i)
        if (subs[i]->parsed()) o.mode = k_modes[i].mode;
    if (o.mode == Mode::tasks && !o.words.empty())
        throw UsageError(fmt::format("tasks takes no arguments, not '{}'", o.words.front()));
    check(o, raw);
    return Parsed{std::move(o), 0};
}

}  // namespace ppool::cli
