"""Bounded memory for unbounded input (SPEC 6): `yes | ppool imap ...` reads
ahead only what its workers can take, so the resident set of ppool and of
each worker stays flat however many items stream through."""

import os
import subprocess
import unittest

from harness import PPOOL, E2ETestCase, descendants_of


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class UnboundedInputTests(E2ETestCase):
    def stream(self, args, total, checkpoints):
        """Feeds `yes` into ppool, reads `total` result lines, and samples the
        largest RSS (KiB) of ppool and its workers at each checkpoint."""
        yes = subprocess.Popen(["yes", "item"], stdout=subprocess.PIPE)
        proc = subprocess.Popen([PPOOL] + args, stdin=yes.stdout, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        yes.stdout.close()
        samples = {}
        try:
            read = 0
            while read < total:
                data = proc.stdout.read1(1 << 20)
                self.assertTrue(data, "ppool ended early")
                read += data.count(b"\n")
                for mark in checkpoints:
                    if mark not in samples and read >= mark:
                        pids = [proc.pid] + descendants_of(proc.pid)
                        samples[mark] = max(rss_kb(p) for p in pids)
        finally:
            proc.stdout.close()
            proc.wait(timeout=60)
            yes.kill()
            yes.wait()
        # A closed stdout ends ppool quietly, as SIGPIPE would.
        self.assertEqual(proc.returncode, 141)
        return samples

    def check_flat(self, samples):
        first, last = samples[min(samples)], samples[max(samples)]
        self.assertLess(last, 64 * 1024, samples)
        # Ten times the items, the same memory (a little slack for the allocator).
        self.assertLess(last, first + 4 * 1024, samples)

    def test_registered_task_in_chunks(self):
        self.check_flat(self.stream(["imap", "-j", "2", "-c", "1000", "--task", "identity"], 3_000_000,
                                    [300_000, 3_000_000]))

    def test_unordered_registered_task(self):
        self.check_flat(self.stream(["imap-unordered", "-j", "2", "--task", "len"], 1_000_000,
                                    [100_000, 1_000_000]))

    def test_commands(self):
        self.check_flat(self.stream(["imap", "-j", "2", "--", "echo"], 6_000, [600, 6_000]))


class ManyWorkersTests(E2ETestCase):
    """Outputs waiting for their turn are held under one pool-wide memory budget
    and spill past it, so ppool's own memory does not grow with -j."""

    def peak_kib(self, jobs):
        """ppool's peak resident set (KiB) running `jobs` workers that each print 10 MB."""
        proc = subprocess.Popen([PPOOL, "imap", "-j", str(jobs), "--", "sh", "-c", "head -c 10000000 /dev/zero"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        proc.stdin.write("".join(f"{i}\n" for i in range(jobs)).encode())
        proc.stdin.close()
        total = 0
        while chunk := proc.stdout.read1(1 << 20):
            total += len(chunk)
        err = proc.stderr.read()
        # wait4 reports ppool's own peak; its workers are smaller still.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.assertEqual((proc.returncode, total), (0, jobs * 10000000), err)
        return usage.ru_maxrss

    def test_memory_does_not_grow_with_processes(self):
        # Sixteen outputs of 10 MB already fill the budget: more workers add only their buffers.
        few, many = self.peak_kib(16), self.peak_kib(96)
        self.assertLess(many, 96 * 1024, (few, many))
        self.assertLess(many - few, 24 * 1024, (few, many))


if __name__ == "__main__":
    unittest.main()
