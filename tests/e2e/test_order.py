"""Result order (imap keeps input order, imap-unordered completion order) and
streaming (a result is written as soon as it may be, before the input ends)."""

import json
import os
import signal
import subprocess
import unittest

from harness import E2ETestCase, PipeReader, json_lines, lines, run, testing, wait_for

SIX = b"1\n2\n3\n4\n5\n6\n"


class OrderTests(E2ETestCase):
    def test_imap_keeps_input_order_when_first_item_is_slow(self):
        proc = testing(["imap", "-j", "2", "--task", "slow_first"], input=SIX)
        self.assertOk(proc, SIX)

    def test_imap_keeps_input_order_with_commands(self):
        items = b"0.6\n0.3\n0\n0.1\n0\n"
        proc = run(["imap", "-j", "3", "--", "sh", "-c", 'sleep "$1"; echo "$1"', "sh"], input=items)
        self.assertOk(proc, items)

    def test_imap_json_keeps_input_order(self):
        proc = run(["imap", "-j", "3", "--json", "--task", "sleep"], input=b"0.5\n0\n0.1\n0\n")
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual([r["seq"] for r in records], [1, 2, 3, 4])
        self.assertEqual([r["input"] for r in records], ["0.5", "0", "0.1", "0"])

    def test_map_keeps_input_order(self):
        proc = run(["map", "-j", "2", "--task", "sleep"], input=b"0.5\n0\n0\n0.1\n0\n")
        self.assertOk(proc, "0.5\n0\n0\n0.1\n0\n")

    def test_map_keeps_input_order_with_chunks(self):
        items = "".join(f"{i}\n" for i in range(1, 41))
        proc = run(["map", "-j", "3", "-c", "7", "--", "sh", "-c", '[ "$1" -le 7 ] && sleep 0.3; echo "$1"', "sh"],
                   input=items.encode())
        self.assertOk(proc, items)

    def test_imap_unordered_writes_in_completion_order(self):
        proc = testing(["imap-unordered", "-j", "2", "--task", "slow_first"], input=SIX)
        self.assertStatus(proc, 0)
        out = lines(proc.stdout)
        self.assertEqual(sorted(out), ["1", "2", "3", "4", "5", "6"])
        self.assertNotEqual(out[0], "1", "the slow first item was not overtaken")

    def test_unordered_alias_writes_in_completion_order(self):
        proc = run(["unordered", "-j", "2", "--task", "sleep"], input=b"1.0\n0\n0.01\n0\n")
        self.assertStatus(proc, 0)
        out = lines(proc.stdout)
        self.assertEqual(sorted(out), ["0", "0", "0.01", "1.0"])
        self.assertNotEqual(out[0], "1.0", "the slow first item was not overtaken")

    def test_imap_unordered_json(self):
        proc = run(["imap-unordered", "-j", "2", "--json", "--task", "sleep"], input=b"1.0\n0\n0.01\n0\n")
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual(sorted(r["seq"] for r in records), [1, 2, 3, 4])
        self.assertNotEqual(records[0]["seq"], 1)
        for r in records:
            self.assertEqual(r["input"], "1.0 0 0.01 0".split()[r["seq"] - 1])


class StreamingTests(E2ETestCase):
    def check_first_result_before_input_closed(self, args, binary=None):
        proc = self.start(args, binary=binary)
        reader = PipeReader(proc.stdout)
        proc.stdin.write(b"first\n")
        self.assertEqual(reader.readline(timeout=30), b"first\n")
        proc.stdin.write(b"second\n")
        self.assertEqual(reader.readline(timeout=30), b"second\n")
        proc.stdin.write(b"third\n")
        proc.stdin.close()
        self.assertEqual(reader.read_rest(timeout=30), b"third\n")
        self.assertEqual(proc.wait(timeout=30), 0, self.stderr_of(proc))

    def test_imap_task_streams(self):
        self.check_first_result_before_input_closed(["imap", "-j", "2", "--task", "identity"])

    def test_imap_command_streams(self):
        self.check_first_result_before_input_closed(["imap", "-j", "2", "--", "echo"])

    def test_imap_unordered_streams(self):
        self.check_first_result_before_input_closed(["imap-unordered", "-j", "2", "--task", "identity"])

    def test_imap_json_streams(self):
        proc = self.start(["imap", "-j", "2", "--json", "--task", "identity"])
        reader = PipeReader(proc.stdout)
        proc.stdin.write(b"first\n")
        record = json.loads(reader.readline(timeout=30))
        self.assertEqual(record["input"], "first")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_imap_streams_to_a_file(self):
        out_path = self.path("out")
        with open(out_path, "wb") as out:
            proc = self.start(["imap", "-j", "2", "--task", "identity"], stdout=out)

        def content():
            with open(out_path, "rb") as f:
                return f.read()

        proc.stdin.write(b"first\n")
        wait_for(lambda: content() == b"first\n", message=f"result not flushed to the file: {content()!r}")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertEqual(content(), b"first\n")

    def check_result_while_other_task_runs(self, mode, items, first):
        proc = self.start([mode, "-j", "2", "--task", "sleep"])
        proc.stdin.write(items)
        proc.stdin.close()
        reader = PipeReader(proc.stdout)
        self.assertEqual(reader.readline(timeout=30), first)
        self.assertIsNone(proc.poll())
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("ppool did not stop on SIGTERM")

    def test_imap_result_written_while_later_task_runs(self):
        self.check_result_while_other_task_runs("imap", b"0\n300\n", b"0\n")

    def test_imap_unordered_result_overtakes_running_task(self):
        self.check_result_while_other_task_runs("imap-unordered", b"300\n0\n", b"0\n")


if __name__ == "__main__":
    unittest.main()
