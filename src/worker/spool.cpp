#include "worker/spool.hpp"

#include "os/temp_file.hpp"

#include <system_error>

namespace ppool::worker {

class Spool::File final : public LargeOutput {
public:
    os::TempFile file = os::TempFile::create();
    std::uint64_t size() const override { return file.size(); }
    void for_each_block(const std::function<void(std::string_view)>& block) const override {
        file.for_each_block(block);
    }
};

void Spool::append(std::string_view data) {
    if (!m_error.empty()) return;
    try {
        if (!m_file && m_memory.size() + data.size() <= k_memory_limit) {
            m_memory.append(data);
            return;
        }
        if (!m_file) {
            m_file = std::make_shared<File>();
            m_file->file.append(m_memory);
            m_memory = std::string();
        }
        m_file->file.append(data);
    } catch (const std::system_error& e) {
        // The output is incomplete: it must not be passed on as if whole.
        m_error = e.what();
        m_file.reset();
        m_memory = std::string();
    }
}

bool Spool::finish(std::string_view tail, std::string& text, std::shared_ptr<const LargeOutput>& large,
                   std::string& error) {
    if (!m_file && m_memory.empty() && m_error.empty() && tail.size() <= k_memory_limit) {
        // The usual case: a small output in one piece.
        text.assign(tail);
        return true;
    }
    append(tail);
    bool ok = m_error.empty();
    if (!ok) {
        error = m_error;
    } else if (m_file) {
        large = std::move(m_file);
    } else {
        text = std::move(m_memory);
    }
    reset();
    return ok;
}

void Spool::reset() {
    m_memory.clear();
    m_file.reset();
    m_error.clear();
}

}  // namespace ppool::worker
