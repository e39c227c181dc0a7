"""--progress: drawn on a terminal (a real pseudo-terminal here), or when
forced; never on stdout."""

import os
import select
import subprocess
import time
import unittest

from harness import PPOOL, E2ETestCase, run


def run_with_terminal_stderr(args, input, timeout=60):
    """Runs ppool with stderr on a new pseudo-terminal and stdout on a pipe;
    returns (status, stdout bytes, what the terminal got)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([PPOOL] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    proc.stdin.write(input)
    proc.stdin.close()
    terminal, out = b"", b""
    deadline = time.monotonic() + timeout
    open_fds = {master, proc.stdout.fileno()}
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_fds), [], [], 1)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                data = b""
            if not data:
                open_fds.discard(fd)
            elif fd == master:
                terminal += data
            else:
                out += data
    os.close(master)
    status = proc.wait(timeout=max(1, deadline - time.monotonic()))
    proc.stdout.close()
    return status, out, terminal


SLOW_ECHO = ["sh", "-c", 'sleep 0.05; echo "$1"', "sh"]


class ProgressTests(E2ETestCase):
    def test_drawn_in_place_on_a_terminal(self):
        items = b"".join(b"%d\n" % i for i in range(1, 31))
        status, out, terminal = run_with_terminal_stderr(["imap", "-j", "2", "--progress", "--"] + SLOW_ECHO, items)
        self.assertEqual(status, 0)
        self.assertEqual(out, items, "stdout carries only the results")
        text = terminal.decode()
        self.assertIn("\r", text)
        self.assertIn("\x1b[K", text)
        # The last line: every item done, none failed, none running.
        last = text.replace("\r\n", "\n").split("\r")[-1]
        self.assertIn("ppool: 30/30 done, 0 failed, 0 running", last)
        self.assertTrue(last.endswith("\n"), repr(last))

    def test_cleared_before_a_failure_line(self):
        status, out, terminal = run_with_terminal_stderr(
            ["imap", "-j", "1", "--progress", "--", "sh", "-c", 'sleep 0.3; test "$1" != 3', "sh"], b"1\n2\n3\n4\n")
        self.assertEqual(status, 1)
        text = terminal.decode().replace("\r\n", "\n")
        failure = "ppool: task 3 (3) failed: exit status 1\n"
        self.assertIn(failure, text)
        # Nothing of the progress line is left before the failure message on its line.
        before = text[:text.index(failure)]
        self.assertTrue(before == "" or before.endswith("\r\x1b[K") or before.endswith("\n"), repr(before[-80:]))
        self.assertIn("4/4 done, 1 failed", text)

    def test_total_and_eta_once_the_input_is_known(self):
        status, _, terminal = run_with_terminal_stderr(["map", "-j", "1", "--progress", "--"] + SLOW_ECHO,
                                                       b"".join(b"%d\n" % i for i in range(20)))
        self.assertEqual(status, 0)
        self.assertRegex(terminal.decode(), r"/20 done, 0 failed, \d+ running, [0-9.]+/s, ETA \d+:\d\d")

    def test_not_drawn_when_stderr_is_not_a_terminal(self):
        proc = run(["imap", "--progress", "-t", "len"], input=b"a\n")
        self.assertOk(proc, "1\n")
        self.assertEqual(proc.stderr, b"")

    def test_forced_lines_when_not_a_terminal(self):
        proc = run(["imap", "--progress=always", "-t", "len"], input=b"a\nbb\n")
        self.assertOk(proc, "1\n2\n")
        text = proc.stderr.decode()
        self.assertNotIn("\r", text)
        self.assertNotIn("\x1b", text)
        self.assertTrue(text.endswith("ppool: 2/2 done, 0 failed, 0 running, " + text.split(" running, ")[-1]))
        self.assertRegex(text.splitlines()[-1], r"^ppool: 2/2 done, 0 failed, 0 running, [0-9.]+/s$")

    def test_never_and_bad_values(self):
        proc = run(["imap", "--progress=never", "-t", "len"], input=b"a\n")
        self.assertOk(proc, "1\n")
        self.assertEqual(proc.stderr, b"")
        self.assertUsageError(run(["imap", "--progress=sometimes", "-t", "len"]), "--progress")

    def test_a_value_may_stand_apart_but_a_command_is_not_one(self):
        proc = run(["imap", "--progress", "always", "-t", "len"], input=b"a\n")
        self.assertOk(proc, "1\n")
        self.assertIn(b"1/1 done", proc.stderr)
        # Not a value: the command starts there, and progress is auto (stderr is no terminal).
        proc = run(["imap", "--progress", "echo", "x"], input=b"a\n")
        self.assertOk(proc, "x a\n")
        self.assertEqual(proc.stderr, b"")

    def test_under_script(self):
        # script(1) gives the whole run a real terminal, as an interactive shell would.
        command = f"printf '1\\n2\\n3\\n' | {PPOOL} imap -j 1 --progress -- sh -c 'sleep 0.1; echo out$1' sh"
        proc = subprocess.run(["script", "-qefc", command, "/dev/null"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc)
        text = proc.stdout.decode().replace("\r\n", "\n")
        for n in (1, 2, 3):
            self.assertIn(f"out{n}\n", text)
        self.assertIn("ppool: 3/3 done, 0 failed, 0 running", text)


if __name__ == "__main__":
    unittest.main()
