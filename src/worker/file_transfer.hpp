#pragma once

// The worker's side of --transfer, --return and --cleanup: the files the pool
// sends ahead of an item are written where GNU parallel puts them, and the
// item's files go back after it.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "os/file_parts.hpp"
#include "ppool/task.hpp"
#include "protocol/messages.hpp"

namespace ppool::worker {

/// Where a file of --transfer or --return lies on the host that runs the
/// item, as GNU parallel (rsync -R) puts it: the same path, relative to the
/// worker's working directory unless absolute, or what follows a "/./" in it,
/// relative to that directory.
std::string remote_path(std::string_view path);

/// Reads the regular file at `path` in parts of at most `part_bytes`,
/// calling `part(data, last, mode)` with its mode bits. Throws as
/// os::OutgoingFile does.
void read_file_parts(const std::string& path, std::size_t part_bytes,
                     const std::function<void(std::string_view, bool, std::uint32_t)>& part);

/// The files sent for one item ahead of it: where each went, with the
/// directories made for it, or why one is not there.
struct ReceivedFiles {
    std::vector<std::pair<std::string, std::vector<std::string>>> files;
    std::string error;
};

/// Writes the files the pool sends ahead of their items, part by part, each
/// whole or not at all.
class FileReceiver {
public:
    /// Takes one part; ProtocolError when it does not follow the one before.
    void receive(const protocol::FilePart& part);
    /// What came for item `seq`, taken away.
    ReceivedFiles take(std::uint64_t seq);
    /// Nothing has come that an item has not taken.
    bool empty() const { return m_received.empty(); }

private:
    std::map<std::uint64_t, ReceivedFiles> m_received;
    os::IncomingFile m_incoming;
    std::uint64_t m_seq = 0;
    std::string m_path;
    bool m_failed = false;  // writing the file failed: its other parts are dropped
};

/// Sends an item's files back after it: `returns` (templates) filled in for
/// `context`, each handed to `send` part by part, or as one failed part
/// saying why it cannot be read. With `cleanup`, then removes those sent back
/// and the files in `received`.
void return_files(const std::vector<std::string>& returns, bool cleanup, const TaskContext& context,
                  const ReceivedFiles& received, std::size_t part_bytes,
                  const std::function<void(const protocol::FilePart&)>& send);

}  // namespace ppool::worker
