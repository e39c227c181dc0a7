#include <doctest/doctest.h>

#include "cli/sources.hpp"
#include "cli/suggest.hpp"
#include "cli/values.hpp"
#include "ppool/errors.hpp"

#include <string>
#include <vector>

using namespace ppool;
using namespace ppool::cli;

namespace {
using Strings = std::vector<std::string>;

Strings chunks(RecordChunker chunker, std::string_view data, std::size_t piece) {
    Strings out;
    for (std::size_t at = 0; at < data.size(); at += piece) chunker.feed(data.substr(at, piece), out);
    chunker.finish(out);
    return out;
}
}  // namespace

TEST_CASE("--block sizes take GNU parallel's suffixes") {
    CHECK(parse_gnu_size("100", 1 << 30) == 100u);
    CHECK(parse_gnu_size("64k", 1 << 30) == 64000u);
    CHECK(parse_gnu_size("64K", 1 << 30) == 65536u);
    CHECK(parse_gnu_size("1m", 1 << 30) == 1000000u);
    CHECK(parse_gnu_size("1M", 1 << 30) == 1048576u);
    CHECK(parse_gnu_size("1.5k", 1 << 30) == 1500u);
    for (const char* bad : {"", "k", "0", "-1", "1x", "1..5", "1.", ".5k", "2G"})
        CHECK_MESSAGE(!parse_gnu_size(bad, 1 << 30), bad);
}

TEST_CASE("chunks are the longest runs of whole records that fit the block") {
    // However the bytes come in.
    for (std::size_t piece : {1, 3, 100}) {
        CHECK(chunks(RecordChunker("", "\n", 10), "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", piece) ==
              Strings{"1\n2\n3\n4\n5\n", "6\n7\n8\n9\n", "10\n"});
        // A record longer than the block is a chunk of its own.
        CHECK(chunks(RecordChunker("", "\n", 3), "a\nbbbbbb\nc\n", piece) == Strings{"a\n", "bbbbbb\n", "c\n"});
        CHECK(chunks(RecordChunker("", ";", 3), "a;b;c;", piece) == Strings{"a;", "b;", "c;"});
        // A chunk is cut only where a record end is followed by a record start.
        CHECK(chunks(RecordChunker(">", "\n", 8), ">a\n1\n>b\n2\n>c\n", piece) ==
              Strings{">a\n1\n", ">b\n2\n", ">c\n"});
        CHECK(chunks(RecordChunker(">", "", 5), ">a>b>cc>d", piece) == Strings{">a>b", ">cc", ">d"});
        // A last record without its end.
        CHECK(chunks(RecordChunker("", "\n", 100), "a\nb", piece) == Strings{"a\nb"});
    }
}

TEST_CASE("columns are split at a string or a regular expression") {
    CHECK(ColumnSplitter(",").split("a,b,,c") == Strings{"a", "b", "", "c"});
    CHECK(ColumnSplitter("::").split("a::b") == Strings{"a", "b"});
    CHECK(ColumnSplitter(" +").split("a  b   c") == Strings{"a", "b", "c"});
    CHECK(ColumnSplitter("\\t").split("a\tb") == Strings{"a", "b"});
    CHECK(ColumnSplitter(",").split("") == Strings{""});
    CHECK_THROWS_AS(ColumnSplitter("("), UsageError);
}

TEST_CASE("CSV records as RFC 4180 has them") {
    CsvParser parser;
    std::vector<Strings> records;
    parser.feed("a,\"b,c\",\"d \"\"q\"\"\"\n\" x \",\"multi\nline\"\n", records);
    parser.feed("last,", records);
    parser.finish(records);
    CHECK(records == std::vector<Strings>{{"a", "b,c", "d \"q\""}, {" x ", "multi\nline"}, {"last", ""}});
    CsvParser semicolons(';');
    std::vector<Strings> other;
    semicolons.feed("a;\"b;c\"\n", other);
    CHECK(other == std::vector<Strings>{{"a", "b;c"}});
    CsvParser broken;
    std::vector<Strings> none;
    CHECK_THROWS_AS((broken.feed("\"open\n", none), broken.finish(none)), UsageError);
}

TEST_CASE("GNU parallel's and xargs' spellings get the ppool way") {
    CHECK(foreign_option_hint("-P")->find("-j N") != std::string::npos);
    CHECK(foreign_option_hint("--jobs")->find("-j N") != std::string::npos);
    CHECK(foreign_option_hint("-k")->find("ppool imap") != std::string::npos);
    CHECK(foreign_option_hint("-L")->find("-N N") != std::string::npos);
    CHECK_FALSE(foreign_option_hint("--chunk-size"));
}
