"""The modes (map, imap, imap-unordered/unordered, apply, tasks), --help, --version, -j, -c."""

import json
import re
import subprocess
import unittest

from harness import BUILTIN_TASKS, E2ETestCase, PipeReader, json_lines, lines, run, testing

ITEMS = "alpha\nbeta\ngamma\ndelta\nepsilon\n"


class ModeTests(E2ETestCase):
    def test_map_command(self):
        proc = run(["map", "-j", "2", "--", "echo", "got", "{}"], input=ITEMS.encode())
        self.assertOk(proc, "".join(f"got {w}\n" for w in ITEMS.split()))

    def test_map_task(self):
        proc = run(["map", "-j", "3", "--task", "upper"], input=ITEMS.encode())
        self.assertOk(proc, ITEMS.upper())

    def test_imap_command(self):
        proc = run(["imap", "-j", "2", "--", "echo", "{}"], input=ITEMS.encode())
        self.assertOk(proc, ITEMS)

    def test_imap_task_short_option(self):
        proc = run(["imap", "-j", "2", "-t", "upper"], input=ITEMS.encode())
        self.assertOk(proc, ITEMS.upper())

    def test_imap_unordered_same_multiset(self):
        proc = run(["imap-unordered", "-j", "3", "--", "echo", "{}"], input=ITEMS.encode())
        self.assertStatus(proc, 0)
        self.assertEqual(sorted(lines(proc.stdout)), sorted(ITEMS.split()))

    def test_unordered_alias(self):
        proc = run(["unordered", "-j", "3", "--task", "lower"], input=ITEMS.upper().encode())
        self.assertStatus(proc, 0)
        self.assertEqual(sorted(lines(proc.stdout)), sorted(ITEMS.split()))

    def test_command_without_double_dash(self):
        # Everything from the command name on belongs to the command, even "-c"
        # (also ppool's --chunksize), as with xargs and GNU parallel.
        proc = run(["imap", "-j", "2", "sh", "-c", 'echo "x$1"', "sh", "{}"], input=b"a\nb\n")
        self.assertOk(proc, "xa\nxb\n")

    def test_options_after_double_dash_belong_to_the_command(self):
        proc = run(["imap", "-j", "1", "--", "printf", "%s=%s\\n", "-j", "{}"], input=b"a\n")
        self.assertOk(proc, "-j=a\n")

    def test_chunksize_does_not_change_results(self):
        items = "".join(f"{i}\n" for i in range(1, 24))
        for mode in ("map", "imap"):
            for chunk in ("1", "4", "100"):
                with self.subTest(mode=mode, chunksize=chunk):
                    proc = run([mode, "-j", "2", "-c", chunk, "--task", "identity"], input=items.encode())
                    self.assertOk(proc, items)
        proc = run(["imap-unordered", "-j", "2", "--chunksize", "5", "--", "echo", "{}"], input=items.encode())
        self.assertStatus(proc, 0)
        self.assertEqual(sorted(lines(proc.stdout), key=int), list(map(str, range(1, 24))))

    def test_long_processes_option(self):
        proc = run(["imap", "--processes", "2", "--task", "identity"], input=ITEMS.encode())
        self.assertOk(proc, ITEMS)

    def test_default_processes(self):
        proc = run(["imap", "--task", "identity"], input=ITEMS.encode())
        self.assertOk(proc, ITEMS)

    def test_two_workers_run_two_tasks_at_once(self):
        # Each task announces itself, then waits (bounded, 20 s) for the other
        # one: run one after the other, the first gives up and fails.
        script = ('touch "$0/$1"; if [ "$1" = a ]; then o=b; else o=a; fi; i=0; '
                  'while [ ! -e "$0/$o" ]; do i=$((i+1)); [ $i -gt 400 ] && exit 1; sleep 0.05; done')
        proc = run(["imap", "-j", "2", "--", "sh", "-c", script, self.tmp, "{}"],
                   input=b"a\nb\n", timeout=60)
        self.assertStatus(proc, 0)

    def test_one_worker_runs_one_task_at_a_time(self):
        lock = self.path("lock")
        script = f': {{}}; mkdir {lock} || exit 9; sleep 0.1; rmdir {lock}'
        proc = run(["imap-unordered", "-j", "1", script], input=b"1\n2\n3\n4\n")
        self.assertStatus(proc, 0)

    def test_json_worker_index_below_processes(self):
        proc = run(["imap", "-j", "3", "--json", "--", "echo", "{}"],
                   input="".join(f"{i}\n" for i in range(30)).encode())
        self.assertStatus(proc, 0)
        workers = {r["worker"] for r in json_lines(proc.stdout)}
        self.assertTrue(workers <= {0, 1, 2}, workers)


class MapChunksizeTests(E2ETestCase):
    """map's default chunksize is Python's: ceil(n / (4 x processes)). Items of
    one chunk run in one worker, one after the other, so the worker slots show it."""

    def workers(self, n, extra=()):
        proc = testing(["map", "-j", "2", "--json", *extra, "--task", "pid"],
                       input="".join(f"{i}\n" for i in range(1, n + 1)).encode())
        self.assertOk(proc)
        return [r["worker"] for r in json.loads(proc.stdout)]

    def test_eight_items_on_two_workers_go_one_by_one(self):
        # ceil(8 / 8) = 1: the first two items start at once, in the two slots.
        workers = self.workers(8)
        self.assertNotEqual(workers[0], workers[1])

    def test_sixteen_items_on_two_workers_go_in_pairs(self):
        # ceil(16 / 8) = 2: items 1-2 form one chunk, 3-4 the next, in the other slot.
        workers = self.workers(16)
        self.assertEqual(workers[0], workers[1])
        self.assertEqual(workers[2], workers[3])
        self.assertNotEqual(workers[0], workers[2])

    def test_explicit_chunksize_wins(self):
        workers = self.workers(16, ["-c", "1"])
        self.assertNotEqual(workers[0], workers[1])


class ApplyTests(E2ETestCase):
    def test_apply_command_runs_once_without_item(self):
        proc = run(["apply", "--", "echo", "hello"], input=b"ignored\n")
        self.assertOk(proc, "hello\n")

    def test_apply_does_not_read_stdin(self):
        proc = self.start(["apply", "--", "echo", "hello"])  # stdin: a pipe never closed
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.fail("ppool apply waited for standard input")
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(PipeReader(proc.stdout).read_rest(), b"hello\n")

    def test_apply_task(self):
        proc = run(["apply", "--task", "upper", "Hello World"])
        self.assertOk(proc, "HELLO WORLD\n")

    def test_apply_failing_command(self):
        proc = run(["apply", "--", "sh", "-c", "exit 4"])
        self.assertStatus(proc, 1)

    def test_apply_runs_initializer_first(self):
        marker = self.path("init")
        proc = run(["apply", "--initializer", f"echo ready > {marker}", "--", "cat", marker])
        self.assertOk(proc, "ready\n")

    def test_apply_timeout(self):
        proc = run(["apply", "--timeout", "0.3", "--", "sleep", "300"], timeout=60)
        self.assertStatus(proc, 1)
        self.assertIn(b"timed out", proc.stderr)


class InfoTests(E2ETestCase):
    def test_tasks_lists_builtins_sorted_with_descriptions(self):
        proc = run(["tasks"])
        self.assertStatus(proc, 0)
        names = []
        for line in lines(proc.stdout):
            m = re.fullmatch(r"(\S+)\s+(\S.*)", line)
            self.assertIsNotNone(m, f"bad tasks line {line!r}")
            names.append(m.group(1))
        self.assertEqual(names, sorted(names))
        self.assertEqual(set(names), BUILTIN_TASKS)

    def test_testing_binary_has_helper_tasks(self):
        proc = testing(["tasks"])
        self.assertStatus(proc, 0)
        names = {line.split()[0] for line in lines(proc.stdout)}
        self.assertTrue(BUILTIN_TASKS | {"crash", "abort", "exit", "throw", "pid", "slow_first"} <= names,
                        names)

    def test_version(self):
        proc = run(["--version"])
        self.assertOk(proc, "ppool 0.1.0\n")

    def test_help(self):
        proc = run(["--help"])
        self.assertStatus(proc, 0)
        text = proc.stdout.decode()
        for mode in ("map", "imap", "imap-unordered", "apply", "tasks"):
            self.assertIn(mode, text)

    def test_mode_help(self):
        for mode in ("map", "imap", "imap-unordered", "apply"):
            with self.subTest(mode=mode):
                proc = run([mode, "--help"], input=b"x\n")
                self.assertStatus(proc, 0)
                self.assertIn(b"--processes", proc.stdout)
                self.assertIn(b"--timeout", proc.stdout)


if __name__ == "__main__":
    unittest.main()
