#pragma once

#include <string>
#include <string_view>

namespace ppool::cli {

/// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// Standard base64 with padding (RFC 4648).
std::string base64(std::string_view bytes);

/// The item as shown in a one-line message: control bytes escaped, long items shortened.
std::string printable(std::string_view item);

}  // namespace ppool::cli
