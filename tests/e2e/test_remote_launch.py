"""Workers on the real engines through --launcher (SPEC 9): every worker is
`ppool worker --stdio` behind a real ssh login to a real sshd on 127.0.0.1, as
the test user of tests/scaleout/sshd.sh, or behind a real `srun` step in a
real Slurm allocation (tests/scaleout/slurm.sh). The results equal a local
run's; a timeout, Ctrl-C, SIGTERM and SIGKILL of ppool leave no process of the
test user behind; a worker whose ssh dies is reported, never waited for.

ctest starts both engines (the fixture scaleout_start) and stops them after.
Where they cannot run (not root, packages missing), the tests skip with the
reason, and the file exits 77, which ctest shows as skipped; with
PPOOL_REQUIRE_SCALEOUT=1 (CI) they fail instead."""

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

from harness import (PPOOL, E2ETestCase, stop, assert_session_ends, assert_gone, cmdline_of, environment_of, in_sleep,
                     json_lines, kill_quietly, parent_of, processes_of, read_pid, run, scaleout,
                     scaleout_unavailable, wait_for)
from test_slurm import SlurmTestCase

# Generous bounds: an ssh login costs up to 0.5 s here, more under load.
SETTLE = 60


def local_environment():
    env = dict(os.environ)
    env.pop("PPOOL_LAUNCHER", None)
    return env


def comparable(args, out):
    """A run's stdout, with what differs between any two runs (JSON timing) taken out."""
    if "--json" not in args:
        return out
    records = json_lines(out)
    for r in records:
        # Which worker took which item depends on which login was quicker;
        # the host differs by design (test_sshlogin.py checks it).
        r.pop("duration_s")
        r.pop("worker")
        r.pop("host")
    return json.dumps(records, sort_keys=True).encode()


class RemoteCopy:
    """The binary under test, copied where another user may run it: the build
    tree's parents may be closed to that user."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="ppool-remote-bin-")
        os.chmod(self.directory, 0o755)
        self.path = os.path.join(self.directory, "ppool")
        shutil.copy2(PPOOL, self.path)
        os.chmod(self.path, 0o755)

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)


class SshTestCase(E2ETestCase):
    """Workers behind `ssh -F CONFIG -T -e none USER@127.0.0.1 PPOOL worker --stdio`."""

    @classmethod
    def setUpClass(cls):
        directory = scaleout("sshd")
        cls.ssh_config = os.path.join(directory, "ssh_config")
        cls.sshd_pidfile = os.path.join(directory, "sshd.pid")
        cls.user = "ppooltest"
        cls.uid = pwd.getpwnam(cls.user).pw_uid
        cls.copy = RemoteCopy()

    @classmethod
    def tearDownClass(cls):
        cls.copy.remove()

    def setUp(self):
        super().setUp()
        # Every remote process of this test carries the mark in its environment:
        # it finds them wherever they were reparented, and no other test's.
        self.mark = f"PPOOL_TEST_MARK=e2e-{uuid.uuid4().hex}"
        self.addCleanup(self.kill_remote_processes)

    def launcher(self, exec_worker=False):
        """The launcher; `exec_worker`: the remote shell execs the worker
        instead of waiting for it, so that the worker is the sshd session's
        child and dies with it (its parent-death signal)."""
        remote = f"{self.mark} {shlex.quote(self.copy.path)} worker --stdio"
        if exec_worker:
            remote = f"exec env {self.mark} {shlex.quote(self.copy.path)} worker --stdio"
        return (f"ssh -F {shlex.quote(self.ssh_config)} -T -e none {self.user}@127.0.0.1 "
                f"{shlex.quote(remote)}")

    def remote_args(self, args, exec_worker=False):
        return args[:1] + ["--launcher", self.launcher(exec_worker)] + args[1:]

    def remote_processes(self):
        """The test user's processes that are this test's: marked ones, and
        those of this sshd's sessions (the session processes themselves)."""
        listener = read_pid(self.sshd_pidfile)
        mark = self.mark.encode()
        result = []
        for pid in processes_of(self.uid):
            if mark in environment_of(pid) or self.descends_from(pid, listener):
                result.append(pid)
        return result

    @staticmethod
    def descends_from(pid, ancestor):
        while pid is not None and pid > 1:
            pid = parent_of(pid)
            if pid == ancestor:
                return True
        return False

    def remote_sleeps(self, seconds):
        """Marked remote `sleep SECONDS` commands."""
        return [p for p in self.remote_processes() if cmdline_of(p) == [b"sleep", str(seconds).encode()]]

    def describe_processes(self, pids):
        return [f"{p}: {b' '.join(cmdline_of(p)).decode(errors='replace')}" for p in pids]

    def assert_no_remote_process(self, timeout=SETTLE):
        """Fails unless the test user has no process of this test within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.remote_processes()
            if not left:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"processes of {self.user} left behind: {self.describe_processes(left)}")
            time.sleep(0.05)

    def kill_remote_processes(self):
        for pid in processes_of(self.uid):
            if self.mark.encode() in environment_of(pid):
                kill_quietly(pid)

    def session_of(self, pid):
        """The sshd process, running as the test user, that serves the session `pid` runs in."""
        while pid is not None and pid > 1:
            command = cmdline_of(pid)
            if command and command[0].startswith(b"sshd:") and os.stat(f"/proc/{pid}").st_uid == self.uid:
                return pid
            pid = parent_of(pid)
        self.fail("no sshd session process above the remote worker")

    def worker_of(self, pid):
        """The remote `ppool worker` process above `pid` (or `pid` itself)."""
        while pid is not None and pid > 1:
            if cmdline_of(pid)[1:3] == [b"worker", b"--stdio"]:
                return pid
            pid = parent_of(pid)
        self.fail("no remote worker above the task")


class SameResultsTests(SshTestCase):
    """What a run gives over ssh is what it gives locally, byte for byte."""

    CASES = [
        (["imap", "-j", "2", "--", "echo", "a{}b"], b"".join(b"%d\n" % i for i in range(1, 21))),
        (["imap", "-j", "2", "printf '%s|' {} {.} {/} {#}; echo"], b"x/y.z\n\xff\n'q' \"d\" $(no)\n"),
        (["imap", "-j", "2", "-c", "100", "--task", "len"], b"".join(b"%d\n" % i for i in range(5000))),
        (["map", "-j", "2", "--task", "upper"], b"a\nb\nc\n"),
        (["imap", "-j", "2", "--json", "--", "sh", "-c", "echo out; echo err >&2; exit $1", "sh"], b"0\n3\n0\n"),
        (["imap-unordered", "-j", "1", "--task", "len"], b"a\nbb\nccc\n"),
    ]

    def test_results_equal_a_local_run(self):
        for args, items in self.CASES:
            with self.subTest(args=args):
                local = run(args, input=items, env=local_environment())
                remote = run(self.remote_args(args), input=items, timeout=SETTLE * 2, env=local_environment())
                self.assertEqual(remote.returncode, local.returncode, remote.stderr)
                self.assertEqual(comparable(args, remote.stdout), comparable(args, local.stdout), remote.stderr)
        self.assert_no_remote_process()

    def test_tasks_run_as_the_remote_user(self):
        proc = run(self.remote_args(["imap", "-j", "2", "--", "sh", "-c", 'echo "$(id -un) $1"', "sh"]),
                   input=b"1\n2\n", timeout=SETTLE * 2, env=local_environment())
        self.assertOk(proc, f"{self.user} 1\n{self.user} 2\n")


def is_sshd_session(pid):
    """Reads the command line once: the process may end between two reads."""
    words = cmdline_of(pid)
    return bool(words) and words[0].startswith(b"sshd:")


class ControlMasterTests(SshTestCase):
    """Every slot's worker over one ssh connection (a ControlMaster): the
    channel of each worker is a session multiplexed on it."""

    def start_master(self):
        directory = tempfile.mkdtemp(prefix="ppool-e2e-mux-")
        self.addCleanup(shutil.rmtree, directory, True)
        socket = os.path.join(directory, "master")
        master = subprocess.Popen(["ssh", "-F", self.ssh_config, "-M", "-N", "-o", "ControlPersist=no", "-S", socket,
                                   f"{self.user}@127.0.0.1"], stdin=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(stop, master)
        check = ["ssh", "-F", self.ssh_config, "-S", socket, "-O", "check", f"{self.user}@127.0.0.1"]
        wait_for(lambda: master.poll() is not None or subprocess.run(check, stderr=subprocess.DEVNULL).returncode == 0,
                 timeout=SETTLE)
        self.assertIsNone(master.poll(), "the ssh master ended")
        return socket

    def mux_args(self, socket, args):
        remote = f"exec env {self.mark} {shlex.quote(self.copy.path)} worker --stdio"
        launcher = (f"ssh -F {shlex.quote(self.ssh_config)} -S {shlex.quote(socket)} -o ControlMaster=no -T -e none "
                    f"{self.user}@127.0.0.1 {shlex.quote(remote)}")
        return args[:1] + ["--launcher", launcher] + args[1:]

    def sshd_sessions(self):
        return [p for p in self.remote_processes() if is_sshd_session(p)]

    def workers_and_tasks(self):
        """The remote processes that are not sshd's own (a process that has
        just ended reads as an empty command line and counts until gone)."""
        return [p for p in self.remote_processes() if not is_sshd_session(p)]

    def test_results_over_one_connection_equal_a_local_run(self):
        socket = self.start_master()
        for args, items in SameResultsTests.CASES:
            with self.subTest(args=args):
                local = run(args, input=items, env=local_environment())
                remote = run(self.mux_args(socket, args), input=items, timeout=SETTLE * 2, env=local_environment())
                self.assertEqual(remote.returncode, local.returncode, remote.stderr)
                self.assertEqual(comparable(args, remote.stdout), comparable(args, local.stdout), remote.stderr)

    def test_one_connection_carries_every_slot_and_sigkill_leaves_no_worker(self):
        socket = self.start_master()
        proc = self.start(self.mux_args(socket, ["imap", "-j", "3", "--", "sleep"]), env=local_environment())
        proc.stdin.write(b"300\n300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: len(self.remote_sleeps(300)) == 3, timeout=SETTLE)
        # One sshd session process serves the master's connection and all its sessions.
        self.assertEqual(len(self.sshd_sessions()), 1, self.describe_processes(self.remote_processes()))
        os.kill(proc.pid, signal.SIGKILL)
        self.assertEqual(proc.wait(timeout=SETTLE), -signal.SIGKILL)
        wait_for(lambda: not self.workers_and_tasks(), timeout=SETTLE,
                 message="remote workers or tasks left behind")
        assert_session_ends(proc.pid, timeout=SETTLE)


class TimeoutTests(SshTestCase):
    def test_a_timeout_kills_a_remote_command(self):
        proc = self.start(self.remote_args(["imap", "-j", "1", "--timeout", "1", "--", "sleep"]),
                          env=local_environment())
        proc.stdin.write(b"300\n")
        sleeper = wait_for(lambda: self.remote_sleeps(300), timeout=SETTLE)[0]
        # The remote sleep ends while the pool goes on (its input is still open).
        assert_gone([sleeper], timeout=SETTLE)
        wait_for(lambda: b"timed out" in self.stderr_of(proc), timeout=SETTLE)
        self.assertIsNone(proc.poll())
        proc.stdin.write(b"0\n")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=SETTLE), 1, self.stderr_of(proc))
        self.assertIn(b"task 1 (300) failed: timed out", self.stderr_of(proc))
        self.assert_no_remote_process()
        assert_session_ends(proc.pid, timeout=SETTLE)

    def check_registered_task_timeout(self, exec_worker, bound=SETTLE):
        proc = self.start(self.remote_args(["imap", "-j", "1", "--timeout", "1", "--task", "sleep"], exec_worker),
                          env=local_environment())
        proc.stdin.write(b"300\n")
        # A registered task runs in the worker itself: that worker is stopped and replaced.
        worker = wait_for(lambda: [p for p in self.remote_processes()
                                   if cmdline_of(p)[1:3] == [b"worker", b"--stdio"] and in_sleep(p)],
                          timeout=SETTLE)[0]
        wait_for(lambda: b"timed out" in self.stderr_of(proc), timeout=SETTLE)
        assert_gone([worker], timeout=bound)
        proc.stdin.write(b"0\n")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=SETTLE), 1, self.stderr_of(proc))
        self.assertEqual(proc.stdout.read(), b"0\n")
        self.assert_no_remote_process()
        assert_session_ends(proc.pid, timeout=SETTLE)

    def test_a_timeout_stops_a_remote_registered_task_exec_worker(self):
        self.check_registered_task_timeout(exec_worker=True)

    # The remote `sh -c` keeps the worker alive: the worker itself sees its channel close, busy in its task.
    def test_a_timeout_stops_a_remote_registered_task(self):
        self.check_registered_task_timeout(exec_worker=False, bound=15)


class StopTests(SshTestCase):
    """However ppool stops, nothing of its run is left on the remote side."""

    def start_sleeps(self):
        proc = self.start(self.remote_args(["imap", "-j", "2", "--", "sleep"]), env=local_environment())
        proc.stdin.write(b"300\n300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: len(self.remote_sleeps(300)) == 2, timeout=SETTLE)
        return proc

    def check_signal(self, signo, status):
        proc = self.start_sleeps()
        os.kill(proc.pid, signo)
        self.assertEqual(proc.wait(timeout=SETTLE), status, self.stderr_of(proc))
        self.assert_no_remote_process()
        assert_session_ends(proc.pid, timeout=SETTLE)

    def check_sigkill_in_registered_task(self, exec_worker, bound=SETTLE):
        proc = self.start(self.remote_args(["imap", "-j", "2", "--task", "sleep"], exec_worker),
                          env=local_environment())
        proc.stdin.write(b"300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: len([p for p in self.remote_processes() if in_sleep(p)]) == 2, timeout=SETTLE)
        os.kill(proc.pid, signal.SIGKILL)
        self.assertEqual(proc.wait(timeout=SETTLE), -signal.SIGKILL)
        self.assert_no_remote_process(timeout=bound)
        assert_session_ends(proc.pid, timeout=SETTLE)

    def test_sigint(self):
        self.check_signal(signal.SIGINT, 130)

    def test_sigterm(self):
        self.check_signal(signal.SIGTERM, 143)

    def test_sigkill(self):
        # The ssh clients lose their channel with ppool: the remote workers see
        # the end of their input and stop their tasks.
        self.check_signal(signal.SIGKILL, -signal.SIGKILL)

    # A worker busy in a registered task sees its channel end, and ssh then has nothing to wait for.
    def test_sigkill_in_a_registered_task(self):
        self.check_sigkill_in_registered_task(exec_worker=True, bound=15)


class LostWorkerTests(SshTestCase):
    """A worker whose ssh dies mid-run is reported and replaced; the run ends."""

    def run_and_lose(self, victim_of):
        proc = self.start(self.remote_args(["imap", "-j", "2", "--", "sh", "-c", 'sleep "$1"; echo "done $1"',
                                            "sh"]), env=local_environment())
        proc.stdin.write(b"300\n")
        proc.stdin.flush()
        sleeper = wait_for(lambda: self.remote_sleeps(300), timeout=SETTLE)[0]
        kill_quietly(victim_of(sleeper))
        wait_for(lambda: b"task 1 (300) failed" in self.stderr_of(proc), timeout=SETTLE)
        # The pool goes on with a replacement.
        proc.stdin.write(b"0.1\n0.2\n")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=SETTLE), 1, self.stderr_of(proc))
        self.assertEqual(proc.stdout.read(), b"done 0.1\ndone 0.2\n")
        self.assertRegex(self.stderr_of(proc).decode(errors="replace"), r"task 1 \(300\) failed: worker died")
        assert_session_ends(proc.pid, timeout=SETTLE)
        return proc

    def test_the_sshd_session_killed(self):
        self.run_and_lose(self.session_of)
        self.assert_no_remote_process()

    # The worker's keeper ends what the worker's command left.
    def test_the_remote_worker_killed(self):
        self.run_and_lose(self.worker_of)
        self.assert_no_remote_process(timeout=15)

    def test_the_remote_worker_killed_is_reported(self):
        self.run_and_lose(self.worker_of)


class SlurmTests(SlurmTestCase):
    """Workers as `srun -N1 -n1 --exact --unbuffered ppool worker --stdio` steps of a real allocation."""

    def launcher(self):
        return f"srun -N1 -n1 --exact --unbuffered {shlex.quote(PPOOL)} worker --stdio"

    def test_a_run_in_an_allocation_equals_a_local_run_and_leaves_no_step(self):
        job = self.allocate(2)
        for args, items in [(["imap", "-j", "2", "--", "echo", "a{}b"], b"1\n2\n3\n4\n5\n"),
                            (["imap", "-j", "2", "-c", "50", "--task", "len"],
                             b"".join(b"%d\n" % i for i in range(2000)))]:
            with self.subTest(args=args):
                local = run(args, input=items, env=local_environment())
                remote = run(args[:1] + ["--launcher", self.launcher()] + args[1:], input=items,
                             timeout=SETTLE * 2, env=self.in_job(job, 2))
                self.assertOk(remote, local.stdout)
                wait_for(lambda: not self.steps_of(job), timeout=SETTLE,
                         message=f"steps of job {job} left behind: {self.steps_of(job)}")
        wait_for(lambda: not self.marked(), timeout=SETTLE, message="worker processes left behind")

    def test_sigterm_leaves_no_step(self):
        job = self.allocate(2)
        proc = self.start(["imap", "-j", "2", "--launcher", self.launcher(), "--", "sleep"], env=self.in_job(job, 2))
        proc.stdin.write(b"300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: len([p for p in self.marked() if cmdline_of(p) == [b"sleep", b"300"]]) == 2,
                 timeout=SETTLE)
        self.assertEqual(len(self.steps_of(job)), 2)
        os.kill(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=SETTLE), 143, self.stderr_of(proc))
        wait_for(lambda: not self.steps_of(job), timeout=SETTLE,
                 message=f"steps of job {job} left behind: {self.steps_of(job)}")
        wait_for(lambda: not self.marked(), timeout=SETTLE, message="worker processes left behind")


if __name__ == "__main__":
    reason = scaleout_unavailable("sshd", "slurm")
    if reason is not None:
        # ctest shows the file as skipped (SKIP_RETURN_CODE 77), with the reason.
        print(f"skipped: {reason}")
        sys.exit(77)
    unittest.main()
