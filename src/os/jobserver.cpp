#include "os/jobserver.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

/// MAKEFLAGS words: split at blanks, a backslash escapes the next character.
std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        if (c == '\\' && i + 1 < text.size()) c = text[++i];
        word += c;
        in_word = true;
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

std::optional<int> parse_int(std::string_view text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

/// `fifo:PATH` or `R,W`; nothing for anything else.
std::optional<JobserverAuth> parse_auth(std::string_view value) {
    JobserverAuth auth;
    if (value.starts_with("fifo:")) {
        auth.fifo = value.substr(5);
        if (auth.fifo.empty()) return std::nullopt;
        return auth;
    }
    auto comma = value.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    auto r = parse_int(value.substr(0, comma));
    auto w = parse_int(value.substr(comma + 1));
    if (!r || !w) return std::nullopt;
    auth.read_fd = *r;
    auth.write_fd = *w;
    return auth;
}

/// Both descriptors are open ends of one pipe, the second one writable.
bool same_pipe(int read_fd, int write_fd) {
    struct stat r {};
    struct stat w {};
    if (::fstat(read_fd, &r) != 0 || ::fstat(write_fd, &w) != 0) return false;
    if (!S_ISFIFO(r.st_mode) || r.st_ino != w.st_ino || r.st_dev != w.st_dev) return false;
    int flags = ::fcntl(write_fd, F_GETFL);
    return flags >= 0 && (flags & O_ACCMODE) != O_RDONLY;
}

}  // namespace

std::optional<JobserverAuth> parse_makeflags(std::string_view makeflags) {
    std::optional<JobserverAuth> auth;
    bool single_job = false;
    constexpr std::string_view k_auth = "--jobserver-auth=";
    constexpr std::string_view k_fds = "--jobserver-fds=";
    for (const auto& word : split_words(makeflags)) {
        std::string_view w = word;
        // Variable definitions follow a lone "--".
        if (w == "--") break;
        if (w.starts_with(k_auth)) auth = parse_auth(w.substr(k_auth.size()));
        else if (w.starts_with(k_fds)) auth = parse_auth(w.substr(k_fds.size()));
        else if (w.starts_with("-j")) single_job = w == "-j1";
    }
    if (!auth || single_job) return std::nullopt;
    if (auth->fifo.empty() && (auth->read_fd < 0 || auth->write_fd < 0)) return std::nullopt;
    return auth;
}

std::optional<Jobserver> Jobserver::from_environment() {
    const char* flags = std::getenv("MAKEFLAGS");
    if (!flags) return std::nullopt;
    auto auth = parse_makeflags(flags);
    if (!auth) return std::nullopt;
    return open(*auth);
}

std::optional<Jobserver> Jobserver::open(const JobserverAuth& auth) {
    if (!auth.fifo.empty()) {
        Fd read(::open(auth.fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
        struct stat st {};
        if (!read || ::fstat(read.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) return std::nullopt;
        // Our own reader is open, so opening for writing does not wait.
        Fd write(::open(auth.fifo.c_str(), O_WRONLY | O_CLOEXEC));
        if (!write) return std::nullopt;
        return Jobserver(std::move(read), std::move(write));
    }
    // Not passed down (no '+' on the recipe) or a stale MAKEFLAGS: no jobserver.
    if (!same_pipe(auth.read_fd, auth.write_fd)) return std::nullopt;
    // A new open file description of make's pipe: O_NONBLOCK on it leaves make's alone.
    std::string path = "/proc/self/fd/" + std::to_string(auth.read_fd);
    Fd read(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    Fd write(::fcntl(auth.write_fd, F_DUPFD_CLOEXEC, 0));
    if (!read || !write) return std::nullopt;
    return Jobserver(std::move(read), std::move(write));
}

Jobserver& Jobserver::operator=(Jobserver&& other) noexcept {
    if (this != &other) {
        release_all();
        m_read = std::move(other.m_read);
        m_write = std::move(other.m_write);
        m_tokens = std::move(other.m_tokens);
        other.m_tokens.clear();
    }
    return *this;
}

bool Jobserver::try_acquire() {
    for (;;) {
        char token = 0;
        ssize_t n = ::read(m_read.get(), &token, 1);
        if (n == 1) {
            m_tokens.push_back(token);
            return true;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        throw std::system_error(errno, std::generic_category(), "read(jobserver)");
    }
}

void Jobserver::release() noexcept {
    if (m_tokens.empty()) return;
    char token = m_tokens.back();
    m_tokens.pop_back();
    // We hold a reader ourselves, so this cannot raise SIGPIPE; a pipe of tokens never fills.
    while (::write(m_write.get(), &token, 1) < 0 && errno == EINTR) {
    }
}

void Jobserver::release_all() noexcept {
    while (!m_tokens.empty()) release();
}

}  // namespace ppool::os
