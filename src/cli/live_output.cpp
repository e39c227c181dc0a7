#include "cli/live_output.hpp"

#include "cli/output.hpp"

namespace ppool::cli {

void LiveOutput::write_fd(int fd, std::string_view data) {
    if (data.empty()) return;
    if (m_options.before_write) m_options.before_write();
    write_output(fd, data);
}

void LiveOutput::write(const OutputPiece& piece) {
    if (!m_lines) {
        write_fd(piece.stream, piece.data);
        return;
    }
    auto [it, added] = m_partial.try_emplace({piece.seq, piece.stream});
    auto& partial = it->second;
    if (added && (m_options.tag || m_options.tag_of))
        partial.tag = line_tag(m_options, piece.input, piece.seq, piece.worker);
    auto last = piece.data.rfind('\n');
    if (last == std::string_view::npos) {
        partial.rest += piece.data;
        return;
    }
    // Whole lines go out in one write: lines of other tasks come between lines, never inside one.
    m_out.clear();
    partial.rest += piece.data.substr(0, last + 1);
    if (partial.tag.empty()) {
        m_out.swap(partial.rest);
    } else {
        bool at_start = true;
        append_tagged(m_out, partial.tag, partial.rest, at_start);
    }
    partial.rest.assign(piece.data.substr(last + 1));
    write_fd(piece.stream, m_out);
}

void LiveOutput::end(int stream, Partial& partial) {
    if (partial.rest.empty()) return;
    m_out.clear();
    if (partial.tag.empty()) {
        m_out.swap(partial.rest);
    } else {
        bool at_start = true;
        append_tagged(m_out, partial.tag, partial.rest, at_start);
        m_out += '\n';
    }
    partial.rest.clear();
    write_fd(stream, m_out);
}

void LiveOutput::finish(std::uint64_t seq) {
    for (int stream : {1, 2}) {
        auto it = m_partial.find({seq, stream});
        if (it == m_partial.end()) continue;
        end(stream, it->second);
        m_partial.erase(it);
    }
}

void LiveOutput::finish_all() {
    for (auto& [key, partial] : m_partial) end(key.second, partial);
    m_partial.clear();
}

}  // namespace ppool::cli
