"""Hostile input: bytes that are not UTF-8, NUL bytes inside a line, a 100 MB
line, empty and unterminated lines, items that look like options, items that
try to run shell code, an item too long to be an argument, absurd option values
and input that cannot be read. Each gives the right result, or a failed item
with a clear reason, or one line "ppool: ..." with exit status 2: never a
crash, a hang, a silent truncation or a stack trace."""

import base64
import json
import os
import subprocess
import unittest

from harness import PPOOL, E2ETestCase, json_lines, run

BAD_UTF8 = [b"a\xffb", b"\xc3\x28", b"\xed\xa0\x80surrogate", b"\xf8\x88\x80\x80\x80", b"\x80",
            b"truncated \xe2\x82", b"\xc0\xaf overlong", b"mixed \xc3\xa9 \xff"]


def joined(items, sep=b"\n"):
    return b"".join(i + sep for i in items)


class InvalidUtf8Tests(E2ETestCase):
    def test_text_mode_passes_bytes_through(self):
        expected = joined(BAD_UTF8)
        for args in (["--task", "identity"], ["--", "printf", "%s\\n", "{}"], ["--", "printf", "%s\\n"],
                     ["printf '%s\\n' {}"], ["printf '%s\\n' {} | cat"]):
            with self.subTest(args=args):
                proc = run(["imap", "-j", "2"] + args, input=joined(BAD_UTF8))
                self.assertOk(proc, expected)

    def test_len_counts_bytes(self):
        proc = run(["imap", "-j", "2", "--task", "len"], input=joined(BAD_UTF8))
        self.assertOk(proc, "".join(f"{len(i)}\n" for i in BAD_UTF8))

    def test_json_input_and_output_base64(self):
        for args in (["--task", "identity"], ["--", "printf", "%s"]):
            with self.subTest(args=args):
                proc = run(["imap", "-j", "2", "--json"] + args, input=joined(BAD_UTF8))
                self.assertStatus(proc, 0)
                records = json_lines(proc.stdout)
                self.assertEqual(len(records), len(BAD_UTF8))
                for item, r in zip(BAD_UTF8, records):
                    self.assertJsonRecord(r)
                    self.assertIsNone(r["input"], r)
                    self.assertEqual(base64.b64decode(r["input_base64"]), item)
                    self.assertIsNone(r["output"], r)
                    self.assertEqual(base64.b64decode(r["output_base64"]).rstrip(b"\n"), item)

    def test_json_map_array_stays_valid(self):
        proc = run(["map", "-j", "2", "--json", "--task", "identity"], input=joined(BAD_UTF8))
        self.assertStatus(proc, 0)
        records = json.loads(proc.stdout)
        self.assertEqual([base64.b64decode(r["input_base64"]) for r in records], BAD_UTF8)

    def test_failure_lines_for_invalid_utf8_items(self):
        proc = run(["imap", "-j", "2", "--", "false"], input=joined(BAD_UTF8))
        self.assertStatus(proc, 1)
        err = proc.stderr.split(b"\n")[:-1]
        self.assertEqual(len(err), len(BAD_UTF8), proc.stderr)
        for line in err:
            self.assertTrue(line.startswith(b"ppool: task "), line)
            self.assertTrue(line.endswith(b") failed: exit status 1"), line)


class NulInsideLineTests(E2ETestCase):
    """Without -0, a NUL byte is an ordinary byte of the item."""

    DATA = b"x\0y\n\0\nab\0\0\0cd\n"
    ITEMS = [b"x\0y", b"\0", b"ab\0\0\0cd"]

    def test_registered_tasks_get_the_item_intact(self):
        proc = run(["imap", "-j", "2", "--task", "len"], input=self.DATA)
        self.assertOk(proc, "3\n1\n7\n")
        proc = run(["imap", "-j", "2", "--task", "identity"], input=self.DATA)
        self.assertOk(proc, self.DATA)
        proc = run(["map", "-j", "2", "--task", "upper"], input=self.DATA)
        self.assertOk(proc, self.DATA.upper())

    def test_json_input_keeps_the_nul(self):
        proc = run(["imap", "-j", "2", "--json", "--task", "identity"], input=self.DATA)
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual([r["input"] for r in records], [i.decode() for i in self.ITEMS])
        self.assertEqual([r["output"].rstrip("\n") for r in records], [i.decode() for i in self.ITEMS])

    def check_command_fails_clearly(self, args):
        # A command argument cannot hold a NUL byte: the item must fail with a
        # reason that says so, not run with the item cut short at the NUL.
        proc = run(["imap", "-j", "1"] + args, input=b"a\nx\0y\nb\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"[a]\n[b]\n", "the item with a NUL ran, cut short" + repr(proc.stderr))
        err = proc.stderr.split(b"\n")[:-1]
        self.assertEqual(len(err), 1, proc.stderr)
        self.assertTrue(err[0].startswith(b"ppool: task 2 ("), err[0])
        self.assertRegex(err[0].decode("utf-8", "replace"), r"(?i)\bnul\b|null (byte|char)",
                         "the reason should say the item contains a NUL byte")

    def test_exec_form_item_with_nul_fails_clearly(self):
        self.check_command_fails_clearly(["--", "printf", "[%s]\\n", "{}"])

    def test_shell_form_item_with_nul_fails_clearly(self):
        self.check_command_fails_clearly(["printf '[%s]\\n' {}"])


class HugeLineTests(E2ETestCase):
    SIZE = 100 * 1000 * 1000

    def test_100_mb_line(self):
        item = bytes(range(1, 256)) * (self.SIZE // 255) + b"z" * (self.SIZE % 255)
        item = item.replace(b"\n", b"N")
        self.assertEqual(len(item), self.SIZE)
        data = b"first\n" + item + b"\nlast\n"
        proc = run(["imap", "-j", "2", "--task", "len"], input=data, timeout=120)
        self.assertOk(proc, f"5\n{self.SIZE}\n4\n")
        proc = run(["imap", "-j", "2", "--task", "identity"], input=data, timeout=120)
        self.assertStatus(proc, 0)
        self.assertEqual(len(proc.stdout), len(data))
        self.assertTrue(proc.stdout == data, "--task identity changed the 100 MB line")


class EmptyAndUnterminatedTests(E2ETestCase):
    FORMS = (["--", "printf", "[%s]\\n", "{}"], ["--", "printf", "[%s]\\n"], ["printf '[%s]\\n' {}"],
             ["printf '[%s]\\n'"])

    def test_empty_lines_are_empty_items(self):
        proc = run(["imap", "-j", "2", "--task", "len"], input=b"\n\n\n")
        self.assertOk(proc, "0\n0\n0\n")
        for args in self.FORMS:
            with self.subTest(args=args):
                proc = run(["imap", "-j", "2"] + args, input=b"\na\n\n")
                self.assertOk(proc, "[]\n[a]\n[]\n")

    def test_single_newline_is_one_empty_item(self):
        proc = run(["imap", "--json", "--task", "identity"], input=b"\n")
        self.assertStatus(proc, 0)
        self.assertEqual([r["input"] for r in json_lines(proc.stdout)], [""])

    def test_no_input_at_all(self):
        for args in self.FORMS + (["--task", "identity"],):
            with self.subTest(args=args):
                proc = run(["imap", "-j", "2"] + args, input=b"")
                self.assertOk(proc, b"")
                self.assertEqual(proc.stderr, b"")

    def test_many_empty_lines(self):
        proc = run(["imap", "-j", "2", "-c", "1000", "--task", "len"], input=b"\n" * 200000)
        self.assertOk(proc, "0\n" * 200000)

    def test_input_without_final_newline(self):
        for args in self.FORMS:
            with self.subTest(args=args):
                self.assertOk(run(["imap", "-j", "2"] + args, input=b"a\nb"), "[a]\n[b]\n")
                self.assertOk(run(["imap", "-j", "2", "-0"] + args, input=b"a\0b"), "[a]\n[b]\n")
                self.assertOk(run(["imap", "-j", "2", "-0"] + args, input=b"a\nb"), "[a\nb]\n")
                self.assertOk(run(["map", "-j", "2"] + args, input=b"no newline"), "[no newline]\n")

    def test_input_without_final_newline_in_files(self):
        one = self.write("one", b"a\nb")
        two = self.write("two", b"c")
        proc = run(["imap", "-j", "2", "-a", one, "-a", two, "--task", "identity"])
        self.assertOk(proc, "a c\nb c\n")


class DashItemTests(E2ETestCase):
    ITEMS = ["-n", "-e", "-E", "--help", "--version", "-", "--", "-j 3", "-0", "--task=len", "-x -y", "-%s",
             "--json"]

    def direct(self, argv_for):
        out = b""
        for item in self.ITEMS:
            out += subprocess.run(argv_for(item), capture_output=True, check=False).stdout
        return out

    def test_exec_form_is_plain_argv(self):
        data = "".join(i + "\n" for i in self.ITEMS).encode()
        cases = [(["printf", "%s\\n", "{}"], lambda i: ["printf", "%s\\n", i]),
                 (["printf", "%s\\n"], lambda i: ["printf", "%s\\n", i]),
                 (["echo", "{}"], lambda i: ["echo", i]),
                 (["echo", "x", "{}"], lambda i: ["echo", "x", i]),
                 (["printf", "{}"], lambda i: ["printf", i])]
        for command, argv_for in cases:
            with self.subTest(command=command):
                proc = run(["imap", "-j", "2", "--"] + command, input=data)
                expected = self.direct(argv_for)
                self.assertEqual(proc.stdout, expected, proc.stderr)

    def test_items_are_never_ppool_options(self):
        data = "".join(i + "\n" for i in self.ITEMS).encode()
        proc = run(["imap", "-j", "2", "--task", "identity"], input=data)
        self.assertOk(proc, data)
        proc = run(["imap", "-j", "2", "printf '%s\\n' {}"], input=data)
        self.assertOk(proc, data)


class InjectionTests(E2ETestCase):
    """Items that try to run `touch PWNED` (in the working directory): PWNED must never exist."""

    ITEMS = ["$(touch PWNED)", "`touch PWNED`", "; touch PWNED", "' ; touch PWNED ; '", '"$(touch PWNED)"',
             "| touch PWNED", "&& touch PWNED", "x > PWNED", "\\$(touch PWNED)", "'\"$(touch PWNED)\"'",
             "${IFS}touch${IFS}PWNED", "$((1))$(touch PWNED)", "{} $(touch PWNED)", "{.}`touch PWNED`",
             "touch PWNED #", "\\", "'", '"', "\\'", "$'\\x27'; touch PWNED", ")$(touch PWNED)(",
             "\u00e9$(touch PWNED)"]
    NEWLINE_ITEMS = ["x\ntouch PWNED", "'\ntouch PWNED\n'", '"\n$(touch PWNED)\n"']

    def check(self, args, items=None, null=False, expect_output=True):
        items = items or self.ITEMS
        sep = "\0" if null else "\n"
        workdir = self.path("work")
        os.makedirs(workdir, exist_ok=True)
        proc = run(["imap", "-j", "2"] + (["-0"] if null else []) + args,
                   input="".join(i + sep for i in items).encode(), cwd=workdir)
        self.assertFalse(os.path.exists(os.path.join(workdir, "PWNED")),
                         f"an input item ran as shell code: {args!r}" + repr(proc.stdout[:2000]))
        self.assertNotIn("PWNED", os.listdir(self.tmp))
        if expect_output:
            self.assertOk(proc, "".join(f"[{i}]\n" for i in items))
        return proc

    def test_exec_form(self):
        for args in (["--", "printf", "[%s]\\n", "{}"], ["--", "printf", "[%s]\\n"],
                     ["--", "sh", "-c", 'printf "[%s]\\n" "$1"', "sh", "{}"]):
            with self.subTest(args=args):
                self.check(args)
                self.check(args, self.NEWLINE_ITEMS, null=True)

    def test_shell_form(self):
        for args in (["printf '[%s]\\n' {}"], ["printf '[%s]\\n'"], ["printf '[%s]\\n' {} | cat"],
                     ["x={}; printf '[%s]\\n' \"$x\""], ["printf '[%s]\\n' \"$(printf %s {})\""]):
            with self.subTest(args=args):
                self.check(args)
                self.check(args, self.NEWLINE_ITEMS, null=True)

    def test_shell_form_other_replacement_strings(self):
        # No '/' in these items, so {/} is the item; {.} {/.} may cut at a dot.
        for placeholder in ("{/}", "{//}", "{.}", "{/.}"):
            with self.subTest(placeholder=placeholder):
                self.check([f"printf '[%s]\\n' {placeholder}"], expect_output=False)

    def test_json_mode(self):
        workdir = self.path("work")
        os.makedirs(workdir)
        proc = run(["imap", "-j", "2", "--json", "printf %s {}"],
                   input="".join(i + "\n" for i in self.ITEMS).encode(), cwd=workdir)
        self.assertStatus(proc, 0)
        self.assertFalse(os.path.exists(os.path.join(workdir, "PWNED")))
        self.assertEqual([r["output"] for r in json_lines(proc.stdout)], self.ITEMS)

    def test_placeholder_inside_double_quotes_in_the_template(self):
        # GNU parallel users habitually write "{}"; SPEC 2: an input line such
        # as $(reboot) "is a file name, never code" -- also inside the user's quotes.
        self.check(['printf "[%s]\\n" "{}"'], expect_output=False)
        self.check(['printf "[%s]\\n" "x{}y"'], expect_output=False)

    def test_placeholder_inside_single_quotes_in_the_template(self):
        self.check(["printf '[%s]\\n' '{}'"], expect_output=False)

    BACKQUOTE_ITEMS = ["a\\$b", "a\\\\b", "a`b", "'", '"', "$(reboot)", "`id`", "\\", "\n", ";", " a  b ",
                       "$(touch PWNED)", "`touch PWNED`", "\\`touch PWNED\\`", "\"`touch PWNED`\"",
                       "'`touch PWNED`'", "\\\n`touch PWNED`", "x\\", "", "\\\"\\'\\$\\`\\\\"]
    # Each prints "[" + the value + "]": the inner command ends the value with "]"
    # so that command substitution cannot strip a trailing newline of the item.
    BACKQUOTE_TEMPLATES = [
        "x=`printf '%s]' {}`; printf '[%s\\n' \"$x\"",
        "x=`printf '%s]' '{}'`; printf '[%s\\n' \"$x\"",
        "x=`printf '%s]' \"{}\"`; printf '[%s\\n' \"$x\"",
        "printf '[%s\\n' \"`printf '%s]' {}`\"",
        "printf '[%s\\n' \"`printf '%s]' \"{}\"`\"",
        "printf '[%s\\n' \"`printf '%s]' \\\"{}\\\"`\"",
        "printf '[%s\\n' \"$(printf %s \"`printf '%s]' {}`\")\"",
        "x=`printf %s \"$(printf '%s]' \"{}\")\"`; printf '[%s\\n' \"$x\"",
        "x=`y=\\`printf '%s]' {}\\`; printf %s \"$y\"`; printf '[%s\\n' \"$x\"",
        "x=`printf %s \"\\`printf '%s]' \"{}\"\\`\"`; printf '[%s\\n' \"$x\"",
        "printf '[%s\\n' \"`printf %s \"\\`printf '%s]' {}\\`\"`\"",
        "printf '[%s\\n' \"`printf %s \\\"\\`printf '%s]' \\\\\\\"{}\\\\\\\"\\`\\\"`\"",
    ]

    def test_placeholder_inside_backquotes(self):
        # sh removes a backslash before \ ` $ (and " within "...") in the text
        # of `...`, then parses it as a script of its own.
        for template in self.BACKQUOTE_TEMPLATES:
            with self.subTest(template=template):
                self.check([template], self.BACKQUOTE_ITEMS, null=True)


class ArgumentTooLongTests(E2ETestCase):
    """A 1 MB item cannot be one argument (Linux: 128 KiB per argument): E2BIG."""

    ITEM = b"x" * (1 << 20)

    def check(self, args):
        proc = run(["imap", "-j", "2"] + args, input=b"a\n" + self.ITEM + b"\nb\n", timeout=60)
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"[a]\n[b]\n")
        err = proc.stderr.split(b"\n")[:-1]
        self.assertEqual(len(err), 1, proc.stderr[:3000])
        self.assertTrue(err[0].startswith(b"ppool: task 2 (x"), err[0][:200])
        self.assertIn(b"Argument list too long", err[0], err[0][-300:])

    def test_exec_form(self):
        self.check(["--", "printf", "[%s]\\n", "{}"])

    def test_exec_form_item_appended(self):
        self.check(["--", "printf", "[%s]\\n"])

    def test_shell_form(self):
        self.check(["printf '[%s]\\n' {}"])

    def test_many_items_too_long(self):
        proc = run(["imap", "-j", "2", "--", "echo"], input=(self.ITEM + b"\n") * 20, timeout=60)
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"")
        err = proc.stderr.decode().splitlines()
        self.assertEqual(len(err), 20, err[:3])
        for n, line in enumerate(err, 1):
            self.assertRegex(line, rf"^ppool: task {n} \(x+.*\) failed: .*Argument list too long")

    def test_json_record(self):
        proc = run(["imap", "-j", "1", "--json", "--", "echo"], input=self.ITEM + b"\n", timeout=60)
        self.assertStatus(proc, 1)
        (r,) = json_lines(proc.stdout)
        self.assertJsonRecord(r)
        self.assertIs(r["ok"], False)
        self.assertEqual(r["input"], self.ITEM.decode())
        self.assertIn("Argument list too long", (r["error"] or "") + (r["stderr"] or ""), r["error"])


class AbsurdOptionValueTests(E2ETestCase):
    def check_usage_error_or_right_result(self, args):
        proc = run(["imap"] + args + ["--", "echo"], input=b"a\nb\n", timeout=30)
        if proc.returncode == 2:
            self.assertUsageError(proc)
        else:
            self.assertOk(proc, "a\nb\n")

    def test_huge_numbers(self):
        for args in (["-j", "4294967297"], ["-j", "99999999999999999999"], ["-c", "4294967297"],
                     ["-c", "99999999999999999999"], ["--max-tasks-per-worker", "99999999999999999999"],
                     ["--timeout", "99999999999999999999"], ["--timeout", "1e999"], ["-j", "1e3"],
                     ["-j", "0x10"], ["-j", " 2"], ["-j", "2 "], ["-j", "+2"], ["-c", "１"]):
            with self.subTest(args=args):
                self.check_usage_error_or_right_result(args)

    def test_empty_strings(self):
        for args in (["--task", ""], ["-a", "", "--task", "identity"], ["--format", "", "--task", "identity"],
                     ["--initializer", "", "--task", "identity"], ["--init-task", "", "--task", "identity"]):
            with self.subTest(args=args):
                proc = run(["imap", "-j", "1"] + args, input=b"a\n", timeout=30)
                if proc.returncode == 2:
                    self.assertUsageError(proc)
                else:
                    self.assertOk(proc, "a\n")


class UnreadableInputTests(E2ETestCase):
    def test_read_error_is_not_end_of_input(self):
        # Reading /proc/self/mem at offset 0 fails with EIO: ppool must not
        # take a read error for the end of the input.
        proc = run(["imap", "-a", "/proc/self/mem", "--", "echo"], timeout=30)
        self.assertUsageError(proc)
        self.assertRegex(proc.stderr.decode(), r"(?i)input/output error|/proc/self/mem")

    def test_read_error_after_good_input(self):
        good = self.write("good", "x\n")
        proc = run(["map", "-a", good, "-a", "/proc/self/mem", "--", "echo"], timeout=30)
        self.assertUsageError(proc)

    def test_stdin_is_a_directory(self):
        directory = os.open(self.tmp, os.O_RDONLY | os.O_DIRECTORY)
        try:
            proc = subprocess.run([PPOOL, "imap", "--", "echo"], stdin=directory, capture_output=True, timeout=30)
        finally:
            os.close(directory)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(proc.stdout, b"")
        err = proc.stderr.decode().splitlines()
        self.assertEqual(len(err), 1, err)
        self.assertTrue(err[0].startswith("ppool: "), err)

    def test_stdin_closed(self):
        proc = subprocess.run([PPOOL, "imap", "--", "echo"], stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=30, preexec_fn=lambda: os.close(0))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        err = proc.stderr.decode().splitlines()
        self.assertEqual(len(err), 1, err)
        self.assertTrue(err[0].startswith("ppool: "), err)


if __name__ == "__main__":
    unittest.main()
