#include "worker/file_transfer.hpp"

#include "worker/command_template.hpp"

#include <fmt/format.h>
#include <system_error>

namespace ppool::worker {

std::string remote_path(std::string_view path) {
    if (path.substr(0, 2) == "./") return std::string(path.substr(2));
    auto marker = path.find("/./");
    if (marker == std::string_view::npos) return std::string(path);
    return std::string(path.substr(marker + 3));
}

void read_file_parts(const std::string& path, std::size_t part_bytes,
                     const std::function<void(std::string_view, bool, std::uint32_t)>& part) {
    os::OutgoingFile file(path);
    std::string data;
    for (bool last = false; !last;) {
        last = file.read(data, part_bytes);
        part(data, last, file.mode());
    }
}

void FileReceiver::receive(const protocol::FilePart& part) {
    auto& got = m_received[part.seq];
    if (part.failed) {
        // The pool could not read it: the item fails with the pool's words.
        if (part.seq == m_seq) m_incoming.abort();
        got.error = part.data;
        return;
    }
    auto where = remote_path(part.path);
    if (part.first) {
        m_seq = part.seq;
        m_path = where;
        m_failed = false;
    } else if (part.seq != m_seq || where != m_path || (!m_failed && !m_incoming.receiving())) {
        throw protocol::ProtocolError("file part out of order");
    }
    if (m_failed) return;
    try {
        if (part.first) m_incoming.begin(where, part.mode);
        m_incoming.append(part.data);
        if (part.last) {
            m_incoming.commit();
            got.files.emplace_back(where, std::move(m_incoming.made));
        }
    } catch (const std::system_error& e) {
        m_incoming.abort();
        m_failed = true;
        if (got.error.empty()) got.error = fmt::format("--transfer: {}", e.what());
    }
}

ReceivedFiles FileReceiver::take(std::uint64_t seq) {
    ReceivedFiles out;
    if (auto got = m_received.find(seq); got != m_received.end()) {
        out = std::move(got->second);
        m_received.erase(got);
    }
    return out;
}

void return_files(const std::vector<std::string>& returns, bool cleanup, const TaskContext& context,
                  const ReceivedFiles& received, std::size_t part_bytes,
                  const std::function<void(const protocol::FilePart&)>& send) {
    std::vector<std::string> returned;
    for (const auto& name : returns) {
        auto path = expand_template(name, context);
        auto where = remote_path(path);
        bool first = true;
        try {
            read_file_parts(where, part_bytes, [&](std::string_view data, bool last, std::uint32_t mode) {
                send(protocol::FilePart{context.seq, first, last, false, mode, path, data});
                first = false;
            });
            returned.push_back(where);
        } catch (const std::exception& e) {
            // Said instead, whether or not parts went before: the pool drops those.
            auto reason = os::failure_reason(e);
            send(protocol::FilePart{context.seq, true, true, true, 0, path, reason});
        }
    }
    if (!cleanup) return;
    for (const auto& where : returned) os::remove_with_empty_dirs(where, {});
    for (const auto& [where, made] : received.files) os::remove_with_empty_dirs(where, made);
}

}  // namespace ppool::worker
