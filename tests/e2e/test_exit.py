"""Exit statuses (SPEC section 5) and usage errors: one "ppool: " line, status 2."""

import os
import signal
import subprocess
import unittest

from harness import PPOOL, E2ETestCase, run, testing

ITEMS = b"a\nb\n"


class ExitStatusTests(E2ETestCase):
    def test_zero_when_every_task_succeeds(self):
        for mode in ("map", "imap", "imap-unordered"):
            with self.subTest(mode=mode):
                self.assertStatus(run([mode, "-j", "2", "--", "true"], input=ITEMS), 0)

    def test_one_when_a_command_fails(self):
        for mode in ("map", "imap", "imap-unordered"):
            with self.subTest(mode=mode):
                proc = run([mode, "-j", "2", "--", "sh", "-c", 'test "$1" != b', "sh"], input=ITEMS)
                self.assertStatus(proc, 1)

    def test_one_when_a_registered_task_throws(self):
        self.assertStatus(testing(["imap", "-j", "2", "--task", "throw"], input=ITEMS), 1)

    def test_one_when_a_command_is_killed_by_a_signal(self):
        proc = run(["imap", "-j", "1", "--", "sh", "-c", 'kill -USR1 $$; : "$1"', "sh"], input=b"a\n")
        self.assertStatus(proc, 1)

    def test_one_when_a_task_times_out(self):
        proc = run(["imap", "-j", "1", "--timeout", "0.2", "--task", "sleep"], input=b"300\n")
        self.assertStatus(proc, 1)

    def test_one_when_a_worker_dies(self):
        self.assertStatus(testing(["imap", "-j", "1", "--task", "exit"], input=b"a\n"), 1)

    def test_empty_input_is_not_an_error(self):
        for args in (["map", "--", "echo"], ["imap", "--", "echo"], ["imap-unordered", "--", "echo"],
                     ["unordered", "--task", "identity"], ["map", "--task", "len"]):
            with self.subTest(args=args):
                proc = run(args + [], input=b"")
                self.assertStatus(proc, 0)
                self.assertEqual(proc.stdout, b"")
                self.assertEqual(proc.stderr, b"")

    def test_empty_input_files(self):
        empty = self.write("empty", b"")
        proc = run(["imap", "-a", empty, "-a", empty, "--", "echo"])
        self.assertOk(proc, b"")
        self.assertEqual(proc.stderr, b"")


class UsageErrorTests(E2ETestCase):
    def check(self, args, mentions=None):
        proc = run(args, input=ITEMS, timeout=30)
        self.assertUsageError(proc, mentions)

    def test_unknown_option(self):
        self.check(["imap", "--bogus-option", "--", "echo"], mentions="--bogus-option")

    def test_unknown_mode(self):
        self.check(["frobnicate", "--", "echo"], mentions="frobnicate")

    def test_processes_zero(self):
        self.check(["imap", "-j", "0", "--", "echo"])

    def test_processes_negative(self):
        self.check(["imap", "-j", "-1", "--", "echo"])

    def test_processes_not_a_number(self):
        for value in ("abc", "1.5", ""):
            with self.subTest(value=value):
                self.check(["imap", "--processes", value, "--", "echo"])

    def test_chunksize_zero(self):
        self.check(["map", "-c", "0", "--", "echo"])

    def test_chunksize_negative(self):
        self.check(["imap", "--chunksize", "-2", "--", "echo"])

    def test_bad_timeout(self):
        for value in ("abc", "0", "-1", "-0.5", "", "nan", "inf"):
            with self.subTest(value=value):
                self.check(["imap", "--timeout", value, "--", "echo"])

    def test_max_tasks_per_worker_zero(self):
        self.check(["imap", "--max-tasks-per-worker", "0", "--", "echo"])

    def test_bad_format(self):
        self.check(["imap", "--format", "xml", "--", "echo"])

    def test_missing_input_file(self):
        missing = self.path("no-such-file")
        self.check(["imap", "-a", missing, "--", "echo"], mentions=missing)

    def test_missing_input_file_after_a_good_one(self):
        good = self.write("good", "x\n")
        missing = self.path("no-such-file")
        self.check(["map", "-a", good, "-a", missing, "--", "echo"], mentions=missing)

    def test_directory_as_input_file(self):
        proc = run(["imap", "-a", self.tmp, "--", "echo"], timeout=30)
        self.assertStatus(proc, 2)
        err = proc.stderr.decode().splitlines()
        self.assertTrue(err and err[-1].startswith("ppool: "), proc.stderr)

    def test_unknown_task(self):
        self.check(["imap", "--task", "no-such-task"], mentions="no-such-task")

    def test_unknown_task_in_map(self):
        self.check(["map", "-t", "no-such-task"], mentions="no-such-task")

    def test_unknown_task_in_apply(self):
        proc = run(["apply", "--task", "no-such-task", "x"], timeout=30)
        self.assertUsageError(proc, "no-such-task")

    def test_unknown_init_task(self):
        self.check(["imap", "--init-task", "no-such-init", "--", "echo"], mentions="no-such-init")

    def test_usage_error_runs_nothing(self):
        marker = self.path("ran")
        proc = run(["imap", "-j", "0", "--", "touch", marker], input=ITEMS, timeout=30)
        self.assertUsageError(proc)
        self.assertFalse(os.path.exists(marker))


class WriteErrorTests(E2ETestCase):
    """Output that cannot be written is an error, as in coreutils; a reader
    that went away is not."""

    def run_to(self, args, stdout):
        return subprocess.run([PPOOL] + args, stdin=subprocess.DEVNULL, stdout=stdout,
                              stderr=subprocess.PIPE, timeout=60)

    def test_a_full_disk_is_an_error(self):
        for args in (["tasks"], ["--help"], ["--version"], ["imap", "--help"], ["map", "--help"],
                     ["imap", "--", "echo", ":::", "a"], ["map", "-t", "len", ":::", "a"],
                     ["imap", "--json", "-t", "len", ":::", "a"], ["map", "--json", "-t", "len", ":::", "a"],
                     ["imap", "--dry-run", "--", "echo", ":::", "a"], ["apply", "--", "echo", "a"]):
            with self.subTest(args=args), open("/dev/full", "wb") as full:
                proc = self.run_to(args, full)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(proc.stderr, b"ppool: write error: No space left on device\n")

    def test_a_closed_pipe_ends_quietly(self):
        for args in (["--help"], ["tasks"], ["imap", "--", "echo", ":::", "a"]):
            with self.subTest(args=args):
                read_end, write_end = os.pipe()
                os.close(read_end)
                try:
                    proc = self.run_to(args, write_end)
                finally:
                    os.close(write_end)
                self.assertIn(proc.returncode, (-signal.SIGPIPE, 128 + signal.SIGPIPE), proc.stderr)
                self.assertEqual(proc.stderr, b"")


if __name__ == "__main__":
    unittest.main()
