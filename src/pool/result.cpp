#include "ppool/result.hpp"

#include "os/process.hpp"
#include "pool/run_data.hpp"

#include <fmt/format.h>

namespace ppool {

std::string LargeOutput::read_all() const {
    std::string out;
    out.reserve(static_cast<std::size_t>(size()));
    for_each_block([&](std::string_view block) { out.append(block); });
    return out;
}

std::string_view to_string(Status status) {
    switch (status) {
    case Status::ok: return "ok";
    case Status::failed: return "failed";
    case Status::timeout: return "timeout";
    case Status::signal: return "signal";
    case Status::worker_lost: return "worker_lost";
    case Status::error: return "error";
    }
    return "error";
}

namespace {

std::string signal_text(int sig) { return fmt::format("signal {} ({})", sig, os::signal_name(sig)); }

}  // namespace

std::string TaskResult::describe_failure() const { return detail::describe_failure(status, exit_code, signal, error); }

namespace detail {

std::string describe_failure(Status status, std::optional<int> exit_code, std::optional<int> signal,
                             std::string_view error) {
    switch (status) {
    case Status::ok: return "ok";
    case Status::timeout: return error.empty() ? "timed out" : std::string(error);
    case Status::signal: return signal ? "killed by " + signal_text(*signal) : "killed by a signal";
    case Status::worker_lost:
        if (!error.empty()) return std::string(error);
        if (signal) return "worker died: " + signal_text(*signal);
        if (exit_code) return fmt::format("worker died: exit status {}", *exit_code);
        return "worker died";
    case Status::failed:
        if (exit_code && !error.empty()) return fmt::format("exit status {} ({})", *exit_code, error);
        if (exit_code) return fmt::format("exit status {}", *exit_code);
        return error.empty() ? "failed" : std::string(error);
    case Status::error: return error.empty() ? "error" : std::string(error);
    }
    return std::string(error);
}

}  // namespace detail

}  // namespace ppool
