#include <doctest/doctest.h>

#include "cli/encoding.hpp"

using namespace ppool::cli;

TEST_CASE("UTF-8 validation") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain"));
    CHECK(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xff"));
    CHECK_FALSE(is_valid_utf8("\xc3"));           // truncated
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));       // overlong
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));   // surrogate
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    CHECK(is_valid_utf8(std::string_view("a\0b", 3)));
}

TEST_CASE("base64 as RFC 4648") {
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("\xff\xfe") == "//4=");
}

TEST_CASE("items are shown on one line") {
    CHECK(printable("a\nb\tc") == "a\\nb\\tc");
    CHECK(printable(std::string(300, 'x')).size() == 203);
}
