"""Tasks that attack their own worker: close or scribble on its stdout or on
its pipes to ppool. The item fails (or, where the worker survives, succeeds),
a fresh worker takes over, and the run finishes."""

import unittest

from harness import E2ETestCase, json_lines, testing


class WorkerFaultTests(E2ETestCase):
    def run_fault(self, task):
        # Only the item "bad" attacks its worker; the others must come through.
        return testing(["imap", "-j", "2", "--json", "--task", task], input=b"1\n2\nbad\n4\n5\n6\n", timeout=60)

    def check_only_bad_lost(self, proc):
        self.assertStatus(proc, 1)
        records = json_lines(proc.stdout)
        self.assertEqual([r["seq"] for r in records], [1, 2, 3, 4, 5, 6])
        for r in records:
            if r["input"] == "bad":
                self.assertEqual(r["status"], "worker_lost", r)
            else:
                self.assertEqual(r["status"], "ok", r)
                self.assertEqual(r["output"], r["input"])
        return records

    def test_closed_stdout_does_not_hurt(self):
        proc = testing(["imap", "-j", "2", "--task", "close_stdout"], input=b"a\nb\nc\nd\n", timeout=60)
        self.assertOk(proc, "a\nb\nc\nd\n")

    def test_junk_on_stdout_never_reaches_the_results(self):
        proc = testing(["imap", "-j", "2", "--task", "scribble_stdout"], input=b"a\nb\n", timeout=60)
        self.assertOk(proc, "a\nb\n")
        self.assertIn(b"junk", proc.stderr)

    def test_junk_on_the_pipe_loses_the_worker_not_the_run(self):
        records = self.check_only_bad_lost(self.run_fault("scribble_protocol"))
        bad = next(r for r in records if r["input"] == "bad")
        self.assertIn("corrupt", bad["error"])

    def test_closed_pipes_lose_the_worker_not_the_run(self):
        self.check_only_bad_lost(self.run_fault("close_protocol"))


if __name__ == "__main__":
    unittest.main()
