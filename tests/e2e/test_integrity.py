"""Integrity under load, after GNU parallel's own stress tests for parallel
tools: outputs of many jobs never mixed, stderr kept apart, a full disk while
spilling, no temporary file or process left after ppool is killed with SIGKILL,
awkward file names, composed shell commands, replacement strings used several
times, an item of many words. Each proves behaviour in seconds; the
multi-gigabyte runs are in test_stress.py (ctest label "heavy")."""

import itertools
import os
import resource
import shlex
import signal
import subprocess
import time
import unittest

from harness import (SANITIZED, E2ETestCase, assert_gone, descendants_of, json_lines, lines, read_pid, run,
                     wait_for)

MiB = 1 << 20

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


@unittest.skipIf(SANITIZED, "AddressSanitizer cannot run under an address-space limit")
class MemoryLimitTests(E2ETestCase):
    """Under `ulimit -v`, outputs held for their turn stay within a small part of
    what ppool may map, whatever -j is; the rest spills to disk. Where memory
    still runs out, ppool says so in one line: never a crash."""

    def run_limited(self, kib, jobs, items):
        limit = kib * 1024
        return run(["imap", "-j", str(jobs), "--", "sh", "-c", "head -c 10000000 /dev/zero"],
                   input="".join(f"{i}\n" for i in range(items)).encode(), timeout=120,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))

    def test_many_large_outputs_complete_under_a_memory_limit(self):
        proc = self.run_limited(100000, 24, 24)
        self.assertStatus(proc, 0)
        self.assertEqual(len(proc.stdout), 24 * 10000000)
        self.assertEqual(proc.stdout.count(0), len(proc.stdout))
        self.assertEqual(proc.stderr, b"")

    def test_running_out_of_memory_is_one_line(self):
        for kib in (20000, 25000, 30000):
            with self.subTest(limit_kib=kib):
                proc = self.run_limited(kib, 24, 24)
                self.assertIn(proc.returncode, (0, 1, 2), proc.stderr[-2000:])
                self.assertNotIn(b"bad_alloc", proc.stderr)
                for line in proc.stderr.splitlines():
                    self.assertRegex(line, rb"^ppool: (out of memory; |task \d+ \(\d+\) failed: out of memory)")


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



class LongItemTests(E2ETestCase):
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


if __name__ == "__main__":
    unittest.main()
