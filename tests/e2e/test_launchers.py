"""Launchers (SPEC 9): workers that are not forked copies of ppool, told
everything over their channel. `--launcher exec` runs the program again as
`PROGRAM worker --stdio`; `--launcher CMD` runs a shell command that starts
`ppool worker --stdio` (here through real wrappers: env, setpriv); the
failures of a launcher are one line that names it."""

import json
import os
import shlex
import signal
import unittest

from harness import (PPOOL, PPOOL_TESTING, E2ETestCase, assert_session_ends, descendants_of, in_sleep, json_lines,
                     run, testing, wait_for)


def without_launcher_environment():
    env = dict(os.environ)
    env.pop("PPOOL_LAUNCHER", None)
    return env


class SameResultsTests(E2ETestCase):
    """Every launcher gives what fork gives, byte for byte (JSON timing aside)."""

    CASES = [
        (["imap", "-j", "2", "--", "echo", "a{}b"], b"1\n2\n3\n"),
        (["imap", "-j", "2", "printf '%s|' {} {.} {/} {#} {%}; echo"], b"x/y.z\n\xff\n"),
        (["imap", "-j", "2", "-c", "100", "--task", "len"], b"".join(b"%d\n" % i for i in range(5000))),
        (["map", "-j", "2", "--task", "upper"], b"a\nb\n"),
        (["imap", "--pipe", "-c", "2", "--", "wc", "-l"], b"1\n2\n3\n4\n5\n"),
        (["imap", "--initializer", "echo init $PPOOL_WORKER >&2", "--", "sh", "-c", "echo $PPOOL_WORKER $PPOOL_SEQ"],
         b"a\n"),
        (["imap", "-j", "2", "--json", "--", "sh", "-c", "echo out; echo err >&2; exit $1", "sh"], b"0\n3\n"),
    ]

    def outputs(self, launcher, args, items):
        proc = run(args[:1] + ["--launcher", launcher] + args[1:], input=items,
                   env=without_launcher_environment())
        out = proc.stdout
        if "--json" in args:
            records = json_lines(out)
            for r in records:
                r.pop("duration_s")
            out = json.dumps(records, sort_keys=True).encode()
        return proc.returncode, out, proc.stderr

    def test_exec_and_a_command_give_what_fork_gives(self):
        wrapper = f"env PPOOL_TEST_WRAPPED=1 {shlex.quote(PPOOL)} worker --stdio"
        for args, items in self.CASES:
            with self.subTest(args=args):
                expected = self.outputs("fork", args, items)
                self.assertEqual(self.outputs("exec", args, items), expected)
                self.assertEqual(self.outputs(wrapper, args, items), expected)

    def test_the_environment_chooses_the_launcher(self):
        env = without_launcher_environment()
        env["PPOOL_LAUNCHER"] = f"env PPOOL_TEST_WRAPPED=yes {shlex.quote(PPOOL)} worker --stdio"
        proc = run(["imap", "--", "sh", "-c", 'echo "$PPOOL_TEST_WRAPPED"'], input=b"x\n", env=env)
        self.assertOk(proc, "yes\n")
        # The option wins over the environment.
        proc = run(["imap", "--launcher", "fork", "--", "sh", "-c", 'echo "${PPOOL_TEST_WRAPPED:-none}"'],
                   input=b"x\n", env=env)
        self.assertOk(proc, "none\n")


class WrapperTests(E2ETestCase):
    def test_tasks_run_as_the_user_a_wrapper_makes(self):
        if os.getuid() != 0:
            self.skipTest("needs root to become another user")
        # Not nobody: the process-limit tests count that user's processes.
        launcher = f"setpriv --reuid=daemon --regid=daemon --clear-groups {shlex.quote(PPOOL)} worker --stdio"
        proc = run(["imap", "-j", "2", "--launcher", launcher, "--", "sh", "-c", 'echo "$(id -un) $1"', "sh"],
                   input=b"1\n2\n", env=without_launcher_environment())
        self.assertOk(proc, "daemon 1\ndaemon 2\n")

    def test_a_program_with_its_own_tasks_runs_them_with_exec(self):
        proc = testing(["imap", "-j", "2", "--launcher", "exec", "--task", "fail_on_bad"], input=b"a\nbad\nc\n",
                       env=without_launcher_environment())
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"a\nc\n")
        self.assertIn(b"bad item", proc.stderr)


    def test_the_last_words_of_a_launcher_are_passed_on(self):
        launcher = f"{shlex.quote(PPOOL)} worker --stdio; echo 'launcher done' >&2"
        for _ in range(5):
            proc = run(["imap", "-j", "2", "--launcher", launcher, "--", "echo"], input=b"1\n2\n",
                       env=without_launcher_environment())
            self.assertStatus(proc, 0)
            self.assertEqual(proc.stderr.count(b"launcher done\n"), 2, proc.stderr)


class LauncherFailureTests(E2ETestCase):
    def run_with(self, launcher, binary=None, args=("--", "echo")):
        return run(["imap", "--launcher", launcher] + list(args), input=b"1\n2\n", binary=binary,
                   env=without_launcher_environment())

    def assertOneLine(self, proc, pattern):
        self.assertStatus(proc, 2)
        self.assertEqual(proc.stdout, b"")
        lines = [l for l in proc.stderr.decode().splitlines() if l.startswith("ppool:")]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertRegex(lines[0], pattern)

    def test_a_launcher_that_fails_is_named_with_its_status_and_last_words(self):
        proc = self.run_with("echo first >&2; echo 'no such host' >&2; exit 3")
        self.assertOneLine(proc, r"^ppool: cannot start a worker with the launcher 'echo first .*exit 3': "
                                 r"it ended \(exit status 3\) before a worker answered: no such host$")

    def test_a_launcher_that_starts_no_worker_is_an_error(self):
        self.assertOneLine(self.run_with("echo hello, world; sleep 1"),
                           r"^ppool: cannot start a worker with the launcher '.*': what it started does not "
                           r"speak ppool's protocol")

    def test_a_worker_without_the_task_is_named(self):
        proc = self.run_with(f"{shlex.quote(PPOOL)} worker --stdio", binary=PPOOL_TESTING, args=["--task", "crash"])
        self.assertOneLine(proc, r"^ppool: the worker started by the launcher '.*' has no task 'crash'$")

    def test_a_lost_worker_fails_its_item_with_the_launchers_words(self):
        launcher = (f"{shlex.quote(PPOOL_TESTING)} worker --stdio || "
                    "{ echo \"worker ended $?\" >&2; exit 9; }")
        proc = testing(["imap", "-j", "1", "--launcher", launcher, "--task", "crash"], input=b"a\n",
                       env=without_launcher_environment())
        self.assertStatus(proc, 1)
        self.assertIn(f"ppool: task 1 (a) failed: worker died: exit status 9 (the launcher '{launcher}': "
                      "worker ended 139)".encode(), proc.stderr)

    def test_an_empty_launcher_is_a_usage_error(self):
        self.assertUsageError(self.run_with(""), "--launcher")

    def test_worker_takes_only_stdio(self):
        self.assertUsageError(run(["worker"], input=None), "--stdio")
        self.assertUsageError(run(["worker", "--sdtio"], input=None), "--stdio")


class BadLoginTests(E2ETestCase):
    """A host list that cannot be used is one line and status 2, before anything runs."""

    def check(self, args, pattern):
        proc = run(["imap"] + args + ["--", "echo"], input=b"1\n", env=without_launcher_environment())
        self.assertStatus(proc, 2)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(len(proc.stderr.splitlines()), 1, proc.stderr)
        self.assertRegex(proc.stderr.decode(), pattern)

    def test_malformed_logins(self):
        self.check(["-S", "a@b@c"], r"^ppool: bad sshlogin 'a@b@c': ")
        self.check(["-S", "@group/host"], r"^ppool: bad sshlogin '@group/host': host groups")
        self.check(["-S", "user:secret@host"], r"^ppool: bad sshlogin ")

    def test_an_sshloginfile_that_cannot_be_read(self):
        self.check(["--sshloginfile", self.path("missing")], r"^ppool: cannot read sshloginfile ")

    def test_an_ssh_command_that_needs_a_shell(self):
        self.check(["-S", "host", "--ssh", "ssh | tee"], r"^ppool: --ssh needs a shell for '\|'")


class CleanUpTests(E2ETestCase):
    def test_nothing_a_launcher_started_outlives_ppool(self):
        # A wrapper that stays (no exec) between ppool and the worker.
        for launcher in (f"exec {shlex.quote(PPOOL)} worker --stdio", f"{shlex.quote(PPOOL)} worker --stdio; true"):
            with self.subTest(launcher=launcher):
                self.check_sigint(launcher)

    def check_sigint(self, launcher):
        proc = self.start(["imap", "-j", "2", "--launcher", launcher, "--", "sleep"],
                          env=without_launcher_environment())
        proc.stdin.write(b"300\n300\n")
        proc.stdin.flush()
        self.addCleanup(assert_session_ends, proc.pid)
        # Both commands run (two launchers' workers and their sleeps): then a
        # Ctrl-C stops them all.
        wait_for(lambda: len([p for p in descendants_of(proc.pid) if in_sleep(p)]) >= 2)
        os.kill(proc.pid, signal.SIGINT)
        self.assertEqual(proc.wait(timeout=30), 130)
        assert_session_ends(proc.pid)


if __name__ == "__main__":
    unittest.main()
