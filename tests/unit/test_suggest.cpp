#include <doctest/doctest.h>

#include "cli/suggest.hpp"

using namespace ppool::cli;

namespace {
const std::vector<std::string> k_modes{"map", "imap", "imap-unordered", "unordered", "apply", "tasks"};
const std::vector<std::string> k_options{"--processes", "--chunksize", "--input", "--null",      "--task",
                                         "--timeout",   "--initializer", "--init-task", "--initargs", "--json",
                                         "--joblog",    "--resume",    "--retries", "--progress", "--help"};
const std::vector<std::string> k_tasks{"identity", "len", "upper", "lower", "sleep", "wc", "sha256sum"};
}  // namespace

TEST_CASE("edit distance counts insertions, deletions, substitutions and transpositions") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("abc", "") == 3);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("imap", "imap") == 0);
    CHECK(edit_distance("imapp", "imap") == 1);
    CHECK(edit_distance("iamp", "imap") == 1);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("chunk-size", "chunksize") == 1);
    CHECK(edit_distance("IMAP", "imap") == 0);
    // Optimal string alignment: a transposed pair is not edited again.
    CHECK(edit_distance("ca", "abc") == 3);
}

TEST_CASE("a near mode, option or task is suggested") {
    CHECK(nearest("imapp", k_modes) == "imap");
    CHECK(nearest("mpa", k_modes) == "map");
    CHECK(nearest("unorderd", k_modes) == "unordered");
    CHECK(nearest("imap-unorderd", k_modes) == "imap-unordered");
    CHECK(nearest("--chunk-size", k_options) == "--chunksize");
    CHECK(nearest("--chunk_size", k_options) == "--chunksize");
    CHECK(nearest("--proceses", k_options) == "--processes");
    CHECK(nearest("--timout", k_options) == "--timeout");
    CHECK(nearest("--JSON", k_options) == "--json");
    CHECK(nearest("-json", k_options) == "--json");
    CHECK(nearest("lenn", k_tasks) == "len");
    CHECK(nearest("sha256", k_tasks) == "sha256sum");
    CHECK(nearest("uper", k_tasks) == "upper");
}

TEST_CASE("a prefix counts; the shortest completion wins") {
    CHECK(nearest("--proc", k_options) == "--processes");
    CHECK(nearest("--jo", k_options) == "--joblog");
    CHECK(nearest("im", k_modes) == "imap");
    CHECK(nearest("ta", k_modes) == "tasks");
}

TEST_CASE("nothing far away is suggested") {
    CHECK_FALSE(nearest("frobnicate", k_modes));
    CHECK_FALSE(nearest("--bogus-option", k_options));
    CHECK_FALSE(nearest("x", k_tasks));
    CHECK_FALSE(nearest("no-such-task", k_tasks));
    CHECK_FALSE(nearest("", k_modes));
    CHECK_FALSE(nearest("--", k_options));
    CHECK_FALSE(nearest("imap", {}));
}

TEST_CASE("ties go to the candidate listed first") {
    CHECK(nearest("ab", std::vector<std::string>{"abc", "abd"}) == "abc");
    CHECK(nearest("lowe", k_tasks) == "lower");
}
