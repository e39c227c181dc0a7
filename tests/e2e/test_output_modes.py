"""GNU parallel's output modes (SPEC 3c): --line-buffer and --ungroup write a
command's output while it runs, --tagstring prefixes lines with replacement
strings, --results keeps each task's output in files. Each is run side by side
with Debian's `parallel` where it has the same form."""

import csv
import filecmp
import io
import json
import os
import subprocess
import unittest

from harness import PARALLEL, E2ETestCase, PipeReader, gnu_parallel, run

def parallel(args, cwd=None, timeout=60):
    return gnu_parallel(args, input=None, cwd=cwd, timeout=timeout)


def tree(root):
    """Every file under `root` with its bytes."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


class LiveOutputTests(E2ETestCase):
    def waiting_task(self, mode, extra=()):
        """A task that prints a line, then waits for a file the test creates
        only once it has read that line from ppool's stdout."""
        gate = self.path("gate")
        script = f"echo first {{}}; while [ ! -e {gate} ]; do sleep 0.01; done; echo second {{}}"
        proc = self.start(["imap", mode, *extra, script, ":::", "x"], stdin=subprocess.DEVNULL)
        return proc, gate

    def test_line_buffer_writes_each_line_while_the_task_runs(self):
        for mode in ("--line-buffer", "--lb", "--ungroup", "-u"):
            with self.subTest(mode=mode):
                proc, gate = self.waiting_task(mode)
                out = PipeReader(proc.stdout)
                self.assertEqual(out.readline(timeout=60), b"first x\n")
                open(gate, "w").close()
                self.assertEqual(out.read_rest(timeout=60), b"second x\n")
                self.assertEqual(proc.wait(timeout=60), 0)
                os.unlink(gate)

    def test_without_line_buffer_the_output_waits_for_the_task(self):
        proc, gate = self.waiting_task("--tag")
        out = PipeReader(proc.stdout)
        # The task cannot end before the gate exists: nothing may have come yet.
        with self.assertRaises(AssertionError):
            out.readline(timeout=1)
        open(gate, "w").close()
        self.assertEqual(out.read_rest(timeout=60), b"x\tfirst x\nx\tsecond x\n")

    def test_line_buffer_with_tag_prefixes_each_line_as_it_comes(self):
        proc, gate = self.waiting_task("--lb", ["--tagstring", "T{#}"])
        out = PipeReader(proc.stdout)
        self.assertEqual(out.readline(timeout=60), b"T1\tfirst x\n")
        open(gate, "w").close()
        self.assertEqual(out.read_rest(timeout=60), b"T1\tsecond x\n")

    def test_a_line_is_never_cut_and_nothing_is_written_twice(self):
        # Each task writes its lines in many small pieces; lines may interleave, never mix.
        script = "for i in 1 2 3 4 5; do printf 'task {} '; sleep 0.01; printf 'line %s\\n' $i; done"
        items = [str(i) for i in range(1, 9)]
        ours = run(["imap-unordered", "-j", "4", "--lb", script, ":::"] + items)
        self.assertOk(ours)
        expected = [f"task {i} line {n}" for i in items for n in range(1, 6)]
        self.assertEqual(sorted(ours.stdout.decode().splitlines()), sorted(expected))

    def test_long_lines_of_tasks_running_at_once_stay_whole(self):
        # Lines far longer than one read of a pipe reach ppool in many pieces.
        script = "for i in 1 2 3; do head -c 300000 /dev/zero | tr '\\0' {}; echo; done"
        items = ["a", "b", "c", "d"]
        ours = run(["imap-unordered", "-j", "4", "--lb", "--tag", script, ":::"] + items)
        self.assertOk(ours)
        lines = ours.stdout.decode().splitlines()
        self.assertEqual(sorted(lines), sorted(f"{i}\t{i * 300000}" for i in items for _ in range(3)))

    def test_a_last_line_without_a_newline_comes_as_the_task_ends(self):
        self.assertOk(run(["imap", "--lb", "printf 'a\\nb'", ":::", "x"]), "a\nb")
        # With a prefix, the line is ended, as --tag ends it.
        self.assertOk(run(["imap", "--lb", "--tag", "printf 'a\\nb'", ":::", "x"]), "x\ta\nx\tb\n")

    @unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
    def test_line_buffer_gives_the_lines_gnu_parallel_gives(self):
        for args in (["--lb", "echo a {}; echo b {}"], ["--lb", "--tag", "echo a {}; echo b {}"],
                     ["--lb", "--tagstring", "<{#}:{.}>", "printf 'x\\ny\\n'"], ["-u", "echo a {}; echo b {}"]):
            with self.subTest(args=args):
                items = ["1.txt", "2.txt", "3"]
                ours = run(["imap", "-j", "2"] + args + [":::"] + items)
                theirs = parallel(["-j", "2"] + args + [":::"] + items)
                self.assertOk(ours)
                self.assertEqual(sorted(ours.stdout.splitlines()), sorted(theirs.stdout.splitlines()))

    def test_stderr_comes_as_it_is_written_on_stderr(self):
        ours = run(["imap", "--lb", "--tag", "echo out {}; echo err {} >&2", ":::", "a"])
        self.assertOk(ours, "a\tout a\n")
        self.assertEqual(ours.stderr, b"a\terr a\n")

    def test_a_failed_task_is_said_once_its_output_is_out(self):
        ours = run(["imap", "--lb", "echo partial; exit 3", ":::", "a"])
        self.assertStatus(ours, 1)
        self.assertEqual(ours.stdout, b"partial\n")
        self.assertIn(b"ppool: task 1 (a) failed: exit status 3", ours.stderr)

    def test_with_results_the_output_comes_as_it_is_written_and_is_kept(self):
        proc, gate = self.waiting_task("--lb", ["--results", self.path("r")])
        out = PipeReader(proc.stdout)
        self.assertEqual(out.readline(timeout=60), b"first x\n")
        open(gate, "w").close()
        self.assertEqual(out.read_rest(timeout=60), b"second x\n")
        self.assertEqual(proc.wait(timeout=60), 0)
        self.assertEqual(tree(self.path("r")), {"1/x/stdout": b"first x\nsecond x\n", "1/x/stderr": b"",
                                                "1/x/seq": b"1"})

    def test_registered_tasks_give_their_one_result_when_it_is_ready(self):
        self.assertOk(run(["imap", "--lb", "--task", "upper", ":::", "a", "b"]), "A\nB\n")

    def test_what_it_cannot_combine_with_is_a_usage_error(self):
        for args, mentions in ((["map", "--lb"], "imap"), (["imap", "--json", "--lb"], "JSON"),
                               (["imap", "-u", "--tag"], "--ungroup"), (["imap", "--lb", "-u"], "one of")):
            with self.subTest(args=args):
                self.assertUsageError(run(args + ["echo", ":::", "a"]), mentions)


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class TagstringTests(E2ETestCase):
    def test_tagstring_is_filled_as_gnu_parallel_fills_it(self):
        for tag, sources in (("x{}-{#}", [":::", "a.b", "c/d.e"]), ("{2}:{1.}", [":::", "a.x", "b", ":::", "c"]),
                             ("{/.}|{//}", [":::", "dir/f.txt"]), ("T", [":::", "a"])):
            with self.subTest(tag=tag):
                ours = run(["imap", "--tagstring", tag, "echo", "1", "{}"] + sources)
                theirs = parallel(["-k", "--tagstring", tag, "echo", "1", "{}"] + sources)
                self.assertOk(ours, theirs.stdout)

    def test_tagstring_prefixes_stderr_too(self):
        ours = run(["imap", "--tagstring", "T{}", "echo o; echo e >&2", ":::", "a"])
        theirs = parallel(["--tagstring", "T{}", "echo o; echo e >&2", ":::", "a"])
        self.assertOk(ours, theirs.stdout)
        self.assertEqual(ours.stderr, theirs.stderr)

    def test_tagstring_with_json_is_a_usage_error(self):
        self.assertUsageError(run(["imap", "--json", "--tagstring", "x", "echo", ":::", "a"]), "--tagstring")


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class ResultsTests(E2ETestCase):
    def both(self, name, command, sources):
        ours = run(["imap", "--results", self.path("ours-" + name)] + command + sources, cwd=self.tmp)
        theirs = parallel(["--results", self.path("gnu-" + name)] + command + sources, cwd=self.tmp)
        return ours, theirs

    def test_a_directory_tree_as_gnu_parallel_writes_it(self):
        for command, sources in ((["printf 'o%s\\n' {}; printf 'e%s\\n' {} >&2; exit {}"], [":::", "0", "1", "a/b\\c"]),
                                 (["echo", "{1}{2}"], [":::", "a", "b", ":::", "c"]),
                                 (["echo", "{a}"], ["--header", ":", ":::", "a", "A", "B"]),
                                 (["echo"], [":::", ""])):
            with self.subTest(command=command, sources=sources):
                name = str(len(os.listdir(self.tmp)))
                ours, theirs = self.both(name, command, sources)
                self.assertEqual(ours.returncode != 0, theirs.returncode != 0, ours.stderr)
                # GNU parallel runs bash, ppool sh: their messages differ in words only.
                mine, gnu = tree(self.path("ours-" + name)), tree(self.path("gnu-" + name))
                self.assertEqual(sorted(mine), sorted(gnu))
                for path in mine:
                    if not path.endswith("stderr") or b"exit" not in gnu[path]:
                        self.assertEqual(mine[path], gnu[path], path)
                # Output goes to the files only, as GNU parallel does.
                self.assertEqual(ours.stdout, theirs.stdout)
                self.assertEqual(ours.stdout, b"")

    def test_a_name_with_replacement_strings(self):
        for name in ("my_{}", "dir_{}/"):
            with self.subTest(name=name):
                ours = run(["imap", "--results", "p" + name, "echo", ":::", "foo", "bar"], cwd=self.tmp)
                theirs = parallel(["--results", "g" + name, "echo", ":::", "foo", "bar"], cwd=self.tmp)
                self.assertOk(ours)
                self.assertEqual(theirs.returncode, 0)
                for item in ("foo", "bar"):
                    for suffix in ((".err", ".seq", "") if not name.endswith("/") else ("/stdout", "/stderr", "/seq")):
                        stem = name.replace("{}", item).rstrip("/")
                        with self.subTest(file=stem + suffix):
                            self.assertTrue(filecmp.cmp(self.path("p" + stem + suffix), self.path("g" + stem + suffix),
                                                        shallow=False))

    def test_csv_and_tsv_have_gnu_parallels_columns_and_quoting(self):
        for ext, sep in ((".csv", ","), (".tsv", "\t")):
            with self.subTest(ext=ext):
                items = ["0", "a b", 'q"z', "c,d"]
                script = "printf 'x\\ny'; echo e{} >&2"
                run(["imap", "-j", "1", "--results", self.path("ours" + ext), script, ":::"] + items)
                parallel(["-j", "1", "--results", self.path("gnu" + ext), script, ":::"] + items)
                with open(self.path("ours" + ext), newline="") as f:
                    mine = list(csv.reader(f, delimiter=sep))
                with open(self.path("gnu" + ext), newline="") as f:
                    gnu = list(csv.reader(f, delimiter=sep))
                self.assertEqual(mine[0], gnu[0])
                self.assertEqual(len(mine), len(gnu))
                columns = mine[0]
                for a, b in zip(mine[1:], gnu[1:]):
                    for column in ("Seq", "Host", "Send", "Receive", "Exitval", "Signal", "V1", "Stdout", "Stderr"):
                        self.assertEqual(a[columns.index(column)], b[columns.index(column)], column)
                    # The same quoting where the fields are the same.
                with open(self.path("ours" + ext), "rb") as f:
                    first = f.read().split(b"\n")[1]
                with open(self.path("gnu" + ext), "rb") as f:
                    gnu_first = f.read().split(b"\n")[1]
                self.assertEqual(first.split(sep.encode())[-1], gnu_first.split(sep.encode())[-1])

    def test_json_has_gnu_parallels_fields(self):
        ours, theirs = self.both("r.json", ["echo o{}; echo e{} >&2"], [":::", "0", 'a"b'])
        self.assertOk(ours, "")
        with open(self.path("ours-r.json")) as f:
            mine = sorted((json.loads(line) for line in f), key=lambda r: r["Seq"])
        with open(self.path("gnu-r.json")) as f:
            gnu = sorted((json.loads(line) for line in f), key=lambda r: r["Seq"])
        self.assertEqual([list(r) for r in mine], [list(r) for r in gnu])
        for a, b in zip(mine, gnu):
            for key in ("Seq", "Host", "Send", "Receive", "Exitval", "Signal", "V", "Stdout", "Stderr"):
                self.assertEqual(a[key], b[key], key)

    def test_a_dash_file_goes_to_stdout_alone(self):
        for name in ("-.csv", "-.json"):
            with self.subTest(name=name):
                ours = run(["imap", "--results", name, "echo", "x{}", ":::", "a"], cwd=self.tmp)
                theirs = parallel(["--results", name, "echo", "x{}", ":::", "a"], cwd=self.tmp)
                self.assertOk(ours)
                self.assertFalse(os.path.exists(self.path(name)))
                if name.endswith(".csv"):
                    mine, gnu = (list(csv.DictReader(io.StringIO(p.stdout.decode()))) for p in (ours, theirs))
                else:
                    mine, gnu = ([json.loads(line) for line in p.stdout.splitlines()] for p in (ours, theirs))
                self.assertEqual(len(mine), 1)
                self.assertEqual(list(mine[0]), list(gnu[0]))
                self.assertEqual(mine[0]["Stdout"], gnu[0]["Stdout"])
        self.assertUsageError(run(["imap", "--json", "--results", "-.json", "echo", ":::", "a"]), "--json")

    def test_json_output_still_goes_to_stdout(self):
        # --res is GNU parallel's short spelling.
        ours = run(["imap", "--json", "--res", self.path("r"), "echo", ":::", "a"])
        self.assertOk(ours)
        self.assertEqual(json.loads(ours.stdout)["output"], "a\n")
        self.assertEqual(tree(self.path("r")), {"1/a/stdout": b"a\n", "1/a/stderr": b"", "1/a/seq": b"1"})

    def test_a_place_that_cannot_be_written_is_a_usage_error(self):
        blocker = self.write("file", "")
        for name in (os.path.join(blocker, "dir"), os.path.join(blocker, "r.csv"), ""):
            with self.subTest(name=name):
                self.assertUsageError(run(["imap", "--results", name, "echo", ":::", "a"]), "--results")


if __name__ == "__main__":
    unittest.main()
