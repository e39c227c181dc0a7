#include "cli/input.hpp"

#include "os/event_loop.hpp"
#include "os/fd.hpp"
#include "os/signals.hpp"
#include "ppool/errors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ppool::cli {

int open_input(const std::string& path) {
    if (path == "-") {
        int fd = ::dup(0);
        if (fd < 0) throw UsageError("cannot read standard input");
        return fd;
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw UsageError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw UsageError(fmt::format("cannot read '{}': Is a directory", path));
    }
    return fd;
}

namespace {


class GroupItems final : public ItemSource {
public:
    GroupItems(std::unique_ptr<ItemSource> source, std::size_t n, char separator)
        : m_source(std::move(source)), m_n(n), m_separator(separator) {}
    int fd() const override { return m_ended ? -1 : m_source->fd(); }
    bool read_more(std::vector<std::string>& out) override {
        if (m_ended) return false;
        m_batch.clear();
        m_ended = !m_source->read_more(m_batch);
        for (auto& item : m_batch) {
            m_group.append(item).push_back(m_separator);
            if (++m_count == m_n) emit(out);
        }
        // The last, short group goes out with the end; `false` comes on the next call.
        if (m_ended && m_count > 0) emit(out);
        return !m_ended || !out.empty();
    }

private:
    void emit(std::vector<std::string>& out) {
        out.push_back(std::move(m_group));
        m_group.clear();
        m_count = 0;
    }
    std::unique_ptr<ItemSource> m_source;
    std::size_t m_n;
    char m_separator;
    bool m_ended = false;
    std::vector<std::string> m_batch;
    std::string m_group;
    std::size_t m_count = 0;
};

}  // namespace

std::unique_ptr<ItemSource> group_items(std::unique_ptr<ItemSource> source, std::size_t n, char separator) {
    return std::make_unique<GroupItems>(std::move(source), std::max<std::size_t>(n, 1), separator);
}

std::unique_ptr<ItemSource> open_inputs(const Options& options) {
    // One source: ::: items, :::: FILE, -a FILE, or stdin.
    if (!options.sources.empty() && !options.sources.front().from_file) return items_from(options.sources.front().items);
    std::vector<int> fds;
    try {
        if (!options.sources.empty()) fds.push_back(open_input(options.sources.front().file));
        else if (options.inputs.empty()) fds.push_back(::dup(0));
        for (const auto& path : options.inputs) fds.push_back(open_input(path));
    } catch (...) {
        for (int fd : fds) ::close(fd);
        throw;
    }
    for (int fd : fds)
        if (fd < 0) throw UsageError("cannot read standard input");
    return items_from_fds(std::move(fds), options.null ? '\0' : '\n', options.max_item_size);
}

std::vector<std::string> read_all(ItemSource& source) {
    std::vector<std::string> items;
    for_each_item(source, [&](std::string& item) { items.push_back(std::move(item)); });
    return items;
}

void for_each_item(ItemSource& source, const std::function<void(std::string&)>& each) {
    std::vector<std::string> batch;
    for (;;) {
        if (int fd = source.fd(); fd >= 0) {
            // Wait in the event loop's way, so that a caught signal ends the wait.
            os::PollSet set;
            set.add(fd, POLLIN);
            if (os::wait(set, std::nullopt) == os::Wake::signal) throw Interrupted(os::take_caught_signal());
        }
        batch.clear();
        bool more = source.read_more(batch);
        for (auto& item : batch) each(item);
        if (!more) return;
    }
}

std::optional<std::uint64_t> count_records(const std::string& path, char separator) {
    os::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::vector<char> buffer(1 << 20);
    std::uint64_t records = 0;
    char last = separator;
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        records += static_cast<std::uint64_t>(std::count(buffer.data(), buffer.data() + n, separator));
        last = buffer[static_cast<std::size_t>(n) - 1];
    }
    return records + (last != separator ? 1 : 0);
}

}  // namespace ppool::cli
