#include <doctest/doctest.h>

#include "worker/command_template.hpp"
#include "cli/input.hpp"
#include "cli/joblog.hpp"
#include "cli/progress.hpp"
#include "cli/results.hpp"
#include "ppool/errors.hpp"
#include "ppool/item_source.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace ppool;
using namespace ppool::cli;
using namespace ppool::worker;

namespace {

std::vector<std::string> drain(ItemSource& source) {
    std::vector<std::string> out;
    while (source.read_more(out)) {
    }
    return out;
}

/// A file in the temporary directory, removed at the end of the scope.
struct TempPath {
    std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/ppool-unit-" +
                       std::to_string(::getpid()) + ".joblog";
    ~TempPath() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("--pipe groups: every n items, each ending in the separator; the short last group counts") {
    auto grouped = group_items(items_from({"a", "b", "c", "d", "e"}), 2, '\n');
    CHECK(drain(*grouped) == std::vector<std::string>{"a\nb\n", "c\nd\n", "e\n"});
    auto exact = group_items(items_from({"a", "b"}), 2, '\0');
    CHECK(drain(*exact) == std::vector<std::string>{std::string("a\0b\0", 4)});
    auto none = group_items(items_from({}), 3, '\n');
    CHECK(drain(*none).empty());
}

TEST_CASE("joblog fields escape only backslash, TAB, newline and CR") {
    CHECK(joblog_escape("a\tb\nc\rd\\e f") == "a\\tb\\nc\\rd\\\\e f");
    CHECK(joblog_escape("\xff") == "\xff");
}

TEST_CASE("the resume key depends on both the task and the item") {
    auto key = joblog_key("task len", "abc");
    CHECK(key.size() == 64);
    CHECK(key == joblog_key("task len", "abc"));
    CHECK(key != joblog_key("task upper", "abc"));
    CHECK(key != joblog_key("task len", "abd"));
    // The separator keeps "ab" + "c" apart from "a" + "bc".
    CHECK(joblog_key("ab", "c") != joblog_key("a", "bc"));
}

TEST_CASE("a joblog: header once, a line per task, successes counted by key, torn line ignored") {
    TempPath file;
    {
        Joblog log(file.path, "id", [](const ResultRun::Entry& r) { return "cmd " + std::string(r.input); });
        TaskResult ok;
        ok.seq = 1;
        ok.input = "a";
        ok.status = Status::ok;
        ok.exit_code = 0;
        log.record(ResultRun(ok));
        log.record(ResultRun(ok));
        TaskResult failed = ok;
        failed.input = "b";
        failed.status = Status::signal;
        failed.exit_code.reset();
        failed.signal = 9;
        log.record(ResultRun(failed));
    }
    std::ifstream in(file.path);
    std::string header;
    std::getline(in, header);
    CHECK(header == k_joblog_header);
    std::string line;
    std::getline(in, line);
    CHECK(line.starts_with("1\t:\t"));
    CHECK(line.find("\tok\t1\t" + joblog_key("id", "a") + "\ta\tcmd a") != std::string::npos);
    std::getline(in, line);
    std::getline(in, line);
    CHECK(line.find("\t-\t9\tsignal\t") != std::string::npos);

    {
        std::ofstream torn(file.path, std::ios::app);
        torn << "4\t:\t1.0\t0.1\t0\t0\tok\t1\t" << joblog_key("id", "c");
    }
    auto done = succeeded_keys(file.path);
    CHECK(done.size() == 1);
    CHECK(done[joblog_key("id", "a")] == 2);

    // Each success skips one occurrence.
    auto left = skip_succeeded(items_from({"a", "b", "a", "a", "c"}), done, "id");
    CHECK(drain(*left) == std::vector<std::string>{"b", "a", "c"});

    // Reopening ends the torn line first.
    { Joblog again(file.path, "id", [](const ResultRun::Entry&) { return std::string(); }); }
    std::ifstream reread(file.path);
    std::string text((std::istreambuf_iterator<char>(reread)), std::istreambuf_iterator<char>());
    CHECK(text.back() == '\n');
}

TEST_CASE("a joblog written without the host column is read by --resume and appended to in its own columns") {
    TempPath file;
    auto key = joblog_key("id", "a");
    std::ofstream(file.path) << k_joblog_header_without_host << "\n"
                             << "1\t1.0\t0.1\t0\t0\tok\t1\t" << key << "\ta\tcmd a\n"
                             << "2\t1.0\t0.1\t1\t0\tfailed\t1\t" << joblog_key("id", "b") << "\tb\tcmd b\n";
    CHECK(succeeded_keys(file.path) == std::unordered_map<std::string, std::uint64_t>{{key, 1}});
    {
        Joblog log(file.path, "id", [](const ResultRun::Entry& r) { return "cmd " + std::string(r.input); });
        TaskResult ok;
        ok.seq = 1;
        ok.input = "b";
        ok.status = Status::ok;
        ok.host = "bob@node1";
        log.record(ResultRun(ok));
    }
    std::ifstream in(file.path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == k_joblog_header_without_host);
    CHECK(std::count(lines[3].begin(), lines[3].end(), '\t') == 9);
    CHECK(lines[3].find("bob@node1") == std::string::npos);
    CHECK(succeeded_keys(file.path).size() == 2);
}

TEST_CASE("a joblog line names the host, escaped as the other fields") {
    TempPath file;
    {
        Joblog log(file.path, "id", [](const ResultRun::Entry&) { return std::string("cmd"); });
        TaskResult ok;
        ok.seq = 7;
        ok.input = "a";
        ok.status = Status::ok;
        ok.host = "ssh -o A=b\tc bob@node1:2222";
        log.record(ResultRun(ok));
    }
    std::ifstream in(file.path);
    std::string header, line;
    std::getline(in, header);
    std::getline(in, line);
    CHECK(header == k_joblog_header);
    CHECK(line.starts_with("7\tssh -o A=b\\tc bob@node1:2222\t"));
    CHECK(std::count(line.begin(), line.end(), '\t') == 10);
    CHECK(succeeded_keys(file.path).size() == 1);
}

TEST_CASE("a file that is not a joblog is refused; a missing one has no successes") {
    TempPath file;
    CHECK(succeeded_keys(file.path).empty());
    std::ofstream(file.path) << "Seq\tHost\n";
    CHECK_THROWS_AS(succeeded_keys(file.path), UsageError);
}

TEST_CASE("the progress line") {
    CHECK(progress_text(ProgressCounts{10, 1, 2, std::nullopt}, 2.0) == "ppool: 10 done, 1 failed, 2 running, 5.0/s");
    CHECK(progress_text(ProgressCounts{10, 0, 2, 110}, 2.0) ==
          "ppool: 10/110 done, 0 failed, 2 running, 5.0/s, ETA 0:20");
    CHECK(progress_text(ProgressCounts{1, 0, 0, 100000}, 1.0).ends_with("ETA 27:46:39"));
    CHECK(progress_text(ProgressCounts{0, 0, 0, 5}, 0.0) == "ppool: 0/5 done, 0 failed, 0 running, 0.0/s");
}

TEST_CASE("a command shown for --dry-run and the joblog quotes only what needs it") {
    CHECK(display_command({"gzip", "-9", "a/b.txt"}) == "gzip -9 a/b.txt");
    CHECK(display_command({"echo", "a b", "", "it's"}) == "echo 'a b' '' 'it'\\''s'");
    CHECK(display_command({"/bin/sh", "-c", "echo $x"}) == "/bin/sh -c 'echo $x'");
}

TEST_CASE("--pipe templates: {#} and {%} do not use the item, {} and its variants do") {
    CHECK_FALSE(CommandTemplate({"echo", "{#}", "{%}"}, false).uses_item());
    CHECK(CommandTemplate({"echo", "{}"}, false).uses_item());
    CHECK(CommandTemplate({"echo", "x{/.}"}, false).uses_item());
    // Without the item in the command, a NUL byte in it is no obstacle.
    CHECK(CommandTemplate({"wc", "-l"}, false).build(TaskContext{std::string_view("a\0b", 3), 1, 0}) ==
          std::vector<std::string>{"wc", "-l"});
}

TEST_CASE("the progress bar shows the share done beside the line's counts") {
    using ppool::cli::progress_bar;
    CHECK(progress_bar(ProgressCounts{0, 0, 0, 4}, 0.0, 8) == "[........]   0% 0/4 done, 0 failed, 0 running, 0.0/s");
    CHECK(progress_bar(ProgressCounts{2, 0, 2, 4}, 1.0, 8) ==
          "[####....]  50% 2/4 done, 0 failed, 2 running, 2.0/s, ETA 0:01");
    CHECK(progress_bar(ProgressCounts{4, 1, 0, 4}, 1.0, 8).starts_with("[########] 100% 4/4 done, 1 failed"));
    CHECK(progress_bar(ProgressCounts{0, 0, 0, 0}, 1.0, 8).starts_with("[########] 100% 0/0 done"));
    // Without a total there is no bar, only the line.
    CHECK(progress_bar(ProgressCounts{3, 0, 1, std::nullopt}, 1.0, 8) == "ppool: 3 done, 0 failed, 1 running, 3.0/s");
}

TEST_CASE("--results' CSV fields are quoted as GNU parallel quotes them") {
    using ppool::cli::csv_field;
    CHECK(csv_field("plain:1.5", ',') == "plain:1.5");
    CHECK(csv_field("", ',') == "");
    CHECK(csv_field("a,b", ',') == "\"a,b\"");
    CHECK(csv_field("a,b", '\t') == "a,b");
    CHECK(csv_field("a\tb", '\t') == "\"a\tb\"");
    CHECK(csv_field("two words", ',') == "\"two words\"");
    CHECK(csv_field("line\n", ',') == "\"line\n\"");
    CHECK(csv_field("say \"hi\"", ',') == "\"say \"\"hi\"\"\"");
}
