#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "os/fd.hpp"

namespace ppool::os {

/// Where GNU make's jobserver is, as MAKEFLAGS names it. Neither a fifo nor
/// two descriptors: the value is malformed.
struct JobserverAuth {
    std::string fifo;  ///< `fifo:PATH` (make 4.4); empty for an inherited pipe
    int read_fd = -1;  ///< `R,W` / `--jobserver-fds=R,W` (older makes)
    int write_fd = -1;
    std::string word;  ///< the MAKEFLAGS word that names it, for messages
};

/// Parses MAKEFLAGS: the last `--jobserver-auth=` or `--jobserver-fds=` wins.
/// Nothing when there is none, when the last `-jN` is `-j1`, or when a
/// descriptor is negative (make's "-2,-2": no jobserver for this recipe).
std::optional<JobserverAuth> parse_makeflags(std::string_view makeflags);

/// A client of GNU make's jobserver: each token is one byte taken from make's
/// pipe or fifo, and goes back as that same byte. Never blocks and never
/// changes the flags of make's own open file description. Move-only; the
/// destructor gives back every token still held.
class Jobserver {
public:
    /// The jobserver MAKEFLAGS names, or nothing when there is none or it
    /// cannot be used (descriptors not passed down, fifo gone, a malformed
    /// value): no limit then. In that last case `*problem`, when given, says
    /// why in one line for the user.
    static std::optional<Jobserver> from_environment(std::string* problem = nullptr);
    /// Opens the jobserver `auth` names; nothing when it cannot be used, and
    /// then `*problem`, when given, says why.
    static std::optional<Jobserver> open(const JobserverAuth& auth, std::string* problem = nullptr);

    Jobserver(Jobserver&& other) noexcept = default;
    Jobserver& operator=(Jobserver&& other) noexcept;
    Jobserver(const Jobserver&) = delete;
    Jobserver& operator=(const Jobserver&) = delete;
    ~Jobserver() { release_all(); }

    /// Takes one token if one is there now; false when none is (never blocks).
    /// Throws std::system_error on a read error other than "nothing there".
    bool try_acquire();
    /// Gives back the token taken last (its own byte); no-op when none is held.
    /// Best effort: a token that cannot be written back is dropped.
    void release() noexcept;
    /// Gives back every token held.
    void release_all() noexcept;
    /// Tokens held now.
    std::size_t held() const { return m_tokens.size(); }
    /// The descriptor to poll for POLLIN while waiting for a token.
    int poll_fd() const { return m_read.get(); }

private:
    Jobserver(Fd read, Fd write) : m_read(std::move(read)), m_write(std::move(write)) {}

    Fd m_read;   // non-blocking, our own open file description
    Fd m_write;  // blocking: it may share make's description; a pipe of tokens never fills
    std::vector<char> m_tokens;
};

}  // namespace ppool::os
