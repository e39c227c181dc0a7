#include "cli/encoding.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace ppool::cli {

bool is_valid_utf8(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t n = text.size(), i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F;
        else return false;
        if (i + len > n) return false;
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (std::size_t k = 2; k < len; ++k)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
        i += len;
    }
    return true;
}

std::string base64(std::string_view bytes) {
    std::string out;
    // EVP_EncodeBlock writes 4 bytes per 3 and a NUL; encode in slices to stay within int.
    constexpr std::size_t k_slice = 3 * (1 << 20);
    for (std::size_t at = 0; at < bytes.size(); at += k_slice) {
        auto part = bytes.substr(at, k_slice);
        std::size_t old = out.size();
        out.resize(old + 4 * ((part.size() + 2) / 3) + 1);
        int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + old),
                                      reinterpret_cast<const unsigned char*>(part.data()), static_cast<int>(part.size()));
        out.resize(old + static_cast<std::size_t>(written));
    }
    return out;
}

std::string printable(std::string_view item) {
    constexpr std::size_t k_max = 200;
    std::string out;
    for (std::size_t i = 0; i < item.size() && i < k_max; ++i) {
        unsigned char c = static_cast<unsigned char>(item[i]);
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    if (item.size() > k_max) out += "...";
    return out;
}

}  // namespace ppool::cli
