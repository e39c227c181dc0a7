"""The built-in registered tasks: identity, len, upper, lower, sleep, wc, sha256sum."""

import hashlib
import os
import random
import subprocess
import time
import unittest

from harness import E2ETestCase, json_lines, lines, run


class SimpleTaskTests(E2ETestCase):
    def test_identity(self):
        items = "plain\nwith  spaces\n\ttab\nh\u00e9llo w\u00f6rld\n{}\n-n\n"
        proc = run(["imap", "-j", "2", "--task", "identity"], input=items.encode())
        self.assertOk(proc, items.encode())

    def test_len_counts_bytes(self):
        proc = run(["imap", "-j", "2", "--task", "len"], input="abc\n\nh\u00e9\nx\n".encode())
        self.assertOk(proc, "3\n0\n3\n1\n")

    def test_upper(self):
        proc = run(["imap", "-j", "2", "--task", "upper"], input=b"Hello World 123\nabc-xyz\n")
        self.assertOk(proc, "HELLO WORLD 123\nABC-XYZ\n")

    def test_lower(self):
        proc = run(["imap", "-j", "2", "--task", "lower"], input=b"Hello World 123\nABC-XYZ\n")
        self.assertOk(proc, "hello world 123\nabc-xyz\n")

    def test_many_items(self):
        items = ["x" * (n % 37) for n in range(1, 20000)]  # empty items in the middle too
        data = "".join(i + "\n" for i in items).encode()
        proc = run(["map", "-j", "2", "--task", "len"], input=data)
        self.assertOk(proc, "".join(f"{len(i)}\n" for i in items))

    def test_sleep_prints_item_after_sleeping(self):
        start = time.monotonic()
        proc = run(["imap", "-j", "1", "--task", "sleep"], input=b"0.3\n0\n")
        elapsed = time.monotonic() - start
        self.assertOk(proc, "0.3\n0\n")
        self.assertGreaterEqual(elapsed, 0.3)

    def test_sleep_duration_in_json(self):
        proc = run(["imap", "-j", "1", "--json", "--task", "sleep"], input=b"0.4\n")
        self.assertStatus(proc, 0)
        (record,) = json_lines(proc.stdout)
        self.assertGreaterEqual(record["duration_s"], 0.35)
        self.assertEqual(record["output"].rstrip("\n"), "0.4")

    def test_sleep_rejects_non_number(self):
        proc = run(["imap", "-j", "1", "--task", "sleep"], input=b"abc\n")
        self.assertStatus(proc, 1)
        self.assertTrue(proc.stderr.decode().startswith("ppool: task 1 (abc) failed: "), proc.stderr)

    def test_unknown_file_fails_item_not_run(self):
        missing = self.path("missing.txt")
        for task in ("wc", "sha256sum"):
            with self.subTest(task=task):
                proc = run(["imap", "-j", "1", "--task", task], input=f"{missing}\n".encode())
                self.assertStatus(proc, 1)
                err = proc.stderr.decode()
                self.assertTrue(err.startswith(f"ppool: task 1 ({missing}) failed: "), err)
                self.assertIn("No such file or directory", err)


class FileTaskTests(E2ETestCase):
    def files(self):
        rnd = random.Random(42)
        words = ["alpha", "b", "gamma\tdelta", "", "  ", "x" * 300]
        text = "\n".join(" ".join(rnd.choice(words) for _ in range(rnd.randrange(12)))
                         for _ in range(3000)) + "\n"
        return [
            self.write("empty.txt", b""),
            self.write("small.txt", "a b\nc\n"),
            self.write("no final newline.txt", "one two\nthree"),
            self.write("big.txt", text),
            self.write("only-newlines.txt", "\n\n\n"),
        ]

    def binary_file(self):
        return self.write("random.bin", random.Random(1).randbytes(300000))

    def reference(self, tool, paths, env=None):
        return [subprocess.run([tool, p], capture_output=True, check=True, env=env).stdout.decode().rstrip("\n")
                for p in paths]

    def test_wc_matches_coreutils(self):
        paths = self.files()
        proc = run(["imap", "-j", "2", "--task", "wc"], input="".join(p + "\n" for p in paths).encode())
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), self.reference("wc", paths))

    def test_wc_binary_matches_coreutils_in_c_locale(self):
        paths = [self.binary_file()]
        env = dict(os.environ, LC_ALL="C")
        proc = run(["imap", "-j", "1", "--task", "wc"], input=f"{paths[0]}\n".encode(), env=env)
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), self.reference("wc", paths, env))

    def test_wc_control_characters_match_coreutils(self):
        # GNU wc: a run of non-printable, non-space bytes does not start a word.
        paths = [self.write("ctl.txt", b"a\x01b c\n\x01\x02 x\n\x7f\n")]
        env = dict(os.environ, LC_ALL="C")
        proc = run(["imap", "-j", "1", "--task", "wc"], input=f"{paths[0]}\n".encode(), env=env)
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), self.reference("wc", paths, env))

    def test_sha256sum_matches_coreutils(self):
        paths = self.files() + [self.binary_file()]
        proc = run(["map", "-j", "2", "--task", "sha256sum"], input="".join(p + "\n" for p in paths).encode())
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), self.reference("sha256sum", paths))
        for path, line in zip(paths, lines(proc.stdout)):
            with open(path, "rb") as f:
                self.assertEqual(line, f"{hashlib.sha256(f.read()).hexdigest()}  {path}")

    def test_sha256sum_large_file(self):
        path = self.path("large.bin")
        block = random.Random(3).randbytes(1 << 20)
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for _ in range(8):
                f.write(block)
                digest.update(block)
        proc = run(["apply", "--task", "sha256sum", path])
        self.assertOk(proc, f"{digest.hexdigest()}  {path}\n")


if __name__ == "__main__":
    unittest.main()
