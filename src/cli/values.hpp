#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ppool::cli {

/// `text` as a whole number from `min` to `max`, written in decimal digits
/// only; nothing for anything else (a sign, a space, a fraction, a suffix,
/// an empty string, a number out of range).
std::optional<std::uint64_t> parse_whole(std::string_view text, std::uint64_t min, std::uint64_t max);

/// `text` as a finite number of seconds greater than 0, in decimal or
/// exponent notation ("1.5", "2e3"); nothing for anything else.
std::optional<double> parse_seconds(std::string_view text);

/// `text` as a size in bytes from 1 to `max`: a whole number, optionally
/// followed by K, M or G (either case) for KiB, MiB or GiB; nothing for
/// anything else.
std::optional<std::uint64_t> parse_size(std::string_view text, std::uint64_t max);

/// A -j value as GNU parallel takes it, given `cpus`: N (1 to `max`), +N
/// (the CPUs and N more), -N (N fewer than the CPUs; 0 or fewer is 0, which
/// the caller refuses as GNU parallel does) or N% (that share of the CPUs,
/// rounded down, at least 1); nothing for anything else.
std::optional<std::uint64_t> parse_processes(std::string_view text, std::uint64_t cpus, std::uint64_t max);
/// `text` as GNU parallel's --block size, from 1 to `max`: a number, maybe
/// with a fraction, optionally followed by k, m, g, t (powers of 1000) or
/// K, M, G, T (powers of 1024); nothing for anything else.
std::optional<std::uint64_t> parse_gnu_size(std::string_view text, std::uint64_t max);

/// A size as people read it: "1 GiB", "512 KiB", "1536 KiB", "1000 bytes",
/// in the largest unit that divides it.
std::string format_size(std::uint64_t bytes);

}  // namespace ppool::cli
