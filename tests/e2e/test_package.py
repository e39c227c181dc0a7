"""`cpack -G DEB`: the Debian package's control fields, and the package
installed with dpkg into a temporary root: its files, its binary, and its
library used by an outside project."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import E2ETestCase, lines, run
from test_install import BUILD_DIR, CXX_COMPILER, SOURCE_DIR, assert_installed_tree, check


@unittest.skipUnless(shutil.which("dpkg") and shutil.which("dpkg-deb"), "needs dpkg (Debian)")
class DebianPackageTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        cls._work = tempfile.TemporaryDirectory(prefix="ppool-package-")
        work = cls._work.name
        # Built outside the build tree, which other tests may be reading.
        check(["cpack", "-G", "DEB", "-B", os.path.join(work, "out"),
               "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake")])
        debs = glob.glob(os.path.join(work, "out", "*.deb"))
        if len(debs) != 1:
            raise AssertionError(f"expected one .deb, found {debs}")
        cls.deb = debs[0]

        # An empty dpkg database under a root of our own: no root privileges,
        # and the host's packages are not looked at.
        cls.root = os.path.join(work, "root")
        for directory in ("updates", "info"):
            os.makedirs(os.path.join(cls.root, "var", "lib", "dpkg", directory))
        open(os.path.join(cls.root, "var", "lib", "dpkg", "status"), "w").close()
        check(["dpkg", f"--root={cls.root}", "--force-not-root", "--force-depends", "--log=/dev/null",
               "-i", cls.deb])

    @classmethod
    def tearDownClass(cls):
        cls._work.cleanup()

    def field(self, name):
        return check(["dpkg-deb", "--field", self.deb, name]).strip()

    def test_control_fields(self):
        self.assertEqual(self.field("Package"), "ppool")
        with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
            self.assertIn(f"project(ppool VERSION {self.field('Version')} ", f.read())
        self.assertRegex(self.field("Maintainer"), r"^[^<>]+ <[^<>@]+@[^<>]+>$")
        description = self.field("Description").splitlines()
        self.assertGreater(len(description), 2)
        self.assertIn("process pool", description[0])
        # The binary links the C and C++ runtimes dynamically, libcrypto statically.
        depends = self.field("Depends")
        self.assertIn("libc6", depends)
        self.assertIn("libstdc++6", depends)
        self.assertNotIn("libssl", depends)
        self.assertTrue(os.path.basename(self.deb).startswith(f"ppool_{self.field('Version')}_"))

    def test_installed_with_dpkg(self):
        status = check(["dpkg-query", f"--admindir={self.root}/var/lib/dpkg", "-W", "-f", "${Status}", "ppool"])
        self.assertEqual(status, "install ok installed")
        assert_installed_tree(self, os.path.join(self.root, "usr"))
        ppool = os.path.join(self.root, "usr", "bin", "ppool")
        self.assertOk(run(["imap", "-t", "len"], input=b"a\nbb\n", binary=ppool), "1\n2\n")
        listed = check(["dpkg-query", f"--admindir={self.root}/var/lib/dpkg", "-L", "ppool"]).splitlines()
        self.assertIn("/usr/share/man/man1/ppool.1", listed)

    def test_packaged_library_links(self):
        # The static libraries are stripped of debugging information only:
        # a program still links against them.
        build = self.path("examples-build")
        configure = ["cmake", "-S", os.path.join(SOURCE_DIR, "examples"), "-B", build, "-G", "Ninja",
                     f"-DCMAKE_PREFIX_PATH={self.root}/usr"]
        if CXX_COMPILER:
            configure.append(f"-DCMAKE_CXX_COMPILER={CXX_COMPILER}")
        check(configure)
        check(["cmake", "--build", build, "--target", "squares_example"])
        squares = run(["4"], binary=os.path.join(build, "squares_example"))
        self.assertOk(squares)
        self.assertIn("sum of squares 1..4 = 30", lines(squares.stdout))


if __name__ == "__main__":
    unittest.main()
