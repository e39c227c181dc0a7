#include "cli/input.hpp"

#include "os/event_loop.hpp"
#include "os/signals.hpp"
#include "ppool/errors.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ppool::cli {

namespace {

int open_input(const std::string& path) {
    if (path == "-") return ::dup(0);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw UsageError(fmt::format("cannot read '{}': Is a directory", path));
    }
    return fd;
}

}  // namespace

std::unique_ptr<ItemSource> open_inputs(const Options& options) {
    std::vector<int> fds;
    try {
        if (options.inputs.empty()) fds.push_back(::dup(0));
        for (const auto& path : options.inputs) fds.push_back(open_input(path));
    } catch (...) {
        for (int fd : fds) ::close(fd);
        throw;
    }
    for (int fd : fds)
        if (fd < 0) throw UsageError("cannot read standard input");
    return items_from_fds(std::move(fds), options.null ? '\0' : '\n');
}

std::vector<std::string> read_all(ItemSource& source) {
    std::vector<std::string> items;
    for (;;) {
        if (int fd = source.fd(); fd >= 0) {
            // Wait in the event loop's way, so that a caught signal ends the wait.
            os::PollSet set;
            set.add(fd, POLLIN);
            if (os::wait(set, std::nullopt) == os::Wake::signal) throw Interrupted(os::take_caught_signal());
        }
        if (!source.read_more(items)) return items;
    }
}

}  // namespace ppool::cli
