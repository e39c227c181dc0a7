#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::cli {

/// The words after `ppool COMMAND`, read one option at a time; `--name=value`
/// is split into the option and its value.
class ServeArgs {
public:
    ServeArgs(std::string command, int argc, char** argv, int first);
    /// The next word, or none at the end.
    std::optional<std::string> next();
    /// The value of option `option`; UsageError if there is none.
    std::string value(std::string_view option);
    /// The words not read yet, in order.
    std::vector<std::string> rest();
    const std::string& command() const { return m_command; }

private:
    std::string m_command;
    std::vector<std::string> m_words;
    std::size_t m_at = 0;
    std::optional<std::string> m_attached;  // the value of `--name=value`, not read yet
};

/// A number of seconds of --timeout: finite and not negative; UsageError otherwise.
double timeout_seconds(std::string_view text);

}  // namespace ppool::cli
