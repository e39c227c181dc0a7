"""ppool serve and its client commands: a pool started once, its workers warm,
used by many commands over a Unix socket (SPEC 10).

Every server runs in the test's own directory (--socket) and is killed at
cleanup, after which nothing of it may be left running."""

import errno
import json
import os
import pwd
import signal
import socket
import stat
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PPOOL, E2ETestCase, PipeReader, alive, assert_gone, assert_session_ends, cmdline_of, describe,
                     kill_quietly, parent_of, run, session_members, start, stop, wait_for)


# The version of the conversation between ppool serve and its clients (src/server/client_protocol.hpp).
CLIENT_PROTOCOL = 2


class ServeTestCase(E2ETestCase):
    def serve(self, *args, processes=2, name="s.sock"):
        """A server in the foreground, in its own session; its socket once it accepts."""
        sock = self.path(name)
        proc = self.start(["serve", "--foreground", "--socket", sock, "-j", str(processes), *args])
        line = PipeReader(proc.stdout).readline(timeout=60)
        self.assertEqual(line, sock.encode() + b"\n")
        self.addCleanup(self.end, proc)
        self.sock = sock
        self.server = proc
        return proc

    def end(self, proc):
        """Kills the server's process group; nothing of it may be left in its session."""
        stop(proc)
        assert_session_ends(proc.pid)

    def client(self, command, *args, timeout=60, **kwargs):
        return run([command, "--server", self.sock, *args], input=None, timeout=timeout, **kwargs)

    def submit(self, *args):
        proc = self.client("submit", *args)
        self.assertOk(proc)
        self.assertRegex(proc.stdout.decode(), r"^[0-9]+\n$")
        return proc.stdout.decode().strip()

    def status(self):
        proc = self.client("status", "--json")
        self.assertOk(proc)
        return json.loads(proc.stdout)

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read()

    def fifo(self, name):
        path = self.path(name)
        os.mkfifo(path)
        return path

    def release(self, fifo):
        """Lets the one command blocked on reading `fifo` go on (each fifo has one reader)."""
        def open_writer():
            try:
                return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno == errno.ENXIO:  # no reader yet
                    return None
                raise
        fd = wait_for(open_writer, message=f"nothing reads {fifo}")
        os.write(fd, b"go\n")
        os.close(fd)


class TestSubmitGet(ServeTestCase):
    def test_a_command_and_a_task_print_what_apply_prints(self):
        self.serve()
        for args in (["--", "echo", "hello", "world"], ["--task", "len", "hello"], ["--task", "upper", "abc"],
                     ["--", "sh", "-c", "printf 'no newline'"], ["--", "echo a | tr a b"],
                     ["--", "sh", "-c", "echo out; echo err >&2"], ["--task", "sha256sum", self.path("missing")],
                     ["--", "sh", "-c", "echo out; echo err >&2; exit 3"]):
            with self.subTest(args=args):
                job = self.submit(*args)
                got = self.client("get", job)
                apply = run(["apply", *[a for a in args if a != "--"]] if args[0] == "--task" else ["apply", *args],
                            input=None)
                self.assertEqual(got.returncode, apply.returncode, describe(got))
                self.assertEqual(got.stdout, apply.stdout)
                # The same stderr, but for the name of what failed: a job here, a task there.
                self.assertEqual(got.stderr.replace(f"job {job}".encode(), b"X"),
                                 apply.stderr.replace(b"task 1 ()", b"X").replace(
                                     f"task 1 ({self.path('missing')})".encode(), b"X"))

    def test_results_held_are_bounded_and_never_dropped(self):
        self.serve("--max-held", "2")
        first = self.submit("--task", "len", "a")
        second = self.submit("--task", "len", "bb")
        self.assertOk(self.client("wait", second))
        self.assertUsageError(self.client("submit", "--task", "len", "ccc"), "fetch some")
        self.assertOk(self.client("get", first), "1\n")
        third = self.submit("--task", "len", "ccc")
        self.assertOk(self.client("get", second), "2\n")
        self.assertOk(self.client("get", third), "3\n")

    def test_a_large_result_waits_on_disk_not_in_the_servers_memory(self):
        self.serve()

        def rss_mib():
            with open(f"/proc/{self.server.pid}/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) // 1024

        before = rss_mib()
        size = 160 << 20
        job = self.submit("--", "head", "-c", str(size), "/dev/zero")
        self.assertOk(self.client("wait", job))
        # The pool keeps 32 MiB of outputs in memory at most; the rest of this one is in a spill file.
        self.assertLess(rss_mib() - before, 100)
        got = self.client("get", job)
        self.assertOk(got)
        self.assertEqual(len(got.stdout), size)
        self.assertEqual(got.stdout.count(b"\0"), size)

    def test_a_result_is_fetched_once(self):
        self.serve()
        job = self.submit("--task", "identity", "x")
        self.assertOk(self.client("get", job), "x\n")
        self.assertUsageError(self.client("get", job), "no job")

    def test_a_failed_task_says_why_on_stderr_and_exits_1(self):
        self.serve()
        job = self.submit("--", "sh", "-c", "echo out; echo oops >&2; exit 3")
        got = self.client("get", job)
        self.assertStatus(got, 1)
        self.assertEqual(got.stdout, b"out\n")
        err = got.stderr.decode().splitlines()
        self.assertEqual(err[0], "oops")
        self.assertEqual(len(err), 2, describe(got))
        self.assertTrue(err[1].startswith(f"ppool: job {job} failed: "), describe(got))
        self.assertIn("exit status 3", err[1])
        # A stderr too large for memory comes back whole.
        job = self.submit("--", "sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' e >&2; exit 1")
        got = self.client("get", job)
        self.assertStatus(got, 1)
        self.assertEqual(got.stderr.split(b"\n")[0], b"e" * 3000000)
        job = self.submit("--task", "sha256sum", self.path("missing"))
        self.assertStatus(self.client("get", job), 1)

    def test_jobs_run_side_by_side(self):
        self.serve(processes=2)
        a, b = self.fifo("a"), self.fifo("b")
        # Each waits for the other to have started: only two workers at once can finish them.
        first = self.submit("--", "sh", "-c", f"echo > {b}; read x < {a}; echo first")
        second = self.submit("--", "sh", "-c", f"read x < {b}; echo > {a}; echo second")
        self.assertOk(self.client("get", first), "first\n")
        self.assertOk(self.client("get", second), "second\n")

    def test_new_commands_reach_the_warm_workers(self):
        log = self.path("init.log")
        self.serve("--initializer", f"echo $PPOOL_WORKER >> {log}", processes=2)
        self.assertEqual(sorted(self.read("init.log").split()), ["0", "1"])
        for i in range(6):
            job = self.submit("--", "echo", f"command {i}")
            self.assertOk(self.client("get", job), f"command {i}\n")
        job = self.submit("--", "sh", "-c", "echo $PPOOL_WORKER")
        self.assertIn(self.client("get", job).stdout, (b"0\n", b"1\n"))
        # Every worker ran its initializer once, at the start: none was started again.
        self.assertEqual(sorted(self.read("init.log").split()), ["0", "1"])

    def test_logins_choose_the_hosts_of_the_workers(self):
        # ":" is this machine, as -S takes it in the modes (test_sshlogin runs a real host).
        self.serve("-S", "3/:", processes=1)
        self.assertEqual(self.status()["workers"], 3)
        job = self.submit("--", "echo", "here")
        self.assertOk(self.client("get", job), "here\n")

    def test_a_failing_initializer_stops_serve_with_status_2(self):
        proc = run(["serve", "--foreground", "--socket", self.path("s.sock"), "-j", "1", "--initializer", "exit 5"],
                   input=None)
        self.assertStatus(proc, 2)
        self.assertIn(b"initializer", proc.stderr)
        self.assertFalse(os.path.exists(self.path("s.sock")))


class TestWaiting(ServeTestCase):
    def test_get_timeout_exits_3_and_the_job_stays(self):
        self.serve()
        gate = self.fifo("gate")
        job = self.submit("--", "sh", "-c", f"read x < {gate}; echo done")
        got = self.client("get", job, "--timeout", "0.2")
        self.assertStatus(got, 3)
        self.assertEqual(got.stdout, b"")
        self.assertEqual(len(got.stderr.splitlines()), 1, describe(got))
        self.assertStatus(self.client("wait", job, "--timeout", "0"), 3)
        self.assertStatus(self.client("ready", job), 1)
        not_ready = self.client("successful", job)
        self.assertUsageError(not_ready, "not ready")
        self.release(gate)
        self.assertOk(self.client("wait", job))
        self.assertOk(self.client("ready", job))
        self.assertOk(self.client("successful", job))
        self.assertOk(self.client("get", job, "--timeout", "30"), "done\n")

    def test_successful_says_no_for_a_failed_job(self):
        self.serve()
        job = self.submit("--", "false")
        self.assertOk(self.client("wait", job))
        self.assertStatus(self.client("successful", job), 1)
        self.assertStatus(self.client("get", job), 1)

    def test_a_client_killed_while_it_waits_hurts_nobody(self):
        self.serve()
        gate = self.fifo("gate")
        job = self.submit("--", "sh", "-c", f"read x < {gate}; echo done")
        waiting = start(["get", "--server", self.sock, job])
        self.addCleanup(stop, waiting)
        wait_for(lambda: self.status()["waiting_clients"] == 1)
        kill_quietly(waiting.pid)
        waiting.wait(timeout=30)
        # The server lets go of it, and serves the others as before.
        wait_for(lambda: self.status()["waiting_clients"] == 0)
        other = self.submit("--task", "len", "abcd")
        self.assertOk(self.client("get", other), "4\n")
        self.release(gate)
        self.assertOk(self.client("get", job), "done\n")

    def test_a_hundred_concurrent_submits(self):
        self.serve(processes=2)
        procs = [start(["submit", "--server", self.sock, "--task", "len", "x" * i]) for i in range(100)]
        ids = {}
        for i, proc in enumerate(procs):
            self.addCleanup(stop, proc)
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            ids[out.decode().strip()] = i
        self.assertEqual(len(ids), 100)
        for job, i in ids.items():
            self.assertOk(self.client("get", job), f"{i}\n")


class TestPoolCommands(ServeTestCase):
    def test_status_counts(self):
        self.serve(processes=2)
        done = self.submit("--task", "len", "ab")
        self.assertOk(self.client("wait", done))
        gates = [self.fifo(f"gate{i}") for i in range(3)]
        blocked = [self.submit("--", "sh", "-c", f"echo >> {self.path('started')}; read x < {gates[i]}; echo {i}")
                   for i in range(3)]
        wait_for(lambda: os.path.exists(self.path("started")) and len(self.read("started")) == 2)
        status = self.client("status")
        self.assertOk(status, "workers 2\nqueued 1\nrunning 2\nfinished-not-fetched 1\nwaiting-clients 0\n"
                              "lending 0\n"
                              "closed no\n")
        self.assertEqual(self.status(), {"workers": 2, "queued": 1, "running": 2, "finished_not_fetched": 1,
                                         "waiting_clients": 0, "lending": 0, "closed": False})
        for i, job in enumerate(blocked):
            self.release(gates[i])
            self.assertOk(self.client("get", job), f"{i}\n")

    def test_close_then_join_then_the_server_ends_once_all_is_fetched(self):
        self.serve()
        gate = self.fifo("gate")
        job = self.submit("--", "sh", "-c", f"read x < {gate}; echo late")
        self.assertUsageError(self.client("join"), "close")
        self.assertOk(self.client("close"))
        self.assertUsageError(self.client("submit", "--task", "len", "x"), "closed")
        joining = start(["join", "--server", self.sock])
        self.addCleanup(stop, joining)
        self.release(gate)
        out, err = joining.communicate(timeout=60)
        self.assertEqual(joining.returncode, 0, err)
        self.assertOk(self.client("ready", job))
        self.assertTrue(alive(self.server.pid))
        self.assertOk(self.client("get", job), "late\n")
        self.assertEqual(self.server.wait(timeout=60), 0)
        self.assertFalse(os.path.exists(self.sock))

    def test_join_after_close_or_terminate_succeeds_once_the_server_has_ended(self):
        for ending in ("close", "terminate"):
            with self.subTest(ending=ending):
                self.serve(name=f"{ending}.sock")
                self.assertOk(self.client(ending))
                # An idle server ends at once: join comes after it, as in Python's close(); join().
                self.assertEqual(self.server.wait(timeout=60), 0)
                self.assertFalse(os.path.exists(self.sock))
                self.assertOk(self.client("join"))
                self.assertOk(self.client("join"))
        # A socket no server ever ended on is still an error, not a finished join.
        self.sock = self.path("typo.sock")
        self.assertUsageError(self.client("join"), "no server")
        # A new server on the socket: join waits for it again.
        self.serve(name="close.sock")
        self.assertUsageError(self.client("join"), "close")

    def test_terminate_stops_the_jobs_and_the_server(self):
        self.serve()
        gate = self.fifo("gate")
        job = self.submit("--", "sh", "-c", f"read x < {gate}; echo never")
        waiting = start(["get", "--server", self.sock, job])
        self.addCleanup(stop, waiting)
        wait_for(lambda: self.status()["waiting_clients"] == 1)
        self.assertOk(self.client("terminate"))
        out, err = waiting.communicate(timeout=60)
        self.assertEqual(waiting.returncode, 1, err)
        self.assertIn(b"terminated", err)
        self.assertEqual(self.server.wait(timeout=60), 0)
        assert_session_ends(self.server.pid)


class TestSocket(ServeTestCase):
    def test_a_second_server_on_a_live_socket_is_refused(self):
        self.serve()
        second = run(["serve", "--foreground", "--socket", self.sock], input=None)
        self.assertUsageError(second, "already")
        detached = run(["serve", "--socket", self.sock], input=None)
        self.assertUsageError(detached, "already")
        self.assertOk(self.client("status"))

    def test_a_stale_socket_is_replaced(self):
        first = self.serve()
        first.kill()
        first.wait()
        assert_session_ends(first.pid)
        self.assertTrue(stat.S_ISSOCK(os.lstat(self.sock).st_mode))
        self.assertUsageError(self.client("status"), "no server")
        self.serve()
        self.assertOk(self.client("status"))

    def test_sigkill_of_the_server_leaves_nothing_and_waiting_clients_exit_4(self):
        self.serve(processes=2)
        started = self.path("started")
        gate = self.fifo("gate")
        job = self.submit("--", "sh", "-c", f"echo $$ > {started}; read x < {gate}; echo never")
        wait_for(lambda: os.path.exists(started) and self.read("started").endswith("\n"))
        command = int(self.read("started"))
        waiting = [start(["get", "--server", self.sock, job]), start(["wait", "--server", self.sock, job])]
        for proc in waiting:
            self.addCleanup(stop, proc)
        wait_for(lambda: self.status()["waiting_clients"] == 2)
        os.kill(self.server.pid, signal.SIGKILL)
        for proc in waiting:
            out, err = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 4, err)
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertTrue(err.startswith(b"ppool: "), err)
        assert_gone([command])
        assert_session_ends(self.server.pid)

    def test_detached_server_prints_its_socket_and_leaves_nothing_when_killed(self):
        sock = self.path("d.sock")

        def pool():
            return [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                    if cmdline_of(pid)[1:3] == [b"serve", b"--socket"] and sock.encode() in cmdline_of(pid)
                    and alive(pid)]
        self.addCleanup(lambda: [kill_quietly(pid) for pid in pool()])
        proc = run(["serve", "--socket", sock, "-j", "1"], input=None)
        self.assertOk(proc, sock + "\n")
        # The server, and the workers forked from it.
        processes = pool()
        servers = [pid for pid in processes if parent_of(pid) not in processes]
        self.assertEqual(len(servers), 1)
        server = servers[0]
        self.addCleanup(kill_quietly, server)
        # A session of its own, without the terminal's stdio.
        session = os.getsid(server)
        self.assertNotEqual(session, os.getsid(0))
        self.assertEqual(os.readlink(f"/proc/{server}/fd/1"), "/dev/null")
        self.sock = sock
        job = self.submit("--task", "upper", "detached")
        self.assertOk(self.client("get", job), "DETACHED\n")
        os.kill(server, signal.SIGKILL)
        assert_session_ends(session)

    def test_the_default_socket_is_in_a_private_directory(self):
        runtime = self.path("runtime")
        os.mkdir(runtime)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        env.pop("PPOOL_SERVER", None)
        proc = self.start(["serve", "--foreground", "-j", "1"], env=env)
        sock = os.path.join(runtime, "ppool", "default.sock")
        self.assertEqual(PipeReader(proc.stdout).readline(timeout=60), sock.encode() + b"\n")
        self.addCleanup(self.end, proc)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode) & 0o077, 0)
        status = run(["status"], input=None, env=env)
        self.assertOk(status)
        # PPOOL_SERVER names another socket for every client command.
        self.assertUsageError(run(["status"], input=None, env=dict(env, PPOOL_SERVER=self.path("none"))), "no server")
        stop(proc)

    def test_a_socket_directory_open_to_others_is_refused(self):
        runtime = self.path("runtime")
        os.makedirs(os.path.join(runtime, "ppool"))
        os.chmod(os.path.join(runtime, "ppool"), 0o755)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        self.assertUsageError(run(["serve", "--foreground"], input=None, env=env), "0700")
        self.assertUsageError(run(["status"], input=None, env=env), "0700")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to act as another user")
    def test_another_users_connection_is_refused(self):
        nobody = pwd.getpwnam("nobody")
        os.chmod(self.tmp, 0o755)
        self.serve()
        # Even a socket anyone may open serves only its user: the peer's uid is checked.
        os.chmod(self.sock, 0o777)

        def become_nobody():
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        if not os.access(PPOOL, os.X_OK):
            self.skipTest("the binary is not reachable by nobody")
        proc = run(["status", "--server", self.sock], input=None, preexec_fn=become_nobody)
        self.assertUsageError(proc, "another user")
        self.assertOk(self.client("status"))


class TestBadInput(ServeTestCase):
    def test_usage_errors(self):
        self.assertUsageError(run(["serve", "-j", "0", "--socket", self.path("s")], input=None), "-j")
        self.assertUsageError(run(["serve", "--bogus"], input=None), "--bogus")
        self.assertUsageError(run(["serve", "--max-held", "0", "--socket", self.path("s")], input=None), "--max-held")
        self.assertUsageError(run(["serve", "--initializer", "true", "--init-task", "len", "--socket",
                                   self.path("s")], input=None), "either")
        self.assertUsageError(run(["get", "--server", self.path("none"), "1"], input=None), "no server")
        self.serve()
        self.assertUsageError(self.client("get", "abc"), "job id")
        self.assertUsageError(self.client("get"), "job id")
        self.assertUsageError(self.client("get", "1", "--timeout", "soon"), "--timeout")
        self.assertUsageError(self.client("get", "12345"), "no job 12345")
        self.assertUsageError(self.client("submit"), "command")
        self.assertUsageError(self.client("submit", "--task", "len"), "ITEM")
        self.assertUsageError(self.client("submit", "--task", "nope", "x"), "unknown task")
        self.assertUsageError(self.client("status", "--bogus"), "--bogus")

    def test_help(self):
        for command in ("serve", "submit", "get", "status"):
            proc = run([command, "--help"], input=None)
            self.assertOk(proc)
            self.assertIn(b"usage: ppool", proc.stdout)

    def test_malformed_messages_get_an_error_and_the_server_goes_on(self):
        self.serve()

        def exchange(data):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(30)
                s.connect(self.sock)
                s.sendall(data)
                reply = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return reply
                    reply += chunk

        def frame(kind, payload):
            return struct.pack("<BQ", kind, len(payload)) + payload

        hello = frame(1, b"ppool-serve" + struct.pack("<I", CLIENT_PROTOCOL))
        for junk in (b"GET / HTTP/1.0\r\n\r\n", frame(1, b"ppool-serve" + struct.pack("<I", 99)),
                     frame(200, b""), hello + frame(4, b"short"), hello + frame(2, b"\xff" * 8),
                     struct.pack("<BQ", 2, 1 << 40), hello + hello):
            reply = exchange(junk)
            # The last frame of the reply is an error (kind 7), and the server closed the connection.
            self.assertGreaterEqual(len(reply), 9, junk)
            kinds = []
            while reply:
                kind, length = struct.unpack("<BQ", reply[:9])
                kinds.append(kind)
                reply = reply[9 + length:]
            self.assertEqual(kinds[-1], 7, junk)
        self.assertOk(self.client("status"))


class TestStreams(ServeTestCase):
    """ppool map|imap|imap-unordered --server: the modes, every option, on the server's warm workers."""

    def stream(self, mode, *args, input=b"", **kwargs):
        return run([mode, f"--server={self.sock}", *args], input=input, **kwargs)

    def start_stream(self, *args, input):
        """An imap on the server's workers, started with all its input given."""
        proc = start(["imap", f"--server={self.sock}", *args])
        self.addCleanup(stop, proc)
        proc.stdin.write(input)
        proc.stdin.close()
        proc.stdin = None
        return proc

    def test_each_mode_prints_what_a_plain_run_prints(self):
        self.serve(processes=2)
        items = "".join(f"item {i}\n" for i in range(200)).encode()
        cases = [("imap", ["--", "echo", "{}"]), ("imap", ["--task", "len"]), ("imap", ["-c", "7", "--task", "upper"]),
                 ("map", ["--", "echo", "{}"]), ("map", ["--json", "--task", "len"]),
                 ("imap", ["--tag", "--", "sh", "-c", "echo $1 | tr a-z A-Z", "sh", "{}"]),
                 ("imap", ["-N", "3", "--", "echo", "{1}", "and", "{3}"]),
                 ("imap", ["--", "echo", "{1}-{2}", ":::", "a", "b", ":::", "1", "2"]),
                 ("imap", ["--", "sh", "-c", "[ \"$1\" != 'item 7' ]", "sh", "{}"]),
                 ("imap-unordered", ["--", "echo", "{}"]), ("imap-unordered", ["--task", "len"])]
        for mode, args in cases:
            with self.subTest(mode=mode, args=args):
                plain = run([mode, "-j", "2", *args], input=items)
                served = self.stream(mode, *args, input=items)
                self.assertEqual(served.returncode, plain.returncode, describe(served))
                if mode == "imap-unordered":
                    self.assertEqual(sorted(served.stdout.splitlines()), sorted(plain.stdout.splitlines()))
                elif "--json" in args:
                    # Which worker ran an item, and for how long, is the scheduler's business.
                    drop = lambda out: [{k: v for k, v in r.items() if k not in ("duration_s", "worker")}
                                        for r in json.loads(out)]
                    self.assertEqual(drop(served.stdout), drop(plain.stdout))
                else:
                    self.assertEqual(served.stdout, plain.stdout)
                self.assertEqual(served.stderr, plain.stderr)

    def test_the_initializer_ran_once_for_ten_runs(self):
        log = self.path("init.log")
        self.serve("--initializer", f"echo $PPOOL_WORKER >> {log}", processes=2)
        for i in range(10):
            self.assertOk(self.stream("imap", "--", "echo", "{}", input=f"{i}\na\nb\n".encode()), f"{i}\na\nb\n")
        self.assertEqual(sorted(self.read("init.log").split()), ["0", "1"])
        # A plain run starts workers of its own, which run it again.
        self.assertOk(run(["imap", "-j", "2", "--initializer", f"echo plain >> {log}", "--", "echo", "{}"],
                          input=b"1\n2\n3\n4\n"))
        self.assertIn("plain", self.read("init.log"))

    def test_tasks_run_where_the_client_runs_with_its_environment(self):
        self.serve(processes=1)
        here = self.path("elsewhere")
        os.mkdir(here)
        env = dict(os.environ, STREAM_VALUE="from the client")
        proc = self.stream("imap", "--", "sh", "-c", 'echo "$(pwd) $STREAM_VALUE $1"', "sh", "{}", input=b"x\n",
                           cwd=here, env=env)
        self.assertOk(proc, f"{here} from the client x\n")
        # The next client's own environment: nothing of the last one's is left.
        proc = self.stream("imap", "--", "sh", "-c", 'echo "${STREAM_VALUE:-none}"', input=b"x\n")
        self.assertOk(proc, "none\n")

    def test_timeouts_stop_the_item_and_keep_the_server_whole(self):
        log = self.path("init.log")
        self.serve("--initializer", f"echo $PPOOL_WORKER >> {log}", processes=2)
        proc = self.stream("imap", "--timeout", "1", "--", "sh", "-c", '[ "$1" = 2 ] && sleep 300; echo "$1"', "sh",
                           "{}", input=b"1\n2\n3\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"1\n3\n")
        self.assertIn(b"timed out", proc.stderr)
        # A command is stopped by its worker, which stays warm: no initializer ran again.
        self.assertOk(self.stream("imap", "--task", "len", input=b"abc\nde\n"), "3\n2\n")
        self.assertEqual(len(self.read("init.log").split()), 2)
        # A registered task cannot be stopped but with its worker: the server starts a fresh one, whose
        # initializer runs, when work next needs it.
        proc = self.stream("imap", "--timeout", "1", "--task", "sleep", input=b"0\n300\n0\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"0\n0\n")
        self.assertIn(b"timed out", proc.stderr)
        self.assertEqual(self.status()["workers"], 2)
        self.assertOk(self.stream("imap", "--task", "len", input=b"abc\nde\n"), "3\n2\n")
        wait_for(lambda: len(self.read("init.log").split()) == 3)

    def test_a_client_killed_mid_stream_cancels_its_tasks_and_hurts_no_other(self):
        self.serve(processes=2)
        gate = self.fifo("gate")
        pids = self.path("pids")
        client = self.start_stream("--", "sh", "-c", f'echo $$ >> {pids}; read x < {gate}', input=b"1\n2\n")
        wait_for(lambda: os.path.exists(pids) and len(self.read("pids").split()) == 2)
        running = [int(p) for p in self.read("pids").split()]
        os.killpg(client.pid, signal.SIGKILL)
        client.wait(timeout=60)
        assert_gone(running, timeout=60)
        self.assertOk(self.stream("imap", "--task", "len", input=b"ab\nabc\n"), "2\n3\n")
        job = self.submit("--task", "len", "abcd")
        self.assertOk(self.client("get", job), "4\n")
        self.assertEqual(self.status()["workers"], 2)

    def test_streams_and_submits_share_the_server(self):
        self.serve(processes=2)
        # Every stream has all its input at once, so all of them want workers together.
        clients = [self.start_stream("--task", "len", input=b"".join(b"y" * (i + j) + b"\n" for j in range(500)))
                   for i in range(100)]
        jobs = [self.submit("--task", "len", "x" * i) for i in range(20)]
        for i, c in enumerate(clients):
            out, err = c.communicate(timeout=120)
            self.assertEqual(c.returncode, 0, err)
            self.assertEqual(out, b"".join(f"{i + j}\n".encode() for j in range(500)))
        for i, job in enumerate(jobs):
            self.assertOk(self.client("get", job), f"{i}\n")

    def test_the_server_killed_mid_stream_is_one_line_and_status_4(self):
        self.serve(processes=2)
        gate = self.fifo("gate")
        pids = self.path("pids")
        client = self.start_stream("--", "sh", "-c", f"echo $$ >> {pids}; read x < {gate}", input=b"1\n2\n")
        wait_for(lambda: os.path.exists(pids) and len(self.read("pids").split()) == 2)
        running = [int(p) for p in self.read("pids").split()]
        self.server.kill()
        out, err = client.communicate(timeout=60)
        self.assertEqual(client.returncode, 4, err)
        self.assertEqual(err.decode().splitlines(), [f"ppool: the server at {self.sock} went away"])
        assert_gone(running, timeout=60)

    def test_a_run_waits_for_a_busy_servers_worker_and_stops_on_a_signal_meanwhile(self):
        self.serve(processes=1)
        gate = self.fifo("gate")
        job = self.submit("--", "sh", "-c", f"read x < {gate}; echo done")
        wait_for(lambda: self.status()["running"] == 1)
        # Its worker comes once the job before it has finished.
        waiting = self.start_stream("--task", "len", input=b"abc\n")
        self.release(gate)
        out, err = waiting.communicate(timeout=60)
        self.assertEqual((waiting.returncode, out), (0, b"3\n"), err)
        self.assertOk(self.client("get", job), "done\n")
        # Ctrl-C while it waits: it stops at once, and the server goes on.
        job = self.submit("--", "sh", "-c", f"read x < {gate}; echo done")
        wait_for(lambda: self.status()["running"] == 1)
        waiting = self.start_stream("--task", "len", input=b"abc\n")
        # Its lend is queued behind the job: it waits, its signals caught.
        wait_for(lambda: self.status()["lending"] == 1)
        os.kill(waiting.pid, signal.SIGINT)
        self.assertEqual(waiting.wait(timeout=60), 130)
        self.release(gate)
        self.assertOk(self.client("get", job), "done\n")
        self.assertOk(self.stream("imap", "--task", "len", input=b"ab\n"), "2\n")

    def test_usage_errors(self):
        self.serve(processes=1)
        for args in (["--initializer", "true"], ["--launcher", "exec"], ["-S", ":"], ["--max-tasks-per-worker", "2"]):
            with self.subTest(args=args):
                self.assertUsageError(self.stream("imap", *args, "--", "echo", "{}", input=b"x\n"))
        self.assertUsageError(run(["imap", f"--server={self.path('none.sock')}", "--", "echo"], input=b"x\n"),
                              "no server")
        # Workers that may be on another host cannot connect back to this one.
        self.serve("-S", "1/:", processes=1, name="hosts.sock")
        self.assertUsageError(self.stream("imap", "--", "echo", "{}", input=b"x\n"), "this machine")


class TestSlowClients(ServeTestCase):
    def test_a_client_that_does_not_read_holds_nobody_up_and_loses_nothing(self):
        self.serve()
        size = 32 << 20
        job = self.submit("--", "head", "-c", str(size), "/dev/zero")
        self.assertOk(self.client("wait", job))

        def frame(kind, payload):
            return struct.pack("<BQ", kind, len(payload)) + payload

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as slow:
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.connect(self.sock)
            slow.sendall(frame(1, b"ppool-serve" + struct.pack("<I", CLIENT_PROTOCOL)) + frame(4, struct.pack("<Q", int(job))))
            # Its reply fills the socket and waits; meanwhile other clients are served, for longer than
            # any time a server could allow a reader before giving up on it.
            for i in range(40):
                other = self.submit("--task", "len", "x" * i)
                self.assertOk(self.client("get", other, "--timeout", "60"), f"{i}\n")
            self.assertEqual(self.status()["finished_not_fetched"], 0)
            slow.settimeout(60)
            reply = b""
            want = None
            while want is None or len(reply) < want:
                chunk = slow.recv(1 << 20)
                self.assertTrue(chunk, f"the server let go of a slow reader after {len(reply)} bytes")
                reply += chunk
                if want is None and len(reply) >= 9:
                    # welcome (kind 1), then the result (kind 3).
                    kind, length = struct.unpack("<BQ", reply[:9])
                    self.assertEqual(kind, 1)
                    if len(reply) >= 9 + length + 9:
                        kind, result = struct.unpack("<BQ", reply[9 + length:9 + length + 9])
                        self.assertEqual(kind, 3)
                        want = 9 + length + 9 + result
            self.assertIn(b"\0" * 1024, reply)
            self.assertGreater(len(reply), size)


class TestMake(ServeTestCase):
    def test_makefile_recipes_share_one_server(self):
        log = self.path("init.log")
        self.serve("--initializer", f"echo $PPOOL_WORKER >> {log}", processes=2)
        makefile = self.write("Makefile", (
            f"S := {self.sock}\n"
            "all: a.out b.out c.out\n"
            "%.out:\n"
            "\tid=$$(" + PPOOL + " submit --server $(S) --task upper $*) && " + PPOOL +
            " get --server $(S) $$id > $@\n"))
        proc = run(["make", "-j3", "-f", makefile, "-C", self.tmp], input=None, binary="/usr/bin/env")
        self.assertOk(proc)
        for name in "abc":
            self.assertEqual(self.read(f"{name}.out"), name.upper() + "\n")
        self.assertEqual(sorted(self.read("init.log").split()), ["0", "1"])


if __name__ == "__main__":
    unittest.main()
