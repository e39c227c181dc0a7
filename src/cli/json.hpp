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
/// An output stored apart is read back into memory: sinks stream those instead.
/// `args_input`: the item is a list of arguments, written as a JSON array.
void append_json_result(std::string& out, const ResultRun::Entry& result, bool args_input = false);

/// Whether append_json_result may write the entry by its fast path
/// (json_lines.cpp): a successful registered task's small, plain result.
bool is_fast_entry(const ResultRun::Entry& entry);
/// The fast path: the same bytes as append_json_result, for a fast entry.
void append_fast_entry(std::string& out, const ResultRun::Entry& entry);

/// Appends ns / 1e9 exactly as fmt's "{}" prints that double.
void append_seconds(std::string& out, std::uint64_t ns);

}  // namespace ppool::cli
