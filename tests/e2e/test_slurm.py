"""--slurm (SPEC 9) on a real one-node Slurm cluster (tests/scaleout/slurm.sh,
node "localhost" with 4 CPUs): inside an allocation, ppool runs one step per
node, `srun ... ppool worker --hub`, which carries every slot of the node.
The results equal a local run's; `sbatch --wait` of a script works; outside
an allocation --slurm is a usage error; a timeout, a lost hub, and SIGKILL of
ppool leave no step and no process behind.

ctest starts the cluster (the fixture scaleout_start) and stops it after.
Where it cannot run, the file exits 77 (skipped); with PPOOL_REQUIRE_SCALEOUT=1
(CI) the tests fail instead."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest
import uuid

from harness import (PPOOL, E2ETestCase, cmdline_of, environment_of, json_lines, kill_quietly, parent_of, run, scaleout,
                     scaleout_unavailable, stop, wait_for)

SETTLE = 60


def local_environment():
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("SLURM_") or name == "PPOOL_LAUNCHER":
            del env[name]
    return env


def socket_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def established_tcp():
    """Every established TCP socket of this host: (local, remote) -> inode."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "01":
                    found[(fields[1], fields[2])] = int(fields[9])
    return found


class SlurmTestCase(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        directory = scaleout("slurm")
        cls.env = local_environment()
        cls.env["SLURM_CONF"] = os.path.join(directory, "slurm.conf")

    def setUp(self):
        super().setUp()
        self.mark = f"e2e-{uuid.uuid4().hex}"
        self.addCleanup(self.kill_marked)

    def slurm(self, args, **kwargs):
        return subprocess.run(args, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=SETTLE, **kwargs)

    def allocate(self, cpus):
        """A job holding `cpus` CPUs of the node, released at cleanup; its id."""
        proc = self.slurm(["salloc", "--no-shell", "-N1", f"-n{cpus}", "-J", "ppool-e2e", "--immediate=60"])
        match = re.search(rb"Granted job allocation (\d+)", proc.stderr)
        self.assertIsNotNone(match, proc.stderr)
        job = match.group(1).decode()
        self.addCleanup(self.slurm, ["scancel", job])
        return job

    def in_job(self, job, cpus):
        """ppool's environment inside the allocation, as salloc or sbatch gives it."""
        return dict(self.env, SLURM_JOB_ID=job, SLURM_JOB_NODELIST="localhost", SLURM_JOB_CPUS_PER_NODE=str(cpus),
                    PPOOL_TEST_MARK=self.mark)

    def steps_of(self, job):
        proc = self.slurm(["squeue", "-h", "-s", "-j", job, "-o", "%j"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.decode().split("\n")[:-1]

    def marked(self):
        mark = f"PPOOL_TEST_MARK={self.mark}".encode()
        return [int(p) for p in os.listdir("/proc") if p.isdigit() and mark in environment_of(int(p))]

    def kill_marked(self):
        for pid in self.marked():
            kill_quietly(pid)

    def sleeping(self, seconds):
        """The marked `sleep SECONDS` processes (tasks running on the node)."""
        return [p for p in self.marked() if cmdline_of(p) == [b"sleep", str(seconds).encode()]]

    def hub(self):
        """The pid of the running hub: its workers are forked copies of it, whose parent is the hub."""
        copies = [p for p in self.marked() if cmdline_of(p)[1:] == [b"worker", b"--hub"]]
        hubs = [p for p in copies if parent_of(p) not in copies]
        self.assertEqual(len(hubs), 1, copies)
        return hubs[0]

    def assert_nothing_left(self, job):
        wait_for(lambda: not self.steps_of(job), timeout=SETTLE,
                 message=f"steps of job {job} left behind: {self.steps_of(job)}")
        wait_for(lambda: not self.marked(), timeout=SETTLE,
                 message=f"processes left behind: {[cmdline_of(p) for p in self.marked()]}")


class SlurmRunTests(SlurmTestCase):
    def test_each_mode_equals_a_local_run(self):
        job = self.allocate(2)
        items = b"".join(b"%d\n" % i for i in range(1, 301))
        for args in (["imap", "--", "echo", "a{}b"],
                     ["imap-unordered", "-c", "7", "--task", "len"],
                     ["map", "--task", "upper"],
                     ["imap", "-c", "50", "--task", "len"],
                     ["imap", "--json", "--", "sh", "-c", "echo {}; [ {} -ne 7 ]"]):
            with self.subTest(args=args):
                local = run(args[:1] + ["-j", "2"] + args[1:], input=items, env=local_environment())
                remote = run(args[:1] + ["--slurm"] + args[1:], input=items, timeout=SETTLE * 2,
                             env=self.in_job(job, 2))
                self.assertEqual(remote.returncode, local.returncode, remote.stderr)
                if "--json" in args:
                    strip = lambda out: [{k: v for k, v in r.items() if k not in ("duration_s", "worker", "host")}
                                         for r in json_lines(out)]
                    self.assertEqual(strip(remote.stdout), strip(local.stdout))
                    # Every result names the node it ran on.
                    self.assertEqual({r["host"] for r in json_lines(remote.stdout)}, {"localhost"})
                    self.assertEqual({r["host"] for r in json_lines(local.stdout)}, {":"})
                elif args[0] == "imap-unordered":
                    self.assertEqual(sorted(remote.stdout.split(b"\n")), sorted(local.stdout.split(b"\n")))
                else:
                    self.assertEqual(remote.stdout, local.stdout)
                self.assertEqual(remote.stderr, local.stderr)
        self.assert_nothing_left(job)

    def test_one_step_per_node_carries_all_its_slots(self):
        job = self.allocate(3)
        proc = self.start(["imap", "--slurm", "--", "sleep"], env=self.in_job(job, 3))
        proc.stdin.write(b"300\n300\n300\n300\n")
        proc.stdin.flush()
        # As many tasks at once as the job has CPUs on the node, all in one step.
        wait_for(lambda: len(self.sleeping(300)) == 3, timeout=SETTLE)
        self.assertEqual(self.steps_of(job), ["ppool-hub"])
        self.assertEqual(len(self.sleeping(300)), 3)
        # srun holds messages of over 1 KiB about 40 ms: the hub's channel is a
        # TCP connection of its own to ppool, which took its token.
        hub_sockets = socket_inodes(self.hub())
        ppool_sockets = socket_inodes(proc.pid)
        connections = established_tcp()
        self.assertEqual(len([c for c in connections if connections[c] in hub_sockets]), 1)
        self.assertEqual(len([c for c in connections if connections[c] in ppool_sockets]), 1)
        os.kill(proc.pid, signal.SIGINT)
        self.assertEqual(proc.wait(timeout=SETTLE), 130, self.stderr_of(proc))
        self.assert_nothing_left(job)

    def test_j_sets_the_slots_of_each_node(self):
        job = self.allocate(2)
        proc = self.start(["imap", "--slurm", "-j", "1", "--", "sleep"], env=self.in_job(job, 2))
        proc.stdin.write(b"300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: len(self.sleeping(300)) == 1, timeout=SETTLE)
        os.kill(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=SETTLE), 143, self.stderr_of(proc))
        self.assert_nothing_left(job)

    def test_sigkill_of_ppool_leaves_no_step_and_no_process(self):
        job = self.allocate(2)
        proc = self.start(["imap", "--slurm", "--", "sleep"], env=self.in_job(job, 2))
        proc.stdin.write(b"300\n300\n")
        proc.stdin.flush()
        wait_for(lambda: len(self.sleeping(300)) == 2, timeout=SETTLE)
        proc.kill()
        proc.wait(timeout=SETTLE)
        self.assert_nothing_left(job)

    def test_a_registered_task_past_its_timeout_is_killed_on_the_node(self):
        job = self.allocate(2)
        proc = run(["imap", "--slurm", "--timeout", "1", "--task", "sleep"], input=b"300\n0\n0.1\n",
                   timeout=SETTLE * 2, env=self.in_job(job, 2))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout, b"0\n0.1\n")
        self.assertIn(b"timed out", proc.stderr)
        self.assert_nothing_left(job)

    def test_a_hub_killed_mid_run_is_reported_and_the_run_ends(self):
        job = self.allocate(2)
        proc = self.start(["imap", "--slurm", "--", "sh", "-c", 'sleep "$0"; echo "$0"', "{}"], env=self.in_job(job, 2))
        # Each worker's first item is a quick one: its result proves the pool has heard from it.
        proc.stdin.write(b"0\n0\n")
        proc.stdin.flush()
        out = b""
        while len(out) < 4:
            chunk = proc.stdout.read(4 - len(out))
            self.assertTrue(chunk, self.stderr_of(proc))
            out += chunk
        self.assertEqual(out, b"0\n0\n")
        proc.stdin.write(b"300\n300\n")
        proc.stdin.close()
        wait_for(lambda: len(self.sleeping(300)) == 2, timeout=SETTLE)
        os.kill(self.hub(), signal.SIGKILL)
        status = proc.wait(timeout=SETTLE)
        err = self.stderr_of(proc)
        self.assertEqual(status, 1, err)
        self.assertEqual(proc.stdout.read(), b"")
        self.assertEqual(err.count(b"worker died"), 2, err)
        self.assertIn(b"srun on localhost", err)
        self.assert_nothing_left(job)

    def test_a_plugin_task_on_the_nodes(self):
        job = self.allocate(2)
        args = ["imap", "--plugin", os.environ["PPOOL_EXAMPLE_PLUGIN"], "--task", "csv_sum"]
        proc = run(args[:1] + ["--slurm"] + args[1:], input=b"1,2,x,3.5\n10\n,\n", timeout=SETTLE * 2,
                   env=self.in_job(job, 2))
        self.assertOk(proc, b"6.5\n10\n0\n")
        self.assert_nothing_left(job)

    def test_fail_fast_stops_the_tasks_on_the_nodes(self):
        job = self.allocate(2)
        proc = self.start(["imap", "--slurm", "--fail-fast", "--", "sh", "-c", 'sleep "$0"; exit 1', "{}"],
                          env=self.in_job(job, 2))
        proc.stdin.write(b"300\n")
        proc.stdin.flush()
        wait_for(lambda: len(self.sleeping(300)) == 1, timeout=SETTLE)
        proc.stdin.write(b"0\n300\n")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=SETTLE), 1, self.stderr_of(proc))
        self.assert_nothing_left(job)

    def test_sbatch_wait_of_a_script_that_uses_slurm(self):
        directory = tempfile.mkdtemp(prefix="ppool-sbatch-")
        os.chmod(directory, 0o755)
        script = os.path.join(directory, "job.sh")
        output = os.path.join(directory, "out.txt")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n"
                    f"seq 1 500 | {PPOOL} imap --slurm -c 10 -- sh -c 'echo $(( {{}} * 2 ))'\n"
                    f"{PPOOL} imap --slurm --task len ::: a bb ccc\n")
        os.chmod(script, 0o755)
        proc = self.slurm(["sbatch", "--wait", "-N1", "-n4", "-J", "ppool-e2e", "-o", output,
                           f"--export=ALL,PPOOL_TEST_MARK={self.mark}", script], cwd=directory)
        with open(output, "rb") as f:
            self.assertEqual(proc.returncode, 0, proc.stderr + f.read())
        expected = b"".join(b"%d\n" % (2 * i) for i in range(1, 501)) + b"1\n2\n3\n"
        with open(output, "rb") as f:
            self.assertEqual(f.read(), expected)
        wait_for(lambda: not self.marked(), timeout=SETTLE, message="processes left behind")


class HubChannelTests(E2ETestCase):
    """The hub behind a stand-in for srun that runs the command as it is, without
    Slurm: where the hub cannot connect to ppool (srun names no address), the
    channel stays on srun's stdin and stdout."""

    def setUp(self):
        super().setUp()
        self.bin = self.path("bin")
        os.mkdir(self.bin)
        with open(os.path.join(self.bin, "srun"), "w") as f:
            f.write('#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --*) shift;; *) break;; esac; done\nexec "$@"\n')
        with open(os.path.join(self.bin, "scontrol"), "w") as f:
            f.write("#!/bin/sh\necho localhost\n")
        for name in ("srun", "scontrol"):
            os.chmod(os.path.join(self.bin, name), 0o755)
        self.env = dict(local_environment(), PATH=self.bin + ":" + os.environ["PATH"], SLURM_JOB_ID="1",
                        SLURM_JOB_NODELIST="localhost", SLURM_JOB_CPUS_PER_NODE="2")

    def test_a_hub_that_cannot_connect_keeps_srun_s_channel(self):
        items = b"".join(b"%d\n" % i for i in range(20000))
        local = run(["imap", "-j", "2", "-c", "1000", "--task", "len"], input=items, env=local_environment())
        # Well within the time this end waits for a connection (30 s): the hub says it cannot.
        hub = run(["imap", "--slurm", "-c", "1000", "--task", "len"], input=items, env=self.env, timeout=20)
        self.assertOk(hub, local.stdout)
        self.assertEqual(hub.stderr, b"")


class SlurmUsageTests(E2ETestCase):
    def test_outside_an_allocation_slurm_is_a_usage_error(self):
        proc = run(["imap", "--slurm", "--", "echo"], input=b"x\n", env=local_environment())
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stdout, b"")
        err = proc.stderr.decode()
        self.assertEqual(err.count("\n"), 1, err)
        self.assertRegex(err, r"^ppool: --slurm runs inside a Slurm allocation.*salloc or in an sbatch script\n$")

    def test_slurm_does_not_take_sshlogins(self):
        env = dict(local_environment(), SLURM_JOB_ID="1", SLURM_JOB_NODELIST="localhost", SLURM_JOB_CPUS_PER_NODE="2")
        proc = run(["imap", "--slurm", "-S", "host", "--", "echo"], input=b"x\n", env=env)
        self.assertEqual(proc.returncode, 2)
        self.assertRegex(proc.stderr.decode(), r"^ppool: --slurm .* does not take -S or --sshloginfile\n$")

    def test_a_malformed_cpus_per_node_is_a_usage_error(self):
        env = dict(local_environment(), SLURM_JOB_ID="1", SLURM_JOB_NODELIST="localhost",
                   SLURM_JOB_CPUS_PER_NODE="2(x")
        proc = run(["imap", "--slurm", "--", "echo"], input=b"x\n", env=env)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr, b"ppool: cannot read SLURM_JOB_CPUS_PER_NODE '2(x'\n")


if __name__ == "__main__":
    reason = scaleout_unavailable("slurm")
    if reason is not None:
        print(f"skipped: {reason}")
        sys.exit(77)
    unittest.main()
