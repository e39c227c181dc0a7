"""--transfer, --return, --cleanup and --trc (GNU parallel's) against the real
sshd of tests/scaleout: the host is a login to 127.0.0.1 as the test user,
whose working directory (its home) is not this test's. Files go to the host
and back over each worker's own channel; this machine's slots move nothing.
Where GNU parallel can do the same (it needs rsync), the results are compared
with its own."""

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid

from harness import json_lines, run, scaleout_unavailable
from test_remote_launch import SETTLE, SshTestCase, local_environment


class TransferTests(SshTestCase):
    def setUp(self):
        super().setUp()
        self.home = pwd.getpwnam(self.user).pw_dir
        # The working directory of ppool: a directory the host does not have.
        self.cwd = tempfile.mkdtemp(prefix="ppool-transfer-")
        self.addCleanup(shutil.rmtree, self.cwd, True)
        # Items are paths under a name that is this test's alone, also in the host's home.
        self.dir = f"trc-{uuid.uuid4().hex[:12]}"
        os.mkdir(os.path.join(self.cwd, self.dir))
        self.addCleanup(shutil.rmtree, os.path.join(self.home, self.dir), True)

    def login(self, slots=1):
        return f"{slots}/{self.user}@127.0.0.1"

    def ppool(self, mode_args, command, items, logins=None, **kwargs):
        args = mode_args[:1]
        for login in logins or [self.login()]:
            args += ["-S", login]
        args += ["--ssh", f"ssh -F {self.ssh_config}", "--remote-ppool", self.copy.path] + mode_args[1:]
        args += ["--"] + command if command else []
        return run(args, input="".join(i + "\n" for i in items).encode(), env=local_environment(),
                   timeout=SETTLE * 2, cwd=self.cwd, **kwargs)

    def make(self, name, content, mode=0o644):
        path = os.path.join(self.cwd, self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        os.chmod(path, mode)
        return f"{self.dir}/{name}"

    def local(self, item):
        return os.path.join(self.cwd, item)

    def remote(self, item):
        return os.path.join(self.home, item)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def inputs(self, count=3):
        return [self.make(f"in{i}.txt", b"x" * (i * 10 + 1) + b"\n") for i in range(count)]

    def test_trc_sends_runs_brings_back_and_cleans_up(self):
        items = self.inputs()
        proc = self.ppool(["imap", "--trc", "{}.out"], ["wc -c < {} > {}.out"], items)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"")
        self.assertEqual(proc.stderr, b"")
        for i, item in enumerate(items):
            self.assertEqual(self.read(self.local(item + ".out")).strip(), b"%d" % (i * 10 + 2))
            # The input stays here; the host keeps nothing, not even the directory.
            self.assertTrue(os.path.exists(self.local(item)))
        self.assertFalse(os.path.exists(self.remote(self.dir)))
        self.assert_no_remote_process()

    def test_trc_equals_gnu_parallel(self):
        if not shutil.which("rsync"):
            self.skipTest("GNU parallel's --trc needs rsync, which is not installed")
        items = self.inputs(4)
        ours = self.ppool(["imap", "--trc", "{}.out"], ["wc -c < {} > {}.out"], items)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        got = {item: self.read(self.local(item + ".out")) for item in items}
        for item in items:
            os.unlink(self.local(item + ".out"))
        gnu = subprocess.run(["parallel", "--trc", "{}.out", "-S", f"{self.user}@127.0.0.1", "--ssh",
                              f"ssh -F {self.ssh_config}", "wc -c < {} > {}.out", ":::"] + items,
                             cwd=self.cwd, capture_output=True, timeout=SETTLE * 2, stdin=subprocess.DEVNULL)
        self.assertEqual(gnu.returncode, 0, gnu.stderr)
        self.assertEqual(ours.stdout, gnu.stdout)
        self.assertEqual({item: self.read(self.local(item + ".out")) for item in items}, got)
        self.assertFalse(os.path.exists(self.remote(self.dir)))

    def test_transfer_alone_leaves_the_file_there_with_its_mode(self):
        item = self.make("sub/deep/a.txt", b"hello\n", mode=0o751)
        proc = self.ppool(["imap", "--transfer"], ["cat"], [item])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"hello\n")
        there = self.remote(item)
        self.assertEqual(self.read(there), b"hello\n")
        self.assertEqual(os.stat(there).st_mode & 0o7777, 0o751)
        self.assertEqual(os.stat(there).st_uid, self.uid)

    def test_transferfile_sends_files_named_from_the_item(self):
        item = self.make("data.txt", b"data\n")
        self.make("data.idx", b"index\n")
        proc = self.ppool(["imap", "--transferfile", "{.}.idx", "--transferfile", "{}", "--cleanup"], ["cat {} {.}.idx"], [item])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"data\nindex\n")
        self.assertFalse(os.path.exists(self.remote(self.dir)))

    def test_without_transfer_the_host_has_no_file(self):
        item = self.make("a.txt", b"hello\n")
        proc = self.ppool(["imap", "--json"], ["cat"], [item])
        [record] = json_lines(proc.stdout)
        self.assertEqual(record["status"], "failed")

    def test_a_path_after_slash_dot_slash_lands_relative(self):
        self.make("rel/b.txt", b"b\n")
        item = f"{self.cwd}/./{self.dir}/rel/b.txt"
        # {#} stands for $0: the item is not appended, the command reads where the file landed.
        proc = self.ppool(["imap", "--transfer"], ["sh", "-c", f"cat {self.dir}/rel/b.txt", "{#}"], [item])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"b\n")
        self.assertEqual(self.read(self.remote(f"{self.dir}/rel/b.txt")), b"b\n")

    def test_an_absolute_path_lands_at_the_same_path(self):
        # The host is this machine: the file it writes replaces this one,
        # and is then the test user's, which proves it was sent.
        shared = tempfile.mkdtemp(prefix="ppool-abs-")
        self.addCleanup(shutil.rmtree, shared, True)
        os.chmod(shared, 0o777)
        path = os.path.join(shared, "new", "f.txt")
        os.mkdir(os.path.dirname(path))
        os.chmod(os.path.dirname(path), 0o777)
        with open(path, "wb") as f:
            f.write(b"absolute\n")
        os.chmod(path, 0o640)
        proc = self.ppool(["imap", "--transfer"], ["cat"], [path])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"absolute\n")
        self.assertEqual(os.stat(path).st_uid, self.uid)
        self.assertEqual(os.stat(path).st_mode & 0o7777, 0o640)

    def test_a_file_the_host_cannot_write_fails_its_item(self):
        # An absolute path in a directory the test user may not write to.
        closed = tempfile.mkdtemp(prefix="ppool-closed-")
        self.addCleanup(shutil.rmtree, closed, True)
        os.chmod(closed, 0o755)
        path = os.path.join(closed, "f.txt")
        with open(path, "wb") as f:
            f.write(b"x\n")
        items = [path, self.make("fine.txt", b"fine\n")]
        proc = self.ppool(["imap", "--json", "--trc", "{}.out"], ["cp {} {}.out"], items)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        failed, ok = json_lines(proc.stdout)
        self.assertEqual(failed["status"], "error")
        self.assertRegex(failed["error"], rf"^--transfer: cannot write {path}: Permission denied$")
        self.assertEqual(ok["status"], "ok")
        self.assertEqual(self.read(self.local(items[1] + ".out")), b"fine\n")
        self.assertEqual(os.listdir(closed), ["f.txt"])

    def test_cleanup_leaves_what_the_host_had_before(self):
        item = self.make("sub/a.txt", b"a\n")
        keep = self.remote(f"{self.dir}/sub/keep")
        os.makedirs(os.path.dirname(keep))
        with open(keep, "wb") as f:
            f.write(b"keep\n")
        subprocess.run(["chown", "-R", f"{self.user}:", self.remote(self.dir)], check=True)
        proc = self.ppool(["imap", "--trc", "{}.out"], ["cp {} {}.out"], [item])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.read(self.local(item + ".out")), b"a\n")
        self.assertEqual(os.listdir(os.path.dirname(keep)), ["keep"])

    def test_return_alone_brings_a_file_back_and_leaves_it(self):
        items = [f"{self.dir}/made/x", f"{self.dir}/made/y"]
        proc = self.ppool(["imap", "--return", "{}.out", "--return", "{.}.log"],
                          ['mkdir -p "$(dirname {})" && echo "out of {}" > {}.out && echo log > {.}.log'], items)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for item in items:
            self.assertEqual(self.read(self.local(item + ".out")), f"out of {item}\n".encode())
            self.assertEqual(self.read(self.local(item + ".log")), b"log\n")
            self.assertTrue(os.path.exists(self.remote(item + ".out")))
        # Files come back whole: no temporary file is left beside them.
        self.assertEqual(sorted(os.listdir(self.local(f"{self.dir}/made"))), ["x.log", "x.out", "y.log", "y.out"])

    def test_a_missing_return_file_is_said_and_the_result_stays(self):
        items = self.inputs(2)
        proc = self.ppool(["imap", "--json", "--trc", "{}.none"], ["cat"], items)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        records = json_lines(proc.stdout)
        self.assertEqual([r["status"] for r in records], ["ok", "ok"])
        lines = proc.stderr.decode().splitlines()
        self.assertEqual(len(lines), 2, lines)
        for line, item in zip(lines, items):
            self.assertRegex(line, rf"^ppool: warning: ssh to .*127\.0\.0\.1: cannot return {item}\.none: "
                                   r"No such file or directory$")
        self.assertFalse(os.path.exists(self.remote(self.dir)))
        if shutil.which("rsync"):
            # GNU parallel says so too (rsync's lines), and the item's result and status stay.
            ours = self.ppool(["imap", "--trc", "{}.none"], ["cat"], items)
            gnu = subprocess.run(["parallel", "-k", "--trc", "{}.none", "-S", f"{self.user}@127.0.0.1", "--ssh",
                                  f"ssh -F {self.ssh_config}", "cat", ":::"] + items,
                                 cwd=self.cwd, capture_output=True, timeout=SETTLE * 2, stdin=subprocess.DEVNULL)
            self.assertEqual((ours.returncode, ours.stdout), (gnu.returncode, gnu.stdout))
            self.assertIn(b"No such file or directory", gnu.stderr)

    def test_a_file_that_cannot_be_read_here_fails_its_item_only(self):
        items = [self.make("ok.txt", b"fine\n"), f"{self.dir}/missing.txt"]
        proc = self.ppool(["imap", "--json", "--transfer"], ["cat"], items)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        ok, missing = json_lines(proc.stdout)
        self.assertEqual((ok["status"], ok["output"]), ("ok", "fine\n"))
        self.assertEqual(missing["status"], "error")
        self.assertEqual(missing["error"], f"cannot transfer {items[1]}: No such file or directory")

    def test_a_chunk_of_several_items(self):
        items = self.inputs(7)
        proc = self.ppool(["imap", "-c", "3", "--json", "--trc", "{}.out"], ["wc -c < {} > {}.out"], items,
                          logins=[self.login(2)])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual([r["status"] for r in json_lines(proc.stdout)], ["ok"] * 7)
        for i, item in enumerate(items):
            self.assertEqual(self.read(self.local(item + ".out")).strip(), b"%d" % (i * 10 + 2))
        self.assertFalse(os.path.exists(self.remote(self.dir)))

    def test_a_returned_file_is_never_set_user_id_here(self):
        item = self.make("tool", b"#!/bin/sh\n", mode=0o755)
        proc = self.ppool(["imap", "--trc", "{}.copy"], ["cp {} {}.copy && chmod 6755 {}.copy"], [item])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.stat(self.local(item + ".copy")).st_mode & 0o7777, 0o755)

    def test_large_files_go_and_come_back_in_parts(self):
        # One of many parts, one of exactly two full parts (then an empty last one), in one chunk.
        contents = {self.make("big.bin", os.urandom(700 * 1024 + 1), mode=0o600): None,
                    self.make("even.bin", os.urandom(128 * 1024), mode=0o604): None}
        for item in contents:
            contents[item] = self.read(self.local(item))
        proc = self.ppool(["imap", "-c", "2", "--trc", "{}.copy"], ["cp {} {}.copy"], list(contents))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for item, content in contents.items():
            copy = self.local(item + ".copy")
            self.assertEqual(self.read(copy), content)
            self.assertEqual(os.stat(copy).st_mode & 0o7777, os.stat(self.local(item)).st_mode & 0o7777)
        self.assertFalse(os.path.exists(self.remote(self.dir)))

    def test_a_registered_task_reads_the_file_sent(self):
        items = self.inputs(3)
        proc = self.ppool(["imap", "--transfer", "--cleanup", "--task", "sha256sum"], None, items)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expected = "".join(f"{hashlib.sha256(self.read(self.local(i))).hexdigest()}  {i}\n" for i in items)
        self.assertEqual(proc.stdout.decode(), expected)
        self.assertFalse(os.path.exists(self.remote(self.dir)))

    def test_this_machines_slots_move_nothing(self):
        items = self.inputs(2)
        for logins in (None, ["1/:"]):
            with self.subTest(logins=logins):
                args = ["imap", "--trc", "{}.out", "--", "wc -c < {} > {}.out"]
                if logins:
                    proc = self.ppool(args[:-2], ["wc -c < {} > {}.out"], items, logins=logins)
                else:
                    proc = run(args, input="".join(i + "\n" for i in items).encode(), cwd=self.cwd)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(proc.stderr, b"")
                for item in items:
                    # The command made the output here; nothing was cleaned up.
                    self.assertTrue(os.path.exists(self.local(item)))
                    self.assertTrue(os.path.exists(self.local(item + ".out")))
                    os.unlink(self.local(item + ".out"))
                self.assertFalse(os.path.exists(self.remote(self.dir)))

    def test_a_host_writes_nothing_here_that_was_not_asked_for(self):
        # A "ppool" on the host that answers as a worker would, then sends a
        # file to a path of its own choosing instead of a result.
        evil = os.path.join(self.cwd, "evil")
        directory = tempfile.mkdtemp(prefix="ppool-fake-")
        self.addCleanup(shutil.rmtree, directory, True)
        os.chmod(directory, 0o755)
        fake = os.path.join(directory, "ppool")
        with open(fake, "w") as f:
            f.write(FAKE_WORKER.replace("PATH", repr(evil.encode())))
        os.chmod(fake, 0o755)
        args = ["imap", "-S", self.login(), "--ssh", f"ssh -F {self.ssh_config}", "--remote-ppool", fake, "--json",
                "--return", "{}.out", "--", "true"]
        proc = run(args, input=b"x\n", env=local_environment(), timeout=SETTLE * 2, cwd=self.cwd)
        [record] = json_lines(proc.stdout)
        self.assertEqual(record["status"], "worker_lost")
        self.assertIn("a file that was not asked for", record["error"])
        self.assertFalse(os.path.exists(evil))
        self.assertEqual([n for n in os.listdir(self.cwd) if n != self.dir], [])


# Speaks just enough of the protocol: configure, hello, ready, then a file frame.
FAKE_WORKER = """#!/usr/bin/env python3
import struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
def frame():
    head = inp.read(9)
    return head[0], inp.read(struct.unpack("<Q", head[1:])[0])
def send(kind, payload):
    out.write(bytes([kind]) + struct.pack("<Q", len(payload)) + payload)
    out.flush()
def text(s):
    return struct.pack("<Q", len(s)) + s
def number(p, at):
    return struct.unpack("<Q", p[at:at + 8])[0], at + 8
kind, p = frame()
version = struct.unpack("<I", p[:4])[0]
count, at = number(p, 8)
for _ in range(count):
    n, at = number(p, at)
    at += n
count, at = number(p, at)
names = []
for _ in range(count):
    n, at = number(p, at)
    names.append(p[at:at + n])
    at += n
    words, at = number(p, at)
    for _ in range(words):
        n, at = number(p, at)
        at += n
    at += 1
send(10, struct.pack("<I", version) + text(b"fake") + struct.pack("<IQ", 1, len(names)) +
     b"".join(text(n) for n in names) + text(b""))
send(2, b"")
while frame()[0] != 11:
    pass
send(13, struct.pack("<QBI", 1, 3, 0o644) + text(PATH) + text(b"evil\\n"))
inp.read()
"""


class TransferUsageTests(unittest.TestCase):
    def test_an_empty_file_name_is_a_usage_error(self):
        for option in ("--trc", "--return", "--transferfile"):
            with self.subTest(option=option):
                proc = run(["imap", option, "", "--", "true"], input=b"x\n")
                self.assertEqual(proc.returncode, 2)
                self.assertEqual(proc.stderr.decode(), f"ppool: {option} needs a file name, not ''\n")
                self.assertEqual(proc.stdout, b"")

    def test_pipe_chunks_name_no_files(self):
        for option in (["--transfer"], ["--trc", "{.}.out"], ["--return", "{}"]):
            with self.subTest(option=option):
                proc = run(["imap", "--pipe"] + option + ["--", "cat"], input=b"x\n")
                self.assertEqual(proc.returncode, 2)
                self.assertRegex(proc.stderr.decode(), r"^ppool: --pipe has no items to name files by: use \{#\} "
                                                       r"or \{%\}, not '\{\.?\}(\.out)?'\n$")
        proc = run(["imap", "--pipe", "-c", "2", "--return", "{#}.out", "--", "wc", "-l"], input=b"a\nb\nc\n")
        self.assertEqual((proc.returncode, proc.stdout), (0, b"2\n1\n"))


if __name__ == "__main__":
    reason = scaleout_unavailable("sshd")
    if reason:
        print(f"skipped: {reason}")
        sys.exit(77)
    unittest.main()
