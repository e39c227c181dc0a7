// A program that embeds the whole ppool command line with tasks of its own:
//   seq 5 | ./ppool-embed imap --task double
//   seq 5 | ./ppool-embed imap --task square
#include <ppool/cli.hpp>
#include <ppool/task.hpp>
#include <ppool/typed.hpp>

#include <string>

PPOOL_REGISTER_TASK("double", "twice the integer item", [](std::string_view item) {
    return std::to_string(2 * std::stoll(std::string(item)));
});

// A typed task: its integer argument and result travel as text, so the
// command line calls it as it calls any task.
const auto square = ppool::typed_task("square", "the square of the integer item", [](long x) { return x * x; });

int main(int argc, char** argv) { return ppool::cli::run(argc, argv); }
