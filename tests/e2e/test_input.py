"""Reading items: -a files in order, "-a -", -0, newline and \\r handling, sizes."""

import json
import os
import select
import signal
import subprocess
import time
import unittest

from harness import E2ETestCase, PipeReader, json_lines, run, stop


class ItemSplittingTests(E2ETestCase):
    def inputs(self, data, *extra):
        """The items ppool sees in `data`, read back from the JSON `input` field."""
        proc = run(["imap", "-j", "2", "--json", "--task", "identity"] + list(extra), input=data)
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual([r["seq"] for r in records], list(range(1, len(records) + 1)))
        return [r["input"] for r in records]

    def test_trailing_newline_is_not_part_of_the_item(self):
        self.assertEqual(self.inputs(b"a\nb\n"), ["a", "b"])

    def test_final_line_without_newline_counts(self):
        self.assertEqual(self.inputs(b"a\nb"), ["a", "b"])

    def test_single_item_without_newline(self):
        self.assertEqual(self.inputs(b"only"), ["only"])

    def test_empty_lines_in_the_middle_are_items(self):
        self.assertEqual(self.inputs(b"a\n\nb\n\n\nc\n"), ["a", "", "b", "", "", "c"])

    def test_carriage_return_is_kept(self):
        self.assertEqual(self.inputs(b"a\r\nb\r\n"), ["a\r", "b\r"])
        proc = run(["imap", "-j", "1", "--task", "len"], input=b"ab\r\n\r\n")
        self.assertOk(proc, "3\n1\n")

    def test_spaces_are_kept(self):
        self.assertEqual(self.inputs(b"  lead\ntrail  \n\tx\t\n"), ["  lead", "trail  ", "\tx\t"])

    def test_null_separated(self):
        self.assertEqual(self.inputs(b"a b\0c\nd\0\0e\r\0", "-0"), ["a b", "c\nd", "", "e\r"])

    def test_null_separated_without_final_null(self):
        self.assertEqual(self.inputs(b"a\0b", "--null"), ["a", "b"])

    def test_null_separated_count(self):
        proc = run(["imap", "-0", "-j", "2", "--task", "len"], input=b"one\ntwo\0three\0")
        self.assertOk(proc, "7\n5\n")

    def test_long_item(self):
        item = b"x" * (3 << 20)
        proc = run(["imap", "-j", "2", "--task", "len"], input=b"a\n" + item + b"\nb\n")
        self.assertOk(proc, f"1\n{len(item)}\n1\n")
        proc = run(["imap", "-j", "2", "--task", "identity"], input=b"a\n" + item + b"\nb\n")
        self.assertOk(proc, b"a\n" + item + b"\nb\n")

    def test_many_lines_streamed(self):
        data = "".join(f"line {i}\n" for i in range(30000)).encode()
        proc = run(["imap", "-j", "2", "--task", "identity"], input=data)
        self.assertOk(proc, data)


class InputFileTests(E2ETestCase):
    # Each -a FILE is an input source of its own, combined as GNU parallel
    # combines them (SPEC 3, 3c); a registered task gets the pair joined by a space.
    def test_files_are_sources_in_the_order_given(self):
        one = self.write("one", "a\nb\n")
        two = self.write("two", "c\nd\n")
        proc = run(["imap", "-j", "2", "-a", one, "-a", two, "--task", "identity"])
        self.assertOk(proc, "a c\na d\nb c\nb d\n")
        proc = run(["imap", "-j", "2", "--input", two, "--input", one, "--task", "identity"])
        self.assertOk(proc, "c a\nc b\nd a\nd b\n")

    def test_same_file_twice(self):
        one = self.write("one", "a\nb\n")
        proc = run(["map", "-j", "2", "-a", one, "-a", one, "--", "echo"])
        self.assertOk(proc, "a a\na b\nb a\nb b\n")

    def test_file_without_final_newline_does_not_merge_with_the_next(self):
        one = self.write("one", "a\nb")
        two = self.write("two", "c\n")
        proc = run(["imap", "-j", "2", "-a", one, "-a", two, "--task", "identity"])
        self.assertOk(proc, "a c\nb c\n")

    def test_dash_is_stdin(self):
        one = self.write("one", "a\nb\n")
        proc = run(["imap", "-j", "2", "-a", one, "-a", "-", "--task", "identity"], input=b"x\ny\n")
        self.assertOk(proc, "a x\na y\nb x\nb y\n")
        proc = run(["imap", "-j", "2", "-a", "-", "-a", one, "--task", "identity"], input=b"x\ny\n")
        self.assertOk(proc, "x a\nx b\ny a\ny b\n")

    def test_input_file_does_not_read_stdin(self):
        one = self.write("one", "a\nb\n")
        proc = self.start(["imap", "-j", "2", "-a", one, "--task", "identity"])  # stdin never closed
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("ppool -a FILE waited for standard input")
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(PipeReader(proc.stdout).read_rest(), b"a\nb\n")

    def test_null_separated_files(self):
        one = self.write("one", b"a\nb\0c\0")
        two = self.write("two", b"d\0")
        proc = run(["imap", "-0", "-j", "1", "-a", one, "-a", two, "--task", "len"])
        self.assertOk(proc, "5\n3\n")


class ReadAheadTests(E2ETestCase):
    """Streaming modes read ahead only what the workers can take: while every
    task is stuck, ppool stops reading its input (a full pipe stays full)."""

    LIMIT = 64 << 20

    def written_while_stuck(self, first, rest):
        proc = self.start(["imap", "-j", "2", "--task", "sleep"], stdout=subprocess.DEVNULL)
        fd = proc.stdin.fileno()
        os.set_blocking(fd, False)
        line = (rest + "." + "0" * (998 - len(rest)) + "\n").encode()  # 1000-byte number
        pending, written = first, 0
        while written < self.LIMIT:
            if not pending:
                pending = line * 64
            # No room in the pipe for 2 s: ppool has stopped reading.
            if not select.select([], [fd], [], 2)[1]:
                break
            try:
                n = os.write(fd, pending)
            except BlockingIOError:
                continue
            pending, written = pending[n:], written + n
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        return written

    def test_stuck_workers_stop_the_reading(self):
        written = self.written_while_stuck(b"300\n", "300")
        self.assertLess(written, self.LIMIT, "ppool read its whole input while every worker was busy")

    def test_growing_reorder_buffer_stops_the_reading(self):
        # The first item blocks its worker; every later one is done at once but
        # must wait for it in the reorder buffer.
        written = self.written_while_stuck(b"300\n", "0")
        self.assertLess(written, self.LIMIT, "the reorder buffer grew without bound")


class MaxItemSizeTests(E2ETestCase):
    """--max-item-size: an item past it stops the run while it is read."""

    def run_on_yes(self, args):
        """Runs ppool on the endless output of `yes`; its status, stderr,
        peak resident memory in KiB and seconds taken."""
        started = time.monotonic()
        yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE, start_new_session=True)
        self.addCleanup(stop, yes)
        proc = self.start(args, stdin=yes.stdout, stdout=subprocess.DEVNULL)
        yes.stdout.close()
        deadline = time.monotonic() + 60
        while True:
            # wait4: the memory of this ppool (and its reaped workers) alone.
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            self.assertLess(time.monotonic(), deadline, "ppool kept reading an endless item")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return proc.returncode, self.stderr_of(proc), usage.ru_maxrss, time.monotonic() - started

    def baseline_rss_kib(self, args):
        """The peak resident memory in KiB of the same run over one small item:
        what this build of ppool needs anyway (far more under AddressSanitizer)."""
        proc = self.start(args, stdout=subprocess.DEVNULL)
        proc.stdin.write(b"y\0")
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.assertEqual(proc.returncode, 0, self.stderr_of(proc))
        return usage.ru_maxrss

    def test_an_item_without_end_stops_the_run(self):
        # Each item path: one string per item (commands), packed items (registered tasks), map.
        for args in (["imap", "--", "echo"], ["imap", "-t", "len"], ["map", "-t", "len"],
                     ["imap", "--pipe", "--", "cat"]):
            with self.subTest(args=args):
                status, err, rss_kib, seconds = self.run_on_yes([args[0], "-0", "--max-item-size", "1M"] + args[1:])
                self.assertEqual(status, 2, err)
                self.assertEqual(err, b"ppool: item 1 is larger than --max-item-size (1 MiB); "
                                      b"raise it with --max-item-size\n")
                # An item of 1 MiB is held (and maybe a copy or two), never the endless input.
                baseline = self.baseline_rss_kib([args[0], "-0", "--max-item-size", "1M"] + args[1:])
                self.assertLess(rss_kib - baseline, 32 << 10, "ppool held far more than one item")
                self.assertLess(seconds, 30)

    def test_items_within_the_limit_pass(self):
        for args in (["--", "echo"], ["-t", "identity"]):
            with self.subTest(args=args):
                self.assertOk(run(["imap", "--max-item-size", "3"] + args, input=b"a\nbbb\nc\n"), "a\nbbb\nc\n")
                item = b"x" * 1024
                self.assertOk(run(["imap", "--max-item-size", "1k"] + args, input=item + b"\n"), item + b"\n")

    def test_an_item_over_the_limit_is_named(self):
        for args in (["--", "echo"], ["-t", "identity"]):
            with self.subTest(args=args):
                proc = run(["imap", "--max-item-size", "3"] + args, input=b"a\nbbbb\nc\n")
                self.assertStatus(proc, 2)
                self.assertEqual(proc.stderr, b"ppool: item 2 is larger than --max-item-size (3 bytes); "
                                              b"raise it with --max-item-size\n")
                proc = run(["imap", "--max-item-size", "1K"] + args, input=b"x" * 1025)
                self.assertStatus(proc, 2)
                self.assertIn(b"item 1 is larger than --max-item-size (1 KiB)", proc.stderr)

    def test_a_bad_size_is_a_usage_error(self):
        for value in ("0", "", "1X", "1.5M", "-1", "1KB", "1025G", "99999999999999999999999"):
            with self.subTest(value=value):
                self.assertUsageError(run(["imap", "--max-item-size", value, "--", "echo"]), f"not '{value}'")



class MapSizesTests(E2ETestCase):
    def check(self, count, processes, extra=()):
        items = [f"item-{i}" for i in range(count)]
        data = "".join(i + "\n" for i in items).encode()
        proc = run(["map", "-j", str(processes), *extra, "--task", "upper"], input=data)
        self.assertOk(proc, "".join(i.upper() + "\n" for i in items))
        proc = run(["map", "-j", str(processes), "--json", *extra, "--task", "len"], input=data)
        self.assertStatus(proc, 0)
        records = json.loads(proc.stdout)
        self.assertEqual([r["input"] for r in records], items)
        self.assertEqual([r["output"].rstrip("\n") for r in records], [str(len(i)) for i in items])

    def test_one_item(self):
        for j in (1, 2, 4):
            with self.subTest(processes=j):
                self.check(1, j)

    def test_seven_items(self):
        for j in (1, 2, 3, 8):
            with self.subTest(processes=j):
                self.check(7, j)

    def test_thousand_items(self):
        for j in (1, 2, 3):
            with self.subTest(processes=j):
                self.check(1000, j)

    def test_explicit_chunksizes(self):
        for chunk in ("1", "3", "999", "1000", "5000"):
            with self.subTest(chunksize=chunk):
                self.check(1000, 3, ("-c", chunk))

    def test_seven_items_with_commands(self):
        proc = run(["map", "-j", "2", "--", "echo", "{#}", "{}"], input=b"a\nb\nc\nd\ne\nf\ng\n")
        self.assertOk(proc, "1 a\n2 b\n3 c\n4 d\n5 e\n6 f\n7 g\n")

    def test_map_json_array_sizes(self):
        for count in (1, 7, 1000):
            with self.subTest(count=count):
                data = "".join(f"{i}\n" for i in range(count)).encode()
                proc = run(["map", "-j", "2", "--json", "--task", "identity"], input=data)
                self.assertStatus(proc, 0)
                records = json.loads(proc.stdout)
                self.assertEqual([r["input"] for r in records], [str(i) for i in range(count)])
                self.assertEqual([r["seq"] for r in records], list(range(1, count + 1)))


if __name__ == "__main__":
    unittest.main()
