"""Exit statuses (SPEC section 5) and usage errors: one "ppool: " line, status 2."""

import os
import signal
import subprocess
import unittest

from harness import PPOOL, E2ETestCase, json_lines, run, testing

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

    def test_processes_relative_to_nothing(self):
        # -j -N is N fewer than the CPUs (GNU parallel's form), but a sign needs a number.
        for value in ("-", "+", "--1", "-1x"):
            with self.subTest(value=value):
                self.check(["imap", "-j", value, "--", "echo"])

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

    def test_a_bad_number_is_quoted_as_typed(self):
        huge = "99999999999999999999999"
        for option, value in (("-j", huge), ("-c", huge), ("--max-tasks-per-worker", huge), ("--retries", huge),
                              ("-j", ""), ("-c", ""), ("--retries", ""), ("--max-tasks-per-worker", ""),
                              ("-j", "+x"), ("--retries", "-1"), ("-c", "2.5"), ("-j", " 4"), ("-j", "0%"),
                              ("-j", "%"), ("-j", "+"), ("-j", "1.5%"), ("-j", "+-1"),
                              ("-c", "4k"), ("--retries", "abc"), ("--timeout", "1e400"), ("--timeout", " 1")):
            with self.subTest(option=option, value=value):
                self.check(["imap", option, value, "--", "echo"], mentions=f"not '{value}'")

    def test_an_out_of_range_number_names_the_range(self):
        proc = run(["imap", "-c", "99999999999999999999999", "--", "echo"], input=ITEMS)
        self.assertUsageError(proc)
        self.assertEqual(proc.stderr, b"ppool: -c/--chunksize must be a whole number from 1 to 1000000000, "
                                      b"not '99999999999999999999999'\n")
        proc = run(["imap", "-j", "99999999999999999999999", "--", "echo"], input=ITEMS)
        self.assertEqual(proc.stderr, b"ppool: -j/--processes must be a whole number from 1 to 100000, "
                                      b"or +N, -N or N% of the CPUs, not '99999999999999999999999'\n")

    def test_empty_names_are_usage_errors(self):
        self.check(["imap", "--joblog", "", "--", "echo"], mentions="--joblog")
        self.check(["imap", "--task", ""], mentions="--task")
        self.check(["imap", "--init-task", "", "--", "echo"], mentions="--init-task")

    def test_parser_mistakes_are_in_ppools_words(self):
        for args, mentions in ((["imap", "--joblog"], "'--joblog' needs a value"),
                               (["imap", "-j"], "'-j' needs a value"),
                               (["imap", "-0j"], "'-j' needs a value"),
                               (["tasks", "--plugin"], "'--plugin' needs a value"),
                               (["imap", "--json=yes", "-t", "len"], "'--json' takes no value"),
                               (["imap", "--fail-fast=0", "--", "echo"], "'--fail-fast' takes no value"),
                               (["imap", "--help=1"], "'--help' takes no value"),
                               (["--version=1"], "'--version' takes no value"),
                               (["imap", "-0x", "--", "echo"], "'-x'"),
                               (["imap", "-j", "--", "echo"], "not '--'")):
            with self.subTest(args=args):
                proc = run(args, input=ITEMS, timeout=30)
                self.assertUsageError(proc, mentions)
                for raw in (b"required", b"Could not convert", b"At Most", b"Expected", b"not expected"):
                    self.assertNotIn(raw, proc.stderr)


class RepeatedOptionTests(E2ETestCase):
    """A repeated option takes its last value, as in most Unix tools."""

    def test_processes(self):
        proc = run(["imap", "-j", "4", "-j", "1", "--json", "--", "sh", "-c", "sleep 0.2"], input=b"a\nb\nc\n")
        self.assertStatus(proc, 0)
        self.assertEqual({r["worker"] for r in json_lines(proc.stdout)}, {0})

    def test_chunksize(self):
        data = b"".join(b"%d\n" % i for i in range(6))
        self.assertOk(run(["imap", "--pipe", "-c", "1", "-c", "3", "--", "wc", "-l"], input=data), "3\n3\n")

    def test_timeout(self):
        proc = run(["imap", "--timeout", "100", "--timeout", "0.2", "--task", "sleep"], input=b"30\n", timeout=20)
        self.assertStatus(proc, 1)
        self.assertIn(b"timed out", proc.stderr)

    def test_task_and_format(self):
        self.assertOk(run(["imap", "-t", "len", "--task", "upper"], input=b"ab\n"), "AB\n")
        self.assertOk(run(["imap", "--format", "json", "--format", "text", "-t", "len"], input=b"ab\n"), "2\n")

    def test_the_last_of_json_and_format_wins(self):
        self.assertOk(run(["imap", "--json", "--format", "text", "-t", "len"], input=b"ab\n"), "2\n")
        proc = run(["imap", "--format", "text", "--json", "-t", "len"], input=b"ab\n")
        self.assertStatus(proc, 0)
        self.assertEqual(json_lines(proc.stdout)[0]["output"], "2")
        self.assertOk(run(["imap", "--json", "--format", "text", "--tag", "-t", "len"], input=b"ab\n"), "ab\t2\n")

    def test_retries_and_max_tasks_per_worker(self):
        proc = run(["imap", "--retries", "0", "--retries", "2", "--json", "--", "false"], input=b"a\n")
        self.assertEqual(json_lines(proc.stdout)[0]["attempts"], 3, proc.stderr)
        proc = testing(["imap", "-j", "1", "--max-tasks-per-worker", "100", "--max-tasks-per-worker", "1",
                        "-t", "pid"], input=b"a\nb\nc\n")
        self.assertStatus(proc, 0)
        self.assertEqual(len(set(proc.stdout.split())), 3)

    def test_joblog(self):
        first, second = self.path("first.log"), self.path("second.log")
        self.assertOk(run(["imap", "--joblog", first, "--joblog", second, "--", "true"], input=b"a\n"))
        self.assertFalse(os.path.exists(first))
        self.assertTrue(os.path.exists(second))

    def test_initializer_and_init_task(self):
        self.assertOk(run(["imap", "--initializer", "false", "--initializer", "true", "--", "true"], input=b"a\n"))
        record = self.path("init")
        proc = testing(["imap", "-j", "1", "--init-task", "fail_init", "--init-task", "record_init",
                        "--initargs", "ignored", "--initargs", record, "--", "true"], input=b"a\n")
        self.assertStatus(proc, 0)
        self.assertTrue(os.path.exists(record))



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
