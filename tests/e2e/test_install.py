"""`cmake --install` into a temporary prefix: the installed tree, the installed
binary, and an outside project (examples/ on its own) built against the
installed library with find_package(ppool)."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import E2ETestCase, lines, run


def _directory(variable):
    path = os.environ.get(variable)
    if not path or not os.path.isdir(path):
        raise SystemExit(f"test_install: the environment variable {variable} is not set (run it through ctest)")
    return path


SOURCE_DIR = _directory("PPOOL_SOURCE_DIR")
BUILD_DIR = _directory("PPOOL_BUILD_DIR")
CXX_COMPILER = os.environ.get("PPOOL_CXX_COMPILER")

# What every install holds, relative to the prefix; the library directory
# (lib, lib64, lib/<triplet>) is found by globbing.
INSTALLED_FILES = [
    "bin/ppool",
    "share/man/man1/ppool.1",
    "share/bash-completion/completions/ppool",
    "share/zsh/vendor-completions/_ppool",
    "share/fish/vendor_completions.d/ppool.fish",
    "include/ppool/pool.hpp",
    "include/ppool/task.hpp",
    "include/ppool/cli.hpp",
    "include/ppool/plugin.hpp",
    "include/ppool/typed.hpp",
    "include/ppool/codec.hpp",
]
INSTALLED_LIBRARY_FILES = [
    "libppool.a",
    "libppool_cli.a",
    "cmake/ppool/ppoolConfig.cmake",
    "cmake/ppool/ppoolConfigVersion.cmake",
    "cmake/ppool/ppoolTargets.cmake",
]


def check(cmd, timeout=600, **kwargs):
    """Runs a build step; its output is shown only when it fails."""
    proc = subprocess.run([os.fspath(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd!r} failed with status {proc.returncode}:\n"
                             f"{proc.stdout.decode(errors='replace')[-6000:]}")
    return proc.stdout.decode(errors="replace")


def library_dir(prefix):
    """The directory under `prefix` that holds libppool.a."""
    found = glob.glob(os.path.join(prefix, "lib*", "**", "libppool.a"), recursive=True)
    if len(found) != 1:
        raise AssertionError(f"expected one libppool.a under {prefix}, found {found}")
    return os.path.dirname(found[0])


def assert_installed_tree(test, root):
    """The files an installed ppool consists of are under `root`, and its
    binary runs from there."""
    for name in INSTALLED_FILES:
        test.assertTrue(os.path.isfile(os.path.join(root, name)), f"{name} is not installed under {root}")
    libdir = library_dir(root)
    for name in INSTALLED_LIBRARY_FILES:
        test.assertTrue(os.path.isfile(os.path.join(libdir, name)), f"{name} is not installed in {libdir}")
    ppool = os.path.join(root, "bin", "ppool")
    version = run(["--version"], binary=ppool)
    test.assertOk(version)
    test.assertIn(b"ppool", version.stdout)
    test.assertOk(run(["imap", "-t", "len"], input=b"a\nbb\n", binary=ppool), "1\n2\n")


class InstallTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls._prefix_dir = tempfile.TemporaryDirectory(prefix="ppool-install-")
        cls.prefix = cls._prefix_dir.name
        check(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix])

    @classmethod
    def tearDownClass(cls):
        cls._prefix_dir.cleanup()

    def test_installed_tree_and_binary(self):
        assert_installed_tree(self, self.prefix)

    def test_man_page_and_completions_are_the_sources(self):
        pairs = [("man/ppool.1", "share/man/man1/ppool.1"),
                 ("completions/ppool.bash", "share/bash-completion/completions/ppool")]
        for source, installed in pairs:
            with open(os.path.join(SOURCE_DIR, source), "rb") as a, open(os.path.join(self.prefix, installed), "rb") as b:
                self.assertEqual(a.read(), b.read(), installed)

    def test_outside_project_builds_against_the_installed_package(self):
        # examples/ configured on its own: find_package(ppool) finds only the install.
        build = self.path("examples-build")
        configure = ["cmake", "-S", os.path.join(SOURCE_DIR, "examples"), "-B", build, "-G", "Ninja",
                     f"-DCMAKE_PREFIX_PATH={self.prefix}", "-DCMAKE_BUILD_TYPE=Release"]
        if CXX_COMPILER:
            configure.append(f"-DCMAKE_CXX_COMPILER={CXX_COMPILER}")
        check(configure)
        with open(os.path.join(build, "CMakeCache.txt")) as cache:
            self.assertIn(f"ppool_DIR:PATH={library_dir(self.prefix)}/cmake/ppool", cache.read())
        check(["cmake", "--build", build, "-j", "2"])

        # A program on the library: its own task and a built-in one.
        squares = run(["10"], binary=os.path.join(build, "squares_example"))
        self.assertOk(squares)
        out = lines(squares.stdout)
        self.assertIn("sum of squares 1..10 = 385", out)
        self.assertIn("12^2 = 144", out)
        self.assertIn("len(hello) = 5", out)
        self.assertTrue(any(line.startswith("error: ") for line in out), out)

        # Typed tasks: their codec's nlohmann/json found through the package.
        typed = run(["10"], binary=os.path.join(build, "typed_example"))
        self.assertOk(typed)
        out = lines(typed.stdout)
        self.assertIn("sum of squares 1..10 = 385", out)
        self.assertIn("count 3, mean 5, max 9", out)
        self.assertIn("error: no real square root of -1.000000", out)

        # The command line embedded with a task of its own, and the built-in ones.
        embed = os.path.join(build, "ppool-embed")
        self.assertOk(run(["imap", "-t", "double"], input=b"1\n2\n3\n", binary=embed), "2\n4\n6\n")
        self.assertOk(run(["imap", "-t", "upper"], input=b"ab\n", binary=embed), "AB\n")

        # The plugin, loaded by the installed ppool.
        plugin = os.path.join(build, "libcsv_tasks.so")
        self.assertOk(run(["imap", "--plugin", plugin, "-t", "csv_sum"], input=b"1,2,x,3.5\n",
                          binary=os.path.join(self.prefix, "bin", "ppool")), "6.5\n")


if __name__ == "__main__":
    if not shutil.which("cmake") or not shutil.which("ninja"):
        raise SystemExit("test_install: cmake and ninja are needed")
    unittest.main()
