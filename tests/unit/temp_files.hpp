// Helpers of the unit tests that touch files: a directory of their own, and
// what a file holds.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace ppool::test {

/// A fresh directory, removed with what is in it at the end.
struct TempDir {
    std::string path;
    TempDir() {
        std::string name = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + std::string("/ppool-ft-XXXXXX");
        REQUIRE(::mkdtemp(name.data()));
        path = name;
    }
    ~TempDir() { [[maybe_unused]] int rc = std::system(("rm -rf '" + path + "'").c_str()); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

/// The whole content of the file at `path` (empty when there is none).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Whether anything is at `path` (a dangling link counts).
inline bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace ppool::test
