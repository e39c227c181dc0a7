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

TEST_CASE("a tag tells every item apart") {
    CHECK(tag_text("a\tb") == "a\\tb");
    CHECK(tag_text("a\\tb") == "a\\\\tb");
    CHECK(tag_text("C:\\dir\n") == "C:\\\\dir\\n");
    CHECK(tag_text(std::string("\0\x7f", 2)) == "\\x00\\x7f");
    CHECK(tag_text(std::string(300, 'x')).size() == 300);
}

TEST_CASE("UTF-8 checked in pieces cut anywhere agrees with the whole") {
    std::string texts[] = {"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80 end", "bad \xff here", "cut \xe2\x82", "\xf0\x9f\x98"};
    for (const auto& text : texts) {
        for (std::size_t step = 1; step <= text.size(); ++step) {
            Utf8Checker checker;
            for (std::size_t at = 0; at < text.size(); at += step) checker.feed(std::string_view(text).substr(at, step));
            CHECK(checker.finish() == is_valid_utf8(text));
        }
    }
}

TEST_CASE("base64 in pieces equals base64 of the whole") {
    using namespace std::string_literals;
    std::string text = "any bytes \x00\xff\x80 at all, of a length not a multiple of three"s;
    for (std::size_t step = 1; step < 10; ++step) {
        Base64Stream stream;
        std::string out;
        for (std::size_t at = 0; at < text.size(); at += step) out += stream.feed(std::string_view(text).substr(at, step));
        out += stream.finish();
        CHECK(out == base64(text));
    }
}
