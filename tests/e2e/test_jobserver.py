"""GNU make's jobserver: inside `make -jN` ppool runs a task beyond its first
only with a token from make, and every token goes back however ppool ends.

Concurrency is measured by probes: each makes a directory entry, counts the
entries, logs the count and removes its entry. An entry exists only while its
probe runs, so a logged count never exceeds the probes running at that moment:
an upper bound that no timing can break. Lower bounds are reached by probes
that wait (bounded) until enough of them exist, never by sleeps.
"""

import os
import shutil
import signal
import stat
import subprocess
import time
import unittest

from harness import PPOOL, E2ETestCase, describe, lines, run, wait_for

PROBE = r"""#!/bin/sh
# probe DIR WANT: log how many probes run now; with WANT > 0 wait (at most
# about 20 s) until one of them has seen WANT run at once, else hold for 0.2 s.
dir=$1
want=$2
mkdir "$dir/live/$$"
n=$(ls "$dir/live" | wc -l)
if [ "$want" -gt 0 ]; then
    i=0
    while [ "$n" -lt "$want" ] && [ ! -e "$dir/reached" ] && [ "$i" -lt 2000 ]; do
        sleep 0.01
        i=$((i + 1))
        n=$(ls "$dir/live" | wc -l)
    done
    if [ "$n" -ge "$want" ]; then touch "$dir/reached"; fi
else
    sleep 0.2
fi
echo "$n" >> "$dir/log"
rmdir "$dir/live/$$"
"""

MAKEFILE = """\
all: t1 t2 t3
t1 t2 t3:
\t{plus}$(PPOOL) imap -j 4 -a $(ITEMS) -- $(PROBE) $(DIR) 0 {{}} > $@.out
"""

# Starts a task that records that it runs, then sleeps until stopped.
STARTED_THEN_SLEEP = ["sh", "-c", 'touch "$1/started/$$"; exec sleep 300', "sh"]

HAVE_MAKE = shutil.which("make") is not None


def clean_environment():
    """The environment without any make of ours around the test run."""
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"):
        env.pop(name, None)
    return env


def make_supports(option):
    help_text = subprocess.run(["make", "--help"], capture_output=True, text=True).stdout
    return option in help_text


class ProbeCase(E2ETestCase):
    def setUp(self):
        super().setUp()
        self.probe = self.write("probe", PROBE)
        os.chmod(self.probe, stat.S_IRWXU)
        os.mkdir(self.path("live"))
        os.mkdir(self.path("started"))

    def counts(self):
        with open(self.path("log")) as f:
            return [int(line) for line in f.read().split()]

    def items(self, n):
        return "".join(f"{i}\n" for i in range(n)).encode()


@unittest.skipUnless(HAVE_MAKE, "GNU make is not installed")
class UnderMakeTests(ProbeCase):
    def run_make(self, *make_args, plus="+"):
        self.write("Makefile", MAKEFILE.format(plus=plus))
        items = self.write("items", self.items(6))
        proc = subprocess.run(["make", *make_args, "-C", self.tmp, f"PPOOL={PPOOL}", f"ITEMS={items}",
                               f"PROBE={self.probe}", f"DIR={self.tmp}"],
                              capture_output=True, env=clean_environment(), timeout=120)
        self.assertEqual(proc.returncode, 0, describe(proc))
        self.assertEqual(len(self.counts()), 18, "every item ran")
        # GNU make complains about tokens missing or left over at its exit.
        make_lines = [line for line in lines(proc.stderr) if not line.startswith("ppool: ")]
        self.assertNotIn("jobserver", "\n".join(make_lines).lower(), describe(proc))
        return proc

    def ppool_warnings(self, proc):
        return [line for line in lines(proc.stderr) if line.startswith("ppool: warning: ")]

    def test_make_j2_runs_at_most_two_tasks(self):
        proc = self.run_make("-j2")
        self.assertLessEqual(max(self.counts()), 2, self.counts())
        self.assertEqual(self.ppool_warnings(proc), [], describe(proc))

    def test_make_j2_pipe_style(self):
        if not make_supports("--jobserver-style"):
            self.skipTest("this make has only one jobserver style (a pipe), tested above")
        self.run_make("-j2", "--jobserver-style=pipe")
        self.assertLessEqual(max(self.counts()), 2, self.counts())

    def test_make_j3_shares_its_tokens(self):
        self.run_make("-j3")
        self.assertLessEqual(max(self.counts()), 3, self.counts())

    def test_a_recipe_without_plus_still_runs_and_says_so(self):
        # make 4.3 names its pipe in MAKEFLAGS but closes it for such a recipe:
        # ppool runs without make's limit, and says so once per run.
        proc = self.run_make("-j2", plus="")
        warnings = self.ppool_warnings(proc)
        if not warnings and make_supports("--jobserver-style"):
            self.skipTest("this make passes its jobserver (a fifo) to every recipe")
        self.assertEqual(len(warnings), 3, describe(proc))
        for warning in warnings:
            self.assertRegex(warning, r"^ppool: warning: make's jobserver \(MAKEFLAGS --jobserver-auth=\d+,\d+\) "
                                      r"cannot be used \(descriptor \d+ is not open: prefix the recipe with '\+' "
                                      r"so that make passes its jobserver on\); running up to 4 tasks at once$")


class ControlTests(ProbeCase):
    def test_without_make_the_probes_see_four_at_once(self):
        # Shows the probe can see more than make's limit: the bound above is not vacuous.
        proc = run(["imap", "-j", "4", "--", self.probe, self.tmp, "4", "{}"], input=self.items(4),
                   env=clean_environment(), timeout=120)
        self.assertOk(proc)
        self.assertEqual(max(self.counts()), 4)


class TokenReturnTests(ProbeCase):
    """A jobserver the test makes itself: three tokens, given to ppool -j 4."""

    TOKENS = b"+ab"

    def setUp(self):
        super().setUp()
        self.read_fd, self.write_fd = os.pipe()
        self.addCleanup(os.close, self.read_fd)
        self.addCleanup(os.close, self.write_fd)
        os.write(self.write_fd, self.TOKENS)

    def env(self, auth=None):
        env = clean_environment()
        env["MAKEFLAGS"] = f" -j4 --jobserver-auth={auth or f'{self.read_fd},{self.write_fd}'}"
        return env

    def tokens_back(self):
        os.set_blocking(self.read_fd, False)
        try:
            return os.read(self.read_fd, 100)
        except BlockingIOError:
            return b""
        finally:
            os.set_blocking(self.read_fd, True)

    def assertTokensBack(self):
        self.assertEqual(sorted(self.tokens_back()), sorted(self.TOKENS))

    def ppool(self, args, items, status, env=None):
        proc = run(args, input=items, env=env or self.env(), pass_fds=(self.read_fd, self.write_fd), timeout=120)
        self.assertStatus(proc, status)
        return proc

    def test_success_takes_every_token_and_gives_each_back(self):
        # Four at once needs all three tokens; the probes wait until they see four.
        self.ppool(["imap", "-j", "8", "--", self.probe, self.tmp, "4", "{}"], self.items(8), 0)
        self.assertEqual(max(self.counts()), 4)
        self.assertTokensBack()

    def test_one_token_means_two_tasks_at_once(self):
        os.read(self.read_fd, 2)
        self.ppool(["imap", "-j", "4", "--", self.probe, self.tmp, "0", "{}"], self.items(8), 0)
        self.assertLessEqual(max(self.counts()), 2, self.counts())
        self.assertEqual(self.tokens_back(), b"b")

    def test_failing_tasks(self):
        self.ppool(["imap", "-j", "4", "--", "sh", "-c", "exit 3"], self.items(10), 1)
        self.assertTokensBack()

    def test_timeout(self):
        self.ppool(["imap", "-j", "4", "--timeout", "0.5", "--", "sleep", "{}"], b"300\n" * 6, 1)
        self.assertTokensBack()

    def test_fail_fast(self):
        # The failing task waits until the other three run (holding the tokens).
        fail = 'if [ "$2" = fail ]; then until [ $(ls "$1/started" | wc -l) -ge 3 ]; do sleep 0.01; done; exit 1; fi'
        command = ["sh", "-c", fail + '; touch "$1/started/$$"; exec sleep 300', "sh", self.tmp, "{}"]
        start = time.monotonic()
        self.ppool(["imap", "-j", "4", "--fail-fast", "--"] + command, b"fail\nx\ny\nz\nw\n", 1)
        self.assertLess(time.monotonic() - start, 100, "the running tasks were stopped, not waited for")
        self.assertTokensBack()

    def check_signal(self, signo):
        proc = self.start(["imap", "-j", "4", "--"] + STARTED_THEN_SLEEP + [self.tmp],
                          env=self.env(), pass_fds=(self.read_fd, self.write_fd))
        proc.stdin.write(self.items(6))
        proc.stdin.close()
        wait_for(lambda: len(os.listdir(self.path("started"))) == 4, timeout=60)
        self.assertEqual(self.tokens_back(), b"", "four tasks run: all three tokens are taken")
        os.kill(proc.pid, signo)
        proc.wait(timeout=60)
        self.assertEqual(proc.returncode, 128 + signo, self.stderr_of(proc))
        self.assertTokensBack()

    def test_sigterm(self):
        self.check_signal(signal.SIGTERM)

    def test_sigint(self):
        self.check_signal(signal.SIGINT)

    def test_sighup(self):
        self.check_signal(signal.SIGHUP)

    def test_fifo(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        held = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        self.addCleanup(os.close, held)
        os.write(held, self.TOKENS)
        self.ppool(["imap", "-j", "8", "--", self.probe, self.tmp, "4", "{}"], self.items(8), 0,
                   env=self.env(f"fifo:{fifo}"))
        self.assertEqual(max(self.counts()), 4)
        self.assertEqual(sorted(os.read(held, 100)), sorted(self.TOKENS))

    def test_descriptors_not_passed_mean_no_limit(self):
        # MAKEFLAGS names descriptors ppool does not have: it runs, without a limit.
        proc = run(["imap", "-j", "4", "--", self.probe, self.tmp, "4", "{}"], input=self.items(4),
                   env=self.env("57,58"), timeout=120)
        self.assertOk(proc)
        self.assertEqual(max(self.counts()), 4)


class UnusableJobserverTests(E2ETestCase):
    """A MAKEFLAGS jobserver that cannot be used: one warning line, then the run as without make."""

    def check_warning(self, auth, reason, pass_fds=()):
        env = clean_environment()
        env["MAKEFLAGS"] = f" -j4 --jobserver-auth={auth}"
        for args in (["imap", "-j", "3", "--", "echo", "{}"], ["map", "-j", "3", "--task", "identity"]):
            with self.subTest(auth=auth, mode=args[0]):
                proc = run(args, input=b"a\nb\n", env=env, pass_fds=pass_fds)
                self.assertOk(proc, "a\nb\n")
                self.assertEqual(lines(proc.stderr), [
                    f"ppool: warning: make's jobserver (MAKEFLAGS --jobserver-auth={auth}) cannot be used "
                    f"({reason}); running up to 3 tasks at once"])

    def test_descriptors_not_open(self):
        self.check_warning("57,58", "descriptor 57 is not open: prefix the recipe with '+' "
                                    "so that make passes its jobserver on")

    def test_descriptors_not_a_pipe(self):
        with open(self.write("file", ""), "rb") as f:
            fd = f.fileno()
            self.check_warning(f"{fd},{fd}", f"descriptor {fd} is not a pipe: prefix the recipe with '+' "
                                             "so that make passes its jobserver on", pass_fds=(fd,))

    def test_fifo_that_cannot_be_opened(self):
        missing = self.path("gone")
        self.check_warning(f"fifo:{missing}", f"cannot open {missing}: No such file or directory")

    def test_malformed_value(self):
        self.check_warning("3;4", "'3;4' is neither R,W nor fifo:PATH")

    def test_no_jobserver_no_word(self):
        for flags in (None, "", " -j4", "ks -j", "-j1 --jobserver-auth=57,58", " -j4 --jobserver-auth=-2,-2",
                      " -j4 -- X=--jobserver-auth=57,58"):
            env = clean_environment()
            if flags is not None:
                env["MAKEFLAGS"] = flags
            with self.subTest(makeflags=flags):
                proc = run(["imap", "-j", "2", "--", "echo", "{}"], input=b"a\n", env=env)
                self.assertOk(proc, "a\n")
                self.assertEqual(proc.stderr, b"")


if __name__ == "__main__":
    unittest.main()
