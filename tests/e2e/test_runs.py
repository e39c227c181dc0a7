"""Every job goes one path: a chunk travels as one buffer, its results come
back as runs. With --timeout a worker sends a registered task's results on a
watchdog's clock rather than only when a batch is full or the chunk done, so
each case runs both ways and compares bytes; the workflow options must print
what a plain run prints."""

import json
import os
import unittest

from harness import E2ETestCase, run, testing

# Long enough that its output goes on its own, in parts, not in a run.
HUGE = b"h" * (3 << 20)


def both_ways(runner, args, input):
    """(fast, per-item) runs of the same command line."""
    return runner(args, input=input), runner(args + ["--timeout", "1000"], input=input)


def without_timing(data, array=False):
    """JSON results without the fields that differ from run to run."""
    records = json.loads(data) if array else [json.loads(line) for line in data.splitlines()]
    for r in records:
        r.pop("duration_s")
        r.pop("worker")
    return records


class FastPathTests(E2ETestCase):
    ITEMS = b"".join(b"%d\n" % i for i in range(1, 5001)) + b"\n\nlast-without-newline"

    def assertSame(self, fast, slow, status=0):
        self.assertEqual(fast.returncode, status, fast.stderr)
        self.assertEqual(slow.returncode, status, slow.stderr)
        self.assertEqual(fast.stdout, slow.stdout)
        self.assertEqual(fast.stderr, slow.stderr)

    def test_text_is_byte_identical(self):
        for chunk in ("1", "7", "1000"):
            with self.subTest(chunk=chunk):
                fast, slow = both_ways(run, ["imap", "-j", "2", "-c", chunk, "--task", "len"], self.ITEMS)
                self.assertSame(fast, slow)
                self.assertEqual(fast.stdout.count(b"\n"), 5003)

    def test_workflow_options_print_the_same(self):
        plain = run(["imap", "-j", "2", "-c", "100", "--task", "len"], input=self.ITEMS)
        self.assertStatus(plain, 0)
        for extra in (["--retries", "1"], ["--joblog", self.path("log")], ["--fail-fast"], ["--progress=always"],
                      ["--timeout", "1000"]):
            with self.subTest(extra=extra):
                proc = run(["imap", "-j", "2", "-c", "100", "--task", "len"] + extra, input=self.ITEMS)
                self.assertStatus(proc, 0)
                self.assertEqual(proc.stdout, plain.stdout)
        with open(self.path("log"), "rb") as log:
            self.assertEqual(len(log.read().splitlines()), 5003 + 1)

    def test_json_is_identical_but_for_timing(self):
        fast, slow = both_ways(run, ["imap", "-j", "2", "-c", "100", "--task", "upper", "--json"], self.ITEMS)
        self.assertEqual((fast.returncode, slow.returncode), (0, 0))
        self.assertEqual(without_timing(fast.stdout), without_timing(slow.stdout))
        for record in json.loads(b"[" + fast.stdout.strip().replace(b"\n", b",") + b"]")[:3]:
            self.assertJsonRecord(record)

    def test_unordered_has_the_same_results(self):
        fast, slow = both_ways(run, ["imap-unordered", "-j", "2", "-c", "64", "--task", "len"], self.ITEMS)
        self.assertEqual((fast.returncode, slow.returncode), (0, 0))
        self.assertEqual(sorted(fast.stdout.splitlines()), sorted(slow.stdout.splitlines()))

    def test_map_is_identical(self):
        fast, slow = both_ways(run, ["map", "-j", "2", "--task", "identity"], self.ITEMS)
        self.assertSame(fast, slow)
        fast, slow = both_ways(run, ["map", "-j", "2", "--task", "identity", "--json"], self.ITEMS)
        self.assertEqual(without_timing(fast.stdout, array=True), without_timing(slow.stdout, array=True))

    def test_a_failing_item_in_the_middle_of_a_chunk(self):
        items = b"a\nb\nbad\nc\nd\n" * 300
        for mode in ("imap", "map"):
            with self.subTest(mode=mode):
                fast, slow = both_ways(testing, [mode, "-j", "2", "-c", "50", "--task", "fail_on_bad"], items)
                self.assertSame(fast, slow, status=1)
                self.assertEqual(fast.stderr.count(b"bad item"), 300)
        fast, slow = both_ways(testing, ["imap", "-j", "2", "-c", "50", "--task", "fail_on_bad", "--json"], items)
        self.assertEqual(without_timing(fast.stdout), without_timing(slow.stdout))

    def test_a_function_runs_once_per_item_even_when_it_throws(self):
        items = [b"%s%d" % (b"bad" if i % 7 == 3 else b"ok", i) for i in range(700)]
        # Each 'bad' item throws: the same name each time, so that the log tells them apart by position.
        items = [b"bad" if item.startswith(b"bad") else item for item in items]
        for extra in ([], ["--timeout", "1000"]):
            with self.subTest(extra=extra):
                log = self.path("calls" + str(len(extra)))
                proc = testing(["imap", "-j", "2", "-c", "50", "--task", "log_and_fail_on_bad"] + extra,
                               input=b"\n".join(items) + b"\n", env={**os.environ, "PPOOL_TEST_LOG": log})
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stderr.count(b"bad item"), items.count(b"bad"))
                self.assertEqual(proc.stdout.splitlines(), [i for i in items if i != b"bad"])
                with open(log, "rb") as f:
                    calls = f.read().splitlines()
                # Every item ran, and only once: a throw is never retried behind the user's back.
                self.assertEqual(sorted(calls), sorted(items))

    def test_unordered_failures_keep_every_result(self):
        items = b"a\nbad\nc\n" * 200
        fast, slow = both_ways(testing, ["imap-unordered", "-j", "2", "-c", "25", "--task", "fail_on_bad"], items)
        self.assertEqual((fast.returncode, slow.returncode), (1, 1))
        self.assertEqual(sorted(fast.stdout.splitlines()), sorted(slow.stdout.splitlines()))
        self.assertEqual(sorted(fast.stderr.splitlines()), sorted(slow.stderr.splitlines()))

    def test_a_large_output_in_the_middle_of_a_chunk(self):
        items = b"x\n" * 100 + HUGE + b"\n" + b"y\n" * 100
        fast, slow = both_ways(run, ["imap", "-j", "2", "-c", "1000", "--task", "identity"], items)
        self.assertSame(fast, slow)
        self.assertEqual(fast.stdout, items)

    def test_null_separated_items_with_newlines(self):
        items = b"one\ntwo\0\0three\n\0four"
        fast, slow = both_ways(run, ["imap", "-j", "2", "-c", "3", "-0", "--task", "identity"], items)
        self.assertSame(fast, slow)
        self.assertEqual(fast.stdout, b"one\ntwo\n\nthree\nfour\n")
        fast, slow = both_ways(run, ["imap", "-j", "2", "-c", "3", "-0", "--task", "identity", "--json"], items)
        self.assertEqual(without_timing(fast.stdout), without_timing(slow.stdout))

    def test_files_stay_apart(self):
        one = self.write("one", b"a\nb")
        two = self.write("two", b"c\n")
        fast, slow = both_ways(run, ["imap", "-j", "2", "-c", "10", "-a", one, "-a", two, "--task", "upper"], b"")
        self.assertSame(fast, slow)
        # Two sources: every pair, joined by a space.
        self.assertEqual(fast.stdout, b"A C\nB C\n")

    def test_not_utf8(self):
        items = b"caf\xe9\n\xff\xfe\nok\n"
        fast, slow = both_ways(run, ["imap", "-j", "2", "-c", "2", "--task", "identity", "--json"], items)
        self.assertEqual(without_timing(fast.stdout), without_timing(slow.stdout))
        self.assertIn("input_base64", without_timing(fast.stdout)[0])


if __name__ == "__main__":
    unittest.main()
