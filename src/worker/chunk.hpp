#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ppool/task.hpp"

namespace ppool::detail {

/// Consecutive items as one buffer, each followed by `separator`: how a
/// registered task's items travel when nothing needs them one by one.
struct PackedItems {
    std::uint64_t first_seq = 0;
    std::uint64_t count = 0;  ///< 0: not packed
    char separator = '\n';
    std::string bytes;
};

/// One item on its way to a worker.
struct Item {
    std::uint64_t seq = 0;
    std::string data;
};

/// Items handed to one worker as a unit: `items`, or, for a job reading
/// packed input, `packed` (then `items` is empty).
struct Chunk {
    std::uint64_t job = 0;
    const TaskInfo* task = nullptr;  ///< the job's task, resolved once when the job was submitted
    std::vector<Item> items;
    PackedItems packed{};
};

/// The chunk's items one by one (taken from it), whether it was packed or not.
std::vector<Item> unpack(Chunk& chunk);

}  // namespace ppool::detail
