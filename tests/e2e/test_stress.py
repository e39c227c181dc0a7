"""Stress tests that move gigabytes, after GNU parallel's own stress tests for
parallel tools: outputs bigger than memory (SPEC 6: they stream or spill to
unlinked temporary files in $TMPDIR, resident memory stays bounded), a million
items, an item and an output line over 4 GiB.

They move about 15 GiB through pipes and take a few minutes on two cores, so
they carry the ctest label "heavy": the default test command leaves them out
and CI runs them as a step of their own (ctest -L heavy)."""

import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import unittest

from harness import PPOOL, E2ETestCase, descendants_of, kill_quietly, run

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
