#!/usr/bin/env python3
"""A mistyped mode, option or task name: one "ppool: " line naming the nearest
known name, exit status 2, nothing run."""

import unittest

from harness import E2ETestCase, run

ITEMS = b"a\nbb\n"


class Suggestions(E2ETestCase):
    def check(self, args, line):
        proc = run(args, input=ITEMS, timeout=30)
        self.assertUsageError(proc)
        self.assertEqual(proc.stderr.decode(), line + "\n")

    def test_mode(self):
        self.check(["imapp", "-t", "len"], "ppool: unknown mode 'imapp' (did you mean 'imap'?)")
        self.check(["unorderd", "-t", "len"], "ppool: unknown mode 'unorderd' (did you mean 'unordered'?)")
        self.check(["mpa", "-t", "len"], "ppool: unknown mode 'mpa' (did you mean 'map'?)")

    def test_option(self):
        for args in (["imap", "--chunk-size", "3", "-t", "len"],
                     ["imap", "--chunk-size=3", "-t", "len"],
                     ["map", "-j", "2", "--chunk-size", "3", "--", "echo"]):
            with self.subTest(args=args):
                self.check(args, "ppool: unknown option '--chunk-size' (did you mean '--chunksize'?)")
        self.check(["imap", "--proceses", "2", "-t", "len"],
                   "ppool: unknown option '--proceses' (did you mean '--processes'?)")
        self.check(["imap-unordered", "--jobog", "log", "-t", "len"],
                   "ppool: unknown option '--jobog' (did you mean '--joblog'?)")
        self.check(["--versoin"], "ppool: unknown option '--versoin' (did you mean '--version'?)")

    def test_option_of_another_mode_only(self):
        # apply takes no items, so it has no --chunksize to suggest.
        proc = run(["apply", "--chunksize", "3", "--", "true"], timeout=30)
        self.assertUsageError(proc, "'--chunksize'")
        self.assertNotIn(b"did you mean '--chunksize'", proc.stderr)

    def test_task(self):
        self.check(["imap", "-t", "lenn"], "ppool: unknown task 'lenn' (did you mean 'len'? see 'ppool tasks')")
        self.check(["map", "--task", "sha256"],
                   "ppool: unknown task 'sha256' (did you mean 'sha256sum'? see 'ppool tasks')")
        self.check(["imap", "--init-task", "uper", "-t", "len"],
                   "ppool: unknown task 'uper' (did you mean 'upper'? see 'ppool tasks')")
        proc = run(["apply", "-t", "lenn", "abc"], timeout=30)
        self.assertUsageError(proc, "did you mean 'len'?")

    def test_nothing_near(self):
        self.check(["frobnicate", "--", "echo"],
                   "ppool: unknown mode 'frobnicate' (modes: map, imap, imap-unordered, apply, tasks)")
        self.check(["imap", "--bogus-option", "--", "echo"],
                   "ppool: unknown option '--bogus-option' (see 'ppool imap --help')")
        self.check(["imap", "-t", "no-such-task"], "ppool: unknown task 'no-such-task' (see 'ppool tasks')")

    def test_option_before_the_mode(self):
        self.check(["--json", "imap", "-t", "len"], "ppool: the mode comes before '--json': ppool MODE [OPTIONS] ...")
        self.check([], "ppool: no mode given (modes: map, imap, imap-unordered, apply, tasks)")


if __name__ == "__main__":
    unittest.main()
