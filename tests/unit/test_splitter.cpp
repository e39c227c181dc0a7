#include <doctest/doctest.h>

#include "pool/splitter.hpp"
#include "ppool/errors.hpp"
#include "ppool/item_source.hpp"

#include <unistd.h>

using ppool::detail::Splitter;

namespace {
std::vector<std::string> split(const std::string& data, char sep, std::size_t step) {
    Splitter s(sep);
    std::vector<std::string> out;
    for (std::size_t at = 0; at < data.size(); at += step) s.feed(std::string_view(data).substr(at, step), out);
    s.finish(out);
    return out;
}
}  // namespace

TEST_CASE("lines: trailing newline ends an item, CR is kept, empty lines count") {
    for (std::size_t step : {1u, 2u, 3u, 100u}) {
        CHECK(split("a\nb\n", '\n', step) == std::vector<std::string>{"a", "b"});
        CHECK(split("a\r\n\nb", '\n', step) == std::vector<std::string>{"a\r", "", "b"});
        CHECK(split("", '\n', step).empty());
        CHECK(split("\n", '\n', step) == std::vector<std::string>{""});
    }
}

TEST_CASE("NUL separated items may hold newlines") {
    CHECK(split(std::string("a\nb\0c\0", 6), '\0', 2) == std::vector<std::string>{"a\nb", "c"});
}

TEST_CASE("items from several descriptors, in order, each ending its last item") {
    int a[2], b[2];
    REQUIRE(pipe(a) == 0);
    REQUIRE(pipe(b) == 0);
    REQUIRE(write(a[1], "1\n2", 3) == 3);
    REQUIRE(write(b[1], "3\n", 2) == 2);
    close(a[1]);
    close(b[1]);
    auto source = ppool::items_from_fds({a[0], b[0]}, '\n');
    std::vector<std::string> items;
    while (source->read_more(items)) {}
    CHECK(items == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("an item over the limit is refused while it is read, naming its position") {
    for (std::size_t step : {1u, 2u, 3u, 100u}) {
        CAPTURE(step);
        Splitter s('\n', 3);
        std::vector<std::string> out;
        std::string data = "a\nbbb\ncccc\n";
        try {
            for (std::size_t at = 0; at < data.size(); at += step) s.feed(std::string_view(data).substr(at, step), out);
            FAIL("no error");
        } catch (const ppool::ItemTooLargeError& e) {
            CHECK(e.seq() == 3);
            CHECK(e.limit() == 3);
        }
        CHECK(out.size() <= 2);
    }
    // No separator at all: noticed as soon as the bytes pass the limit.
    Splitter s('\0', 10);
    std::vector<std::string> out;
    s.feed("yyyyyyyyyy", out);
    CHECK_THROWS_AS(s.feed("y", out), ppool::ItemTooLargeError);
}
