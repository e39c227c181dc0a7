"""-S/--sshlogin, --sshloginfile, --ssh and --remote-ppool (SPEC 9) against
the real sshd of tests/scaleout: the hosts are logins to 127.0.0.1 as the
test user. A host's workers are sessions over one ssh connection; a host
without N/ gets as many slots as the CPUs its first worker reports; a host
that cannot be reached, or cannot run ppool, is said once and the run goes
on with the others; with none left the run is a one-line error, status 2."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from harness import cmdline_of, json_lines, run, scaleout_unavailable, wait_for
from test_remote_launch import SETTLE, SshTestCase, comparable, local_environment

ITEMS = b"".join(b"%d\n" % i for i in range(1, 101))


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

if __name__ == "__main__":
    reason = scaleout_unavailable("sshd")
    if reason:
        print(f"skipped: {reason}")
        sys.exit(77)
    unittest.main()
