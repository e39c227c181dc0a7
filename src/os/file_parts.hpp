#pragma once

// Files moved in parts: read from one place a part at a time, written to
// another under a temporary name and renamed into place when whole.

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "os/fd.hpp"

namespace ppool::os {

/// Creates the missing directories above `path`; the ones it made, outermost
/// first. Throws std::system_error.
std::vector<std::string> make_parent_dirs(const std::string& path);

/// Removes the file at `path` if it is there, then the directories above it
/// that are left empty: those in `made` (deepest first), and, for a relative
/// path, those between it and the working directory. Quietly does what it can.
void remove_with_empty_dirs(const std::string& path, const std::vector<std::string>& made);

/// A file received in parts: written beside its place under a temporary name,
/// and renamed into it, with its mode, once whole. Abandoned (the temporary
/// file removed) if it never is.
class IncomingFile {
public:
    IncomingFile() = default;
    // The temporary file moves with it: the moved-from one has none to remove.
    IncomingFile(IncomingFile&& other) noexcept
        : made(std::exchange(other.made, {})),
          m_path(std::exchange(other.m_path, {})),
          m_temp(std::exchange(other.m_temp, {})),
          m_fd(std::move(other.m_fd)),
          m_mode(other.m_mode) {}
    IncomingFile& operator=(IncomingFile&& other) noexcept {
        if (this != &other) {
            abort();
            made = std::exchange(other.made, {});
            m_path = std::exchange(other.m_path, {});
            m_temp = std::exchange(other.m_temp, {});
            m_fd = std::move(other.m_fd);
            m_mode = other.m_mode;
        }
        return *this;
    }
    ~IncomingFile() { abort(); }

    /// Starts the file that goes to `path`; throws std::system_error.
    void begin(std::string path, std::uint32_t mode);
    void append(std::string_view data);
    /// Puts the whole file in its place; throws std::system_error.
    void commit();
    /// Drops what was received.
    void abort();
    bool receiving() const { return static_cast<bool>(m_fd); }
    const std::string& path() const { return m_path; }

    /// The directories begin() made for it.
    std::vector<std::string> made;

private:
    std::string m_path;
    std::string m_temp;
    os::Fd m_fd;
    std::uint32_t m_mode = 0;
};

/// A regular file read a part at a time, so that no side holds the whole of it.
class OutgoingFile {
public:
    /// Opens the file at `path`; throws std::system_error, or std::runtime_error
    /// for what is not a regular file (a FIFO is never waited on).
    explicit OutgoingFile(const std::string& path);
    /// Its permission bits.
    std::uint32_t mode() const { return m_mode; }
    /// Reads the next part, at most `max` bytes, into `data`; whether it is
    /// the last (shorter than `max`: an empty one when the size is a multiple
    /// of it). Throws std::system_error.
    bool read(std::string& data, std::size_t max);

private:
    os::Fd m_fd;
    std::string m_path;
    std::uint32_t m_mode = 0;
};

/// Why a file could not be read or written, from what the functions above
/// threw: "No such file or directory".
std::string failure_reason(const std::exception& e);

}  // namespace ppool::os
