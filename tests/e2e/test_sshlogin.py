"""-S/--sshlogin, --sshloginfile, --ssh and --remote-ppool (SPEC 9) against
the real sshd of tests/scaleout: the hosts are logins to 127.0.0.1 as the
test user. A host's workers are sessions over one ssh connection; a host
without N/ gets as many slots as the CPUs its first worker reports; a host
that cannot be reached, or cannot run ppool, is said once and the run goes
on with the others; with none left the run is a one-line error, status 2."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import PipeReader, cmdline_of, json_lines, run, scaleout_unavailable, wait_for
from test_remote_launch import SETTLE, SshTestCase, comparable, local_environment

ITEMS = b"".join(b"%d\n" % i for i in range(1, 101))

# The joblog header, and that of joblogs written before the host column.
JOBLOG_HEADER = "seq\thost\tstart\truntime\texit_code\tsignal\tstatus\tattempts\tkey\titem\tcommand"
OLD_JOBLOG_HEADER = "seq\tstart\truntime\texit_code\tsignal\tstatus\tattempts\tkey\titem\tcommand"


def joblog_rows(path):
    with open(path) as f:
        return [line.split("\t") for line in f.read().splitlines()]


class SshloginTests(SshTestCase):
    def login(self, slots=None, port=None):
        return (f"{slots}/" if slots else "") + f"{self.user}@127.0.0.1" + (f":{port}" if port else "")

    def ssh_args(self, *logins, remote_ppool=None):
        args = []
        for login in logins:
            args += ["-S", login]
        return args + ["--ssh", f"ssh -F {self.ssh_config}", "--remote-ppool", remote_ppool or self.copy.path]

    def run_on(self, args, logins, input=ITEMS, **kwargs):
        return run(args[:1] + self.ssh_args(*logins, **kwargs) + args[1:], input=input, env=local_environment(),
                   timeout=SETTLE * 2)

    def test_results_equal_a_local_run(self):
        for args in (["imap", "--", "echo", "x{}"], ["imap", "-c", "7", "--task", "len"],
                     ["map", "--task", "upper"], ["imap", "--json", "--task", "upper"],
                     ["imap-unordered", "--task", "identity"]):
            with self.subTest(args=args):
                local = run(args, input=ITEMS, env=local_environment())
                remote = self.run_on(args, [self.login(2)])
                self.assertEqual(remote.returncode, 0, remote.stderr)
                if args[0] == "imap-unordered":
                    self.assertEqual(sorted(remote.stdout.splitlines()), sorted(local.stdout.splitlines()))
                else:
                    self.assertEqual(comparable(args, remote.stdout), comparable(args, local.stdout))
        self.assert_no_remote_process()

    def test_a_served_pool_on_a_host_learns_new_commands(self):
        # ppool serve with workers over ssh: commands submitted after the
        # workers started reach them as data, and terminate leaves nothing there.
        sock = self.path("s.sock")
        server = self.start(["serve", "--foreground", "--socket", sock] + self.ssh_args(self.login(2)),
                            env=local_environment())
        self.assertEqual(PipeReader(server.stdout).readline(timeout=SETTLE * 2), sock.encode() + b"\n")

        def round_trip(*args):
            submitted = run(["submit", "--server", sock, *args], input=None, env=local_environment())
            self.assertEqual(submitted.returncode, 0, submitted.stderr)
            return run(["get", "--server", sock, submitted.stdout.decode().strip()], input=None,
                       env=local_environment(), timeout=SETTLE * 2)

        for args, expected in ((["--", "id", "-un"], f"{self.user}\n"),
                               (["--", "sh", "-c", "echo remote-$(id -un)"], f"remote-{self.user}\n"),
                               (["--task", "upper", "abc"], "ABC\n")):
            got = round_trip(*args)
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout.decode(), expected)
        stopped = run(["terminate", "--server", sock], input=None, env=local_environment())
        self.assertEqual(stopped.returncode, 0, stopped.stderr)
        self.assertEqual(server.wait(timeout=SETTLE * 2), 0)
        self.assert_no_remote_process()

    def test_every_slot_of_a_host_shares_one_ssh_connection(self):
        proc = self.run_on(["imap", "--", "sh", "-c", 'echo "$PPOOL_WORKER"; sleep 0.3', "sh"], [self.login(3)],
                           input=b"a\nb\nc\nd\ne\nf\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(set(proc.stdout.split()), {b"0", b"1", b"2"})

    def test_a_host_without_n_gets_its_cpu_count(self):
        cpus = len(os.sched_getaffinity(0))
        proc = self.run_on(["imap", "--json", "--", "sleep"], [self.login()], input=b"0.5\n" * (2 * cpus))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        workers = {r["worker"] for r in json_lines(proc.stdout)}
        self.assertEqual(workers, set(range(cpus)))

    def test_minus_j_sets_the_slots_of_hosts_without_n(self):
        proc = self.run_on(["imap", "-j", "3", "--json", "--", "sleep"], [self.login()], input=b"0.3\n" * 9)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual({r["worker"] for r in json_lines(proc.stdout)}, {0, 1, 2})

    def test_this_machine_beside_a_host(self):
        proc = self.run_on(["imap", "--task", "len"], ["1/:", self.login(1)])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, run(["imap", "--task", "len"], input=ITEMS).stdout)

    def shared_directory(self):
        """A directory both this user and the test user write to."""
        shared = tempfile.mkdtemp(prefix="ppool-hosts-")
        os.chmod(shared, 0o777)
        self.addCleanup(shutil.rmtree, shared, True)
        return shared

    def barrier(self, shared):
        """A shell command for the items a and b, each held until both have
        started: with one slot per host, each host runs one of them."""
        return (f"touch {shared}/{{}}; i=0; until [ -e {shared}/a ] && [ -e {shared}/b ]; do "
                f"i=$((i+1)); [ $i -lt 3000 ] || exit 9; sleep 0.02; done; echo {{}}")

    def test_json_and_the_joblog_name_the_host_of_each_result(self):
        log = self.path("log")
        proc = self.run_on(["imap", "--json", "--joblog", log, self.barrier(self.shared_directory())],
                           ["1/:", self.login(1)], input=b"a\nb\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        records = json_lines(proc.stdout)
        for r in records:
            self.assertJsonRecord(r)
        # Slot 0 is this machine's, slot 1 the host's: named as -S wrote it, without "1/".
        self.assertEqual(sorted((r["worker"], r["host"]) for r in records),
                         [(0, ":"), (1, f"{self.user}@127.0.0.1")])
        rows = joblog_rows(log)
        self.assertEqual(rows[0], JOBLOG_HEADER.split("\t"))
        self.assertEqual(sorted((r[9], r[1]) for r in rows[1:]), sorted((r["input"], r["host"]) for r in records))
        # GNU parallel's joblog names the same hosts the same way (its Host column).
        gnu_log = self.path("gnu-log")
        gnu = subprocess.run(["parallel", "--will-cite", "--joblog", gnu_log, "--ssh", f"ssh -F {self.ssh_config}",
                              "-S", f"1/:,{self.login(1)}", self.barrier(self.shared_directory())],
                             input=b"a\nb\n", capture_output=True, timeout=SETTLE * 2)
        self.assertEqual(gnu.returncode, 0, gnu.stderr)
        gnu_rows = joblog_rows(gnu_log)
        self.assertEqual(gnu_rows[0][1], "Host")
        self.assertEqual(sorted(r[1] for r in gnu_rows[1:]), sorted(r[1] for r in rows[1:]))
        self.assert_no_remote_process()

    def test_the_host_keeps_its_port_and_the_login_of_an_sshloginfile(self):
        with open(os.path.join(os.path.dirname(self.ssh_config), "port")) as f:
            port = int(f.read())
        path = self.write("logins", f"{self.login(2, port=port)}\n".encode())
        proc = run(["imap", "--json", "--sshloginfile", path, "--ssh", f"ssh -F {self.ssh_config}",
                    "--remote-ppool", self.copy.path, "--task", "len"], input=ITEMS, env=local_environment(),
                   timeout=SETTLE * 2)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual({r["host"] for r in json_lines(proc.stdout)}, {f"{self.user}@127.0.0.1:{port}"})

    def test_text_and_tag_output_do_not_name_the_host(self):
        for args in (["imap", "--task", "upper"], ["imap", "--tag", "--", "echo", "x"]):
            with self.subTest(args=args):
                remote = self.run_on(args, [self.login(2)], input=b"a\nb\n")
                self.assertEqual(remote.returncode, 0, remote.stderr)
                self.assertEqual(remote.stdout, run(args, input=b"a\nb\n").stdout)

    def test_resume_from_a_joblog_without_the_host_column(self):
        # As an earlier ppool wrote it, by hand: "bb" succeeded, "ccc" failed.
        def key(item):
            return hashlib.sha256(b"task\0len\0" + item).hexdigest()
        lines = [OLD_JOBLOG_HEADER,
                 f"1\t1700000000.000\t0.001\t-\t0\tok\t1\t{key(b'bb')}\tbb\t--task len bb",
                 f"2\t1700000000.000\t0.001\t-\t0\terror\t1\t{key(b'ccc')}\tccc\t--task len ccc"]
        log = self.write("log", "\n".join(lines) + "\n")
        proc = self.run_on(["imap", "--joblog", log, "--resume", "--task", "len"], [self.login(1)],
                           input=b"a\nbb\nccc\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"1\n3\n")
        rows = joblog_rows(log)
        self.assertEqual(rows[0], OLD_JOBLOG_HEADER.split("\t"))
        # Appended in the joblog's own columns: no host, as the lines before.
        self.assertEqual([len(r) for r in rows], [10] * 5)
        self.assertEqual(sorted((r[5], r[8]) for r in rows[3:]), [("ok", "a"), ("ok", "ccc")])
        # A second resume skips them all.
        again = self.run_on(["imap", "--joblog", log, "--resume", "--task", "len"], [self.login(1)],
                            input=b"a\nbb\nccc\n")
        self.assertEqual((again.returncode, again.stdout), (0, b""), again.stderr)

    def test_the_benchmark_runs_its_ssh_rows(self):
        bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "run.py")
        json_out = self.path("bench.json")
        proc = subprocess.run([sys.executable, bench, "--ppool", self.copy.path, "--baseline", self.copy.path,
                               "--rounds", "1", "--scale", "0.002", "--quick", "--json-out", json_out,
                               "--sshlogin", f"{self.user}@127.0.0.1", "--ssh", f"ssh -F {self.ssh_config}"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=SETTLE * 4,
                              env=local_environment())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(json_out) as f:
            doc = json.load(f)
        for row in ("local true", "ssh true", "ssh len", "baseline ssh len"):
            self.assertIn(row, doc["workloads"])
        for ratio in ("ssh-true / local-true", "ssh-len / local-len"):
            self.assertGreater(doc["ratios"][ratio], 0)
        self.assert_no_remote_process()

    def test_a_worker_a_round_trip_away_keeps_the_limit_of_tasks(self):
        # A chunk waits at a remote worker behind the running one: it counts
        # against --max-tasks-per-worker like the running one.
        proc = self.run_on(["imap", "--max-tasks-per-worker", "2", "--", "sh", "-c", "echo $PPID", "sh"],
                           [self.login(1)], input=b"1\n2\n3\n4\n5\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        workers = proc.stdout.split()
        self.assertEqual(len(workers), 5)
        self.assertEqual(sorted(workers.count(w) for w in set(workers)), [1, 2, 2])

    def test_the_chunk_waiting_at_a_lost_worker_runs_on_its_replacement(self):
        # One slot: q shows the worker's chunks are quick, so while x runs, y
        # waits at the same worker; the worker's session is killed: x is lost
        # with it, y runs on the next worker.
        proc = self.start(["imap", "--json"] + self.ssh_args(self.login(1)) +
                          ["--", "sh", "-c", 'if [ "$1" = x ]; then sleep 300; fi; echo "$1"', "sh"],
                          env=local_environment())
        proc.stdin.write(b"q\nx\ny\n")
        proc.stdin.close()
        sleeper = wait_for(lambda: self.remote_sleeps(300), timeout=SETTLE)[0]
        os.kill(self.session_of(sleeper), signal.SIGKILL)
        proc.wait(timeout=SETTLE)
        records = json_lines(proc.stdout.read())
        self.assertEqual(proc.returncode, 1, self.stderr_of(proc))
        self.assertEqual([(r["input"], r["status"]) for r in records],
                         [("q", "ok"), ("x", "worker_lost"), ("y", "ok")])
        self.assertEqual(records[2]["output"], "y\n")
        self.assert_no_remote_process()

    def test_an_sshloginfile(self):
        path = self.write("logins", f"# the test host\n\n{self.login(2)}\n".encode())
        proc = run(["imap", "--sshloginfile", path, "--ssh", f"ssh -F {self.ssh_config}", "--remote-ppool",
                    self.copy.path, "--task", "len"], input=ITEMS, env=local_environment(), timeout=SETTLE * 2)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(proc.stdout.splitlines()), 100)

    def test_an_unreachable_host_is_said_once_and_the_run_goes_on(self):
        # Port 1 on 127.0.0.1: nothing listens, the connection is refused.
        proc = self.run_on(["imap", "--task", "len"], [self.login(1, port=1), self.login(2)])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(proc.stdout.splitlines()), 100)
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^ppool: warning: .*127\.0\.0\.1.*going on without it$")

    def test_no_host_left_is_a_usage_error(self):
        proc = self.run_on(["imap", "--task", "len"], [self.login(1, port=1)])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(len(lines), 2, lines)  # the host said once, then the error
        self.assertRegex(lines[-1], r"^ppool: no host to run workers on: ")
        self.assertEqual(proc.stdout, b"")

    def test_a_host_without_ppool_is_said_once_and_the_run_goes_on(self):
        proc = self.run_on(["imap", "--task", "len"], ["1/:", self.login(2)], remote_ppool="/nonexistent/ppool")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(proc.stdout.splitlines()), 100)
        lines = proc.stderr.decode().splitlines()
        warnings = [l for l in lines if l.startswith("ppool: warning: ")]
        self.assertEqual(len(warnings), 1, lines)
        self.assertIn("ssh to 2/ppooltest@127.0.0.1", warnings[0])
        self.assert_no_remote_process()

    def test_what_hosts_write_on_stderr_comes_in_whole_lines(self):
        # A "ppool" that writes half a line, waits, ends it and fails: the
        # warning about its host never lands inside another worker's line.
        fake = os.path.join(self.copy.directory, "half-line")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nprintf 'half of ' >&2; sleep 1; echo 'a line' >&2; exit 3\n")
        os.chmod(fake, 0o755)
        proc = self.run_on(["imap", "--task", "len"], ["1/:", self.login(3)], remote_ppool=fake)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stderr.decode().splitlines()
        for line in lines:
            self.assertTrue(line == "half of a line" or line.startswith("ppool: warning: "), lines)
        self.assertEqual(sum(1 for l in lines if l.startswith("ppool: warning: ")), 1, lines)

    def test_line_buffer_brings_a_hosts_lines_while_its_task_runs(self):
        # The task prints a line, then waits for a file made only once that
        # line has come through ppool's stdout.
        gates = tempfile.mkdtemp(dir=self.copy.directory)
        os.chmod(gates, 0o777)
        self.addCleanup(shutil.rmtree, gates, True)
        gate = os.path.join(gates, "gate")
        script = f"echo first {{}}; while [ ! -e {gate} ]; do sleep 0.01; done; echo second {{}} >&2"
        proc = self.start(["imap"] + self.ssh_args(self.login(1)) + ["--lb", "--tag", script, ":::", "x"],
                          env=local_environment(), stdin=subprocess.DEVNULL)
        out = PipeReader(proc.stdout)
        self.assertEqual(out.readline(timeout=SETTLE), b"x\tfirst x\n")
        open(gate, "w").close()
        self.assertEqual(out.read_rest(timeout=SETTLE), b"")
        self.assertEqual(proc.wait(timeout=SETTLE), 0)
        self.assertEqual(self.stderr_of(proc), b"x\tsecond x\n")

    def test_sigkill_of_ppool_leaves_nothing_on_the_host(self):
        proc = self.start(["imap"] + self.ssh_args(self.login(2)) + ["--task", "sleep"], env=local_environment())
        proc.stdin.write(b"300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: sum(1 for p in self.remote_processes() if b"worker" in b" ".join(cmdline_of(p))) >= 2,
                 timeout=SETTLE)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        self.assert_no_remote_process()

    def test_an_item_lost_with_its_host_runs_again(self):
        # Two hosts of one slot each. The first run of the item marks that it
        # ran and sleeps; its ssh session is killed; it runs again, finds the
        # mark and ends: the run succeeds, the item took two attempts.
        shared = tempfile.mkdtemp(prefix="ppool-lost-")
        os.chmod(shared, 0o777)
        self.addCleanup(shutil.rmtree, shared, True)
        mark = os.path.join(shared, "ran")
        script = f'if [ -e {mark} ]; then echo again; else touch {mark}; sleep 300; fi'
        proc = self.start(["imap", "--json"] + self.ssh_args(self.login(1), self.login(1)) +
                          ["--", "sh", "-c", script, "sh"], env=local_environment())
        proc.stdin.write(b"x\n")
        proc.stdin.close()
        sleeper = wait_for(lambda: self.remote_sleeps(300), timeout=SETTLE)[0]
        os.kill(self.session_of(sleeper), signal.SIGKILL)
        proc.wait(timeout=SETTLE)
        out = proc.stdout.read()
        self.assertEqual(proc.returncode, 0, self.stderr_of(proc))
        [record] = json_lines(out)
        self.assertEqual((record["status"], record["output"], record["attempts"]), ("ok", "again\n", 2))
        self.assert_no_remote_process()

    def test_a_plugin_task_on_a_host(self):
        # The plugin must be on the host at the path given: it is copied beside the remote ppool.
        plugin = os.path.join(self.copy.directory, "plugin.so")
        shutil.copy2(os.environ["PPOOL_EXAMPLE_PLUGIN"], plugin)
        os.chmod(plugin, 0o755)
        args = ["imap", "--plugin", plugin, "--task", "csv_sum"]
        items = b"1,2,x,3.5\n10\n,\n"
        local = run(args, input=items, env=local_environment())
        remote = self.run_on(args, [self.login(2)], input=items)
        self.assertEqual(remote.returncode, 0, remote.stderr)
        self.assertEqual(remote.stdout, local.stdout)
        self.assertEqual(remote.stdout, b"6.5\n10\n0\n")
        self.assert_no_remote_process()

    def test_env_and_the_commands_bash_function_reach_the_host(self):
        env = dict(local_environment(), PPOOL_TEST_VALUE="from here",
                   **{"BASH_FUNC_shout%%": '() {  echo "shout:$1:$PPOOL_TEST_VALUE"\n}'})
        args = ["imap"] + self.ssh_args(self.login(2))
        proc = run(args + ["shout", ":::", "a"], env=env, timeout=SETTLE * 2)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"shout:a:\n")
        proc = run(args + ["--env", "PPOOL_TEST_VALUE", "shout", ":::", "a"], env=env, timeout=SETTLE * 2)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"shout:a:from here\n")
        self.assert_no_remote_process()

    def test_a_plugin_missing_on_the_host_is_said(self):
        proc = self.run_on(["imap", "--plugin", os.environ["PPOOL_EXAMPLE_PLUGIN"] + ".missing", "--task", "len"],
                           [self.login(1)], input=b"x\n")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(b".missing", proc.stderr)
        self.assertEqual(proc.stderr.count(b"\n"), 1, proc.stderr)
        self.assert_no_remote_process()

    def test_arguments_equal_a_local_run(self):
        # A task's list of arguments (several input sources, columns, -N, -X)
        # and -I reach a remote worker's command as they reach a local one.
        for args, input in ((["imap", "--", "echo", "{2}-{1}", "{}", ":::", "a b", "c", ":::", "1", "2"], None),
                            (["imap", "-N", "3", "--", "echo", "{3}", "{1}"], ITEMS),
                            (["imap", "-X", "--", "echo", "x{}y"], ITEMS),
                            (["imap", "--colsep", ",", "--", "echo", "{2}"], b"a,b\nc,d\n"),
                            (["imap", "-I", "@", "--", "echo", "{}", "@"], ITEMS)):
            with self.subTest(args=args):
                local = run(args, input=input, env=local_environment())
                remote = self.run_on(args, [self.login(2)], input=input)
                self.assertEqual(remote.returncode, 0, remote.stderr)
                self.assertEqual(remote.stdout, local.stdout)
                self.assertNotEqual(local.stdout, b"")
        self.assert_no_remote_process()



class HaltAndPaceOnHostsTests(SshTestCase):
    """--timeout N%, --halt and --delay with every worker on a host: the limit
    travels with each chunk, the halt and the pace are the pool's."""

    def run_on(self, args, input):
        login = f"1/{self.user}@127.0.0.1"
        return run(args[:1] + ["-S", login, "--ssh", f"ssh -F {self.ssh_config}", "--remote-ppool", self.copy.path]
                   + args[1:], input=input, env=local_environment(), timeout=SETTLE * 2)

    def test_timeout_percent_stops_a_hanging_task_on_the_host(self):
        items = b"0.2\n0.2\n0.2\n0.2\n600\n"
        for args in (["imap", "--timeout", "1000%", "--", "sleep {}; echo {}"],
                     ["imap", "--timeout", "1000%", "--task", "sleep"]):
            with self.subTest(args=args):
                proc = self.run_on(args, items)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stdout, b"0.2\n" * 4)
                self.assertIn(b"task 5 (600) failed: timed out after", proc.stderr)
        self.assert_no_remote_process()

    def test_halt_now_stops_the_task_running_on_the_host(self):
        proc = self.run_on(["imap", "--halt", "now,fail=1", "--", "echo {}; test {} -lt 3"],
                           b"".join(b"%d\n" % i for i in range(1, 11)))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, b"1\n2\n3\n")
        self.assert_no_remote_process()

    def test_delay_paces_the_starts_on_the_host(self):
        before = time.time()
        proc = self.run_on(["imap", "--delay", "0.3", "--", "date +%s.%N; : {}"], b"a\nb\nc\nd\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        starts = sorted(float(line) for line in proc.stdout.split())
        self.assertEqual(len(starts), 4)
        # The host's clock is this machine's. The k-th task (from 0) is handed
        # out k delays after the first, which is after `before`.
        for k, start in enumerate(starts):
            self.assertGreaterEqual(start - before, k * 0.3, starts)
        self.assert_no_remote_process()


if __name__ == "__main__":
    reason = scaleout_unavailable("sshd")
    if reason:
        print(f"skipped: {reason}")
        sys.exit(77)
    unittest.main()
