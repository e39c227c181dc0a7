// A program that embeds the whole ppool command line with a task of its own:
//   seq 5 | ./ppool-embed imap --task double
#include <ppool/cli.hpp>
#include <ppool/task.hpp>

#include <string>

PPOOL_REGISTER_TASK("double", "twice the integer item", [](std::string_view item) {
    return std::to_string(2 * std::stoll(std::string(item)));
});

int main(int argc, char** argv) { return ppool::cli::run(argc, argv); }
