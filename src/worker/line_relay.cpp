#include "worker/line_relay.hpp"

#include "os/fd.hpp"

namespace ppool::worker {

void LineRelay::feed(std::string_view data, bool to_the_end) {
    m_partial += data;
    auto end = m_partial.rfind('\n');
    std::size_t whole = end == std::string::npos ? 0 : end + 1;
    if (to_the_end || m_partial.size() - whole > (1 << 16)) whole = m_partial.size();
    if (whole == 0) return;
    os::write_all(2, std::string_view(m_partial).substr(0, whole));
    if (whole == m_partial.size() && m_partial.back() != '\n') os::write_all(2, "\n");
    for (auto newline = m_partial.find('\n'); newline != std::string::npos && newline < whole;
         newline = m_partial.find('\n')) {
        if (newline > 0) m_last_line = m_partial.substr(0, newline);
        m_partial.erase(0, newline + 1);
        whole -= newline + 1;
    }
    if (whole > 0) {
        m_last_line = m_partial.substr(0, whole);
        m_partial.erase(0, whole);
    }
}

}  // namespace ppool::worker
