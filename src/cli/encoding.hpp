#pragma once

#include <string>
#include <string_view>

namespace ppool::cli {

/// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// UTF-8 validation of a text that arrives in pieces cut anywhere.
class Utf8Checker {
public:
    /// False once the text so far cannot be valid UTF-8.
    bool feed(std::string_view piece);
    /// Whether the whole text was valid (no sequence left unfinished).
    bool finish() const { return m_ok && m_pending.empty(); }

private:
    std::string m_pending;
    bool m_ok = true;
};

/// Base64 of a byte stream that arrives in pieces: whole groups go out as
/// they are complete, padding at the end.
class Base64Stream {
public:
    std::string feed(std::string_view piece);
    std::string finish();

private:
    std::string m_pending;
};

/// Standard base64 with padding (RFC 4648).
std::string base64(std::string_view bytes);

/// The item as shown in a one-line message: control bytes escaped, long items shortened.
std::string printable(std::string_view item, std::size_t max = 200);

/// The item as --tag shows it, whole: control bytes escaped as in printable()
/// and a backslash doubled, so that two different items never look the same
/// (a TAB shows as \t, the two characters \t as \\t).
std::string tag_text(std::string_view item);

}  // namespace ppool::cli
