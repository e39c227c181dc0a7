#include <doctest/doctest.h>

#include "worker/shell_quote.hpp"

#include <string>
#include <string_view>

using namespace ppool::worker;

namespace {

/// Where the end of `script` stands, and whether a backslash escapes what follows.
ShellPlace place_after(std::string_view script) {
    QuoteTracker quotes;
    for (char c : script) quotes.feed(c);
    return quotes.place();
}

bool escaped_after(std::string_view script) {
    QuoteTracker quotes;
    for (char c : script) quotes.feed(c);
    return quotes.escaped();
}

constexpr auto plain = Backquote::plain;
constexpr auto in_dq = Backquote::in_double_quotes;

}  // namespace

TEST_CASE("shell_quote makes one single-quoted word") {
    CHECK(shell_quote("") == "''");
    CHECK(shell_quote("a b") == "'a b'");
    CHECK(shell_quote("'") == "''\\'''");
    CHECK(shell_quote("`$\\\"") == "'`$\\\"'");
}

TEST_CASE("quote_for outside backquotes") {
    CHECK(quote_for(ShellContext::bare, "a'b") == "'a'\\''b'");
    CHECK(quote_for(ShellContext::single_quoted, "a b") == "''a b''");
    CHECK(quote_for(ShellContext::double_quoted, "$x `y` \"z\" \\ 'q'") == "\\$x \\`y\\` \\\"z\\\" \\\\ 'q'");
    CHECK(quote_for(ShellPlace{{}, ShellContext::bare}, "a b") == "'a b'");
}

TEST_CASE("inside backquotes the quoted value is escaped for the backslash removal") {
    // `...` removes the backslash before \ ` $: each is written with one more.
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::bare}, "a\\$b") == "'a\\\\\\$b'");
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::bare}, "a`b") == "'a\\`b'");
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::bare}, "it's") == "'it'\\\\''s'");
    // Outside "..." a backslash before " stays, so " needs none.
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::bare}, "\"") == "'\"'");
    CHECK(quote_for(ShellPlace{{in_dq}, ShellContext::bare}, "\"") == "'\\\"'");
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::double_quoted}, "$\"") == "\\\\\\$\\\\\"");
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::single_quoted}, "$") == "''\\$''");
    CHECK(quote_for(ShellPlace{{plain}, ShellContext::bare}, "a\nb") == "'a\nb'");
}

TEST_CASE("nested backquotes escape once per level, innermost first") {
    // The inner `...` stands in "...": '"' becomes '\"', then the outer level escapes that backslash.
    CHECK(quote_for(ShellPlace{{plain, in_dq}, ShellContext::bare}, "\"") == "'\\\\\"'");
    CHECK(quote_for(ShellPlace{{plain, plain}, ShellContext::bare}, "`") == "'\\\\\\`'");
    CHECK(quote_for(ShellPlace{{plain, plain}, ShellContext::bare}, "\\") == "'\\\\\\\\'");
}

TEST_CASE("the tracker follows quotes, $(...) and escapes") {
    CHECK(place_after("echo ") == ShellPlace{{}, ShellContext::bare});
    CHECK(place_after("echo '") == ShellPlace{{}, ShellContext::single_quoted});
    CHECK(place_after("echo \"") == ShellPlace{{}, ShellContext::double_quoted});
    CHECK(place_after("echo \"$(cat ") == ShellPlace{{}, ShellContext::bare});
    CHECK(place_after("echo \"$(cat \"") == ShellPlace{{}, ShellContext::double_quoted});
    CHECK(place_after("echo \"$(cat)") == ShellPlace{{}, ShellContext::double_quoted});
    CHECK(place_after("echo \\\" ") == ShellPlace{{}, ShellContext::bare});
    CHECK(place_after("echo '\\' ") == ShellPlace{{}, ShellContext::bare});
    CHECK(place_after("echo '`' ") == ShellPlace{{}, ShellContext::bare});
    CHECK(escaped_after("echo \\"));
    CHECK(escaped_after("echo \"\\"));
    CHECK_FALSE(escaped_after("echo '\\"));
    CHECK_FALSE(escaped_after("echo \\\\"));
}

TEST_CASE("the tracker parses the text of `...` as a script of its own") {
    CHECK(place_after("echo `") == ShellPlace{{plain}, ShellContext::bare});
    CHECK(place_after("echo \"`") == ShellPlace{{in_dq}, ShellContext::bare});
    CHECK(place_after("echo \"`printf %s \"") == ShellPlace{{in_dq}, ShellContext::double_quoted});
    CHECK(place_after("echo `printf %s '") == ShellPlace{{plain}, ShellContext::single_quoted});
    CHECK(place_after("echo \"$(printf %s `") == ShellPlace{{plain}, ShellContext::bare});
    CHECK(place_after("echo `printf %s \"$(cat ") == ShellPlace{{plain}, ShellContext::bare});
    CHECK(place_after("echo `x`") == ShellPlace{{}, ShellContext::bare});
    CHECK(place_after("echo \"`x`") == ShellPlace{{}, ShellContext::double_quoted});
    // sh ignores quotes when it looks for the closing backquote.
    CHECK(place_after("echo `printf '`") == ShellPlace{{}, ShellContext::bare});
}

TEST_CASE("the tracker follows backquotes nested with backslashes") {
    CHECK(place_after("x=`y=\\`") == ShellPlace{{plain, plain}, ShellContext::bare});
    CHECK(place_after("x=`printf %s \"\\`") == ShellPlace{{plain, in_dq}, ShellContext::bare});
    CHECK(place_after("x=`printf %s \"\\`a\\`") == ShellPlace{{plain}, ShellContext::double_quoted});
    CHECK(place_after("x=`y=\\`z=\\\\\\`") == ShellPlace{{plain, plain, plain}, ShellContext::bare});
    // \" opens nothing in `...` outside "..."; in "`...`" it is the inner script's ".
    CHECK(place_after("x=`printf %s \\\"") == ShellPlace{{plain}, ShellContext::bare});
    CHECK(place_after("echo \"`printf %s \\\"") == ShellPlace{{in_dq}, ShellContext::double_quoted});
    // \\ inside `...` is one backslash for the inner script, which then escapes.
    CHECK(escaped_after("echo `printf \\\\"));
    CHECK(escaped_after("echo `printf \\"));
    CHECK_FALSE(escaped_after("echo `printf \\\\\\\\"));
}
