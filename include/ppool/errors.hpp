#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "ppool/result.hpp"

namespace ppool {

/// Base of every error ppool throws on purpose.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A wait (`get`, `wait`, `next`) ran out of time; the work goes on.
class TimeoutError : public Error {
public:
    TimeoutError() : Error("timed out waiting for a result") {}
};

/// A task failed. It keeps the failed item's whole TaskResult: its sequence
/// number and input, its Status, and what goes with that status (a command's
/// exit code or signal, its stdout and stderr; the worker, run time and
/// attempts). what() is the one-line reason, TaskResult::describe_failure():
/// for a registered task that threw (Status::error), the exception's what()
/// in the worker, exactly, and type_name() the exception's type.
class TaskError : public Error {
public:
    /// The error for `result`, a failed task's: what() is its describe_failure().
    explicit TaskError(TaskResult result) : Error(result.describe_failure()), m_result(std::move(result)) {}
    /// The failed item's result, as the pool recorded it.
    const TaskResult& result() const { return m_result; }
    /// The type of the exception the task threw in its worker, as C++ spells
    /// it ("std::out_of_range"); empty when the task did not throw one
    /// derived from std::exception, or did not throw at all (a command).
    const std::string& type_name() const { return m_result.error_type; }

private:
    TaskResult m_result;
};

/// A user's mistake (bad option, unknown task, unreadable input): exit status 2.
class UsageError : public Error {
public:
    using Error::Error;
};

/// An item read from a descriptor grew past the size allowed for one item
/// (see items_from_fds); reading stopped there, before it could fill memory.
class ItemTooLargeError : public UsageError {
public:
    /// Item `seq` (1-based) is larger than `limit` bytes.
    ItemTooLargeError(std::uint64_t seq, std::uint64_t limit)
        : UsageError("item " + std::to_string(seq) + " is larger than the limit of " + std::to_string(limit) +
                     " bytes"),
          m_seq(seq), m_limit(limit) {}
    /// The item's 1-based position in the input.
    std::uint64_t seq() const { return m_seq; }
    /// The largest size allowed, in bytes.
    std::uint64_t limit() const { return m_limit; }

private:
    std::uint64_t m_seq;
    std::uint64_t m_limit;
};

/// A worker's initializer failed; the pool has stopped and will not respawn it.
class InitializerError : public Error {
public:
    using Error::Error;
};

/// A caught signal (SIGINT, SIGTERM, SIGHUP) interrupted the wait.
class Interrupted : public Error {
public:
    /// Interrupted by signal `signo`.
    explicit Interrupted(int signo) : Error("interrupted by signal " + std::to_string(signo)), m_signo(signo) {}
    /// The signal's number.
    int signo() const { return m_signo; }

private:
    int m_signo;
};

}  // namespace ppool
