#include "cli/help.hpp"

#include <sstream>

namespace ppool::cli {

namespace {

class HelpFormatter : public CLI::Formatter {
public:
    HelpFormatter() { column_width(32); }

    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
        std::string out = (app->get_parent() ? "ppool " + app->get_name() + ": " : "") + make_description(app) + "\n" +
                          make_usage(app, name);
        if (app->get_parent()) return out + option_groups(app, mode) + "\n" + make_footer(app);
        // ppool --help: the modes, then their options, so that one page shows everything.
        out += make_subcommands(app, mode);
        out += "\nOptions, after the mode ('ppool MODE --help' shows those of one mode):\n";
        out += option_groups(app->get_subcommand("imap"), CLI::AppFormatMode::Sub);
        out += option_groups(app, mode);
        return out + "\n" + make_footer(app);
    }

    std::string make_usage(const CLI::App* app, std::string) const override {
        std::string mode = app->get_parent() ? app->get_name() : "MODE";
        std::string indent = "       ppool ";
        if (mode == "tasks") return "Usage: ppool tasks [--plugin FILE]...\n";
        if (mode == "apply")
            return "Usage: ppool apply [OPTIONS] [--] COMMAND [ARG...]\n" + indent + "apply [OPTIONS] --task NAME ITEM\n";
        std::string out = "Usage: ppool " + mode + " [OPTIONS] [--] COMMAND [ARG...] [::: ITEM...]\n" + indent + mode +
                          " [OPTIONS] --task NAME [::: ITEM...]\n";
        if (!app->get_parent())
            out += indent + "apply [OPTIONS] [--] COMMAND [ARG...]\n" + indent + "apply [OPTIONS] --task NAME ITEM\n" +
                   indent + "tasks\n" + indent +
                   "serve [-j N] [--initializer CMD] [--socket PATH] [--foreground]\n" + indent +
                   "submit|get|wait|ready|successful|close|terminate|join|status ...\n";
        return out;
    }

    /// Each group of options under its name; in Sub mode without --help.
    std::string option_groups(const CLI::App* app, CLI::AppFormatMode mode) const {
        std::string out;
        for (const std::string& group : app->get_groups()) {
            auto options = app->get_options([&](const CLI::Option* opt) {
                return opt->get_group() == group && opt->nonpositional() &&
                       (mode != CLI::AppFormatMode::Sub || app->get_help_ptr() != opt);
            });
            if (group.empty() || options.empty()) continue;
            out += "\n" + group + ":\n";
            for (const CLI::Option* opt : options) out += make_option(opt, false);
        }
        return out;
    }

    /// "-j, --processes"; a long option without a short one lines up under the long names.
    std::string make_option_name(const CLI::Option* opt, bool positional) const override {
        if (positional) return CLI::Formatter::make_option_name(opt, positional);
        std::string names;
        for (const auto& name : opt->get_snames()) names += "-" + name + ", ";
        if (names.empty()) names = "    ";
        for (const auto& name : opt->get_lnames()) names += "--" + name + ", ";
        return names.substr(0, names.size() - 2);
    }

    /// The value's name only: defaults and repetition are in the description.
    std::string make_option_opts(const CLI::Option* opt) const override {
        const std::string& text = opt->get_option_text();
        if (!text.empty()) return text.front() == '[' ? text : " " + text;
        if (opt->get_type_size() == 0 || opt->get_type_name().empty()) return "";
        return " " + opt->get_type_name();
    }
};

}  // namespace

std::shared_ptr<CLI::Formatter> make_help_formatter() { return std::make_shared<HelpFormatter>(); }

std::string help_footer() {
    return "A task is a command, run once per item with {} {.} {/} {//} {/.} {#} {%}\n"
           "replaced (or the item appended), or a registered task (-t NAME; see\n"
           "'ppool tasks'). Items are the lines of stdin or of -a FILE (NUL-separated\n"
           "with -0), or the arguments after :::.\n"
           "A pool that outlives one command: 'ppool serve --help', 'ppool get --help'.\n"
           "Exit status: 0 all succeeded, 1 a task failed, 2 usage error, 128+N signal N.\n"
           "The manual: man ppool\n";
}

}  // namespace ppool::cli
