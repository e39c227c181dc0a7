"""Command tasks: exec form vs shell form, replacement strings, environment,
and inputs that look like shell code but must never run as code."""

import os
import unittest

from harness import E2ETestCase, PipeReader, json_lines, lines, run


class ProgramSearchTests(E2ETestCase):
    """A worker finds a command's program in PATH once, as a shell's hash
    table does, and searches again only when the file it found is gone."""

    def program(self, directory, says):
        os.makedirs(self.path(directory), exist_ok=True)
        path = self.path(f"{directory}/prog")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\necho {says} \"$1\"\n")
        os.chmod(path, 0o755)
        return path

    def start_pool(self):
        env = dict(os.environ, PATH=f"{self.path('a')}:{self.path('b')}:{os.environ['PATH']}")
        proc = self.start(["imap", "-j", "1", "--", "prog"], env=env)
        return proc, PipeReader(proc.stdout)

    def ask(self, proc, reader, item):
        proc.stdin.write(item + b"\n")
        proc.stdin.flush()
        return reader.readline()

    def test_a_program_found_once_is_kept(self):
        os.makedirs(self.path("a"))
        self.program("b", "b")
        proc, reader = self.start_pool()
        self.assertEqual(self.ask(proc, reader, b"1"), b"b 1\n")
        # Earlier in PATH now, but the program was found already (bash's `hash` keeps it so too).
        self.program("a", "a")
        self.assertEqual(self.ask(proc, reader, b"2"), b"b 2\n")

    def test_a_program_that_has_gone_is_searched_again(self):
        first = self.program("a", "a")
        self.program("b", "b")
        proc, reader = self.start_pool()
        self.assertEqual(self.ask(proc, reader, b"1"), b"a 1\n")
        os.unlink(first)
        self.assertEqual(self.ask(proc, reader, b"2"), b"b 2\n")
        os.unlink(self.path("b/prog"))
        proc.stdin.write(b"3\n")
        proc.stdin.close()
        self.assertEqual(proc.wait(timeout=60), 1)
        self.assertIn(b"cannot run 'prog'", self.stderr_of(proc))


class InjectionTests(E2ETestCase):
    def injection_items(self):
        pwned = self.path("PWNED")
        return pwned, [
            f"x; touch {pwned}",
            f"$(touch {pwned})",
            f"`touch {pwned}`",
            f"'; touch {pwned}; '",
            f'"; touch {pwned}; "',
            f"x && touch {pwned}",
            f"x | touch {pwned}",
            f"x > {pwned}",
            f"\\'$(touch {pwned})",
            "$HOME ~ * ?",
            "{}",
            "it's",
            "trailing backslash \\",
        ]

    def check(self, args, items, pwned, expected=None):
        proc = run(args, input="".join(i + "\n" for i in items).encode(), cwd=self.tmp)
        self.assertStatus(proc, 0)
        self.assertFalse(os.path.exists(pwned), "an input item was executed as shell code")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "PWNED")))
        self.assertEqual(lines(proc.stdout), expected or [f"[{i}]" for i in items])

    def test_exec_form(self):
        pwned, items = self.injection_items()
        self.check(["imap", "-j", "2", "--", "printf", "[%s]\\n", "{}"], items, pwned)

    def test_exec_form_item_appended(self):
        pwned, items = self.injection_items()
        self.check(["imap", "-j", "2", "--", "printf", "[%s]\\n"], items, pwned)

    def test_shell_form(self):
        pwned, items = self.injection_items()
        self.check(["imap", "-j", "2", 'printf "[%s]\\n" {}'], items, pwned)

    def test_shell_form_item_appended(self):
        pwned, items = self.injection_items()
        self.check(["imap", "-j", "2", 'printf "[%s]\\n"'], items, pwned)

    def test_shell_form_every_replacement_string_is_quoted(self):
        # Relative file names (run in self.tmp) so that {.} {/} {/.} are the item itself.
        items = ["x; touch PWNED", "$(touch PWNED)", "`touch PWNED`", "'; touch PWNED; '",
                 '"; touch PWNED; "', "x && touch PWNED", "it's"]
        proc = run(["imap", "-j", "2", 'printf "[%s|%s|%s|%s]\\n" {} {.} {/} {/.}'],
                   input="".join(i + "\n" for i in items).encode(), cwd=self.tmp)
        self.assertStatus(proc, 0)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "PWNED")),
                         "an input item was executed as shell code")
        self.assertEqual(lines(proc.stdout), [f"[{i}|{i}|{i}|{i}]" for i in items])

    def test_shell_form_nul_separated_item_with_newline(self):
        pwned = self.path("PWNED")
        items = [f"a\ntouch {pwned}", f"b'\ntouch {pwned}\n'"]
        proc = run(["imap", "-0", "-j", "1", "--json", "printf %s {}"],
                   input=b"".join(i.encode() + b"\0" for i in items))
        self.assertStatus(proc, 0)
        self.assertFalse(os.path.exists(pwned))
        self.assertEqual([r["output"] for r in json_lines(proc.stdout)], items)

    def test_shell_form_keeps_whitespace_inside_a_word(self):
        proc = run(["imap", "-j", "1", "echo pre{}post"], input=b"a  b\n")
        self.assertOk(proc, "prea  bpost\n")

    def test_exec_form_substitutes_inside_a_word(self):
        proc = run(["imap", "-j", "1", "--", "echo", "pre-{}-post", "{}{}"], input=b"a  b\n")
        self.assertOk(proc, "pre-a  b-post a  ba  b\n")

    def test_exec_form_item_with_spaces_is_one_argument(self):
        proc = run(["imap", "-j", "1", "--", "sh", "-c", 'echo "$#"', "sh", "{}"], input=b"a b c\n")
        self.assertOk(proc, "1\n")

    def test_shell_form_pipeline(self):
        proc = run(["imap", "-j", "2", "echo {} | tr a-z A-Z"], input=b"abc\nx y\n")
        self.assertOk(proc, "ABC\nX Y\n")

    def test_single_word_command_is_executed(self):
        proc = run(["imap", "-j", "2", "echo"], input=b"a\nb c\n")
        self.assertOk(proc, "a\nb c\n")

    def test_missing_command_reports_127(self):
        proc = run(["imap", "-j", "1", "--", "ppool-no-such-command", "{}"], input=b"a\n")
        self.assertStatus(proc, 1)
        self.assertIn(
            "ppool: task 1 (a) failed: exit status 127 "
            "(cannot run 'ppool-no-such-command': No such file or directory)",
            proc.stderr.decode().splitlines())


class ReplacementTests(E2ETestCase):
    CASES = [
        # item, {.}, {/}, {//}, {/.}
        ("dir.d/sub/file.tar.gz", "dir.d/sub/file.tar", "file.tar.gz", "dir.d/sub", "file.tar"),
        ("dir.d/file", "dir.d/file", "file", "dir.d", "file"),
        ("/abs/x.y", "/abs/x", "x.y", "/abs", "x"),
        ("a b/c d.e f", "a b/c d", "c d.e f", "a b", "c d"),
        ("rel/path/noext", "rel/path/noext", "noext", "rel/path", "noext"),
    ]

    def expected(self):
        return [f"{i}|{dot}|{base}|{dirn}|{basedot}" for i, dot, base, dirn, basedot in self.CASES]

    def input(self):
        return "".join(c[0] + "\n" for c in self.CASES).encode()

    def test_exec_form(self):
        proc = run(["imap", "-j", "2", "--", "printf", "%s|%s|%s|%s|%s\\n",
                    "{}", "{.}", "{/}", "{//}", "{/.}"], input=self.input())
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), self.expected())

    def test_shell_form(self):
        proc = run(["imap", "-j", "2", 'printf "%s|%s|%s|%s|%s\\n" {} {.} {/} {//} {/.}'],
                   input=self.input())
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), self.expected())

    def test_sequence_number(self):
        proc = run(["imap", "-j", "3", "--", "echo", "{#}", "{}"], input=b"a\nb\nc\nd\ne\n")
        self.assertOk(proc, "1 a\n2 b\n3 c\n4 d\n5 e\n")

    def test_sequence_number_shell_form(self):
        proc = run(["imap", "-j", "3", "echo {#}:{}"], input=b"a\nb\nc\n")
        self.assertOk(proc, "1:a\n2:b\n3:c\n")

    def test_worker_slot_matches_environment(self):
        proc = run(["imap", "-j", "2", 'echo {%} "$PPOOL_WORKER" {#} "$PPOOL_SEQ" {}'],
                   input="".join(f"i{n}\n" for n in range(12)).encode())
        self.assertStatus(proc, 0)
        out = lines(proc.stdout)
        self.assertEqual(len(out), 12)
        for n, line in enumerate(out):
            slot, worker, seq, env_seq, item = line.split()
            self.assertIn(slot, ("1", "2"), line)
            self.assertEqual(int(slot), int(worker) + 1, line)
            self.assertEqual(seq, str(n + 1), line)
            self.assertEqual(env_seq, seq, line)
            self.assertEqual(item, f"i{n}", line)

    def test_worker_slot_stays_in_range_when_workers_are_replaced(self):
        proc = run(["imap", "-j", "2", "--max-tasks-per-worker", "1", 'echo {%} "$PPOOL_WORKER"'],
                   input="".join(f"{n}\n" for n in range(10)).encode())
        self.assertStatus(proc, 0)
        self.assertEqual(set(lines(proc.stdout)), {"1 0", "2 1"})

    def test_environment_in_exec_form(self):
        proc = run(["imap", "-j", "2", "--", "sh", "-c", 'echo "$1 $PPOOL_SEQ $PPOOL_WORKER"', "sh", "{}"],
                   input=b"a\nb\nc\nd\n")
        self.assertStatus(proc, 0)
        for n, line in enumerate(lines(proc.stdout)):
            item, seq, worker = line.split()
            self.assertEqual(item, "abcd"[n])
            self.assertEqual(seq, str(n + 1))
            self.assertIn(worker, ("0", "1"))

    def test_command_stdin_is_dev_null(self):
        proc = run(["imap", "-j", "1", "--", "sh", "-c", 'readlink /proc/$$/fd/0; : "$1"', "sh", "{}"],
                   input=b"a\n")
        self.assertOk(proc, "/dev/null\n")


if __name__ == "__main__":
    unittest.main()
