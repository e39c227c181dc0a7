// The JSON writer, checked against nlohmann/json as the parser of record.
#include <doctest/doctest.h>

#include "cli/json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <vector>

using namespace ppool;
using namespace ppool::cli;

namespace {
nlohmann::json parse(const TaskResult& r) {
    std::string out;
    ResultRun run(r);
    append_json_result(out, run[0]);
    return nlohmann::json::parse(out);
}
}  // namespace

TEST_CASE("every string round-trips through a real JSON parser") {
    std::string all;
    for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
    all += "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    for (std::string text : {std::string(), std::string("plain"), std::string("q\"b\\s/"), all,
                             std::string("nul\0in", 6)}) {
        std::string out;
        append_json_string(out, text);
        CHECK(nlohmann::json::parse(out).get<std::string>() == text);
    }
}

TEST_CASE("a result has every key of the contract, in order") {
    TaskResult r;
    r.seq = 3;
    r.input = "a\tb";
    r.status = Status::failed;
    r.output = "out\n";
    r.stderr_text = "err";
    r.is_command = true;
    r.exit_code = 2;
    r.duration_s = 0.25;
    r.worker = 1;
    r.attempts = 2;
    auto j = parse(r);
    std::string out;
    append_json_result(out, ResultRun(r)[0]);
    auto ordered = nlohmann::ordered_json::parse(out);
    std::vector<std::string> keys;
    for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
    CHECK(j.size() == 14);
    CHECK(j["seq"] == 3);
    CHECK(j["input"] == "a\tb");
    CHECK(j["ok"] == false);
    CHECK(j["status"] == "failed");
    CHECK(j["output"] == "out\n");
    CHECK(j["stderr"] == "err");
    CHECK(j["exit_code"] == 2);
    CHECK(j["signal"].is_null());
    CHECK(j["timed_out"] == false);
    CHECK(j["error"] == "exit status 2");
    CHECK(j["duration_s"] == 0.25);
    CHECK(j["worker"] == 1);
    CHECK(j["host"] == ":");
    CHECK(j["attempts"] == 2);
    CHECK(keys == std::vector<std::string>{"seq", "input", "ok", "status", "output", "stderr", "exit_code", "signal",
                                           "timed_out", "error", "duration_s", "worker", "host", "attempts"});
}

TEST_CASE("the host of a result: \":\" for this machine, else as -S names it, by either path of the writer") {
    TaskResult r;
    r.seq = 1;
    r.input = "a";
    r.status = Status::ok;
    r.output = "1";
    r.worker = 0;
    CHECK(parse(r)["host"] == ":");
    // The first two by the fast path, the others (escaped, long) by the general one.
    std::vector<std::string> hosts{"bob@node1:2222", "ssh -p 2222 [::1]", "caf\xc3\xa9", "q\"b\tc",
                                   std::string(300, 'h')};
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        r.host = hosts[i];
        ResultRun run(r);
        CHECK(run[0].host == hosts[i]);
        CHECK(run.result(0).host == hosts[i]);
        CHECK(is_fast_entry(run[0]) == (i < 2));
        auto j = parse(r);
        CHECK(j["host"] == hosts[i]);
        CHECK(j.size() == 14);
    }
    r.host = "\xff";
    auto j = parse(r);
    CHECK(j["host"].is_null());
    CHECK(j["host_base64"] == "/w==");
}

TEST_CASE("ok and timed_out are what the status says") {
    for (auto status : {Status::ok, Status::failed, Status::timeout, Status::signal, Status::worker_lost,
                        Status::error}) {
        TaskResult r;
        r.status = status;
        auto j = parse(r);
        CHECK(j["status"] == to_string(status));
        CHECK(j["ok"] == (status == Status::ok));
        CHECK(j["timed_out"] == (status == Status::timeout));
        CHECK(j["error"].is_null() == (status == Status::ok));
    }
}

TEST_CASE("bytes that are not UTF-8 go out as base64, never corrupted") {
    TaskResult r;
    r.status = Status::ok;
    r.input = "\xff";
    r.output = std::string("\x80\x00\x01", 3);
    auto j = parse(r);
    CHECK(j["output"].is_null());
    CHECK(j["output_base64"] == "gAAB");
    CHECK(j["input"].is_null());
    CHECK(j["input_base64"] == "/w==");
    CHECK(j["stderr"].is_null());
    CHECK(j["error"].is_null());
}

TEST_CASE("seconds from nanoseconds print as fmt prints the double") {
    std::vector<std::uint64_t> values;
    for (std::uint64_t ns = 0; ns < 200000; ++ns) values.push_back(ns);
    std::uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Every magnitude from 1 ns to about 12 days, and round numbers.
        std::uint64_t ns = x % (std::uint64_t{1} << (i % 60));
        values.push_back(ns);
        values.push_back(ns / 1000 * 1000);
    }
    for (std::uint64_t p = 1; p < 10'000'000'000'000'000'000ull; p *= 10) values.push_back(p);
    for (auto ns : values) {
        std::string got;
        ppool::cli::append_seconds(got, ns);
        auto want = fmt::format("{}", static_cast<double>(ns) / 1e9);
        if (got != want) {
            CAPTURE(ns);
            CHECK(got == want);
        }
    }
}
