"""GNU parallel's forms for the pool's size, halting and pacing, and the
progress line (SPEC 3c), each run side by side with Debian's `parallel` on
the same input where it has the form."""

import os
import shutil
import subprocess
import sys
import unittest

from harness import E2ETestCase, run

PARALLEL = shutil.which("parallel")


def parallel(args, input=b"", env=None, timeout=60):
    """GNU parallel with `args`: its citation notice silenced, no ~/.parallel of the user's."""
    proc = subprocess.run([PARALLEL, "--will-cite"] + args, input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=env)
    return proc


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


if __name__ == "__main__":
    unittest.main()
