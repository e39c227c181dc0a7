// The codec of typed tasks: exact round trips, strict decoding.
#include <doctest/doctest.h>

#include "ppool/codec.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

using namespace std::string_literals;
using ppool::CodecError;
using ppool::decode;
using ppool::encode;
using ppool::Encodable;

namespace {

struct Stats {
    double mean = 0;
    std::vector<double> values;
    std::string label;
    bool operator==(const Stats&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Stats, mean, values, label)

struct NoCodec {
    int x = 0;
};

using Nested = std::map<std::string, std::vector<std::optional<std::pair<int, std::string>>>>;

template <class T>
T round_trip(const T& value) {
    return decode<T>(encode(value));
}

template <class T>
void check_round_trip(const T& value) {
    CHECK(round_trip(value) == value);
}

}  // namespace

TEST_CASE("numbers, bools and strings are text: the item a string task would see") {
    CHECK(encode(42) == "42");
    CHECK(encode(-7L) == "-7");
    CHECK(encode(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
    CHECK(encode(0.1) == "0.1");
    CHECK(encode(-0.0) == "-0");
    CHECK(encode(1.5f) == "1.5");
    CHECK(encode(std::numeric_limits<double>::infinity()) == "inf");
    CHECK(encode(true) == "true");
    CHECK(encode("a\0b\nc"s) == "a\0b\nc"s);
    CHECK(decode<int>("-12") == -12);
    CHECK(decode<double>("1e3") == 1000.0);
}

TEST_CASE("codec round trips are exact") {
    SUBCASE("integers at their limits") {
        check_round_trip(std::numeric_limits<std::int8_t>::min());
        check_round_trip(std::numeric_limits<std::uint8_t>::max());
        check_round_trip(std::numeric_limits<short>::min());
        check_round_trip(std::numeric_limits<int>::min());
        check_round_trip(std::numeric_limits<long long>::min());
        check_round_trip(std::numeric_limits<long long>::max());
        check_round_trip(std::numeric_limits<unsigned long long>::max());
        check_round_trip(std::vector<long long>{std::numeric_limits<long long>::min(), -1, 0,
                                                std::numeric_limits<long long>::max()});
        check_round_trip(std::vector<std::uint64_t>{0, std::numeric_limits<std::uint64_t>::max()});
        check_round_trip(std::vector<std::int8_t>{-128, 127});
    }
    SUBCASE("floating point, alone and inside a document") {
        std::vector<double> doubles{0.1,
                                    -0.0,
                                    1.0 / 3,
                                    std::numeric_limits<double>::denorm_min(),
                                    -std::numeric_limits<double>::denorm_min(),
                                    std::numeric_limits<double>::min(),
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::lowest(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(),
                                    123456789.123456789};
        for (double d : doubles) {
            CAPTURE(d);
            CHECK(round_trip(d) == d);
            CHECK(std::signbit(round_trip(d)) == std::signbit(d));
        }
        auto back = round_trip(doubles);
        REQUIRE(back.size() == doubles.size());
        for (std::size_t i = 0; i < doubles.size(); ++i) {
            CHECK(back[i] == doubles[i]);
            CHECK(std::signbit(back[i]) == std::signbit(doubles[i]));
        }
        std::vector<float> floats{0.1f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                  std::numeric_limits<float>::max(), -std::numeric_limits<float>::infinity()};
        for (float f : floats) CHECK(round_trip(f) == f);
        CHECK(round_trip(floats) == floats);
        CHECK(std::signbit(round_trip(std::vector<float>{-0.0f})[0]));

        double nan = std::numeric_limits<double>::quiet_NaN();
        CHECK(std::isnan(round_trip(nan)));
        CHECK(std::isnan(round_trip(std::numeric_limits<float>::quiet_NaN())));
        CHECK(std::isnan(round_trip(std::vector<double>{nan})[0]));
        CHECK(std::isnan(round_trip(std::vector<float>{std::numeric_limits<float>::quiet_NaN()})[0]));
    }
    SUBCASE("bools") {
        check_round_trip(true);
        check_round_trip(false);
        check_round_trip(std::vector<bool>{true, false, true});
    }
    SUBCASE("strings of any bytes") {
        std::string all_bytes;
        for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
        for (const auto& s : {""s, "\0"s, "a\0b\nc\r\n"s, "\xff\xfe not UTF-8 \xc3"s, all_bytes,
                              std::string(100000, '\n')}) {
            check_round_trip(s);
            check_round_trip(std::vector<std::string>{s, s});
            check_round_trip(std::map<std::string, std::string>{{s, s}});
        }
    }
    SUBCASE("containers, empty and nested") {
        check_round_trip(std::vector<int>{});
        check_round_trip(std::vector<std::vector<int>>{{}, {1}, {2, 3}});
        check_round_trip(std::array<int, 3>{1, -2, 3});
        check_round_trip(std::array<std::string, 0>{});
        check_round_trip(std::optional<int>{});
        check_round_trip(std::optional<int>{0});
        check_round_trip(std::optional<std::string>{""});
        check_round_trip(std::optional<std::optional<int>>{});
        check_round_trip(std::optional<std::optional<int>>{std::optional<int>{}});
        check_round_trip(std::optional<std::optional<int>>{std::optional<int>{5}});
        check_round_trip(std::pair<int, std::string>{-1, "x\0y"s});
        check_round_trip(std::tuple<>{});
        check_round_trip(std::tuple<int, double, std::string, bool>{1, 2.5, "three", true});
        check_round_trip(std::map<int, std::string>{});
        check_round_trip(std::map<int, std::string>{{-1, "a"}, {2, "b"}});
        check_round_trip(std::map<std::vector<int>, std::set<std::string>>{{{1, 2}, {"x", "y"}}, {{}, {}}});
        check_round_trip(std::unordered_map<std::string, double>{{"pi", 3.14159}, {"e", 2.71828}});
        check_round_trip(std::set<int>{3, 1, 2});
        check_round_trip(std::unordered_set<long>{7, -7});
        check_round_trip(Nested{{"k\n", {std::nullopt, std::pair<int, std::string>{1, "\0"s}}}, {"", {}}});
    }
    SUBCASE("a user struct, through nlohmann/json's to_json and from_json") {
        Stats s{2.5, {1, 4, std::numeric_limits<double>::denorm_min()}, "bytes \0\n\xff"s};
        check_round_trip(s);
        check_round_trip(std::vector<Stats>{s, Stats{}});
        check_round_trip(std::map<std::string, Stats>{{"a", s}});
        check_round_trip(std::optional<Stats>{s});
    }
}

TEST_CASE("decoding is strict: wrong kinds, ranges and sizes are errors that say where") {
    CHECK_THROWS_WITH_AS(decode<int>("abc"), "expected an integer from -2147483648 to 2147483647, found 'abc'",
                         CodecError);
    CHECK_THROWS_WITH_AS(decode<int>(""), "expected an integer from -2147483648 to 2147483647, found ''", CodecError);
    CHECK_THROWS_AS(decode<int>("12 "), CodecError);
    CHECK_THROWS_AS(decode<int>("1.5"), CodecError);
    CHECK_THROWS_WITH_AS(decode<std::int8_t>("300"), "expected an integer from -128 to 127 (out of range), found '300'",
                         CodecError);
    CHECK_THROWS_AS(decode<unsigned>("-1"), CodecError);
    CHECK_THROWS_AS(decode<double>("one"), CodecError);
    CHECK_THROWS_AS(decode<double>("1e999"), CodecError);
    CHECK_THROWS_WITH_AS(decode<bool>("1"), "expected true or false, found '1'", CodecError);
    CHECK_THROWS_WITH_AS(decode<int>("a\nb\xff"), doctest::Contains("found 'a\\x0ab\\xff'"), CodecError);

    CHECK_THROWS_WITH_AS(decode<std::vector<int>>(encode(std::tuple<int, double>{1, 1.5})),
                         "at [1]: expected an integer from -2147483648 to 2147483647, found the number 1.5",
                         CodecError);
    CHECK_THROWS_WITH_AS(decode<std::vector<int>>(encode(std::vector<bool>{true})),
                         "at [0]: expected an integer from -2147483648 to 2147483647, found true", CodecError);
    CHECK_THROWS_WITH_AS(decode<std::vector<std::uint8_t>>(encode(std::vector<int>{1, 256})),
                         "at [1]: expected an integer from 0 to 255, found the integer 256", CodecError);
    CHECK_THROWS_WITH_AS((decode<std::array<int, 3>>(encode(std::array<int, 2>{1, 2}))),
                         "expected an array of 3, found an array of 2", CodecError);
    CHECK_THROWS_WITH_AS((decode<std::vector<std::vector<int>>>(encode(std::vector<std::vector<std::string>>{{}, {"x"}}))),
                         "at [1][0]: expected an integer from -2147483648 to 2147483647, found a string", CodecError);
    CHECK_THROWS_AS(decode<std::vector<float>>(encode(std::vector<double>{1e300})), CodecError);
    CHECK_THROWS_AS(decode<std::vector<float>>(encode(std::vector<double>{0.1})), CodecError);
    CHECK_THROWS_AS(decode<std::optional<int>>(encode(std::vector<int>{1, 2})), CodecError);
    CHECK_THROWS_WITH_AS((decode<std::map<int, int>>(encode(std::vector<std::pair<int, int>>{{1, 2}, {1, 3}}))),
                         "at [1]: a duplicate key", CodecError);
    CHECK_THROWS_WITH_AS(decode<std::set<int>>(encode(std::vector<int>{1, 1})), "at [1]: a duplicate element",
                         CodecError);
    CHECK_THROWS_WITH_AS(decode<std::vector<int>>(encode(std::vector<int>{1}) + "x"),
                         doctest::Contains("not a CBOR document"), CodecError);
    CHECK_THROWS_AS(decode<std::vector<int>>("1"), CodecError);
    CHECK_THROWS_AS(decode<std::vector<int>>(""), CodecError);
    CHECK_THROWS_WITH_AS(decode<Stats>(encode(std::map<std::string, int>{})), doctest::Contains("cannot use at() with array"),
                         CodecError);
    // nlohmann/json's own errors for a user type, such as a missing member.
    CHECK_THROWS_WITH_AS(decode<Stats>(std::string(reinterpret_cast<const char*>("\xa0"), 1)),
                         doctest::Contains("key 'mean' not found"), CodecError);
}

// What the codec can carry: compile-time checks.
static_assert(Encodable<int> && Encodable<std::uint8_t> && Encodable<double> && Encodable<std::string>);
static_assert(Encodable<std::vector<std::map<int, std::optional<Stats>>>>);
static_assert(!Encodable<char> && !Encodable<std::vector<char>> && !Encodable<char32_t>);
static_assert(!Encodable<long double> && !Encodable<const char*> && !Encodable<int*>);
static_assert(!Encodable<NoCodec> && !Encodable<std::vector<NoCodec>> && !Encodable<std::pair<int, NoCodec>>);
