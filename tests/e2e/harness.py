"""Shared helpers for ppool's end-to-end tests.

The tests run the real binaries named by PPOOL_BIN and PPOOL_TESTING_BIN, as a
user would: through pipes, files, signals and exit statuses. Waiting is always
on an event (a line on a pipe, a file appearing, a process ending) with a
generous bound, never a bare sleep.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest


def _binary(variable):
    path = os.environ.get(variable)
    if not path:
        raise SystemExit(
            f"harness: the environment variable {variable} is not set; run the e2e tests as\n"
            f"  PPOOL_BIN=build/ppool PPOOL_TESTING_BIN=build/tests/ppool-testing "
            f"python3 tests/e2e/test_x.py")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise SystemExit(f"harness: {variable}={path} is not an executable file")
    return path


PPOOL = _binary("PPOOL_BIN")
PPOOL_TESTING = _binary("PPOOL_TESTING_BIN")


def _sanitized(path):
    """Whether `path` was built with AddressSanitizer, which maps terabytes of
    shadow memory and so cannot run under an address-space limit."""
    ldd = subprocess.run(["ldd", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return b"libasan" in ldd.stdout


SANITIZED = _sanitized(PPOOL)

BUILTIN_TASKS = {"identity", "len", "upper", "lower", "sleep", "wc", "sha256sum"}
JSON_KEYS = {"seq", "input", "ok", "status", "output", "stderr", "exit_code", "signal",
             "timed_out", "error", "duration_s", "worker", "host", "attempts"}
JSON_STATUSES = {"ok", "failed", "timeout", "signal", "worker_lost", "error"}


# --- running the binaries ---------------------------------------------------

def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(args, input=b"", timeout=60, binary=None, **kwargs):
    """Runs ppool (or `binary`) with `args`, feeding `input` (bytes, or None for
    /dev/null) and returns the CompletedProcess with bytes stdout/stderr.
    A run that does not finish within `timeout` seconds is a test failure."""
    cmd = [binary or PPOOL] + [os.fspath(a) for a in args]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, **kwargs)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = b"", b""
        proc.wait()
        raise AssertionError(
            f"{cmd!r} did not finish within {timeout}s (hang?)\n"
            f"stdout: {out[-2000:]!r}\nstderr: {err[-2000:]!r}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def testing(args, **kwargs):
    """run() with the ppool-testing helper binary."""
    return run(args, binary=PPOOL_TESTING, **kwargs)


def start(args, binary=None, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
          stderr=subprocess.PIPE, **kwargs):
    """Starts ppool in its own session and returns the Popen (unbuffered pipes).
    Callers register stop() as a cleanup."""
    cmd = [binary or PPOOL] + [os.fspath(a) for a in args]
    return subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr, bufsize=0,
                            start_new_session=True, **kwargs)


def stop(proc):
    """Cleanup for start(): kills the process group if still running, closes pipes."""
    if proc.poll() is None:
        _kill_group(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def wait_for(predicate, timeout=30, interval=0.02, message=None):
    """Polls `predicate` until it returns a truthy value, which is returned.
    Fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout}s: {predicate!r}")
        time.sleep(interval)


class PipeReader:
    """Reads lines from a pipe with a deadline (select + os.read, no buffering surprises)."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buffer = b""
        self.eof = False

    def readline(self, timeout=30):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no complete line within {timeout}s; got {self.buffer[:500]!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise AssertionError(f"end of output before a complete line; got {self.buffer[:500]!r}")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def read_rest(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"output not closed within {timeout}s")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    rest, self.buffer = self.buffer, b""
                    return rest
                self.buffer += chunk


# --- processes --------------------------------------------------------------

def _stat(pid):
    """(state, ppid) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def alive(pid):
    """True if `pid` exists and is not a zombie (PID 1 of a container may not reap)."""
    state = _stat(pid)
    return state is not None and state[0] not in ("Z", "X")


def children_of(pid):
    result = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            state = _stat(int(name))
            if state is not None and state[1] == pid and state[0] not in ("Z", "X"):
                result.append(int(name))
    return result


def descendants_of(pid):
    result, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            result.append(child)
            todo.append(child)
    return result


def session_members(sid):
    """Live processes (not zombies) of session `sid`: what a ppool started with
    start_new_session left behind, wherever it was reparented."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            members.append(int(name))
    return members


def assert_session_ends(sid, timeout=10):
    """Fails unless every process of session `sid` has ended within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = session_members(sid)
        if not left:
            return
        if time.monotonic() >= deadline:
            for pid in left:
                kill_quietly(pid)
            raise AssertionError(f"processes left behind in ppool's session: {left}")
        time.sleep(0.02)


def in_sleep(pid):
    """True if a thread of `pid` is blocked in nanosleep (a sleeping task, not an idle worker)."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in threads:
        base = f"/proc/{pid}/task/{tid}"
        try:
            with open(f"{base}/wchan") as f:
                if "nanosleep" in f.read():
                    return True
        except OSError:
            pass
        try:
            with open(f"{base}/syscall") as f:
                if f.read().split()[0] in ("35", "230"):  # x86_64 nanosleep, clock_nanosleep
                    return True
        except (OSError, IndexError):
            pass
    return False


def assert_gone(pids, timeout=10):
    """Fails unless every pid in `pids` has exited within `timeout` seconds."""
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while True:
        left = [p for p in pids if alive(p)]
        if not left:
            return
        if time.monotonic() >= deadline:
            details = []
            for p in left:
                try:
                    with open(f"/proc/{p}/cmdline", "rb") as f:
                        cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                    details.append(f"{p}: {cmdline}")
                except OSError:
                    details.append(str(p))
            raise AssertionError(f"processes still running {timeout}s later: {details}")
        time.sleep(0.02)


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def read_pid(path):
    """The pid written (with a newline) to `path`, or None if not there yet."""
    try:
        with open(path) as f:
            data = f.read()
    except FileNotFoundError:
        return None
    if not data.endswith("\n"):
        return None
    return int(data.strip())


# --- the real engines (tests/scaleout) --------------------------------------

# Where tests/scaleout keeps the sshd and Slurm it started for this build
# (ctest sets it; by hand, the scaleout directory beside the binary).
SCALEOUT_DIR = os.path.abspath(os.environ.get("PPOOL_SCALEOUT_DIR")
                               or os.path.join(os.path.dirname(PPOOL), "scaleout"))
SCALEOUT_SCRIPTS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scaleout"))
# CI sets it: there a test that needs an engine fails instead of skipping.
REQUIRE_SCALEOUT = os.environ.get("PPOOL_REQUIRE_SCALEOUT") == "1"

_scaleout_checked = {}


def scaleout(engine):
    """The state directory of the engine ("sshd" or "slurm") that
    tests/scaleout/ENGINE.sh started for this build, once it answers (a login
    works, the node is idle). If it does not, raises unittest.SkipTest with the
    reason, or fails when PPOOL_REQUIRE_SCALEOUT=1 (CI must run these tests)."""
    if engine not in _scaleout_checked:
        directory = os.path.join(SCALEOUT_DIR, engine)
        script = os.path.join(SCALEOUT_SCRIPTS, f"{engine}.sh")
        status = subprocess.run(["bash", script, "status", SCALEOUT_DIR], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        reason = None
        if status.returncode != 0:
            try:
                with open(os.path.join(directory, "unavailable")) as f:
                    reason = f.read().strip()
            except FileNotFoundError:
                reason = (f"not running for {SCALEOUT_DIR} (as root: bash tests/scaleout/{engine}.sh start "
                          f"{SCALEOUT_DIR}, or run the tests with ctest, which starts it)")
            reason = f"{engine}: {reason}"
        _scaleout_checked[engine] = (directory, reason)
    directory, reason = _scaleout_checked[engine]
    if reason is not None:
        if REQUIRE_SCALEOUT:
            raise AssertionError(f"PPOOL_REQUIRE_SCALEOUT=1 but {reason}")
        raise unittest.SkipTest(reason)
    return directory


def scaleout_unavailable(*engines):
    """Why none of `engines` can be used here, or None when one can (or when
    PPOOL_REQUIRE_SCALEOUT=1, where their tests must run and fail)."""
    reasons = []
    for engine in engines:
        try:
            scaleout(engine)
            return None
        except unittest.SkipTest as skip:
            reasons.append(str(skip))
        except AssertionError:
            return None
    return "; ".join(reasons)


def processes_of(uid):
    """Live processes (not zombies) that belong to user `uid`."""
    result = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid != uid:
                continue
        except OSError:
            continue
        if alive(int(name)):
            result.append(int(name))
    return result


def environment_of(pid):
    """The environment `pid` started with, as bytes "NAME=value" entries (empty if it is gone)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def cmdline_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:-1]
    except OSError:
        return []


def parent_of(pid):
    state = _stat(pid)
    return state[1] if state else None


# --- output -----------------------------------------------------------------

def lines(data):
    """Decoded lines of bytes output, without line terminators."""
    return data.decode("utf-8").split("\n")[:-1] if data else []


def json_lines(data):
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def describe(proc):
    return (f"\ncommand: {proc.args!r}\nexit status: {proc.returncode}\n"
            f"stdout: {proc.stdout[:3000]!r}\nstderr: {proc.stderr[:3000]!r}")


class E2ETestCase(unittest.TestCase):
    """A test case with its own temporary directory (self.tmp)."""

    maxDiff = None

    def setUp(self):
        self._tmpdir = tempfile.TemporaryDirectory(prefix="ppool-e2e-")
        self.addCleanup(self._tmpdir.cleanup)
        self.tmp = self._tmpdir.name

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def start(self, args, **kwargs):
        """start() with cleanup. Unless told otherwise, stderr goes to a file
        (read it with stderr_of): a pipe could be held open by a leaked process."""
        stderr_file = None
        if "stderr" not in kwargs:
            stderr_path = self.path(f"ppool-{len(os.listdir(self.tmp))}.stderr")
            stderr_file = kwargs["stderr"] = open(stderr_path, "wb")
        try:
            proc = start(args, **kwargs)
        finally:
            if stderr_file is not None:
                stderr_file.close()
        proc.stderr_path = stderr_file.name if stderr_file is not None else None
        self.addCleanup(stop, proc)
        return proc

    def kill_on_cleanup(self, pidfile):
        """At cleanup, kills the process group of the pid written to `pidfile`
        (a task's background process that ppool failed to stop)."""
        def cleanup():
            pid = read_pid(pidfile)
            if pid is None or not alive(pid):
                return
            try:
                group = os.getpgid(pid)
                if group != os.getpgrp():
                    os.killpg(group, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.addCleanup(cleanup)

    def stderr_of(self, proc):
        with open(proc.stderr_path, "rb") as f:
            return f.read()

    def assertStatus(self, proc, status):
        self.assertEqual(proc.returncode, status, describe(proc))

    def assertOk(self, proc, stdout=None):
        self.assertStatus(proc, 0)
        if stdout is not None:
            self.assertEqual(proc.stdout, stdout.encode() if isinstance(stdout, str) else stdout,
                             describe(proc))

    def assertUsageError(self, proc, mentions=None):
        """Exit 2, nothing on stdout, exactly one stderr line starting with "ppool: "."""
        self.assertStatus(proc, 2)
        self.assertEqual(proc.stdout, b"", describe(proc))
        err = proc.stderr.decode("utf-8", "replace").splitlines()
        self.assertEqual(len(err), 1, "expected exactly one line on stderr" + describe(proc))
        self.assertTrue(err[0].startswith("ppool: "), describe(proc))
        if mentions is not None:
            self.assertIn(mentions, err[0], describe(proc))

    def assertJsonRecord(self, record):
        """Every contract key is present with the right type."""
        missing = JSON_KEYS - set(record)
        # A non-UTF-8 string field may be null with a <field>_base64 companion.
        self.assertFalse(missing, f"missing keys {missing} in {record}")
        self.assertIsInstance(record["seq"], int)
        self.assertIsInstance(record["ok"], bool)
        self.assertIn(record["status"], JSON_STATUSES)
        self.assertEqual(record["ok"], record["status"] == "ok", record)
        self.assertIsInstance(record["timed_out"], bool)
        self.assertTrue(record["exit_code"] is None or isinstance(record["exit_code"], int), record)
        self.assertTrue(record["signal"] is None or isinstance(record["signal"], int), record)
        self.assertTrue(record["error"] is None or isinstance(record["error"], str), record)
        self.assertIsInstance(record["duration_s"], (int, float))
        self.assertNotIsInstance(record["duration_s"], bool)
        self.assertGreaterEqual(record["duration_s"], 0)
        self.assertIsInstance(record["worker"], int)
        self.assertNotIsInstance(record["worker"], bool)
        self.assertGreaterEqual(record["worker"], 0)
        self.assertTrue(isinstance(record["host"], str) or "host_base64" in record, record)


PARALLEL = shutil.which("parallel")


def gnu_parallel(args, input=b"", env=None, cwd=None, timeout=120):
    """GNU parallel with `args` (its citation notice silenced) in a session of
    its own, whose every process is killed if it does not finish in time."""
    proc = subprocess.Popen([PARALLEL, "--will-cite"] + [os.fspath(a) for a in args],
                            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                            start_new_session=True)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise AssertionError(f"GNU parallel {args!r} did not finish within {timeout}s") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
