#include <doctest/doctest.h>

#include "protocol/messages.hpp"

#include <algorithm>

using namespace ppool;
using namespace ppool::protocol;

namespace {

/// A run frame of these items (seq, data), each followed by a newline, in one string.
std::string run_frame(std::string_view task, const std::vector<std::pair<std::uint64_t, std::string>>& items,
                      std::string* bytes_out = nullptr) {
    RunIndex index;
    std::string bytes;
    for (const auto& [seq, data] : items) {
        index.add(seq, data.size());
        bytes += data + '\n';
    }
    Gather gather;
    encode_run(gather, task, index, bytes);
    std::string wire;
    for (auto piece : gather.pieces) wire.append(piece);
    if (bytes_out) *bytes_out = bytes;
    return wire;
}

struct Results {
    std::string meta, durations, text, extra;
    std::uint64_t count = 0;
    std::uint64_t running_ns = 0;
    void add(const EntryMeta& e, std::string_view output, std::string_view err, std::string_view error,
             std::string_view error_type = {}) {
        append_entry(meta, e);
        append_varint(durations, e.duration_ns);
        text += output;
        extra += err;
        extra += error;
        extra += error_type;
        ++count;
    }
    std::string payload() const {
        std::string wire;
        encode_results(wire, ResultsMessage{count, running_ns, meta, durations, text, extra});
        return wire.substr(k_header_size);
    }
};

}  // namespace

TEST_CASE("run frames survive any read boundaries") {
    std::string big(100000, 'x');
    auto wire = run_frame("upper", {{1, "a"}, {2, ""}, {3, big}});
    encode_ready(wire);
    for (std::size_t step : {1u, 7u, 4096u, 1000000u}) {
        FrameReader reader;
        std::vector<FrameType> seen;
        for (std::size_t at = 0; at < wire.size(); at += step) {
            reader.buffer().append(wire.substr(at, step));
            while (auto frame = reader.next()) {
                seen.push_back(frame->type);
                if (frame->type == FrameType::run) {
                    auto run = decode_run(frame->payload);
                    CHECK(run.task == "upper");
                    REQUIRE(run.items.size() == 3);
                    CHECK(run.items[0].seq == 1);
                    CHECK(run.items[1].data.empty());
                    CHECK(run.items[2].data == big);
                }
            }
        }
        CHECK(seen == std::vector<FrameType>{FrameType::run, FrameType::ready});
        CHECK(reader.pending() == 0);
    }
}

TEST_CASE("a run's items go by reference, and their numbers in any order") {
    RunIndex index;
    std::string bytes = std::string("a\nb\0\n\n", 6);
    index.add(12, 1);
    index.add(10, 2);
    index.add(11, 0);
    Gather gather;
    encode_run(gather, "t", index, bytes);
    CHECK(gather.pieces.back().data() == bytes.data());
    std::string wire;
    for (auto piece : gather.pieces) wire.append(piece);
    auto run = decode_run(std::string_view(wire).substr(k_header_size));
    REQUIRE(run.items.size() == 3);
    CHECK(run.items[0].seq == 12);
    CHECK(run.items[0].data == "a");
    CHECK(run.items[1].seq == 10);
    CHECK(run.items[1].data == std::string_view("b\0", 2));
    CHECK(run.items[2].seq == 11);
    CHECK(run.items[2].data.empty());
}

TEST_CASE("a run may carry its own limit after the items; without one it has none") {
    RunIndex index;
    std::string bytes = "a\nbc\n";
    index.add(1, 1);
    index.add(2, 2);
    for (std::optional<std::uint64_t> limit : {std::optional<std::uint64_t>{}, std::optional<std::uint64_t>{0},
                                               std::optional<std::uint64_t>{1500000000}}) {
        Gather gather;
        encode_run(gather, "t", index, bytes, limit);
        std::string wire;
        for (auto piece : gather.pieces) wire.append(piece);
        auto frame = std::string_view(wire).substr(k_header_size);
        auto run = decode_run(frame);
        REQUIRE(run.items.size() == 2);
        CHECK(run.items[1].data == "bc");
        CHECK(run.timeout_ns == limit);
        if (limit) {
            // Cut short, the limit is not a limit.
            CHECK_THROWS_AS(decode_run(frame.substr(0, frame.size() - 3)), ProtocolError);
        }
    }
}

TEST_CASE("lengths are 64-bit on the wire") {
    std::string wire;
    auto start = begin_frame(wire, FrameType::results);
    wire.append(5, 'z');
    finish_frame(wire, start);
    // Forge a length over 4 GB: the reader must wait for it, not wrap around.
    wire[1 + 4] = 1;
    FrameReader reader;
    reader.buffer() = wire;
    CHECK_FALSE(reader.next().has_value());
}

TEST_CASE("results messages round-trip every field of every entry") {
    Results r;
    r.running_ns = 77;
    EntryMeta ok;
    ok.status = Status::ok;
    ok.duration_ns = 1500;
    ok.output_size = 3;
    ok.added_newline = true;
    r.add(ok, "ab\n", "", "");
    EntryMeta killed;
    killed.status = Status::signal;
    killed.signal = 9;
    killed.duration_ns = 123456789;
    killed.output_size = 7;
    killed.stderr_size = 3;
    killed.error_size = 3;
    r.add(killed, std::string_view("out\0put", 7), "err", "why");
    EntryMeta failed;
    failed.status = Status::failed;
    failed.exit_code = -1;
    r.add(failed, "", "", "");
    EntryMeta threw;
    threw.status = Status::error;
    threw.error_size = 4;
    threw.error_type_size = 17;
    r.add(threw, "", "", "oops", "std::out_of_range");
    auto payload = r.payload();
    auto msg = decode_results(payload);
    CHECK(msg.count == 4);
    CHECK(msg.running_ns == 77);
    EntryReader reader(msg);
    EntryMeta e;
    std::size_t output_at = 0, extra_at = 0;
    reader.next(e, output_at, extra_at);
    CHECK(e.status == Status::ok);
    CHECK(e.added_newline);
    CHECK(e.duration_ns == 1500);
    CHECK(msg.text.substr(output_at, e.output_size) == "ab\n");
    reader.next(e, output_at, extra_at);
    CHECK(e.status == Status::signal);
    CHECK(e.signal == 9);
    CHECK_FALSE(e.exit_code.has_value());
    CHECK(e.duration_ns == 123456789);
    CHECK(msg.text.substr(output_at, e.output_size) == std::string_view("out\0put", 7));
    CHECK(msg.extra.substr(extra_at, e.stderr_size) == "err");
    CHECK(msg.extra.substr(extra_at + e.stderr_size, e.error_size) == "why");
    reader.next(e, output_at, extra_at);
    CHECK(e.status == Status::failed);
    CHECK(e.exit_code == -1);
    reader.next(e, output_at, extra_at);
    CHECK(e.status == Status::error);
    CHECK(msg.extra.substr(extra_at, e.error_size) == "oops");
    CHECK(msg.extra.substr(extra_at + e.error_size, e.error_type_size) == "std::out_of_range");
    CHECK_NOTHROW(reader.finish());
}

TEST_CASE("results that disagree with themselves are corrupt") {
    EntryMeta ok;
    ok.status = Status::ok;
    ok.output_size = 2;
    auto read_all = [](const std::string& payload) {
        auto msg = decode_results(payload);
        EntryReader reader(msg);
        EntryMeta e;
        std::size_t a = 0, b = 0;
        for (std::uint64_t i = 0; i < msg.count; ++i) reader.next(e, a, b);
        reader.finish();
    };
    Results fine;
    fine.add(ok, "ab", "", "");
    CHECK_NOTHROW(read_all(fine.payload()));
    // More text than the entries say.
    Results extra_text = fine;
    extra_text.text += "c";
    CHECK_THROWS_AS(read_all(extra_text.payload()), ProtocolError);
    // An output said to end with an added newline that does not.
    Results no_newline;
    auto added = ok;
    added.added_newline = true;
    no_newline.add(added, "ab", "", "");
    CHECK_THROWS_AS(read_all(no_newline.payload()), ProtocolError);
    // A count that claims more entries than the meta holds.
    Results lying = fine;
    lying.count = 2;
    CHECK_THROWS_AS(read_all(lying.payload()), ProtocolError);
    // A status or flag the decoder does not know.
    for (std::uint8_t head : {6, 7, 0x80 | 0x7f}) {
        Results bad;
        bad.meta = std::string(1, static_cast<char>(head)) + std::string("\x01\x01\x00", 3);
        bad.durations = "\x01";
        bad.count = 1;
        CHECK_THROWS_AS(read_all(bad.payload()), ProtocolError);
    }
    // Zero results is no message.
    Results none;
    CHECK_THROWS_AS(decode_results(none.payload()), ProtocolError);
}

TEST_CASE("corrupt frames are rejected, not trusted") {
    FrameReader reader;
    reader.buffer() = std::string("\x10\0\0\0\0\0\0\0\0", 9);  // type 16: none
    CHECK_THROWS_AS(reader.next(), ProtocolError);
    auto wire = run_frame("t", {{1, "abc"}});
    std::string payload = wire.substr(k_header_size, wire.size() - k_header_size - 1);
    CHECK_THROWS_AS(decode_run(payload), ProtocolError);
    // An index that does not cover the items exactly.
    for (std::string items : {"abc", "abc\nd", "ab\n"}) {
        RunIndex index;
        index.add(1, 3);
        Gather gather;
        encode_run(gather, "t", index, items);
        std::string whole;
        for (auto piece : gather.pieces) whole.append(piece);
        CHECK_THROWS_AS(decode_run(std::string_view(whole).substr(k_header_size)), ProtocolError);
    }
    // A count that claims more items than the payload could hold.
    std::string lying;
    Writer w(lying);
    w.bytes("t");
    w.u64(1ull << 40);
    w.bytes("");
    w.bytes("");
    CHECK_THROWS_AS(decode_run(lying), ProtocolError);
}

TEST_CASE("live output travels in a frame of its own, which the pool accepts") {
    std::string wire;
    encode_live_output(wire, OutputPart{7, Stream::err, "half a li"});
    FrameReader reader(FrameReader::k_from_worker);
    reader.buffer() = wire;
    auto frame = reader.next();
    REQUIRE(frame);
    CHECK(frame->type == FrameType::live_output);
    auto part = decode_live_output(frame->payload);
    CHECK(part.seq == 7);
    CHECK(part.stream == Stream::err);
    CHECK(part.data == "half a li");
    std::string bad(frame->payload);
    bad[8] = 3;  // no such stream
    CHECK_THROWS_AS(decode_live_output(bad), ProtocolError);
}

TEST_CASE("an index added all at once is the index added item by item") {
    // Short next items (the quick path), then a gap, a long item, a step back and short ones again.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> items = {
        {1, 0}, {2, 5}, {3, 127}, {7, 1}, {8, 128}, {9, 70000}, {4, 2}, {5, 3}, {6, 0}};
    // Then enough usual ones to fill the buffer they go through several times, and an unusual one.
    for (std::uint64_t seq = 10; seq < 1000; ++seq) items.emplace_back(seq, seq % 100);
    items.emplace_back(2000, 1);
    for (std::size_t first = 0; first <= items.size(); ++first) {
        CAPTURE(first);
        RunIndex one_by_one, all_at_once;
        // Both start from the same items already added, as a run that is refilled does.
        for (std::size_t i = 0; i < first; ++i) {
            one_by_one.add(items[i].first, items[i].second);
            all_at_once.add(items[i].first, items[i].second);
        }
        for (std::size_t i = first; i < items.size(); ++i) one_by_one.add(items[i].first, items[i].second);
        all_at_once.add_all(items.size() - first, [&](std::size_t i) { return items[first + i]; });
        CHECK(all_at_once.count() == items.size());
        CHECK(all_at_once.bytes() == one_by_one.bytes());
    }
    RunIndex none;
    none.add_all(0, [&](std::size_t i) { return items[i]; });
    CHECK(none.count() == 0);
    CHECK(none.bytes().empty());
}
