#include "pool/builtins.hpp"

#include "ppool/task.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <memory>
#include <openssl/evp.h>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace ppool::detail {

namespace {

/// An open file read in blocks; throws runtime_error with a `tool: path: reason` message.
class InputFile {
public:
    InputFile(std::string_view tool, std::string_view path) : m_path(path) {
        m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0) fail(tool);
    }
    ~InputFile() { ::close(m_fd); }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    /// Calls `consume(data, size)` for every block until end of file.
    template <class F>
    void each_block(std::string_view tool, F&& consume) {
        std::unique_ptr<char[]> buffer(new char[1 << 16]);
        for (;;) {
            ssize_t n = ::read(m_fd, buffer.get(), 1 << 16);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail(tool);
            if (n == 0) return;
            consume(buffer.get(), static_cast<std::size_t>(n));
        }
    }
    bool is_regular(off_t& size) const {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
        size = st.st_size;
        return true;
    }

private:
    [[noreturn]] void fail(std::string_view tool) const {
        throw std::runtime_error(fmt::format("{}: {}: {}", tool, m_path, std::strerror(errno)));
    }
    std::string m_path;
    int m_fd = -1;
};

std::string change_case(std::string_view item, int (*convert)(int)) {
    std::string out(item);
    for (auto& c : out) c = static_cast<char>(convert(static_cast<unsigned char>(c)));
    return out;
}

std::string sleep_task(std::string_view item) {
    double seconds = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), seconds);
    if (ec != std::errc{} || end != item.data() + item.size() || seconds < 0)
        throw std::runtime_error(fmt::format("sleep: invalid time interval '{}'", item));
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return std::string(item);
}

/// A name as GNU wc 9 prints it: as is, unless it holds a newline; then
/// quoted for the shell, control characters as $'\n' pieces.
std::string wc_name(std::string_view name) {
    if (name.find('\n') == std::string_view::npos) return std::string(name);
    std::string out;
    bool open = false;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            if (open) out += '\'';
            open = false;
            if (c == '\n') out += "$'\\n'";
            else if (c == '\t') out += "$'\\t'";
            else if (c == '\r') out += "$'\\r'";
            else out += fmt::format("$'\\{:03o}'", u);
            continue;
        }
        if (!open) out += '\'';
        open = true;
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    if (open) out += '\'';
    return out;
}

/// A name as GNU sha256sum prints it: backslash and newline escaped, and the
/// line then starts with a backslash.
std::pair<bool, std::string> sha256_name(std::string_view name) {
    if (name.find_first_of("\\\n") == std::string_view::npos) return {false, std::string(name)};
    std::string out;
    for (char c : name) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return {true, out};
}

}  // namespace

std::string wc_file(std::string_view path) {
    InputFile file("wc", path);
    std::uint64_t lines = 0, words = 0, bytes = 0;
    bool in_word = false;
    file.each_block("wc", [&](const char* data, std::size_t n) {
        bytes += n;
        for (std::size_t i = 0; i < n; ++i) {
            unsigned char c = static_cast<unsigned char>(data[i]);
            if (c == '\n') ++lines;
            // As GNU wc in the C locale: white space ends a word, a printable
            // byte starts one, other bytes do neither.
            if (std::isspace(c)) {
                in_word = false;
            } else if (std::isprint(c) && !in_word) {
                in_word = true;
                ++words;
            }
        }
    });
    // GNU wc pads to the width of the file's size, or 7 when that is unknown.
    off_t size = 0;
    int width = file.is_regular(size) ? static_cast<int>(std::to_string(size).size()) : 7;
    return fmt::format("{:>{}} {:>{}} {:>{}} {}", lines, width, words, width, bytes, width, wc_name(path));
}

std::string sha256_file(std::string_view path) {
    InputFile file("sha256sum", path);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("sha256sum: cannot initialise the digest");
    file.each_block("sha256sum", [&](const char* data, std::size_t n) { EVP_DigestUpdate(ctx.get(), data, n); });
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &length);
    std::string out;
    for (unsigned int i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
    auto [escaped, name] = sha256_name(path);
    return fmt::format("{}{}  {}", escaped ? "\\" : "", out, name);
}

void register_builtins(TaskRegistry& registry) {
    registry.add("identity", "the item itself", [](std::string_view item) { return std::string(item); });
    registry.add("len", "the item's length in bytes", [](std::string_view item) { return std::to_string(item.size()); });
    registry.add("upper", "the item in upper case (ASCII)", [](std::string_view item) { return change_case(item, ::toupper); });
    registry.add("lower", "the item in lower case (ASCII)", [](std::string_view item) { return change_case(item, ::tolower); });
    registry.add("sleep", "sleeps the item's number of seconds, then prints it", sleep_task);
    registry.add("wc", "lines, words and bytes of the file named by the item, as wc prints them", [](std::string_view item) { return wc_file(item); });
    registry.add("sha256sum", "SHA-256 digest of the file named by the item, as sha256sum prints it", [](std::string_view item) { return sha256_file(item); });
}

}  // namespace ppool::detail
