#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "remote/sshlogin.hpp"

namespace ppool::remote {

/// Splits a command line (the value of --ssh, the ssh command of a login in
/// an sshloginfile) into words as sh would: blanks separate words, and
/// '...', "..." and backslashes quote. Nothing is expanded, so what needs a
/// shell (unquoted $ ` | & ; < > ( ) * ? [ ~ { }) is refused, as are an
/// unclosed quote and an empty line: UsageError naming `what`.
std::vector<std::string> split_command_line(std::string_view line, std::string_view what);

/// The local argv that runs `remote_argv` on `login`'s host: the login's own
/// ssh command, else `ssh_program` (ssh and its options, e.g. {"ssh", "-F",
/// "my.conf"}); then -T -e none -o BatchMode=yes (no terminal, binary data
/// both ways, never a password prompt), -p PORT and -l USER when the login
/// has them, `options`, the host, and the remote command as ONE argument:
/// ssh joins its arguments with blanks for the remote shell, so every word
/// is shell-quoted, and `exec` makes the command replace that shell, so that
/// it is the sshd session's own child and ends with it. An empty
/// `remote_argv` gives no remote command (for -N). `login` must not be local.
std::vector<std::string> ssh_command(const SshLogin& login, const std::vector<std::string>& ssh_program,
                                     const std::vector<std::string>& remote_argv,
                                     const std::vector<std::string>& options = {});

/// The remote command string of ssh_command: "exec 'w1' 'w2' ...".
std::string remote_command_line(const std::vector<std::string>& remote_argv);

}  // namespace ppool::remote
