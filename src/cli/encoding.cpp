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

bool Utf8Checker::feed(std::string_view piece) {
    if (!m_ok) return false;
    std::string joined;
    if (!m_pending.empty()) {
        joined = m_pending + std::string(piece);
        piece = joined;
        m_pending.clear();
    }
    // Hold back a sequence cut by the end of the piece: at most 3 bytes.
    std::size_t cut = piece.size();
    for (std::size_t back = 1; back <= 3 && back <= piece.size(); ++back) {
        auto c = static_cast<unsigned char>(piece[piece.size() - back]);
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
        std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (need > back) cut = piece.size() - back;
        break;
    }
    m_pending.assign(piece.substr(cut));
    m_ok = is_valid_utf8(piece.substr(0, cut));
    return m_ok;
}

std::string Base64Stream::feed(std::string_view piece) {
    m_pending.append(piece);
    std::size_t whole = m_pending.size() / 3 * 3;
    std::string out = base64(std::string_view(m_pending).substr(0, whole));
    m_pending.erase(0, whole);
    return out;
}

std::string Base64Stream::finish() {
    std::string out = base64(m_pending);
    m_pending.clear();
    return out;
}

namespace {

/// Control bytes as \n \t \r or \xNN, at most `max` bytes of the item;
/// a backslash doubled if `backslash` says so.
std::string escape(std::string_view item, std::size_t max, bool backslash) {
    std::string out;
    for (std::size_t i = 0; i < item.size() && i < max; ++i) {
        unsigned char c = static_cast<unsigned char>(item[i]);
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c == '\\' && backslash) out += "\\\\";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    if (item.size() > max) out += "...";
    return out;
}

}  // namespace

std::string printable(std::string_view item, std::size_t max) { return escape(item, max, false); }

std::string tag_text(std::string_view item) { return escape(item, std::string_view::npos, true); }

}  // namespace ppool::cli
