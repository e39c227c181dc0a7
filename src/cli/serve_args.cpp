#include "cli/serve_args.hpp"

#include "ppool/errors.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace ppool::cli {

ServeArgs::ServeArgs(std::string command, int argc, char** argv, int first) : m_command(std::move(command)) {
    for (int i = first; i < argc; ++i) m_words.emplace_back(argv[i]);
}

std::optional<std::string> ServeArgs::next() {
    if (m_attached) throw UsageError(fmt::format("{}: an option that takes no value was given one", m_command));
    if (m_at == m_words.size()) return std::nullopt;
    auto word = m_words[m_at++];
    auto equals = word.find('=');
    if (word.starts_with("--") && equals != std::string::npos) {
        m_attached = word.substr(equals + 1);
        word.resize(equals);
    }
    return word;
}

std::string ServeArgs::value(std::string_view option) {
    if (m_attached) {
        auto v = std::move(*m_attached);
        m_attached.reset();
        return v;
    }
    if (m_at == m_words.size()) throw UsageError(fmt::format("{}: {} needs a value", m_command, option));
    return m_words[m_at++];
}

std::vector<std::string> ServeArgs::rest() {
    std::vector<std::string> out(m_words.begin() + static_cast<std::ptrdiff_t>(m_at), m_words.end());
    m_at = m_words.size();
    return out;
}

double timeout_seconds(std::string_view text) {
    std::string s(text);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
        throw UsageError(fmt::format("--timeout takes a number of seconds, not '{}'", text));
    return v;
}

}  // namespace ppool::cli
