"""Faults: timeouts, dying workers, initializers, recycling, --fail-fast,
signals to ppool and a closed stdout. No process started by ppool may outlive it."""

import json
import os
import re
import resource
import signal
import subprocess
import time
import unittest

from harness import (PPOOL, PPOOL_TESTING, SANITIZED, E2ETestCase, PipeReader, assert_gone, assert_session_ends, descendants_of,
                     in_sleep, json_lines, kill_quietly, lines, parent_of, read_pid, run, testing, wait_for)

# Starts a background sleep in the task's process group, records its pid in the
# file named by the item, and waits for it.
BACKGROUND = ["sh", "-c", 'sleep 300 & echo $! > "$1"; wait', "sh", "{}"]
BACKGROUND_IGNORING_TERM = ["sh", "-c", 'trap "" TERM; sleep 300 & echo $! > "$1"; wait', "sh", "{}"]


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


class TimeoutTests(E2ETestCase):
    def check_group_killed(self, command):
        pidfile = self.path("bg.pid")
        self.kill_on_cleanup(pidfile)
        start = time.monotonic()
        proc = run(["imap", "-j", "1", "--timeout", "1.5", "--"] + command, input=f"{pidfile}\n".encode(),
                   timeout=40)
        elapsed = time.monotonic() - start
        pid = read_pid(pidfile)
        self.assertIsNotNone(pid, "the task did not start" + repr(proc.stderr))
        self.assertStatus(proc, 1)
        self.assertLess(elapsed, 40)
        self.assertRegex(proc.stderr.decode(), r"(?m)^ppool: task 1 \(.*bg\.pid\) failed: timed out after [0-9.]+s$")
        assert_gone([pid])

    def test_timeout_kills_the_whole_process_group(self):
        self.check_group_killed(BACKGROUND)

    def test_timeout_kills_a_group_that_ignores_sigterm(self):
        self.check_group_killed(BACKGROUND_IGNORING_TERM)

    def test_other_items_complete(self):
        start = time.monotonic()
        proc = run(["imap", "-j", "2", "--json", "--timeout", "1", "--", "sleep"], input=b"0.1\n300\n0.2\n0\n")
        self.assertLess(time.monotonic() - start, 40)
        self.assertStatus(proc, 1)
        self.assertEqual([r["status"] for r in json_lines(proc.stdout)], ["ok", "timeout", "ok", "ok"])

    def test_registered_task_timeout_replaces_worker(self):
        start = time.monotonic()
        proc = run(["imap", "-j", "1", "--timeout", "0.5", "--task", "sleep"], input=b"300\n0.1\n0\n")
        self.assertLess(time.monotonic() - start, 40)
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"0.1\n0\n")
        self.assertRegex(proc.stderr.decode(), r"(?m)^ppool: task 1 \(300\) failed: timed out after [0-9.]+s$")

    def test_registered_task_timeout_names_the_item_inside_a_chunk(self):
        # A worker sends a registered task's results in batches: the item that
        # hangs behind quick ones in its chunk is the one timed out, and the
        # quick ones before it are not lost with the worker.
        items = b"0.01\n" * 5 + b"300\n" + b"0.01\n" * 3
        proc = run(["imap", "-j", "1", "-c", "20", "--json", "--timeout", "1", "--task", "sleep"], input=items,
                   timeout=60)
        self.assertStatus(proc, 1)
        records = json_lines(proc.stdout)
        self.assertEqual([r["status"] for r in records], ["ok"] * 5 + ["timeout"] + ["ok"] * 3)
        self.assertEqual(records[5]["input"], "300")
        self.assertEqual(records[5]["error"], "timed out after 1s")

    def test_registered_task_timeout_kills_the_worker(self):
        record = self.path("workers")
        proc = testing(["imap", "-j", "1", "--timeout", "0.5", "--init-task", "record_init",
                        "--initargs", record, "--task", "sleep"], input=b"300\n0\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"0\n")
        pids = [int(p) for p in read_lines(record)]
        self.assertEqual(len(pids), 2, "one worker, then one replacement")
        self.assertNotEqual(pids[0], pids[1])
        assert_gone(pids)


class WorkerDeathTests(E2ETestCase):
    CASES = [("crash", 11, "worker died: signal 11 (SIGSEGV)"),
             ("abort", 6, "worker died: signal 6 (SIGABRT)"),
             ("exit", None, "worker died: exit status 3")]

    def test_text_reasons(self):
        for task, _, reason in self.CASES:
            with self.subTest(task=task):
                proc = testing(["imap", "-j", "1", "--task", task], input=b"a\nb\nc\n", timeout=60)
                self.assertStatus(proc, 1)
                err = proc.stderr.decode().splitlines()
                for seq, item in ((1, "a"), (2, "b"), (3, "c")):
                    self.assertIn(f"ppool: task {seq} ({item}) failed: {reason}", err)

    def test_json_worker_lost(self):
        for task, sig, _ in self.CASES:
            with self.subTest(task=task):
                proc = testing(["imap", "-j", "2", "--json", "--task", task], input=b"a\nb\nc\nd\n", timeout=60)
                self.assertStatus(proc, 1)
                records = json_lines(proc.stdout)
                self.assertEqual([r["seq"] for r in records], [1, 2, 3, 4])
                for r in records:
                    self.assertJsonRecord(r)
                    self.assertEqual(r["status"], "worker_lost")
                    self.assertIs(r["ok"], False)
                    if sig is not None:
                        self.assertEqual(r["signal"], sig)

    def test_a_command_does_not_outlive_its_worker_killed_by_a_third_party(self):
        # The command records its worker (its parent) and waits on a child of
        # its own, in its process group; then the worker gets SIGKILL.
        record = self.path("worker")
        script = f'echo $PPID > {record}.new; mv {record}.new {record}; sleep 300; echo done'
        proc = self.start(["imap", "-j", "1", "--", "sh", "-c", script])
        self.addCleanup(assert_session_ends, proc.pid)
        proc.stdin.write(b"x\n")
        proc.stdin.flush()
        worker = wait_for(lambda: read_pid(record))
        commands = wait_for(lambda: [p for p in descendants_of(worker) if in_sleep(p)])
        os.kill(worker, signal.SIGKILL)
        assert_gone(commands + descendants_of(worker), timeout=15)
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=30), 1, self.stderr_of(proc))
        self.assertIn(b"task 1 (x) failed: worker died: signal 9 (SIGKILL)", self.stderr_of(proc))

    def test_killed_worker_fails_its_item_and_is_replaced(self):
        proc = self.start(["imap", "-j", "1", "--json", "--task", "sleep"])
        proc.stdin.write(b"300\n0\n")
        proc.stdin.close()
        worker = wait_for(lambda: [p for p in descendants_of(proc.pid) if in_sleep(p)],
                          message="no worker is running the sleep task")[0]
        os.kill(worker, signal.SIGKILL)
        proc.wait(timeout=30)
        out = PipeReader(proc.stdout).read_rest()
        self.assertEqual(proc.returncode, 1, self.stderr_of(proc))
        lost, ok = json_lines(out)
        self.assertEqual(lost["status"], "worker_lost")
        self.assertEqual(lost["signal"], 9)
        self.assertEqual(ok["status"], "ok")
        self.assertEqual(ok["output"].rstrip("\n"), "0")

    def test_item_queued_behind_a_killed_workers_command_still_runs(self):
        # Quick tasks first: the worker may then get the next item queued
        # behind the one it runs, so the item after the long sleep may wait at
        # the worker that is killed. Queued or not, it never started there: it
        # runs on the replacement, and no item is lost either way.
        proc = self.start(["imap", "-j", "1", "--json", "--", "sleep"])
        proc.stdin.write(b"0\n0\n0\n300\n0\n0\n")
        proc.stdin.close()
        command = wait_for(lambda: [p for p in descendants_of(proc.pid) if in_sleep(p)],
                           message="no command is running the sleep")[0]
        worker = parent_of(command)
        os.kill(worker, signal.SIGKILL)
        proc.wait(timeout=30)
        out = PipeReader(proc.stdout).read_rest()
        self.assertEqual(proc.returncode, 1, self.stderr_of(proc))
        results = json_lines(out)
        self.assertEqual([r["seq"] for r in results], [1, 2, 3, 4, 5, 6])
        self.assertEqual([r["status"] for r in results], ["ok", "ok", "ok", "worker_lost", "ok", "ok"])
        assert_gone([command], timeout=15)


class InitializerTests(E2ETestCase):
    INIT_FAILED = re.compile(r"^ppool: initializer failed in worker \d+: .+$")

    def check_init_failure(self, proc, text=None):
        self.assertStatus(proc, 2)
        matching = [line for line in proc.stderr.decode().splitlines() if self.INIT_FAILED.match(line)]
        self.assertTrue(matching, proc.stderr)
        if text is not None:
            self.assertIn(text, matching[0])

    def test_failing_shell_initializer(self):
        count = self.path("count")
        proc = run(["imap", "-j", "2", "--initializer", f"echo x >> {count}; exit 3", "--", "echo"],
                   input=b"a\nb\nc\nd\n", timeout=30)
        self.check_init_failure(proc)
        self.assertLess(len(read_lines(count)), 10, "the failing worker was respawned again and again")

    def test_failing_registered_initializer(self):
        proc = testing(["imap", "-j", "2", "--init-task", "fail_init", "--task", "identity"],
                       input=b"a\nb\n", timeout=30)
        self.check_init_failure(proc, "init failed on purpose")

    def test_initializer_failing_in_one_worker(self):
        proc = run(["imap", "-j", "2", "--initializer", 'test "$PPOOL_WORKER" != 1',
                    "--", "sh", "-c", 'sleep 0.3; echo "$1"', "sh"], input=b"a\nb\nc\nd\n", timeout=30)
        self.check_init_failure(proc)

    def test_failing_initializer_in_map_writes_nothing(self):
        proc = run(["map", "-j", "2", "--initializer", "false", "--", "echo"], input=b"a\nb\n", timeout=30)
        self.check_init_failure(proc)
        self.assertEqual(proc.stdout, b"")

    def test_initializer_output_does_not_break_json(self):
        proc = run(["map", "-j", "2", "--json", "--initializer", "echo init-out; echo init-err >&2",
                    "--task", "upper"], input=b"a\nb\n")
        self.assertStatus(proc, 0)
        records = json.loads(proc.stdout)
        self.assertEqual([r["output"].rstrip("\n") for r in records], ["A", "B"])
        proc = run(["imap", "-j", "2", "--json", "--initializer", "echo init-out", "--", "echo"], input=b"a\nb\n")
        self.assertStatus(proc, 0)
        self.assertEqual([r["output"] for r in json_lines(proc.stdout)], ["a\n", "b\n"])

    def test_initializer_runs_once_per_worker(self):
        log = self.path("init.log")
        items = "".join(f"{i}\n" for i in range(8)).encode()
        proc = run(["imap", "-j", "2", "--initializer", f'echo "$PPOOL_WORKER" >> {log}',
                    "--", "sh", "-c", 'sleep 0.2; echo "$1"', "sh"], input=items)
        self.assertOk(proc, items)
        self.assertEqual(sorted(read_lines(log)), ["0", "1"])

    def test_initializer_runs_before_first_task(self):
        proc = run(["imap", "-j", "2", "--initializer", f'touch "{self.tmp}/init-$PPOOL_WORKER"',
                    "--", "sh", "-c", 'test -e "$0/init-$PPOOL_WORKER" && echo "$1"', self.tmp],
                   input=b"a\nb\nc\nd\ne\nf\n")
        self.assertOk(proc, "a\nb\nc\nd\ne\nf\n")

    def test_registered_initializer_runs_in_the_workers(self):
        record = self.path("workers")
        proc = testing(["imap", "-j", "2", "--init-task", "record_init", "--initargs", record, "--task", "pid"],
                       input="".join(f"{i}\n" for i in range(20)).encode())
        self.assertStatus(proc, 0)
        init_pids = read_lines(record)
        task_pids = set(lines(proc.stdout))
        self.assertEqual(len(init_pids), len(set(init_pids)), "initializer ran twice in one worker")
        self.assertLessEqual(len(init_pids), 2)
        self.assertTrue(task_pids <= set(init_pids), (task_pids, init_pids))


class RecyclingTests(E2ETestCase):
    def pids(self, extra, count=6):
        proc = testing(["imap", "-j", "1", "--task", "pid"] + extra,
                       input="".join(f"{i}\n" for i in range(count)).encode())
        self.assertStatus(proc, 0)
        result = [int(p) for p in lines(proc.stdout)]
        self.assertEqual(len(result), count)
        return result

    def test_without_limit_one_worker_does_everything(self):
        pids = self.pids([])
        self.assertEqual(len(set(pids)), 1)
        assert_gone(pids)

    def test_max_tasks_per_worker_two(self):
        pids = self.pids(["--max-tasks-per-worker", "2"])
        self.assertEqual(pids[0], pids[1])
        self.assertEqual(pids[2], pids[3])
        self.assertEqual(pids[4], pids[5])
        self.assertEqual(len({pids[0], pids[2], pids[4]}), 3, pids)
        assert_gone(pids)

    def test_max_tasks_per_worker_one(self):
        pids = self.pids(["--max-tasks-per-worker", "1"], count=5)
        self.assertEqual(len(set(pids)), 5, pids)

    def test_recycled_workers_run_initializer(self):
        record = self.path("workers")
        pids = self.pids(["--max-tasks-per-worker", "2", "--init-task", "record_init", "--initargs", record])
        recorded = [int(p) for p in read_lines(record)]
        # A replacement for the last recycled worker may or may not be started.
        self.assertEqual(recorded[:3], [pids[0], pids[2], pids[4]])
        self.assertLessEqual(len(recorded), 4)


class FailFastTests(E2ETestCase):
    def test_stops_handing_out_tasks(self):
        log = self.path("log")
        items = "".join(f"{i}\n" for i in range(1, 51)).encode()
        proc = run(["imap", "-j", "1", "--fail-fast", "--", "sh", "-c",
                    f'echo "$1" >> {log}; test "$1" != 2', "sh"], input=items)
        self.assertStatus(proc, 1)
        ran = read_lines(log)
        self.assertLess(len(ran), 50, "every item ran despite --fail-fast")
        self.assertLessEqual(len(ran), 10)
        self.assertIn("2", ran)

    def test_without_fail_fast_every_item_runs(self):
        log = self.path("log")
        items = "".join(f"{i}\n" for i in range(1, 21)).encode()
        proc = run(["imap", "-j", "1", "--", "sh", "-c", f'echo "$1" >> {log}; test "$1" != 2', "sh"],
                   input=items)
        self.assertStatus(proc, 1)
        self.assertEqual(len(read_lines(log)), 20)

    def test_terminates_running_tasks(self):
        pidfile = self.path("bg.pid")
        script = ('if [ "$1" = fail ]; then i=0; '
                  f'while [ ! -s {pidfile} ] && [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done; exit 1; fi; '
                  'sleep 300 & echo $! > "$1"; wait')
        self.kill_on_cleanup(pidfile)
        start = time.monotonic()
        proc = run(["imap", "-j", "2", "--fail-fast", "--", "sh", "-c", script, "sh"],
                   input=f"{pidfile}\nfail\n".encode(), timeout=30)
        elapsed = time.monotonic() - start
        pid = read_pid(pidfile)
        self.assertIsNotNone(pid)
        self.assertStatus(proc, 1)
        self.assertLess(elapsed, 40, "--fail-fast waited for the running task")
        assert_gone([pid])

    def test_fail_fast_map_writes_nothing(self):
        proc = run(["map", "-j", "2", "--fail-fast", "--", "sh", "-c", 'echo "$1"; test "$1" != 3', "sh"],
                   input="".join(f"{i}\n" for i in range(1, 9)).encode())
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"")


class SignalTests(E2ETestCase):
    def start_background_tasks(self, close_stdin):
        pidfiles = [self.path("bg1.pid"), self.path("bg2.pid")]
        for pidfile in pidfiles:
            self.kill_on_cleanup(pidfile)
        proc = self.start(["imap", "-j", "2", "--"] + BACKGROUND)
        proc.stdin.write("".join(p + "\n" for p in pidfiles).encode())
        if close_stdin:
            proc.stdin.close()
        pids = [wait_for(lambda p=p: read_pid(p), message=f"{p} not written") for p in pidfiles]
        return proc, pids + descendants_of(proc.pid)

    def check_signal(self, sig, close_stdin):
        proc, pids = self.start_background_tasks(close_stdin)
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail(f"ppool did not stop on signal {sig}")
        assert_gone(pids)
        self.assertEqual(proc.returncode, 128 + sig, self.stderr_of(proc))

    def test_sigint_with_input_still_open(self):
        self.check_signal(signal.SIGINT, close_stdin=False)

    def test_sigterm(self):
        self.check_signal(signal.SIGTERM, close_stdin=True)

    def test_sighup(self):
        self.check_signal(signal.SIGHUP, close_stdin=True)

    def start_sleeping_workers(self):
        """ppool with two workers each asleep in a registered task; returns (proc, worker pids)."""
        record = self.path("workers")
        proc = self.start(["imap", "-j", "2", "--init-task", "record_init", "--initargs", record,
                           "--task", "sleep"], binary=PPOOL_TESTING)
        proc.stdin.write(b"300\n300\n")
        proc.stdin.close()
        wait_for(lambda: len(read_lines(record)) == 2 and all(in_sleep(int(p)) for p in read_lines(record)))
        workers = [int(p) for p in read_lines(record)]
        for pid in workers:
            self.addCleanup(kill_quietly, pid)
        return proc, workers

    def test_sigterm_stops_registered_task_workers(self):
        proc, workers = self.start_sleeping_workers()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        assert_gone(workers)
        self.assertEqual(proc.returncode, 143, self.stderr_of(proc))

    def test_sigkill_of_ppool_stops_registered_task_workers(self):
        proc, workers = self.start_sleeping_workers()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert_gone(workers)

    def test_sigkill_of_ppool_leaves_no_process_behind(self):
        proc, pids = self.start_background_tasks(close_stdin=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert_gone(pids)


    def test_sigkill_of_ppool_stops_a_command_that_ignores_sigterm_and_floods_its_output(self):
        # ppool's stdout is not read, so ppool and then the worker block on
        # full pipes; when ppool is killed, the worker's next write fails and
        # the command, which ignores SIGTERM, must still go with it.
        pidfile = self.path("cmd.pid")
        self.kill_on_cleanup(pidfile)
        script = f'trap "" TERM PIPE; echo $$ > {pidfile}; while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'
        proc = self.start(["imap", "--", "sh", "-c", script])
        proc.stdin.write(b"x\n")
        proc.stdin.close()
        pid = wait_for(lambda: read_pid(pidfile))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert_gone([pid])
        assert_session_ends(proc.pid)

    def check_group_signal(self, sig):
        """`kill -SIG -PGID`, as a service manager or a terminal sends it: ppool
        stops its registered-task workers as quietly as on a signal of its own."""
        proc, workers = self.start_sleeping_workers()
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        assert_gone(workers)
        self.assertEqual(proc.returncode, 128 + sig, self.stderr_of(proc))
        self.assertEqual(self.stderr_of(proc), b"")

    def test_sigterm_to_the_process_group_is_quiet(self):
        self.check_group_signal(signal.SIGTERM)

    def test_sigint_to_the_process_group_is_quiet(self):
        self.check_group_signal(signal.SIGINT)

    def test_sighup_to_the_process_group_is_quiet(self):
        self.check_group_signal(signal.SIGHUP)


class RegisteredTaskChildrenTests(E2ETestCase):
    """A registered task runs inside its worker: what it starts (here a child
    that waits forever holding the worker's descriptors) ends with the worker,
    however the worker ends, as the process group of a command does."""

    def start_hanging(self):
        proc = self.start(["imap", "-j", "1", "--task", "orphan"], binary=PPOOL_TESTING, stderr=subprocess.PIPE)
        proc.stdin.write(b"hang\n")
        proc.stdin.close()
        line = PipeReader(proc.stderr).readline()
        return proc, int(line.split()[1])

    def test_child_ends_when_the_run_ends(self):
        proc = self.start(["imap", "-j", "1", "--task", "orphan"], binary=PPOOL_TESTING)
        out, _ = proc.communicate(b"x\n", timeout=60)
        self.assertEqual(proc.returncode, 0, self.stderr_of(proc))
        assert_gone([int(out)])
        assert_session_ends(proc.pid)

    def test_children_end_when_a_recycled_worker_ends(self):
        proc = self.start(["imap", "-j", "1", "--max-tasks-per-worker", "1", "--task", "orphan"],
                          binary=PPOOL_TESTING)
        out, _ = proc.communicate(b"a\nb\nc\n", timeout=60)
        self.assertEqual(proc.returncode, 0, self.stderr_of(proc))
        assert_gone([int(p) for p in out.split()])
        assert_session_ends(proc.pid)

    def test_worker_crash_after_fork_neither_hangs_nor_leaves_the_child(self):
        proc = self.start(["imap", "-j", "1", "--task", "orphan"], binary=PPOOL_TESTING)
        proc.communicate(b"crash\nx\n", timeout=60)
        err = self.stderr_of(proc)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn(b"worker died: signal 11", err)
        assert_session_ends(proc.pid)

    def test_timeout_stops_the_child_with_the_worker(self):
        proc = self.start(["imap", "-j", "1", "--timeout", "1", "--task", "orphan"], binary=PPOOL_TESTING)
        proc.communicate(b"hang\n", timeout=60)
        err = self.stderr_of(proc)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn(b"timed out", err)
        assert_session_ends(proc.pid)

    def test_sigterm_stops_the_child(self):
        proc, child = self.start_hanging()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        self.assertEqual(proc.returncode, 143)
        assert_gone([child])
        assert_session_ends(proc.pid)

    def test_sigkill_of_ppool_stops_the_child(self):
        proc, child = self.start_hanging()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert_gone([child])
        assert_session_ends(proc.pid)


class LimitTests(E2ETestCase):
    """-j beyond what the process's limits hold: ppool says so once and runs
    with the workers that fit; where not even one fits, one line and status 2."""

    def check_capped(self, proc, items, limit_words, most=2):
        self.assertStatus(proc, 0)
        self.assertEqual(sorted(proc.stdout.split()), sorted(str(i).encode() for i in range(1, items + 1)))
        warnings = proc.stderr.decode().splitlines()
        self.assertTrue(warnings, "no warning")
        self.assertLessEqual(len(warnings), most, warnings)
        for line in warnings:
            self.assertTrue(line.startswith("ppool: warning: "), warnings)
        self.assertIn(limit_words, warnings[0])

    def test_open_file_limit_caps_the_workers(self):
        proc = run(["imap-unordered", "-j", "500", "--", "echo"], input=b"".join(b"%d\n" % i for i in range(1, 201)),
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
        # The cap counts what each worker holds with this launcher: no worker
        # beyond it then fails to start for want of a descriptor.
        self.check_capped(proc, 200, "open file limit (ulimit -n 64)", most=1)

    def test_the_cap_counts_a_launchers_descriptors(self):
        # A worker started by a command also holds the pipe of its stderr.
        running = {}
        for launcher in ("fork", "exec"):
            proc = run(["imap-unordered", "-j", "500", "--launcher", launcher, "--", "echo"], input=b"1\n2\n",
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96)))
            self.assertStatus(proc, 0)
            match = re.search(r"running (\d+)$", proc.stderr.decode(), re.M)
            self.assertTrue(match, proc.stderr)
            running[launcher] = int(match.group(1))
        self.assertLess(running["exec"], running["fork"])

    def as_nobody(self, nproc):
        """Arguments that run ppool as user nobody under `ulimit -u nproc`
        (the kernel does not hold root to the process limit)."""
        if os.getuid() != 0:
            self.skipTest("needs root to become another user")
        if os.environ.get("PPOOL_LAUNCHER", "fork") != "fork":
            # The limit counts every process of the user: the run of this file
            # with fork, at the same time, would count against it.
            self.skipTest("the process limit of user nobody is tested with fork")
        return ["prlimit", f"--nproc={nproc}", "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    def test_process_limit_caps_the_workers(self):
        prefix = self.as_nobody(24)
        proc = run(prefix[1:] + [PPOOL, "imap-unordered", "-j", "100", "--", "echo"], binary=prefix[0],
                   input=b"".join(b"%d\n" % i for i in range(1, 301)), timeout=120)
        self.check_capped(proc, 300, "process limit (ulimit -u 24)")

    @unittest.skipIf(SANITIZED, "LeakSanitizer needs a process of its own at exit")
    def test_no_worker_at_all_is_one_line(self):
        prefix = self.as_nobody(1)
        proc = run(prefix[1:] + [PPOOL, "imap", "-j", "4", "--", "echo"], binary=prefix[0], input=b"1\n2\n")
        self.assertStatus(proc, 2)
        self.assertEqual(proc.stdout, b"")
        self.assertRegex(proc.stderr.decode(), r"^ppool: cannot start a worker: .*ulimit -u\)\n$")


class ClosedStdoutTests(E2ETestCase):
    def test_closed_stdout_ends_ppool_quietly(self):
        items = self.write("items", "".join(f"item {i}\n" for i in range(300000)))
        proc = self.start(["imap", "-j", "2", "--task", "identity", "-a", items], stdin=subprocess.DEVNULL)
        reader = PipeReader(proc.stdout)
        self.assertEqual(reader.readline(), b"item 0\n")
        workers = descendants_of(proc.pid)
        proc.stdout.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("ppool kept running after its stdout was closed")
        assert_gone(workers)
        self.assertEqual(proc.returncode, 141, self.stderr_of(proc))
        self.assertEqual(self.stderr_of(proc), b"", "a closed stdout should end ppool quietly")

    def test_closed_stdout_stops_running_commands(self):
        pidfile = self.path("bg.pid")
        self.kill_on_cleanup(pidfile)
        proc = self.start(["imap-unordered", "-j", "2", "--", "sh", "-c",
                           f'if [ "$1" = bg ]; then sleep 300 & echo $! > {pidfile}; wait; else echo "$1"; fi',
                           "sh"])
        proc.stdin.write(b"bg\nfirst\n")
        reader = PipeReader(proc.stdout)
        self.assertEqual(reader.readline(), b"first\n")
        pid = wait_for(lambda: read_pid(pidfile))
        proc.stdout.close()
        proc.stdin.write(b"more\n")  # the next result finds stdout closed
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("ppool kept running after its stdout was closed")
        assert_gone([pid])
        self.assertEqual(proc.returncode, 141, self.stderr_of(proc))


if __name__ == "__main__":
    unittest.main()
