"""The shell and make examples under examples/, run as a user runs them, with
the ppool under test as $PPOOL."""

import gzip
import hashlib
import os
import shutil
import unittest

from harness import PPOOL, E2ETestCase, lines, run

SOURCE_DIR = os.environ.get("PPOOL_SOURCE_DIR")
if not SOURCE_DIR or not os.path.isdir(SOURCE_DIR):
    raise SystemExit("test_examples: the environment variable PPOOL_SOURCE_DIR is not set (run it through ctest)")
EXAMPLES = os.path.join(SOURCE_DIR, "examples")
ENV = dict(os.environ, PPOOL=PPOOL)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class MakefileExampleTests(E2ETestCase):
    def make(self, files, *targets):
        # OUT keeps the outputs in the test's directory, never in the source tree.
        args = ["-C", os.path.join(EXAMPLES, "make"), f"PPOOL={PPOOL}", f"FILES={' '.join(files)}",
                f"OUT={self.path('out')}", *targets]
        return run(args, binary=shutil.which("make"), env=ENV)

    def test_digests_and_counts(self):
        files = [self.write("a.txt", "alpha\n"), self.write("b.txt", "two words\nand more\n")]
        self.assertOk(self.make(files, "all", "check"))
        with open(self.path("out/SHA256SUMS")) as f:
            self.assertEqual(f.read(), "".join(f"{sha256(p)}  {p}\n" for p in files))
        with open(self.path("out/wc.txt")) as f:
            counts = [line.split() for line in f.read().splitlines()]
        self.assertEqual(counts, [["1", "1", "6", files[0]], ["2", "4", "19", files[1]]])
        self.assertEqual(sorted(os.listdir(self.path("out"))), ["SHA256SUMS", "wc.txt"])

        # Up to date: nothing runs again.
        again = self.make(files)
        self.assertOk(again)
        self.assertIn(b"Nothing to be done", again.stdout)

    def test_its_recipes_get_makes_jobserver(self):
        # Marked `+`, the recipes get make's jobserver under make -j: ppool has nothing to warn about.
        files = [self.write("a.txt", "alpha\n")]
        args = ["-j2", "-C", os.path.join(EXAMPLES, "make"), f"PPOOL={PPOOL}", f"FILES={' '.join(files)}",
                f"OUT={self.path('out')}", "all"]
        proc = run(args, binary=shutil.which("make"), env=ENV)
        self.assertOk(proc)
        self.assertNotIn(b"jobserver", proc.stderr)

    def test_a_failed_item_leaves_no_target(self):
        good = self.write("a.txt", "alpha\n")
        bad = self.path("dir.txt")
        os.mkdir(bad)  # sha256sum of a directory fails: "Is a directory"
        proc = self.make([good, bad])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"Is a directory", proc.stderr)
        self.assertEqual(os.listdir(self.path("out")), [], "a failed recipe left a file behind")

    def test_a_failed_run_keeps_the_previous_target(self):
        good = self.write("a.txt", "alpha\n")
        self.assertOk(self.make([good]))
        with open(self.path("out/SHA256SUMS")) as f:
            before = f.read()
        bad = self.path("dir.txt")
        os.mkdir(bad)
        self.assertNotEqual(self.make([good, bad]).returncode, 0)
        with open(self.path("out/SHA256SUMS")) as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(os.path.exists(self.path("out/SHA256SUMS.tmp")))


class FilesExampleTests(E2ETestCase):
    NAMES = ["plain.txt", "sub/with space.txt", "sub/new\nline.txt", "sub/it's $(date).txt", "skip.dat"]

    def test_counts_and_compresses_every_txt_file(self):
        tree = self.path("tree")
        contents = {}
        for i, name in enumerate(self.NAMES):
            path = os.path.join(tree, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            contents[path] = "word " * (i + 1) + "\n" * (i + 1)
            with open(path, "w") as f:
                f.write(contents[path])
        proc = run([tree], binary=os.path.join(EXAMPLES, "files.sh"), env=ENV)
        self.assertOk(proc)
        out = lines(proc.stdout)
        txt = sorted(p for p in contents if p.endswith(".txt"))
        # One wc line per file (a newline in a name is escaped as wc does), a total, a count.
        self.assertEqual(len(out), len(txt) + 2, out)
        self.assertEqual(out[-2].split(), ["10", "10", "60", "total"])
        self.assertEqual(out[-1], f"compressed: {len(txt)} files")
        self.assertTrue(out[0].endswith(" " + txt[0]), out)
        for path in txt:
            with gzip.open(path + ".gz", "rt") as f:
                self.assertEqual(f.read(), contents[path])
            self.assertTrue(os.path.exists(path), "gzip -k keeps the original")
        self.assertFalse(os.path.exists(os.path.join(tree, "skip.dat.gz")))


class JsonJqExampleTests(E2ETestCase):
    SCRIPT = os.path.join(EXAMPLES, "json-jq.sh")

    def test_successes_on_stdout_failures_summarised_on_stderr(self):
        a = self.write("a.txt", "alpha\n")
        b = self.write("b c.txt", "beta\n")
        missing = self.path("missing.txt")
        proc = run([a, missing, b, self.tmp], binary=self.SCRIPT, env=ENV)
        self.assertStatus(proc, 1)
        self.assertEqual(lines(proc.stdout), [f"{sha256(a)}\t{a}", f"{sha256(b)}\t{b}"])
        err = proc.stderr.decode().splitlines()
        self.assertEqual(err[0], "2 failed:")
        self.assertIn(f"#2 {missing}: sha256sum: {missing}: No such file or directory", err[1])
        self.assertIn(f"#4 {self.tmp}: sha256sum: {self.tmp}: Is a directory", err[2])

    def test_items_from_stdin_without_failures(self):
        a = self.write("a.txt", "alpha\n")
        proc = run([], input=f"{a}\n{a}\n".encode(), binary=self.SCRIPT, env=ENV)
        self.assertOk(proc, f"{sha256(a)}\t{a}\n" * 2)
        self.assertEqual(proc.stderr, b"no failures\n")


if __name__ == "__main__":
    for tool in ("make", "jq", "gzip", "sha256sum"):
        if not shutil.which(tool):
            raise SystemExit(f"test_examples: {tool} is needed")
    unittest.main()
