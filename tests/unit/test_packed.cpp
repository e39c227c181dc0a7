// Packed items and runs of results: their framing, queueing and unpacking.
#include <doctest/doctest.h>

#include "pool/packed_items.hpp"
#include "ppool/errors.hpp"
#include "ppool/result_run.hpp"
#include "protocol/packed.hpp"

#include <stdexcept>
#include <vector>

using namespace ppool;
using namespace ppool::protocol;

namespace {

/// Joins the pieces of a gathered frame and reads it back as one frame.
std::string payload_of(const Gather& gather, FrameType expected) {
    FrameReader reader;
    for (auto piece : gather.pieces) reader.buffer().append(piece);
    auto frame = reader.next();
    REQUIRE(frame);
    CHECK(frame->type == expected);
    return std::string(frame->payload);
}

/// Meta for outputs of these printed sizes, newline added to each.
std::string meta_for(std::initializer_list<std::uint64_t> sizes, std::uint64_t duration_ns = 1500) {
    std::string meta;
    for (auto size : sizes) {
        append_varint(meta, size << 1 | 1);
        append_varint(meta, duration_ns);
    }
    return meta;
}

}  // namespace

TEST_CASE("varints read back what was written, and reject a cut one") {
    std::string out;
    for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 40, ~0ull}) append_varint(out, v);
    std::string_view in = out;
    for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 40, ~0ull}) {
        std::uint64_t got = 0;
        REQUIRE(read_varint(in, got));
        CHECK(got == v);
    }
    CHECK(in.empty());
    std::string_view cut("\x80\x80", 2);
    std::uint64_t v = 0;
    CHECK_FALSE(read_varint(cut, v));
}

TEST_CASE("a packed run frame reads back, items sent by reference") {
    std::string items = std::string("a\0bc\0\0", 6);
    Gather gather;
    encode_packed_run(gather, PackedRunMessage{"len", '\0', 41, 3, items});
    CHECK(gather.pieces.back().data() == items.data());
    auto payload = payload_of(gather, FrameType::packed_run);
    auto msg = decode_packed_run(payload);
    CHECK(msg.task == "len");
    CHECK(msg.separator == '\0');
    CHECK(msg.first_seq == 41);
    CHECK(msg.count == 3);
    CHECK(msg.items == items);
}

TEST_CASE("a packed run whose items do not match its count is corrupt") {
    for (auto [count, items] : {std::pair<std::uint64_t, std::string>{2, "a\n"}, {1, "a\nb"}, {1, "a\nb\n"}}) {
        Gather gather;
        encode_packed_run(gather, PackedRunMessage{"t", '\n', 1, count, items});
        CHECK_THROWS_AS(decode_packed_run(payload_of(gather, FrameType::packed_run)), ProtocolError);
    }
}

TEST_CASE("a run result frame reads back") {
    std::string out;
    auto meta = meta_for({2, 3});
    encode_run_result(out, RunResultMessage{7, 2, 5, meta, "1\n22\n"});
    FrameReader reader;
    reader.buffer() = out;
    auto frame = reader.next();
    REQUIRE(frame);
    CHECK(frame->type == FrameType::run_result);
    auto msg = decode_run_result(frame->payload);
    CHECK(msg.first_seq == 7);
    CHECK(msg.count == 2);
    CHECK(msg.input_bytes == 5);
    CHECK(msg.meta == meta);
    CHECK(msg.text == "1\n22\n");
}

TEST_CASE("a run gives back each result as the per-item path makes it") {
    std::string meta;
    append_varint(meta, 2 << 1 | 1);  // "1" printed as "1\n"
    append_varint(meta, 2500);
    append_varint(meta, 4 << 1);      // "ab\n\n" already ended with a newline
    append_varint(meta, 7);
    ResultRun run(10, 2, 1, '\n', "x\nyy\n", meta, "1\nab\n\n");
    CHECK(run.size() == 2);
    CHECK(run.first_seq() == 10);
    CHECK(run.text() == "1\nab\n\n");
    auto r = run.pop_result();
    CHECK(r.seq == 10);
    CHECK(r.input == "x");
    CHECK(r.output == "1");
    CHECK(r.ok());
    CHECK(r.status == Status::ok);
    CHECK_FALSE(r.is_command);
    CHECK(r.duration_s == doctest::Approx(2.5e-6));
    CHECK(r.worker == 1);
    CHECK(run.text() == "ab\n\n");
    auto e = run.pop();
    CHECK(e.seq == 11);
    CHECK(e.input == "yy");
    CHECK(e.output == "ab\n\n");
    CHECK(run.empty());
}

TEST_CASE("a run whose parts disagree is refused") {
    CHECK_THROWS_AS(ResultRun(1, 2, 0, '\n', "a\n", meta_for({2, 2}), "1\n1\n"), std::invalid_argument);
    CHECK_THROWS_AS(ResultRun(1, 2, 0, '\n', "a\nb\n", meta_for({2}), "1\n1\n"), std::invalid_argument);
    CHECK_THROWS_AS(ResultRun(1, 2, 0, '\n', "a\nb\n", meta_for({2, 3}), "1\n1\n"), std::invalid_argument);
    CHECK_THROWS_AS(ResultRun(1, 1, 0, '\n', "a\n", meta_for({2}), "12"), std::invalid_argument);
    CHECK_NOTHROW(ResultRun(1, 2, 0, '\n', "a\nb\n", meta_for({2, 2}), "1\n1\n"));
}

TEST_CASE("a packed queue hands out items in order across blocks") {
    detail::PackedQueue queue;
    queue.push(detail::PackedItems{1, 3, '\n', "a\nbb\nc\n"});
    queue.push(detail::PackedItems{4, 2, '\n', "d\ne\n"});
    CHECK(queue.size() == 5);
    auto first = queue.take(2);
    CHECK(first.first_seq == 1);
    CHECK(first.count == 2);
    CHECK(first.bytes == "a\nbb\n");
    auto second = queue.take(2);
    CHECK(second.first_seq == 3);
    CHECK(second.bytes == "c\nd\n");
    auto rest = queue.take(10);
    CHECK(rest.first_seq == 5);
    CHECK(rest.count == 1);
    CHECK(rest.bytes == "e\n");
    CHECK(queue.empty());
}

TEST_CASE("the packed splitter keeps items whole whatever the read boundaries") {
    std::string input = "one\ntwo\n\nthree\nfour";
    for (std::size_t step : {1u, 2u, 3u, 5u, 100u}) {
        CAPTURE(step);
        detail::PackedSplitter splitter('\n');
        std::string all;
        std::uint64_t count = 0;
        for (std::size_t at = 0; at < input.size(); at += step) {
            detail::PackedItems block;
            splitter.begin(block);
            block.bytes.append(input.substr(at, step));
            splitter.cut(block);
            CHECK((block.bytes.empty() || block.bytes.back() == '\n'));
            all += block.bytes;
            count += block.count;
        }
        detail::PackedItems last;
        splitter.begin(last);
        splitter.finish(last);
        all += last.bytes;
        count += last.count;
        CHECK(all == input + "\n");
        CHECK(count == 5);
    }
}

TEST_CASE("the packed splitter refuses an item over the limit, complete or not") {
    struct Case {
        std::string input;
        std::uint64_t seq;
    };
    for (const auto& c : {Case{"a\nbbb\ncccc\nd\n", 3}, Case{"aaaa\n", 1}, Case{"a\nb\ncccccccc", 3}}) {
        for (std::size_t step : {1u, 2u, 3u, 100u}) {
            CAPTURE(c.input);
            CAPTURE(step);
            detail::PackedSplitter splitter('\n', 3);
            std::uint64_t count = 0;
            try {
                for (std::size_t at = 0; at < c.input.size(); at += step) {
                    detail::PackedItems block;
                    splitter.begin(block);
                    block.bytes.append(c.input.substr(at, step));
                    splitter.cut(block);
                    count += block.count;
                }
                FAIL("no error");
            } catch (const ItemTooLargeError& e) {
                CHECK(e.seq() == c.seq);
                CHECK(count < c.seq);
            }
        }
    }
}

TEST_CASE("skipping items lands just past the nth separator, across counting windows") {
    std::string bytes;
    std::vector<std::size_t> ends;
    for (int i = 0; i < 2000; ++i) {
        bytes.append(static_cast<std::size_t>(i * 7919 % 600 < 500 ? i % 9 : 700), 'x');
        bytes += '\n';
        ends.push_back(bytes.size());
    }
    for (std::size_t from_item : {0u, 1u, 37u, 999u})
        for (std::uint64_t n : {1u, 2u, 36u, 37u, 300u, 1000u}) {
            std::size_t from = from_item ? ends[from_item - 1] : 0;
            CHECK(detail::skip_items(bytes, from, n, '\n') == ends[from_item + n - 1]);
        }
}
