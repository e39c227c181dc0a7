"""GNU parallel's forms for the pool's size, halting and pacing, and the
progress line (SPEC 3c), each run side by side with Debian's `parallel` on
the same input where it has the form."""

import os
import re
import subprocess
import sys
import unittest

from harness import PARALLEL, E2ETestCase, gnu_parallel as parallel, run, wait_for
from test_progress import run_with_terminal_stderr

def cpus():
    return len(os.sched_getaffinity(0))


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class JobsTests(E2ETestCase):
    def barrier(self, slots):
        """A command that waits until `slots` tasks have started, then prints its slot:
        it can only finish when that many run at once."""
        directory = self.path(f"barrier-{slots}-{len(os.listdir(self.tmp))}")
        os.mkdir(directory)
        return [f"touch {directory}/{{}}; while [ $(ls {directory} | wc -l) -lt {slots} ]; do sleep 0.01; done; "
                "echo {%}"]

    def test_relative_job_counts_run_as_many_at_once_as_gnu_parallel(self):
        for jobs, slots in (("+1", cpus() + 1), ("-1", max(1, cpus() - 1)), ("200%", 2 * cpus()),
                            ("50%", max(1, cpus() // 2)), ("10%", 1)):
            with self.subTest(jobs=jobs):
                items = [str(i) for i in range(1, slots + 1)]
                ours = run(["imap-unordered", "-j", jobs, "--"] + self.barrier(slots) + [":::"] + items, timeout=60)
                self.assertOk(ours)
                theirs = parallel(["-j", jobs] + self.barrier(slots) + [":::"] + items)
                self.assertEqual(theirs.returncode, 0, theirs.stderr)
                self.assertEqual(sorted(ours.stdout.split()), sorted(theirs.stdout.split()))
                self.assertEqual(sorted(ours.stdout.split()), sorted(str(i).encode() for i in range(1, slots + 1)))

    def test_fewer_than_the_cpus_leaves_no_worker_is_refused_as_gnu_parallel_does(self):
        theirs = parallel(["-j", f"-{cpus()}", "echo", ":::", "1"])
        self.assertNotEqual(theirs.returncode, 0)
        proc = run(["imap", "-j", f"-{cpus()}", "echo", ":::", "1"])
        self.assertUsageError(proc)
        self.assertEqual(proc.stderr, f"ppool: -j -{cpus()} leaves no worker process on {cpus()} CPUs\n".encode())


class ProgressTotalTests(E2ETestCase):
    """The total is on the progress line from the start where it is known."""

    def test_total_of_three_colons_from_the_start(self):
        go = self.path("go")
        proc = self.start(["imap", "-j", "2", "--progress=always", "--", "sh", "-c",
                           f'while [ ! -e {go} ]; do sleep 0.01; done; echo "$0"', "{}", ":::", "a", "b", "c"],
                          stderr=subprocess.PIPE)
        proc.stdin.close()
        line = proc.stderr.readline().decode()
        open(go, "w").close()
        self.assertEqual(proc.wait(timeout=60), 0)
        self.assertRegex(line, r"^ppool: 0/3 done, 0 failed, [0-2] running")

    def test_total_of_a_regular_input_file_from_the_start(self):
        items = self.path("items")
        with open(items, "wb") as f:
            f.write(b"a\nb\n\nd\ne")  # five records: an empty one, and the last without its newline
        go = self.path("go")
        proc = self.start(["imap", "-j", "2", "--progress=always", "-a", items, "--", "sh", "-c",
                           f'while [ ! -e {go} ]; do sleep 0.01; done; echo "$0"', "{}"], stderr=subprocess.PIPE)
        line = proc.stderr.readline().decode()
        open(go, "w").close()
        self.assertEqual(proc.wait(timeout=60), 0)
        self.assertRegex(line, r"^ppool: 0/5 done")
        self.assertIn("ppool: 5/5 done", proc.stderr.read().decode())

    def test_running_never_exceeds_the_workers(self):
        items = b"".join(b"%d\n" % i for i in range(40))
        proc = run(["imap", "-j", "1", "-c", "20", "--progress=always", "--", "sh", "-c", 'sleep 0.01; echo "$0"',
                    "{}"], input=items, timeout=60)
        self.assertOk(proc)
        running = [int(r) for r in re.findall(rb"(\d+) running", proc.stderr)]
        self.assertTrue(running)
        self.assertLessEqual(max(running), 1, proc.stderr)


class BarTests(E2ETestCase):
    def test_bar_on_a_terminal(self):
        status, out, terminal = run_with_terminal_stderr(["imap", "-j", "2", "--bar", "--", "echo", "{}",
                                                          ":::", "a", "b", "c", "d"], b"")
        self.assertEqual(status, 0, terminal)
        self.assertEqual(sorted(out.split()), [b"a", b"b", b"c", b"d"])
        text = terminal.decode()
        self.assertRegex(text, r"\[#{20}\] 100% 4/4 done, 0 failed, 0 running, [0-9.]+/s\x1b\[K\r?\n$")
        self.assertRegex(text, r"^\r\[\.{20}\]   0% 0/4 done")

    def test_bar_and_eta_elsewhere_are_progress_lines(self):
        for option in ("--bar", "--eta"):
            with self.subTest(option=option):
                proc = run(["imap", option, "--", "echo", "{}", ":::", "a", "b"], timeout=60)
                self.assertOk(proc, b"a\nb\n")
                self.assertRegex(proc.stderr.decode(), r"ppool: 2/2 done, 0 failed, 0 running, [0-9.]+/s\n$")

    def test_never_wins_over_bar(self):
        proc = run(["imap", "--bar", "--progress=never", "--", "echo", "{}", ":::", "a"], timeout=60)
        self.assertOk(proc, b"a\n")
        self.assertEqual(proc.stderr, b"")


if __name__ == "__main__":
    unittest.main()
