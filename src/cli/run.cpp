#include "ppool/cli.hpp"

#include "cli/modes.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/serve_cli.hpp"
#include "cli/values.hpp"
#include "ppool/errors.hpp"
#include "ppool/task.hpp"
#include "worker/hub.hpp"
#include "worker/worker_main.hpp"

#include <cerrno>
#include <csignal>
#include <new>
#include <fmt/format.h>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace ppool::cli {

namespace {

int report(std::string_view message, int status) {
    auto line = fmt::format("ppool: {}\n", message);
    // Best effort: stderr may be gone too.
    [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
    return status;
}

/// `ppool worker --stdio`.
int run_worker(int argc, char** argv) {
    std::string_view option = argc == 3 ? argv[2] : "";
    if (option == "--help" || option == "-h") {
        write_output(1, "usage: ppool worker --stdio\n"
                        "       ppool worker --hub\n"
                        "Serves ppool's worker protocol on stdin and stdout, its stderr for diagnostics;\n"
                        "--hub serves many workers over them (what --slurm runs on each node).\n"
                        "A launcher starts it (ppool MODE --launcher CMD); it is not for typing.\n");
        return 0;
    }
    if (option == "--hub") worker::run_hub();
    if (option != "--stdio") throw UsageError("worker takes one option, --stdio (or --hub): ppool worker --stdio");
    worker::run_stdio_worker();
}

}  // namespace

int run(int argc, char** argv) {
    try {
        const auto& errors = TaskRegistry::global().registration_errors();
        if (!errors.empty()) return report(errors.front(), 2);
        // A worker started by a launcher: the protocol, not a command line to parse.
        if (argc >= 2 && std::string_view(argv[1]) == "worker") return run_worker(argc, argv);
        // A pool that outlives one command, and the commands that use it.
        if (argc >= 2 && is_server_command(argv[1])) return run_server_command(argc, argv);
        auto parsed = parse_command_line(argc, argv);
        if (!parsed.options) return parsed.exit_status;
        return run_mode(*parsed.options);
    } catch (const ItemTooLargeError& e) {
        return report(fmt::format("item {} is larger than --max-item-size ({}); raise it with --max-item-size", e.seq(),
                                  format_size(e.limit())),
                      2);
    } catch (const UsageError& e) {
        return report(e.what(), 2);
    } catch (const InitializerError& e) {
        return report(e.what(), 2);
    } catch (const Interrupted& e) {
        return 128 + e.signo();
    } catch (const std::bad_alloc&) {
        return report("out of memory; lower -j, or raise the memory limit (ulimit -v)", 2);
    } catch (const std::system_error& e) {
        // stdout closed by its reader (`| head -1`): stop quietly, as SIGPIPE would.
        if (e.code().value() == EPIPE) return 128 + SIGPIPE;
        return report(e.what(), 2);
    } catch (const std::exception& e) {
        return report(e.what(), 2);
    }
}

}  // namespace ppool::cli
