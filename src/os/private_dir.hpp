#pragma once

#include <string>

namespace ppool::os {

/// A fresh directory only this user may enter (mode 0700), removed with what
/// is in it when the owner goes: the place for sockets and files that must
/// not be seen or replaced by another user.
class PrivateDir {
public:
    /// Creates "$TMPDIR/PREFIX-XXXXXX" (or under /tmp when $TMPDIR is unset
    /// or too long for a socket path in it); throws std::system_error.
    static PrivateDir create(const std::string& prefix);

    PrivateDir() = default;
    PrivateDir(PrivateDir&& other) noexcept : m_path(std::move(other.m_path)) { other.m_path.clear(); }
    PrivateDir& operator=(PrivateDir&& other) noexcept;
    PrivateDir(const PrivateDir&) = delete;
    PrivateDir& operator=(const PrivateDir&) = delete;
    ~PrivateDir() { remove(); }

    /// The directory's path; empty once removed.
    const std::string& path() const { return m_path; }
    /// Removes the directory and the files in it (not following links); idempotent.
    void remove() noexcept;

private:
    std::string m_path;
};

}  // namespace ppool::os
