#include "worker/spool.hpp"

#include "os/temp_file.hpp"

#include <new>
#include <system_error>
#include <utility>

namespace ppool::worker {

bool OutputBudget::take(std::size_t n) {
    std::size_t free = m_free.load(std::memory_order_relaxed);
    do {
        if (n > free) return false;
    } while (!m_free.compare_exchange_weak(free, free - n, std::memory_order_relaxed));
    return true;
}

class Spool::File final : public LargeOutput {
public:
    os::TempFile file = os::TempFile::create();
    std::uint64_t size() const override { return file.size(); }
    void for_each_block(const std::function<void(std::string_view)>& block) const override {
        file.for_each_block(block);
    }
    bool send_to(int fd) const override { return file.send_to(fd); }
};

/// An output kept in memory within the budget, given back when the last
/// reference to it goes.
class Spool::Memory final : public LargeOutput {
public:
    Memory(std::vector<std::string> parts, std::shared_ptr<OutputBudget> budget, std::size_t charged)
        : m_parts(std::move(parts)), m_budget(std::move(budget)), m_charged(charged) {}
    ~Memory() override { m_budget->give(m_charged); }
    std::uint64_t size() const override { return m_charged; }
    void for_each_block(const std::function<void(std::string_view)>& block) const override {
        for (const auto& part : m_parts) block(part);
    }

private:
    std::vector<std::string> m_parts;
    std::shared_ptr<OutputBudget> m_budget;
    std::size_t m_charged;
};

Spool::Spool(Spool&& other) noexcept
    : m_budget(other.m_budget),
      m_memory(std::move(other.m_memory)),
      m_charged(std::exchange(other.m_charged, 0)),
      m_file(std::move(other.m_file)),
      m_error(std::move(other.m_error)) {}

Spool& Spool::operator=(Spool&& other) noexcept {
    if (this != &other) {
        reset();
        m_budget = other.m_budget;
        m_memory = std::move(other.m_memory);
        m_charged = std::exchange(other.m_charged, 0);
        m_file = std::move(other.m_file);
        m_error = std::move(other.m_error);
    }
    return *this;
}

void Spool::append(std::string_view data) {
    if (!m_error.empty()) return;
    try {
        if (!m_file && m_charged + data.size() <= k_memory_limit && m_budget->take(data.size())) {
            m_charged += data.size();
            try {
                m_memory.emplace_back(data);
            } catch (...) {
                m_charged -= data.size();
                m_budget->give(data.size());
                throw;
            }
            return;
        }
        if (!m_file) spill();
        m_file->file.append(data);
    } catch (const std::system_error& e) {
        // The output is incomplete: it must not be passed on as if whole.
        m_error = e.what();
        m_file.reset();
        release_memory();
    } catch (const std::bad_alloc&) {
        m_error = "out of memory while storing the output";
        m_file.reset();
        release_memory();
    }
}

void Spool::spill() {
    m_file = std::make_shared<File>();
    for (const auto& part : m_memory) m_file->file.append(part);
    release_memory();
}

void Spool::release_memory() {
    m_memory = {};
    m_budget->give(m_charged);
    m_charged = 0;
}

bool Spool::finish(std::string_view tail, std::shared_ptr<const LargeOutput>& large, std::string& error) {
    append(tail);
    bool ok = m_error.empty();
    if (!ok) {
        error = m_error;
    } else if (m_file) {
        large = std::move(m_file);
    } else {
        // The charge goes with the bytes until the result is gone.
        large = std::make_shared<Memory>(std::move(m_memory), m_budget, m_charged);
        m_charged = 0;
    }
    reset();
    return ok;
}

void Spool::reset() {
    release_memory();
    m_file.reset();
    m_error.clear();
}

}  // namespace ppool::worker
