#include "cli/output.hpp"

#include "os/fd.hpp"
#include "ppool/errors.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <system_error>

namespace ppool::cli {

void throw_write_error(const std::system_error& e) {
    if (e.code().value() == EPIPE) throw;
    // A full disk or a broken device: the output is incomplete, which must not pass for success.
    throw Error(fmt::format("write error: {}", e.code().message()));
}

void write_output(int fd, std::string_view data) {
    writing([&] { os::write_all(fd, data); });
}

}  // namespace ppool::cli
