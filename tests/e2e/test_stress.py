"""Stress tests, after GNU parallel's own stress tests for parallel tools: outputs
of many jobs never mixed, stderr kept apart, outputs bigger than memory (SPEC 6:
they stream or spill to unlinked temporary files in $TMPDIR, resident memory
stays bounded), a full disk while spilling, no temporary file or process left
after ppool is killed with SIGKILL, awkward file names, composed shell commands,
replacement strings used several times, a million items, long lines.

The big-output tests move about 15 GiB through pipes in total; the whole file
takes a few minutes on two cores."""

import hashlib
import itertools
import json
import os
import resource
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
import unittest

from harness import (PPOOL, E2ETestCase, assert_gone, descendants_of, json_lines, kill_quietly, lines,
                     read_pid, run, wait_for)

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
RSS_LIMIT = 256 * MiB

# Runs a command (argv in the JSON config), feeding it a file (or /dev/null),
# and consumes its stdout without keeping it: counts the bytes, keeps the first
# 64, and counts chosen byte values in consecutive segments of the output.
# Resident memory: the largest ru_maxrss of every process it reaped (ppool, and
# through ppool its workers and their commands), and the largest VmHWM seen by
# sampling /proc for the command and its descendants while it runs.
MEASURE = r"""
import io, json, os, resource, subprocess, sys, threading, time

config = json.loads(sys.argv[1])
stdin = open(config["stdin"], "rb") if config["stdin"] else subprocess.DEVNULL
stderr = open(config["stderr"], "wb")
proc = subprocess.Popen(config["cmd"], stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                        env=config["env"])
stderr.close()

def children():
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name, "rb") as f:
                    data = f.read().decode("ascii", "replace")
                table.setdefault(int(data[data.rindex(")") + 2:].split()[1]), []).append(int(name))
            except (OSError, ValueError, IndexError):
                pass
    return table

peak = {"kb": 0, "who": ""}
finished = threading.Event()
def sample():
    while not finished.is_set():
        table = children()
        todo, seen = [proc.pid], []
        while todo:
            pid = todo.pop()
            seen.append(pid)
            todo.extend(table.get(pid, []))
        for pid in seen:
            try:
                with open("/proc/%d/status" % pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            kb = int(line.split()[1])
                            if kb > peak["kb"]:
                                with open("/proc/%d/comm" % pid) as c:
                                    peak["kb"], peak["who"] = kb, c.read().strip()
            except (OSError, ValueError):
                pass
        finished.wait(0.2)
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()

boundaries = config["boundaries"]          # segment ends, cumulative offsets
values = config["count"]                   # byte values to count in each segment
segments = [[0] * len(values) for _ in range(len(boundaries) + 1)]
raw = io.FileIO(proc.stdout.fileno(), closefd=False)
buf = bytearray(1 << 20)
total, head = 0, b""
while True:
    n = raw.readinto(buf)
    if not n:
        break
    if len(head) < 64:
        head += bytes(buf[:64 - len(head)]) if n >= 64 - len(head) else bytes(buf[:n])
    if values:
        pos = 0
        while pos < n:
            seg = 0
            while seg < len(boundaries) and total + pos >= boundaries[seg]:
                seg += 1
            end = n if seg == len(boundaries) else min(n, boundaries[seg] - total)
            for k, v in enumerate(values):
                segments[seg][k] += buf.count(v, pos, end)
            pos = end
    total += n
status = proc.wait()
finished.set()
sampler.join()
print(json.dumps({"status": status, "bytes": total, "head": head.decode("latin-1"),
                  "segments": segments,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "hwm_kb": peak["kb"], "hwm_who": peak["who"]}))
"""


def read_counting(stream, timeout):
    """Reads `stream` to its end within `timeout` seconds without keeping it:
    returns (number of bytes, the first 1000 bytes)."""
    fd, count, head = stream.fileno(), 0, b""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"output not closed within {timeout}s (hang?); got {count} bytes: {head[:200]!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return count, head
            if len(head) < 1000:
                head += chunk[:1000 - len(head)]
            count += len(chunk)


class Measured:
    def __init__(self, result, stderr):
        self.status = result["status"]
        self.bytes = result["bytes"]
        self.head = result["head"].encode("latin-1")
        self.segments = result["segments"]
        self.peak_kb = max(result["maxrss_kb"], result["hwm_kb"])
        self.result = result
        self.stderr = stderr

    def __repr__(self):
        return f"{self.result!r}\nstderr: {self.stderr[-3000:]!r}"


class MeasureMixin:
    def measure(self, args, items=b"", boundaries=(), count=(), tmpdir=None, timeout=300):
        """Runs ppool with `args` through the MEASURE wrapper and returns a Measured."""
        items_path = self.write(f"items-{time.monotonic_ns()}", items)
        stderr_path = items_path + ".stderr"
        env = dict(os.environ)
        if tmpdir is not None:
            env["TMPDIR"] = tmpdir
        config = {"cmd": [PPOOL] + list(args), "stdin": items_path, "stderr": stderr_path,
                  "boundaries": list(boundaries), "count": list(count), "env": env}
        wrapper = subprocess.Popen([sys.executable, "-c", MEASURE, json.dumps(config)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = wrapper.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            pids = descendants_of(wrapper.pid)
            os.killpg(wrapper.pid, signal.SIGKILL)
            for pid in pids:
                kill_quietly(pid)
            wrapper.communicate()
            with open(stderr_path, "rb") as f:
                raise AssertionError(f"ppool {args!r} did not finish within {timeout}s (hang?); "
                                     f"stderr: {f.read()[-2000:]!r}") from None
        self.assertEqual(wrapper.returncode, 0, err)
        with open(stderr_path, "rb") as f:
            stderr = f.read()
        return Measured(json.loads(out), stderr)

    def assertBoundedMemory(self, m, what):
        self.assertLess(m.peak_kb * KiB, RSS_LIMIT,
                        f"{what}: the largest process ({m.result['hwm_who'] or 'a reaped child'}) reached "
                        f"{m.peak_kb >> 10} MiB resident (limit {RSS_LIMIT >> 20} MiB)\n{m!r}")


class InterleavingTests(E2ETestCase):
    """GNU parallel's "output of 30 jobs never mixes" test."""

    LINES = 2000
    JOB = ('i=0; while [ $i -lt 2000 ]; do echo out-{}-$i; echo err-{}-$i >&2; i=$((i+1)); done')

    def check_stream(self, data, prefix, items, ordered):
        got = lines(data)
        self.assertTrue(all(line.startswith(prefix + "-") for line in got),
                        f"lines that are not {prefix}- lines in this stream: "
                        f"{[line for line in got if not line.startswith(prefix + '-')][:5]}")
        blocks = [(key, [line.rsplit("-", 1)[1] for line in group])
                  for key, group in itertools.groupby(got, key=lambda line: line.rsplit("-", 1)[0])]
        owners = [key for key, _ in blocks]
        self.assertEqual(sorted(owners), sorted(f"{prefix}-{i}" for i in items),
                         f"{prefix}: every job's lines must form exactly one contiguous block; "
                         f"blocks seen (first 40): {owners[:40]}")
        if ordered:
            self.assertEqual(owners, [f"{prefix}-{i}" for i in items], f"{prefix}: blocks out of input order")
        for key, numbers in blocks:
            self.assertEqual(numbers, [str(n) for n in range(self.LINES)], f"{key}: lines lost or reordered")

    def check(self, mode):
        items = [str(i) for i in range(1, 31)]
        proc = run([mode, "-j", "10", self.JOB], input="".join(i + "\n" for i in items).encode(), timeout=120)
        self.assertStatus(proc, 0)
        self.check_stream(proc.stdout, "out", items, ordered=(mode == "imap"))
        self.check_stream(proc.stderr, "err", items, ordered=False)

    def test_thirty_jobs_imap(self):
        self.check("imap")

    def test_thirty_jobs_imap_unordered(self):
        self.check("imap-unordered")

    def test_thirty_jobs_map(self):
        self.check("map")


class StderrApartTests(E2ETestCase):
    def test_stderr_never_reaches_stdout(self):
        items = ["a", "b c", "d"]
        data = "".join(i + "\n" for i in items).encode()
        for args in (["echo to-out {}; echo to-err {} >&2; echo to-out-again {}"],
                     ["--", "sh", "-c", 'echo to-err "$1" >&2; echo to-out "$1"; echo to-out-again "$1"', "sh"]):
            with self.subTest(args=args):
                proc = run(["imap", "-j", "3"] + args, input=data)
                self.assertStatus(proc, 0)
                self.assertEqual(lines(proc.stdout),
                                 [x for i in items for x in (f"to-out {i}", f"to-out-again {i}")])
                self.assertEqual(sorted(lines(proc.stderr)), sorted(f"to-err {i}" for i in items))

    def test_json_captures_stderr_separately(self):
        proc = run(["imap", "-j", "2", "--json", "echo out {}; echo err {} >&2"], input=b"x\ny\n")
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual([(r["output"], r["stderr"]) for r in records],
                         [("out x\n", "err x\n"), ("out y\n", "err y\n")])
        self.assertEqual(proc.stderr, b"")


class BiggerThanMemoryTests(MeasureMixin, E2ETestCase):
    """Outputs far bigger than the 256 MiB resident-memory bound (the scaled-down
    "output bigger than memory" test). Fails until ppool spills large outputs."""

    def spill_dir(self):
        path = self.path("spill")
        os.mkdir(path)
        return path

    def test_two_outputs_of_three_gib(self):
        size = 3 * GiB
        tmpdir = self.spill_dir()
        m = self.measure(["imap", "-j", "2", f"yes {{}} | head -c {size}"], b"1\n2\n",
                         boundaries=[size], count=[ord("1"), ord("2")], tmpdir=tmpdir)
        self.assertEqual(m.status, 0, m)
        self.assertEqual(m.bytes, 2 * size, f"expected exactly 6 GiB on stdout\n{m!r}")
        # First 3 GiB all of item 1 ("1\n" repeated), then all of item 2.
        self.assertEqual(m.segments, [[size // 2, 0], [0, size // 2]], f"outputs mixed or reordered\n{m!r}")
        self.assertBoundedMemory(m, "two 3 GiB outputs")
        self.assertEqual(os.listdir(tmpdir), [], "temporary files were left behind")

    def test_big_output_waiting_for_a_slow_first_item(self):
        size = GiB
        tmpdir = self.spill_dir()
        done = self.path("big-done")
        # "slow" finishes once "big" has written everything (at most 20 s later
        # if ppool does not take big's output), so big's 1 GiB must wait.
        script = (f'if [ {{}} = slow ]; then i=0; while [ ! -e {done} ] && [ $i -lt 400 ]; '
                  f'do i=$((i+1)); sleep 0.05; done; echo slow; '
                  f'else head -c {size} /dev/zero; touch {done}; fi')
        m = self.measure(["imap", "-j", "2", script], b"slow\nbig\n",
                         boundaries=[5], count=[0], tmpdir=tmpdir)
        self.assertEqual(m.status, 0, m)
        self.assertEqual(m.bytes, size + 5, m)
        self.assertTrue(m.head.startswith(b"slow\n"), f"item 1's output must come first\n{m!r}")
        self.assertEqual(m.segments[1], [size], f"item 2's output is not 1 GiB of zeros\n{m!r}")
        self.assertBoundedMemory(m, "a 1 GiB output waiting for its turn")
        self.assertEqual(os.listdir(tmpdir), [], "temporary files were left behind")


class DiskFullTests(E2ETestCase):
    """The disk fills up while ppool spills an output that waits for its turn:
    TMPDIR is a 16 MiB tmpfs mounted for the test (root is needed; if the mount
    fails, RLIMIT_FSIZE of 16 MiB is set on ppool instead, and "File too large"
    is the expected reason). ppool must never silently truncate: item 2 fails
    with the OS's reason, nothing of it reaches stdout, item 1 is intact."""

    LIMIT = 16 * MiB

    def small_tmpdir(self):
        path = self.path("small")
        os.mkdir(path)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", path],
                                 capture_output=True).returncode == 0
        if mounted:
            self.addCleanup(subprocess.run, ["umount", "-l", path], capture_output=True)
        return path, mounted

    def test_disk_full_while_spilling_fails_the_item(self):
        tmpdir, mounted = self.small_tmpdir()
        env = dict(os.environ, TMPDIR=tmpdir)
        kwargs = {}
        if not mounted:
            limit = self.LIMIT
            kwargs["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        script = 'if [ {} = slow ]; then sleep 2; echo one; else head -c 67108864 /dev/zero; fi'
        started = time.monotonic()
        proc = run(["imap", "-j", "2", script], input=b"slow\nbig\n", env=env, timeout=90, **kwargs)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 30, "ppool took too long to give up on a full disk")
        if proc.returncode == 0:
            self.assertEqual(len(proc.stdout), 4 + 64 * MiB,
                             "exit status 0 but item 2's output was truncated" + repr(proc.stderr[-2000:]))
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"one\n", "item 1 must be intact and nothing of item 2 may be written")
        failures = [line for line in proc.stderr.decode("utf-8", "replace").splitlines()
                    if line.startswith("ppool: task 2 (big) failed: ")]
        self.assertEqual(len(failures), 1, proc.stderr[-3000:])
        self.assertTrue("No space left on device" in failures[0] or "File too large" in failures[0],
                        failures[0])
        self.assertFalse([line for line in proc.stderr.decode("utf-8", "replace").splitlines()
                          if line.startswith("ppool: task 1 ")], proc.stderr[-3000:])
        self.assertEqual(os.listdir(tmpdir), [], "temporary files were left behind")


class KilledPpoolTests(E2ETestCase):
    def test_sigkill_leaves_no_process_and_no_temporary_file(self):
        tmpdir = self.path("spill")
        os.mkdir(tmpdir)
        f = {name: self.path(name) for name in ("slow.pid", "slow.bg", "big.pid", "big.bg")}
        for path in f.values():
            self.kill_on_cleanup(path)
        # "slow" runs a background sleep and waits; "big" writes 256 MiB (which
        # must wait for slow's turn, spilled) and then waits as well.
        script = (f'if [ {{}} = slow ]; then echo $$ > {f["slow.pid"]}; sleep 300 & echo $! > {f["slow.bg"]}; '
                  f'wait; else echo $$ > {f["big.pid"]}; head -c 268435456 /dev/zero; '
                  f'sleep 300 & echo $! > {f["big.bg"]}; wait; fi')
        proc = self.start(["imap", "-j", "2", script], env=dict(os.environ, TMPDIR=tmpdir))
        proc.stdin.write(b"slow\nbig\n")
        proc.stdin.close()
        pids = [wait_for(lambda p=p: read_pid(f[p]), message=f"{p} not written") for p in
                ("slow.pid", "slow.bg", "big.pid")]
        # Let big's output be taken (spilled) if ppool does so; without it the test still holds.
        try:
            pids.append(wait_for(lambda: read_pid(f["big.bg"]), timeout=20))
        except AssertionError:
            pass
        pids += descendants_of(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert_gone(pids, timeout=10)
        try:
            wait_for(lambda: not os.listdir(tmpdir), timeout=10)
        except AssertionError:
            self.fail(f"temporary files left behind after SIGKILL: {os.listdir(tmpdir)}")


class SpecialFileNameTests(E2ETestCase):
    """File names with quotes, spaces, $, *, a newline, a leading dash, a
    backslash, unicode, given as ./NAME (as find prints them)."""

    PLAIN = ["it's", 'say "hi"', "two  spaces", "$HOME and $(echo x)", "star*", "-dash", "--", "-n",
             "unicode-\u00e9\u2603\u65e5\u672c", "tab\there", "semi;colon&amp|pipe", "{}braces{.}",
             "glob?[ab]", "back`tick`", "trailing space ", "~tilde"]
    ESCAPED = ["new\nline", "back\\slash"]  # names GNU coreutils prints escaped or quoted

    def make_files(self, names):
        directory = self.path("files")
        os.makedirs(directory, exist_ok=True)
        for n, name in enumerate(names):
            with open(os.path.join(directory, name), "wb") as f:
                f.write(b"x" * (n + 1) + b"\nline two\n")
        return directory, ["./" + name for name in names]

    def direct(self, directory, argv_list):
        out = b""
        for argv in argv_list:
            proc = subprocess.run(argv, cwd=directory, capture_output=True)
            self.assertEqual(proc.returncode, 0, (argv, proc.stderr))
            out += proc.stdout
        return out

    def check(self, names, null):
        directory, items = self.make_files(names)
        sep = "\0" if null else "\n"
        data = "".join(i + sep for i in items).encode()
        opts = ["-0"] if null else []
        cases = [
            (["--", "wc", "-c", "{}"], [["wc", "-c", i] for i in items]),
            (["--", "wc", "-c"], [["wc", "-c", i] for i in items]),
            (["wc -c < {}"], [["sh", "-c", f"wc -c < {shlex.quote(i)}"] for i in items]),
            (["cat {} | sha256sum"], [["sh", "-c", f"cat {shlex.quote(i)} | sha256sum"] for i in items]),
        ]
        for args, direct in cases:
            with self.subTest(args=args, null=null):
                proc = run(["imap", "-j", "2"] + opts + args, input=data, cwd=directory)
                self.assertOk(proc, self.direct(directory, direct))

    def check_tasks(self, names, null):
        directory, items = self.make_files(names)
        sep = "\0" if null else "\n"
        data = "".join(i + sep for i in items).encode()
        for task in ("sha256sum", "wc"):
            with self.subTest(task=task, null=null):
                proc = run(["imap", "-j", "2"] + (["-0"] if null else []) + ["--task", task],
                           input=data, cwd=directory)
                self.assertOk(proc, self.direct(directory, [[task, i] for i in items]))

    def test_commands_newline_separated(self):
        self.check(self.PLAIN + ["back\\slash"], null=False)

    def test_commands_null_separated(self):
        self.check(self.PLAIN + self.ESCAPED, null=True)

    def test_registered_tasks(self):
        self.check_tasks(self.PLAIN, null=False)
        self.check_tasks(self.PLAIN, null=True)

    def test_registered_tasks_print_names_as_coreutils_does(self):
        # sha256sum prints "\HASH  new\nline" for a name with a newline or a
        # backslash; wc (coreutils 9) quotes such a name. SPEC: "as sha256sum prints it".
        self.check_tasks(self.ESCAPED, null=True)


class ComposedCommandTests(E2ETestCase):
    ITEMS = ["plain", "it's", "two words", "$(echo no)", "semi;colon", "-dash", "star*"]

    def test_operators_subshells_and_redirections(self):
        directory = self.path("work")
        os.mkdir(directory)
        script = ('test -n {} && echo yes:{} || echo never; false || echo fallback:{}; '
                  'false && echo never; (echo {}; echo {}) | wc -l; '
                  'printf %s {} > {}.out && cat -- {}.out && echo; { echo group:{}; } 2>/dev/null; '
                  'echo "len $(printf %s {} | wc -c)"; echo sub:`printf %s {}`; '
                  'printf "%s\\n" {} >> all.log')
        proc = run(["imap", "-j", "3", script], input="".join(i + "\n" for i in self.ITEMS).encode(),
                   cwd=directory)
        expected = "".join(f"yes:{i}\nfallback:{i}\n2\n{i}\ngroup:{i}\nlen {len(i.encode())}\nsub:{i}\n"
                           for i in self.ITEMS)
        self.assertOk(proc, expected)
        for item in self.ITEMS:
            with open(os.path.join(directory, item + ".out"), "rb") as f:
                self.assertEqual(f.read(), item.encode())
        with open(os.path.join(directory, "all.log")) as f:
            self.assertEqual(sorted(f.read().splitlines()), sorted(self.ITEMS))
        self.assertFalse(os.path.exists(os.path.join(directory, "no")))

    def test_pipeline_with_exit_status(self):
        proc = run(["imap", "-j", "2", "printf '%s\\n' {} | grep -q x"], input=b"x1\ny2\nx3\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"")
        err = proc.stderr.decode().splitlines()
        self.assertEqual(err, ["ppool: task 2 (y2) failed: exit status 1"])

    def test_here_document_and_loop(self):
        script = 'for w in {} {}; do echo "[$w]"; done; cat <<EOF\nheredoc {}\nEOF'
        proc = run(["imap", "-j", "2", script], input=b"a b\nc\n")
        # {} is quoted, so "a b" is one word. Inside the here-document quotes are
        # plain text, so how the item appears there (quoted) is not checked.
        self.assertStatus(proc, 0)
        out = lines(proc.stdout)
        self.assertEqual(len(out), 6, out)
        self.assertEqual(out[:2] + out[3:5], ["[a b]", "[a b]", "[c]", "[c]"])
        self.assertTrue(out[2].startswith("heredoc ") and "a b" in out[2], out)
        self.assertTrue(out[5].startswith("heredoc ") and "c" in out[5], out)


class ReplacementStringTests(E2ETestCase):
    ITEMS = ["dir.d/file.tar.gz", "plain", "a b/c d.txt", "/abs/x.y", "/top", "dir.d/noext"]

    def expected(self, item, seq, fmt):
        base = os.path.basename(item)
        stem = os.path.splitext(base)[0]
        values = {"{}": item, "{.}": item[:len(item) - len(base)] + stem, "{/}": base,
                  "{//}": os.path.dirname(item) or ".", "{/.}": stem, "{#}": str(seq)}
        out, pos = "", 0
        while pos < len(fmt):
            for key in sorted(values, key=len, reverse=True):
                if fmt.startswith(key, pos):
                    out += values[key]
                    pos += len(key)
                    break
            else:
                out += fmt[pos]
                pos += 1
        return out

    def check(self, fmt, args):
        data = "".join(i + "\n" for i in self.ITEMS).encode()
        proc = run(["imap", "-j", "1"] + args, input=data)
        self.assertOk(proc, "".join(self.expected(i, n + 1, fmt) + "\n" for n, i in enumerate(self.ITEMS)))

    def test_exec_form_same_string_several_times(self):
        self.check("{} {} {.} {} {/}", ["--", "echo", "{}", "{}", "{.}", "{}", "{/}"])

    def test_exec_form_several_in_one_word(self):
        self.check("<{}|{}|{.}|{/}|{//}|{/.}|{#}|{}>", ["--", "echo", "<{}|{}|{.}|{/}|{//}|{/.}|{#}|{}>"])

    def test_shell_form_same_string_several_times(self):
        self.check("{} {} {.} {} {/} {//} {/.} {#} {}", ["echo {} {} {.} {} {/} {//} {/.} {#} {}"])

    def test_every_string_many_times(self):
        fmt = " ".join(["{}", "{.}", "{/}", "{//}", "{/.}", "{#}"] * 20)
        self.check(fmt, ["--", "echo"] + fmt.split())
        self.check(fmt, ["echo " + fmt])


class ManyItemsTests(E2ETestCase):
    def test_a_million_items(self):
        items = [f"item-{i}" for i in range(1000000)]
        data = "".join(i + "\n" for i in items).encode()
        for mode in ("imap", "map", "imap-unordered"):
            with self.subTest(mode=mode, task="identity"):
                proc = run([mode, "-j", "2", "-c", "1000", "--task", "identity"], input=data, timeout=120)
                self.assertStatus(proc, 0)
                if mode == "imap-unordered":
                    self.assertEqual(sorted(proc.stdout.split(b"\n")), sorted(data.split(b"\n")))
                else:
                    self.assertEqual(hashlib.sha256(proc.stdout).hexdigest(), hashlib.sha256(data).hexdigest(),
                                     "output differs from the input")
        with self.subTest(task="len"):
            proc = run(["imap", "-j", "2", "-c", "1000", "--task", "len"], input=data, timeout=120)
            self.assertOk(proc, "".join(f"{len(i)}\n" for i in items))


class LongLineTests(MeasureMixin, E2ETestCase):
    def test_many_words_in_one_item(self):
        # 100,000 words cannot be one argument (Linux limits one argument to
        # 128 KiB): registered tasks get the whole item; commands get 50,000
        # one-letter words (100 KB).
        item = " ".join(f"w{n}" for n in range(100000)).encode()
        proc = run(["imap", "-j", "1", "--task", "len"], input=item + b"\n")
        self.assertOk(proc, f"{len(item)}\n")
        proc = run(["imap", "-j", "1", "--task", "identity"], input=item + b"\n")
        self.assertOk(proc, item + b"\n")
        self.assertEqual(len(proc.stdout.split()), 100000)
        small = b" ".join([b"w"] * 50000)
        for args in (["printf %s {} | wc -w"], ["--", "sh", "-c", 'printf %s "$1" | wc -w', "sh", "{}"],
                     ["--", "sh", "-c", 'set -f; set -- $1; echo $#', "sh"]):
            with self.subTest(args=args):
                proc = run(["imap", "-j", "1"] + args, input=small + b"\n")
                self.assertStatus(proc, 0)
                self.assertEqual(proc.stdout.strip(), b"50000")

    def test_item_over_4_gib(self):
        """A single item of 4 GiB + 10 bytes, streamed by a writer thread (never
        held in this process), through --task len. Takes ~30-60 s and several
        GiB of memory in ppool (an item is held whole). Past the default
        --max-item-size (1 GiB), so the limit is raised."""
        size = 4 * GiB + 10
        stderr_path = self.path("ppool.stderr")
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen([PPOOL, "imap", "-j", "1", "--max-item-size", "5G", "--task", "len"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                    start_new_session=True)
        self.addCleanup(self.stop_tree, proc)

        def writer():
            chunk = b"x" * (16 * MiB)
            try:
                for _ in range(size // len(chunk)):
                    proc.stdin.write(chunk)
                proc.stdin.write(b"y" * (size % len(chunk)) + b"\n")
                proc.stdin.close()
            except (BrokenPipeError, ValueError, OSError):
                pass
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 30)
        count, head = read_counting(proc.stdout, timeout=240)
        proc.wait(timeout=30)
        with open(stderr_path, "rb") as f:
            err = f.read()
        self.assertEqual(proc.returncode, 0, err[-2000:])
        self.assertEqual((count, head), (11, b"4294967306\n"), err[-2000:])

    def stop_tree(self, proc):
        if proc.poll() is None:
            pids = descendants_of(proc.pid)
            kill_quietly(proc.pid)
            for pid in pids:
                kill_quietly(pid)
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def test_output_line_over_4_gib(self):
        size = 4 * GiB + 10
        tmpdir = self.path("spill")
        os.mkdir(tmpdir)
        m = self.measure(["imap", "-j", "1", f"head -c {size} /dev/zero; : {{}}"], b"x\n", tmpdir=tmpdir,
                         timeout=240)
        self.assertEqual(m.status, 0, m)
        self.assertEqual(m.bytes, size, m)
        self.assertEqual(os.listdir(tmpdir), [], "temporary files were left behind")


if __name__ == "__main__":
    unittest.main()
