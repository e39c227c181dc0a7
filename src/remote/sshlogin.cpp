#include "remote/sshlogin.hpp"

#include "os/file.hpp"
#include "ppool/errors.hpp"
#include "remote/ssh_command.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <system_error>

namespace ppool::remote {

namespace {

constexpr std::string_view k_form = "[N/][user@]host[:port]";
constexpr std::string_view k_blanks = " \t\r\n\f\v";

std::string_view trim(std::string_view s) {
    auto first = s.find_first_not_of(k_blanks);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(k_blanks) - first + 1);
}

[[noreturn]] void bad(std::string_view login, std::string_view why) {
    throw UsageError(fmt::format("bad sshlogin '{}': {} (expected {})", login, why, k_form));
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

/// Takes "N/" off the front, if there.
std::optional<unsigned> take_slots(std::string_view& rest, std::string_view login) {
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || !all_digits(rest.substr(0, slash))) return std::nullopt;
    unsigned slots = 0;
    auto digits = rest.substr(0, slash);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), slots);
    if (error != std::errc() || end != digits.data() + digits.size() || slots > 100000)
        bad(login, fmt::format("{} slots is too many", digits));
    if (slots == 0) bad(login, "the number of slots must be at least 1");
    rest.remove_prefix(slash + 1);
    return slots;
}

std::uint16_t parse_port(std::string_view digits, std::string_view login) {
    unsigned port = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (!all_digits(digits) || error != std::errc() || end != digits.data() + digits.size() || port == 0 ||
        port > 65535)
        bad(login, fmt::format("'{}' is not a port number (1-65535)", digits));
    return static_cast<std::uint16_t>(port);
}

bool is_ipv6_char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; }

bool is_host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

/// Host and port of "host[:port]", "[v6][:port]", "v6", "v6pPORT", "v6#PORT".
void take_host_and_port(std::string_view rest, SshLogin& login, std::string_view text) {
    std::string_view port;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos) bad(text, "no ']' after the IPv6 address");
        login.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (rest.starts_with(':')) port = rest.substr(1);
        else if (!rest.empty()) bad(text, fmt::format("'{}' after the address", rest));
        if (login.host.find(':') == std::string::npos) bad(text, "brackets hold an IPv6 address");
    } else if (std::count(rest.begin(), rest.end(), ':') >= 2) {
        // A bare IPv6 address: its port, if any, after "p" or "#" (GNU parallel's forms).
        auto end = rest.find_first_of("p#");
        login.host = std::string(rest.substr(0, end));
        if (end != std::string_view::npos) port = rest.substr(end + 1);
    } else {
        auto colon = rest.find(':');
        login.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    }
    if (login.host.empty()) bad(text, "no host");
    if (login.host.front() == '-') bad(text, "a host name cannot start with '-'");
    bool ipv6 = login.host.find(':') != std::string::npos;
    for (char c : login.host)
        if (ipv6 ? !is_ipv6_char(c) : !is_host_char(c))
            bad(text, fmt::format("'{}' is not a host name or address", login.host));
    if (port.data() != nullptr) login.port = parse_port(port, text);
}

}  // namespace

std::string SshLogin::text() const { return (slots ? fmt::format("{}/", *slots) : std::string()) + host_text(); }

std::string SshLogin::host_text() const {
    if (is_local) return ":";
    std::string out;
    for (const auto& word : ssh) out += word + " ";
    if (!user.empty()) out += user + "@";
    bool ipv6 = host.find(':') != std::string::npos;
    out += ipv6 && port ? "[" + host + "]" : host;
    if (port) out += fmt::format(":{}", *port);
    return out;
}

SshLogin parse_sshlogin(std::string_view text) {
    std::string_view rest = trim(text);
    text = rest;
    if (rest.empty()) throw UsageError(fmt::format("empty sshlogin (expected {})", k_form));
    if (rest.starts_with('@')) bad(text, "host groups (@GROUP/) are not supported");
    if (rest == ".." || rest == "-") bad(text, "to read logins from a file, use --sshloginfile FILE");
    SshLogin login;
    login.slots = take_slots(rest, text);
    // "ssh -p 2222 host": everything before the last blank is the login's own ssh command.
    if (auto blank = rest.find_last_of(k_blanks); blank != std::string_view::npos) {
        login.ssh = split_command_line(rest.substr(0, blank), fmt::format("the ssh command of sshlogin '{}'", text));
        rest = trim(rest.substr(blank + 1));
    }
    if (rest == ":") {
        if (!login.ssh.empty()) bad(text, "':' (this machine) takes no ssh command");
        login.is_local = true;
        return login;
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto user = rest.substr(0, at);
        if (user.find(':') != std::string_view::npos)
            bad(text, "passwords are not supported: log in with a key (ssh-agent, ssh-copy-id)");
        if (user.empty()) bad(text, "no user before '@'");
        if (user.front() == '-' || user.find_first_of(" \t/@") != std::string_view::npos)
            bad(text, fmt::format("'{}' is not a user name", user));
        login.user = std::string(user);
        rest.remove_prefix(at + 1);
    }
    take_host_and_port(rest, login, text);
    return login;
}

std::vector<SshLogin> parse_sshlogins(std::string_view text) {
    std::vector<SshLogin> logins;
    std::string entry;
    auto flush = [&] {
        if (!trim(entry).empty()) logins.push_back(parse_sshlogin(entry));
        entry.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool escaped_comma = (c == ',' || c == '\\') && i + 1 < text.size() && text[i + 1] == ',';
        if (escaped_comma) {
            entry += ',';
            ++i;
        } else if (c == ',' || c == '\n') {
            flush();
        } else {
            entry += c;
        }
    }
    flush();
    return logins;
}

std::vector<SshLogin> read_sshloginfile(const std::string& path) {
    os::FileContent file;
    try {
        file = os::read_regular_file(path);
    } catch (const std::system_error& e) {
        throw UsageError(fmt::format("cannot read sshloginfile '{}': {}", path, e.code().message()));
    }
    if (!file.type) throw UsageError(fmt::format("cannot read sshloginfile '{}': No such file or directory", path));
    if (*file.type != os::FileType::regular)
        throw UsageError(fmt::format("cannot read sshloginfile '{}': not a regular file", path));
    std::vector<SshLogin> logins;
    std::string_view rest = file.text;
    for (std::size_t number = 1; !rest.empty(); ++number) {
        auto newline = rest.find('\n');
        std::string_view line = trim(rest.substr(0, newline));
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        if (line.empty() || line.starts_with('#')) continue;
        try {
            for (auto& login : parse_sshlogins(line)) logins.push_back(std::move(login));
        } catch (const UsageError& e) {
            throw UsageError(fmt::format("{}, line {}: {}", path, number, e.what()));
        }
    }
    return logins;
}

}  // namespace ppool::remote
