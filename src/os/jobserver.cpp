#include "os/jobserver.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
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

/// `fifo:PATH` or `R,W` named by `word`; neither for a malformed value;
/// nothing for negative descriptors (make's "no jobserver for this recipe").
std::optional<JobserverAuth> parse_auth(std::string_view word, std::string_view value) {
    JobserverAuth auth;
    auth.word = word;
    if (value.starts_with("fifo:")) {
        auth.fifo = value.substr(5);
        return auth;
    }
    auto comma = value.find(',');
    if (comma == std::string_view::npos) return auth;
    auto r = parse_int(value.substr(0, comma));
    auto w = parse_int(value.substr(comma + 1));
    if (!r || !w) return auth;
    if (*r < 0 || *w < 0) return std::nullopt;
    auth.read_fd = *r;
    auth.write_fd = *w;
    return auth;
}

std::string descriptor(int fd) { return "descriptor " + std::to_string(fd); }

/// Why `fd` cannot be examined: most often make closed it.
std::string not_open(int fd, int error) {
    if (error == EBADF) return descriptor(fd) + " is not open";
    return descriptor(fd) + ": " + std::strerror(error);
}

/// Why the two descriptors are not the ends of one pipe, the second one
/// writable; empty when they are.
std::string pipe_problem(int read_fd, int write_fd) {
    struct stat r {};
    struct stat w {};
    if (::fstat(read_fd, &r) != 0) return not_open(read_fd, errno);
    if (::fstat(write_fd, &w) != 0) return not_open(write_fd, errno);
    if (!S_ISFIFO(r.st_mode)) return descriptor(read_fd) + " is not a pipe";
    if (!S_ISFIFO(w.st_mode)) return descriptor(write_fd) + " is not a pipe";
    if (r.st_ino != w.st_ino || r.st_dev != w.st_dev)
        return "descriptors " + std::to_string(read_fd) + " and " + std::to_string(write_fd) +
               " are not the ends of one pipe";
    int flags = ::fcntl(write_fd, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) return descriptor(write_fd) + " is not open for writing";
    return {};
}

/// Records why make's jobserver cannot be used, and gives nothing.
std::optional<Pipe> unusable(std::string& why, std::string reason) {
    why = std::move(reason);
    return std::nullopt;
}

std::string cannot_open(const std::string& path, const char* how) {
    return "cannot open " + path + how + ": " + std::strerror(errno);
}

/// Our own ends of make's fifo; nothing, and why, when it cannot be opened.
std::optional<Pipe> open_fifo(const std::string& path, std::string& why) {
    Fd read(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!read) return unusable(why, cannot_open(path, ""));
    struct stat st {};
    if (::fstat(read.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) return unusable(why, path + " is not a fifo");
    // Our own reader is open, so opening for writing does not wait.
    Fd write(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!write) return unusable(why, cannot_open(path, " for writing"));
    return Pipe{std::move(read), std::move(write)};
}

/// Our own ends of make's pipe; nothing, and why, when the descriptors are
/// not it (make passes them only to a recipe it runs as a make command).
std::optional<Pipe> open_pipe(int read_fd, int write_fd, std::string& why) {
    if (auto problem = pipe_problem(read_fd, write_fd); !problem.empty())
        return unusable(why, problem + ": prefix the recipe with '+' so that make passes its jobserver on");
    // A new open file description of make's pipe: O_NONBLOCK on it leaves make's alone.
    std::string path = "/proc/self/fd/" + std::to_string(read_fd);
    Fd read(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!read) return unusable(why, cannot_open(path, ""));
    Fd write(::fcntl(write_fd, F_DUPFD_CLOEXEC, 0));
    if (!write) return unusable(why, descriptor(write_fd) + ": " + std::strerror(errno));
    return Pipe{std::move(read), std::move(write)};
}

/// Make's jobserver as our own; nothing, and why, when it cannot be used.
std::optional<Pipe> open_auth(const JobserverAuth& auth, std::string& why) {
    if (!auth.fifo.empty()) return open_fifo(auth.fifo, why);
    if (auth.read_fd >= 0 && auth.write_fd >= 0) return open_pipe(auth.read_fd, auth.write_fd, why);
    auto value = std::string_view(auth.word).substr(auth.word.find('=') + 1);
    return unusable(why, "'" + std::string(value) + "' is neither R,W nor fifo:PATH");
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
        if (w.starts_with(k_auth)) auth = parse_auth(w, w.substr(k_auth.size()));
        else if (w.starts_with(k_fds)) auth = parse_auth(w, w.substr(k_fds.size()));
        else if (w.starts_with("-j")) single_job = w == "-j1";
    }
    if (single_job) return std::nullopt;
    return auth;
}

std::optional<Jobserver> Jobserver::from_environment(std::string* problem) {
    const char* flags = std::getenv("MAKEFLAGS");
    if (!flags) return std::nullopt;
    auto auth = parse_makeflags(flags);
    if (!auth) return std::nullopt;
    return open(*auth, problem);
}

std::optional<Jobserver> Jobserver::open(const JobserverAuth& auth, std::string* problem) {
    std::string why;
    auto ends = open_auth(auth, why);
    if (ends) return Jobserver(std::move(ends->read), std::move(ends->write));
    if (problem) *problem = "make's jobserver (MAKEFLAGS " + auth.word + ") cannot be used (" + why + ")";
    return std::nullopt;
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
