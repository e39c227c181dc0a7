#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::remote {

/// One host to run workers on, as GNU parallel's --sshlogin names it:
/// `[N/][ssh command ][user@]host[:port]`, or `[N/]:` for this machine.
struct SshLogin {
    /// N of "N/": the worker slots on the host; none: as many as its CPUs.
    std::optional<unsigned> slots;
    /// The login's own ssh command and options ("ssh -p 2222 host" in an
    /// sshloginfile), split into words; empty: ppool's (--ssh, else ssh).
    std::vector<std::string> ssh;
    /// The user to log in as; empty: ssh's choice.
    std::string user;
    /// A host name, an IPv4 address, or an IPv6 address without brackets; empty when local.
    std::string host;
    std::optional<std::uint16_t> port;
    /// ":": this machine, without ssh.
    bool is_local = false;

    /// How messages name it: "user@host:port", "[::1]:22", ":", with "N/" when given.
    std::string text() const;
    /// How results name its host: text() without "N/" ("user@host:port",
    /// "ssh -p 2222 host", ":"), as GNU parallel's joblog does.
    std::string host_text() const;

    bool operator==(const SshLogin&) const = default;
};

/// Parses one login. Throws UsageError with a one-line message for a login
/// that is empty or malformed, or uses what ppool does not take (host groups
/// "@group/", a password "user:pass@"). An IPv6 address is written in
/// brackets to carry a port ("[::1]:2222"), or bare ("::1"), or with GNU
/// parallel's "p" or "#" before the port ("::1p2222").
SshLogin parse_sshlogin(std::string_view text);

/// Parses the value of one -S/--sshlogin: logins separated by commas or
/// newlines; ",," or "\," is a comma within a login (GNU parallel's rule).
/// Empty entries are skipped. Throws UsageError.
std::vector<SshLogin> parse_sshlogins(std::string_view text);

/// Reads an sshloginfile in GNU parallel's format: one login a line (or
/// several, separated by commas), blank lines and lines whose first
/// non-blank character is '#' ignored, trailing blanks (and "\r") dropped.
/// Throws UsageError naming the file, and the line of a malformed login.
std::vector<SshLogin> read_sshloginfile(const std::string& path);

}  // namespace ppool::remote
