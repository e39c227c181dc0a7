#include "ppool/item_source.hpp"

#include "os/fd.hpp"
#include "pool/item_blocks.hpp"
#include "pool/splitter.hpp"
#include "ppool/errors.hpp"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace ppool {

namespace detail {

void Splitter::check_size(std::size_t size) const {
    if (size > m_max_item) throw ItemTooLargeError(m_items + 1, m_max_item);
}

void Splitter::feed(std::string_view data, std::vector<std::string>& out) {
    for (;;) {
        auto pos = data.find(m_separator);
        if (pos == std::string_view::npos) break;
        check_size(m_partial.size() + pos);
        if (m_partial.empty()) {
            out.emplace_back(data.substr(0, pos));
        } else {
            m_partial.append(data.substr(0, pos));
            out.push_back(std::move(m_partial));
            m_partial.clear();
        }
        ++m_items;
        data.remove_prefix(pos + 1);
    }
    // Checked before it is kept: an item without end must not grow without bound.
    check_size(m_partial.size() + data.size());
    m_partial.append(data);
}

void Splitter::finish(std::vector<std::string>& out) {
    if (!m_partial.empty()) {
        out.push_back(std::move(m_partial));
        ++m_items;
    }
    m_partial.clear();
}

}  // namespace detail

namespace {

class MemorySource final : public ItemSource {
public:
    explicit MemorySource(std::vector<std::string> items) : m_items(std::move(items)) {}
    int fd() const override { return -1; }
    bool read_more(std::vector<std::string>& out) override {
        if (m_done) return false;
        if (out.empty()) {
            out.swap(m_items);
        } else {
            for (auto& item : m_items) out.push_back(std::move(item));
        }
        m_items.clear();
        m_done = true;
        return true;
    }

private:
    std::vector<std::string> m_items;
    bool m_done = false;
};

/// Items read from descriptors one after another; one read() per call, so a
/// call after poll() said "readable" never blocks. Either one string per item
/// (read_more) or blocks (read_block), not both.
class FdSource final : public ItemSource, public detail::BlockSource {
public:
    FdSource(std::vector<int> fds, char separator, std::uint64_t max_item)
        : m_splitter(separator, max_item), m_packer(separator, max_item) {
        for (int fd : fds) m_fds.emplace_back(fd);
    }
    int fd() const override { return m_next < m_fds.size() ? m_fds[m_next].get() : -1; }
    bool read_block(detail::ItemBlock& out) override {
        if (m_next >= m_fds.size()) return false;
        m_packer.begin(out);
        if (read_some(out.bytes) == os::IoStatus::closed) {
            m_packer.finish(out);
            m_fds[m_next].reset();
            ++m_next;
            return true;
        }
        m_packer.cut(out);
        return true;
    }
    bool read_more(std::vector<std::string>& out) override {
        if (m_next >= m_fds.size()) return false;
        m_buffer.clear();
        auto status = read_some(m_buffer);
        if (status == os::IoStatus::closed) {
            // Each file ends its last item, as `cat a b | ...` would not: files stay apart.
            m_splitter.finish(out);
            m_fds[m_next].reset();
            ++m_next;
            return true;
        }
        m_splitter.feed(m_buffer, out);
        return true;
    }

private:
    os::IoStatus read_some(std::string& out) {
        try {
            return os::read_some(m_fds[m_next].get(), out, k_block);
        } catch (const std::system_error& e) {
            // Input cut short by an error is not the end of the input.
            throw UsageError(std::string("cannot read the input: ") + e.code().message());
        }
    }

    static constexpr std::size_t k_block = 1 << 16;
    std::vector<os::Fd> m_fds;
    std::size_t m_next = 0;
    detail::Splitter m_splitter;
    detail::BlockSplitter m_packer;
    std::string m_buffer;
};

}  // namespace

std::unique_ptr<ItemSource> items_from(std::vector<std::string> items) {
    return std::make_unique<MemorySource>(std::move(items));
}

std::unique_ptr<ItemSource> items_from_fds(std::vector<int> fds, char separator, std::uint64_t max_item_size) {
    return std::make_unique<FdSource>(std::move(fds), separator, max_item_size);
}

}  // namespace ppool
