#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ppool/result.hpp"
#include "ppool/result_run.hpp"

namespace ppool::cli {

/// Appends `text` (valid UTF-8) as a JSON string literal (RFC 8259 escapes).
void append_json_string(std::string& out, std::string_view text);

/// Appends one result as a JSON object with the keys of the output contract;
/// a field whose bytes are not UTF-8 is null with a base64 `<key>_base64` twin.
void append_json_result(std::string& out, const TaskResult& result);

/// Appends the object append_json_result makes of the same successful
/// registered-task result, from a run's entry (run by `worker`).
void append_json_run_entry(std::string& out, const ResultRun::Entry& entry, int worker);

/// Appends ns / 1e9 exactly as fmt's "{}" prints that double.
void append_seconds(std::string& out, std::uint64_t ns);

}  // namespace ppool::cli
