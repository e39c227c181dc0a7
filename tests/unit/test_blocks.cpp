// Items in blocks (queueing, splitting) and runs of results (entries, slices).
#include <doctest/doctest.h>

#include "pool/item_blocks.hpp"
#include "pool/run_data.hpp"
#include "ppool/errors.hpp"
#include "ppool/result_run.hpp"
#include "protocol/messages.hpp"

#include <vector>

using namespace ppool;
using namespace ppool::detail;

namespace {

ItemBlock block_of(std::uint64_t first_seq, std::initializer_list<std::string_view> items) {
    ItemBlock block;
    for (auto item : items) block.add(first_seq++, item);
    return block;
}

std::vector<std::uint64_t> seqs_of(const ItemBlock& block) {
    std::vector<std::uint64_t> out;
    for (const auto& item : block.items) out.push_back(item.seq);
    return out;
}

/// A run of entries with these statuses; an ok entry's output is its item and "!".
ResultRun run_of(std::vector<std::pair<std::string, Status>> items, std::uint64_t first_seq = 1) {
    auto data = std::make_shared<RunData>();
    std::string inputs;
    data->worker = 3;
    for (auto& [item, status] : items) {
        RunEntry e;
        e.seq = first_seq++;
        inputs += item;
        e.input_end = inputs.size();
        inputs += '\n';
        e.status = status;
        if (status == Status::ok) {
            data->text += item + "!\n";
            e.added_newline = true;
        }
        e.output_end = data->text.size();
        data->entries.push_back(e);
        if (status != Status::ok) data->set_error(data->entries.size() - 1, "why");
    }
    data->inputs = std::make_shared<const std::string>(inputs);
    auto n = data->entries.size();
    return ResultRun(std::move(data), 0, n);
}

}  // namespace

TEST_CASE("varints read back what was written, and reject a cut or padded one") {
    using protocol::append_varint;
    using protocol::read_varint;
    std::string out;
    for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 40, ~0ull}) append_varint(out, v);
    std::string_view in = out;
    for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 40, ~0ull}) {
        std::uint64_t got = 0;
        REQUIRE(read_varint(in, got));
        CHECK(got == v);
    }
    CHECK(in.empty());
    std::uint64_t v = 0;
    std::string_view cut("\x80\x80", 2);
    CHECK_FALSE(read_varint(cut, v));
    // 1 spelled in two bytes: every value has one spelling.
    std::string_view padded("\x81\x00", 2);
    CHECK_FALSE(read_varint(padded, v));
    std::string_view too_long("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
    CHECK_FALSE(read_varint(too_long, v));
}

TEST_CASE("a block queue hands out items in order across blocks, in one buffer") {
    BlockQueue queue;
    queue.push_back(block_of(1, {"a", "bb", "c"}));
    queue.push_back(block_of(4, {"d", "e"}));
    CHECK(queue.size() == 5);
    auto first = queue.take(2);
    CHECK(first.bytes == "a\nbb\n");
    CHECK(seqs_of(first) == std::vector<std::uint64_t>{1, 2});
    CHECK(first.item(1) == "bb");
    auto second = queue.take(2);
    CHECK(second.bytes == "c\nd\n");
    CHECK(seqs_of(second) == std::vector<std::uint64_t>{3, 4});
    CHECK(second.item(0) == "c");
    CHECK(second.item(1) == "d");
    auto rest = queue.take(10);
    CHECK(seqs_of(rest) == std::vector<std::uint64_t>{5});
    CHECK(rest.item(0) == "e");
    CHECK(queue.empty());
}

TEST_CASE("a whole block is handed out as it is, and a block put back goes first") {
    BlockQueue queue;
    auto block = block_of(1, {"one item long enough to live on the heap", "two"});
    const char* bytes = block.bytes.data();
    queue.push_back(std::move(block));
    queue.push_front(block_of(9, {"back"}));
    auto back = queue.take(1);
    CHECK(seqs_of(back) == std::vector<std::uint64_t>{9});
    auto whole = queue.take(5);
    CHECK(whole.bytes.data() == bytes);
    CHECK(whole.item(1) == "two");
}

TEST_CASE("an item may hold its own separator: the ends say where it stops") {
    ItemBlock block;
    block.add(1, "a\nb");
    block.add(2, "");
    block.add(3, std::string_view("\0z", 2), '\0');
    CHECK(block.item(0) == "a\nb");
    CHECK(block.item(1).empty());
    CHECK(block.item(2) == std::string_view("\0z", 2));
    Chunk chunk{1, nullptr, std::make_shared<const std::string>(block.bytes), block.items, false, std::nullopt};
    auto rest = chunk.rest(1);
    CHECK(rest.item(0).empty());
    CHECK(rest.item(1) == std::string_view("\0z", 2));
    CHECK(seqs_of(rest) == std::vector<std::uint64_t>{2, 3});
}

TEST_CASE("the block splitter keeps items whole whatever the read boundaries") {
    std::string input = "one\ntwo\n\nthree\nfour";
    for (std::size_t step : {1u, 2u, 3u, 5u, 100u}) {
        CAPTURE(step);
        BlockSplitter splitter('\n');
        std::vector<std::string> items;
        auto collect = [&](const ItemBlock& block) {
            for (std::size_t i = 0; i < block.items.size(); ++i) items.emplace_back(block.item(i));
            CHECK((block.bytes.empty() || block.bytes.back() == '\n'));
        };
        for (std::size_t at = 0; at < input.size(); at += step) {
            ItemBlock block;
            splitter.begin(block);
            block.bytes.append(input.substr(at, step));
            splitter.cut(block);
            collect(block);
        }
        ItemBlock last;
        splitter.begin(last);
        splitter.finish(last);
        collect(last);
        CHECK(items == std::vector<std::string>{"one", "two", "", "three", "four"});
    }
}

TEST_CASE("the block splitter refuses an item over the limit, complete or not") {
    struct Case {
        std::string input;
        std::uint64_t seq;
    };
    for (const auto& c : {Case{"a\nbbb\ncccc\nd\n", 3}, Case{"aaaa\n", 1}, Case{"a\nb\ncccccccc", 3}}) {
        for (std::size_t step : {1u, 2u, 3u, 100u}) {
            CAPTURE(c.input);
            CAPTURE(step);
            BlockSplitter splitter('\n', 3);
            std::uint64_t count = 0;
            try {
                for (std::size_t at = 0; at < c.input.size(); at += step) {
                    ItemBlock block;
                    splitter.begin(block);
                    block.bytes.append(c.input.substr(at, step));
                    splitter.cut(block);
                    count += block.items.size();
                }
                FAIL("no error");
            } catch (const ItemTooLargeError& e) {
                CHECK(e.seq() == c.seq);
                CHECK(count < c.seq);
            }
        }
    }
}

TEST_CASE("a run gives back each result, its text and its slices") {
    auto run = run_of({{"x", Status::ok}, {"yy", Status::ok}, {"z", Status::failed}, {"w", Status::ok}}, 10);
    CHECK(run.size() == 4);
    CHECK(run.first_seq() == 10);
    CHECK(run.has_failure());
    CHECK_FALSE(run.plain());
    CHECK(run.text() == "x!\nyy!\nw!\n");
    auto front = run.take_front(2);
    CHECK(front.plain());
    CHECK_FALSE(front.has_failure());
    CHECK(front.text() == "x!\nyy!\n");
    auto r = front.pop_result();
    CHECK(r.seq == 10);
    CHECK(r.input == "x");
    CHECK(r.output == "x!");
    CHECK(r.ok());
    CHECK(r.worker == 3);
    CHECK(front.text() == "yy!\n");
    auto failed = run.pop();
    CHECK(failed.seq == 12);
    CHECK(failed.input == "z");
    CHECK_FALSE(failed.ok());
    CHECK(failed.error == "why");
    CHECK(failed.describe_failure() == "why");
    CHECK(run.text() == "w!\n");
    CHECK(run.plain());
}

TEST_CASE("a TaskResult made a run of one reads back the same") {
    TaskResult in;
    in.seq = 7;
    in.input = "it";
    in.status = Status::failed;
    in.is_command = true;
    in.exit_code = 3;
    in.output = "out";
    in.stderr_text = "err";
    in.error = "cannot run";
    in.duration_s = 1.5;
    in.worker = 2;
    in.attempts = 4;
    ResultRun run(in);
    REQUIRE(run.size() == 1);
    auto out = run[0].to_result();
    CHECK(out.seq == 7);
    CHECK(out.input == "it");
    CHECK(out.status == Status::failed);
    CHECK(out.is_command);
    CHECK(out.exit_code == 3);
    CHECK_FALSE(out.signal.has_value());
    CHECK(out.output == "out");
    CHECK(out.stderr_text == "err");
    CHECK(out.error == "cannot run");
    CHECK(out.duration_s == 1.5);
    CHECK(out.worker == 2);
    CHECK(out.attempts == 4);
    CHECK(out.describe_failure() == in.describe_failure());
    // A registered task's output prints with a newline; the result holds none.
    TaskResult ok;
    ok.status = Status::ok;
    ok.output = "v";
    ResultRun one(ok);
    CHECK(one.text() == "v\n");
    CHECK(one[0].output == "v");
}
