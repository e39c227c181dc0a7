"""Halting and pacing as GNU parallel has them (SPEC 3c): --halt, --delay,
--load, --memfree and --timeout N%, run side by side with Debian's
`parallel` where the output is deterministic (-j1). Waiting is on events:
files a task leaves, lines on stderr, reads of a FIFO standing in for the
machine's load."""

import errno
import os
import subprocess
import sys
import threading
import time
import unittest

from harness import PARALLEL, E2ETestCase, alive, assert_gone, gnu_parallel as parallel, read_pid, run, wait_for

SEQ10 = "".join(f"{i}\n" for i in range(1, 11)).encode()


class FakeProcFile:
    """A FIFO that ppool reads instead of /proc/loadavg or /proc/meminfo: each
    read is an event the test sees, and the test says what it reads."""

    def __init__(self, path, text):
        self.path = path
        self.text = text
        self.reads = 0
        self.stopped = False
        os.mkfifo(path)
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                # No reader yet: look again soon (the test's own waits are bounded).
                threading.Event().wait(0.005)
                continue
            with self.cond:
                text = self.text
            # A reader is there: the few bytes fit the pipe at once.
            os.set_blocking(fd, True)
            try:
                os.write(fd, text.encode())
            except BrokenPipeError:
                pass
            os.close(fd)
            with self.cond:
                self.reads += 1
                self.cond.notify_all()

    def set(self, text):
        with self.cond:
            self.text = text

    def wait_reads(self, n, timeout=60):
        with self.cond:
            if not self.cond.wait_for(lambda: self.reads >= n, timeout):
                raise AssertionError(f"ppool read {self.path} {self.reads} times, not {n}, within {timeout}s")
            return self.reads

    def stop(self):
        self.stopped = True
        self.thread.join(timeout=10)


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class HaltAsGnuTests(E2ETestCase):
    def same_as_gnu(self, halt, command, status):
        """Runs `command` over 1..10 with -j1 and --halt `halt` in ppool and GNU
        parallel: the same tasks run, the same output; ppool exits `status`."""
        theirs = parallel(["-j1", "--halt", halt, command], input=SEQ10)
        ours = run(["imap", "-j1", "--halt", halt, command], input=SEQ10)
        self.assertStatus(ours, status)
        self.assertEqual(ours.stdout, theirs.stdout, (halt, theirs.stderr))
        return ours

    def test_soon_fail_2_stops_at_the_second_failure(self):
        ours = self.same_as_gnu("soon,fail=2", "echo {}; test {} -lt 3 -o {} -gt 4", 1)
        self.assertEqual(ours.stdout, b"1\n2\n3\n4\n")
        self.assertEqual(ours.stderr.count(b"failed"), 2, ours.stderr)

    def test_now_fail_1_is_fail_fast(self):
        ours = self.same_as_gnu("now,fail=1", "echo {}; test {} -lt 3", 1)
        self.assertEqual(ours.stdout, b"1\n2\n3\n")
        fail_fast = run(["imap", "-j1", "--fail-fast", "echo {}; test {} -lt 3"], input=SEQ10)
        self.assertStatus(fail_fast, 1)
        self.assertEqual(fail_fast.stdout, ours.stdout)

    def test_success_halts_with_status_0_when_nothing_failed(self):
        ours = self.same_as_gnu("now,success=3", "echo {}", 0)
        self.assertEqual(ours.stdout, b"1\n2\n3\n")
        # The failures before the successes still make the status 1.
        self.same_as_gnu("soon,success=2", "echo {}; test {} -gt 5", 1)

    def test_done_counts_either(self):
        ours = self.same_as_gnu("soon,done=4", "echo {}; test {} -ne 2", 1)
        self.assertEqual(ours.stdout, b"1\n2\n3\n4\n")

    def test_percentages_of_all_the_items(self):
        # 25% of 10 is reached at the third failure, 20% at the second.
        self.assertEqual(self.same_as_gnu("soon,fail=25%", "echo {}; exit 1", 1).stdout, b"1\n2\n3\n")
        self.assertEqual(self.same_as_gnu("now,done=30%", "echo {}", 0).stdout, b"1\n2\n3\n")

    def test_gnu_short_forms(self):
        for halt, status in (("0", 1), ("1", 1), ("2", 1), ("-1", 1), ("-2", 1), ("20%", 1)):
            with self.subTest(halt=halt):
                self.same_as_gnu(halt, "echo {}; test {} -gt 5 -o {} -eq 2", status)

    def test_unordered_and_map_modes(self):
        out = run(["imap-unordered", "-j1", "--halt", "soon,fail=2", "echo {}; test {} -lt 3 -o {} -gt 4"],
                  input=SEQ10)
        self.assertStatus(out, 1)
        self.assertEqual(sorted(out.stdout.split()), [b"1", b"2", b"3", b"4"])
        ok = run(["map", "-j1", "--halt", "now,success=2", "echo {}"], input=SEQ10)
        self.assertOk(ok, "1\n2\n")


class HaltRunningTasksTests(E2ETestCase):
    def test_now_stops_the_running_tasks(self):
        started = self.path("hang.pid")
        hang = f"echo $$ > {started}.tmp; mv {started}.tmp {started}; exec sleep 600"
        fail = f"while [ ! -e {started} ]; do sleep 0.01; done; exit 1"
        script = self.write("task.sh", f'if [ "$1" = hang ]; then {hang}; else {fail}; fi\n')
        self.kill_on_cleanup(started)
        out = run(["imap", "-j2", "--halt", "now,fail=1", "sh", script, ":::", "hang", "fail"], timeout=60)
        self.assertStatus(out, 1)
        assert_gone([read_pid(started)])

    def test_soon_waits_for_the_running_tasks_and_starts_no_new_one(self):
        go = self.path("go")
        started = self.path("slow-started")
        script = self.write("task.sh", f"""case "$1" in
slow) touch {started}; while [ ! -e {go} ]; do sleep 0.01; done; echo slow;;
fail) while [ ! -e {started} ]; do sleep 0.01; done; exit 1;;
*) touch {self.tmp}/ran-"$1"; echo "$1";;
esac
""")
        # Unordered: the failure is reported as it comes, not after the slow task.
        proc = self.start(["imap-unordered", "-j2", "--halt", "soon,fail=1", "sh", script, ":::", "slow", "fail", "c",
                           "d"],
                          stdin=subprocess.DEVNULL)
        # The failure is reported while the slow task still runs, and ppool waits for it.
        wait_for(lambda: b"failed" in self.stderr_of(proc), timeout=60)
        self.assertIsNone(proc.poll())
        self.assertTrue(alive(proc.pid))
        with open(go, "w"):
            pass
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(out, b"slow\n")
        self.assertFalse([name for name in os.listdir(self.tmp) if name.startswith("ran-")])


class DelayTests(E2ETestCase):
    def test_starts_are_at_least_the_delay_apart(self):
        for delay, seconds, mode in (("0.3", 0.3, "imap"), ("0.25s", 0.25, "imap-unordered"), ("0.2", 0.2, "map")):
            with self.subTest(delay=delay, mode=mode):
                directory = self.path(f"starts-{mode}")
                os.mkdir(directory)
                # Each task notes when it started.
                before = time.time()
                out = run([mode, "-j4", "--delay", delay, f"date +%s.%N > {directory}/{{}}; echo {{}}",
                           ":::", "a", "b", "c", "d", "e"])
                self.assertOk(out, "a\nb\nc\nd\ne\n" if mode != "imap-unordered" else None)
                starts = []
                for name in os.listdir(directory):
                    with open(os.path.join(directory, name)) as f:
                        starts.append(float(f.read()))
                starts.sort()
                self.assertEqual(len(starts), 5)
                # A lower bound that no load can break: ppool hands out its k-th task
                # (from 0) k delays after its first, which is after `before`, and a
                # task starts after it is handed out. Without --delay all five start at once.
                for k, start in enumerate(starts):
                    self.assertGreaterEqual(start - before, k * seconds, starts)

    def test_gnu_parallel_takes_the_same_spelling(self):
        if not PARALLEL:
            self.skipTest("GNU parallel is not installed")
        theirs = parallel(["-k", "--delay", "0.1s", "echo", ":::", "a", "b"])
        ours = run(["imap", "--delay", "0.1s", "echo", ":::", "a", "b"])
        self.assertOk(ours, theirs.stdout)


class LoadAndMemoryTests(E2ETestCase):
    def paced_run(self, option, value, variable, high, low):
        """Runs two tasks with `option value` while a FIFO standing for the
        machine says `high`: nothing starts however often ppool looks; once
        it says `low`, both run."""
        fake = FakeProcFile(self.path("proc"), high)
        self.addCleanup(fake.stop)
        env = dict(os.environ, **{variable: fake.path})
        proc = self.start(["imap", "-j2", option, value, f"touch {self.tmp}/ran-{{}}; echo {{}}", ":::", "a", "b"],
                          stdin=subprocess.DEVNULL, env=env)
        fake.wait_reads(5)
        # Every look so far said "high": no task was handed out.
        self.assertEqual([name for name in os.listdir(self.tmp) if name.startswith("ran-")], [])
        self.assertIsNone(proc.poll())
        fake.set(low)
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, self.stderr_of(proc))
        self.assertEqual(out, b"a\nb\n")

    def test_no_start_while_the_load_is_above_max(self):
        self.paced_run("--load", "2", "PPOOL_TEST_LOADAVG", "9.50 9.00 8.00 3/400 1234\n",
                       "0.50 1.00 1.00 1/400 1234\n")

    def test_load_as_a_percentage_of_the_cpus(self):
        cpus = len(os.sched_getaffinity(0))
        self.paced_run("--load", "100%", "PPOOL_TEST_LOADAVG", f"{cpus + 1}.00 1 1 1/1 1\n", f"{cpus}.00 1 1 1/1 1\n")

    def test_no_start_while_free_memory_is_below_size(self):
        self.paced_run("--memfree", "1G", "PPOOL_TEST_MEMINFO", "MemTotal: 9000000 kB\nMemAvailable: 500000 kB\n",
                       "MemTotal: 9000000 kB\nMemAvailable: 2000000 kB\n")

    def test_the_real_machine(self):
        # Surely below: the tasks run.
        self.assertOk(run(["imap", "--load", "100000", "--memfree", "1k", "echo", ":::", "a"]), "a\n")


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class TimeoutPercentTests(E2ETestCase):
    ITEMS = b"0.2\n0.2\n0.2\n0.2\n600\n"

    def test_a_hanging_task_is_stopped_at_a_multiple_of_the_median(self):
        # The median of the quick ones is about 0.2s: 1000% stops the last at about 2s, not 600.
        ours = run(["imap", "-j1", "--timeout", "1000%", "sleep {}; echo {}"], input=self.ITEMS, timeout=120)
        self.assertStatus(ours, 1)
        self.assertIn(b"task 5 (600) failed: timed out after", ours.stderr)
        self.assertEqual(ours.stderr.count(b"failed"), 1, ours.stderr)
        theirs = parallel(["-k", "-j1", "--timeout", "1000%", "sleep {}; echo {}"], input=self.ITEMS)
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertEqual(ours.stdout, b"0.2\n" * 4)

    def test_a_registered_task_too(self):
        ours = run(["imap", "-j1", "--timeout", "1000%", "--task", "sleep", "--json"], input=self.ITEMS, timeout=120)
        self.assertStatus(ours, 1)
        statuses = [line.split(b'"status":"')[1].split(b'"')[0] for line in ours.stdout.splitlines()]
        self.assertEqual(statuses, [b"ok"] * 4 + [b"timeout"])

    def test_none_before_three_tasks_succeeded(self):
        # Two quick tasks are no median: the third, slower, runs to its end.
        ours = run(["imap", "-j1", "--timeout", "150%", "sleep {}; echo {}"], input=b"0.05\n0.05\n0.6\n")
        self.assertOk(ours, "0.05\n0.05\n0.6\n")


class BadInputTests(E2ETestCase):
    def test_one_line_and_status_2(self):
        for args in (["--halt", "now,fial=1"], ["--halt", "later,fail=1"], ["--halt", "now,fail=0"],
                     ["--halt", "now,fail=101%"], ["--load", "abc"], ["--load", "-1"], ["--memfree", "12Q"],
                     ["--memfree", "0"], ["--delay", "-1"], ["--delay", "1x"], ["--timeout", "abc%"],
                     ["--timeout", "0%"]):
            with self.subTest(args=args):
                out = run(["imap"] + args + ["echo", ":::", "a"])
                self.assertUsageError(out)
                self.assertIn(args[0].encode(), out.stderr)

    def test_gnu_long_spelling_names_the_ppool_one(self):
        out = run(["imap", "--halt-on-error", "2", "echo", ":::", "a"])
        self.assertUsageError(out)
        self.assertIn(b"--halt now,fail=1", out.stderr)


if __name__ == "__main__":
    unittest.main()
