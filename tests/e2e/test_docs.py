#!/usr/bin/env python3
"""Checks --help, the man page and the shell completions against the parser.

The options of each mode are read from `ppool MODE --help` (and `ppool --help`)
of the built binary, so a new option that is missing from the man page or from
a completion file fails here. Each completion file is also loaded into its
shell and asked for real completions, with the built ppool first on PATH (the
task names come from `ppool tasks`).

Needs mandoc, groff, zsh and fish (Debian: apt-get install -y mandoc groff zsh
fish); a missing tool fails its test rather than skipping it.
"""

import functools
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import PPOOL, run as run_ppool

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT = os.path.join(ROOT, "docs", "cli-contract.md")
MAN_PAGE = os.path.join(ROOT, "man", "ppool.1")
BASH = os.path.join(ROOT, "completions", "ppool.bash")
ZSH = os.path.join(ROOT, "completions", "_ppool")
FISH = os.path.join(ROOT, "completions", "ppool.fish")
ZSH_COMPLETE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zsh_complete.zsh")
COMPLETIONS = (BASH, ZSH, FISH)

MODES = ("map", "imap", "imap-unordered", "unordered", "apply", "tasks")
BUILTIN_TASKS = ("identity", "len", "upper", "lower", "sleep", "wc", "sha256sum")
GROUPS = ("Pool", "Task", "Input", "Output", "Workflow")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=None)
def help_text(mode=None):
    proc = run_ppool([mode, "--help"] if mode else ["--help"], timeout=30)
    if proc.returncode != 0 or proc.stderr:
        raise AssertionError(f"ppool {mode or ''} --help failed: {proc.stderr!r}")
    return proc.stdout.decode()


OPTION_LINE = re.compile(r"^  (?:-\w, |    )(--[a-z][a-z0-9-]*)", re.M)


@functools.lru_cache(maxsize=None)
def parser_options(mode=None):
    """The long options that `ppool [MODE] --help` lists, in its order."""
    options = OPTION_LINE.findall(help_text(mode))
    if not options:
        raise AssertionError(f"no options found in ppool {mode or ''} --help")
    return tuple(options)


def all_options():
    """Every long option of every mode, and of ppool itself."""
    options = set(parser_options())
    for mode in MODES:
        options |= set(parser_options(mode))
    return options


def man_text():
    """The page's source with roff's escaped hyphens made plain."""
    return read(MAN_PAGE).replace("\\-", "-")


def man_section(name):
    text = man_text()
    match = re.search(r"^\.SH " + re.escape(name) + r"\n(.*?)(?=^\.SH |\Z)", text, re.M | re.S)
    if not match:
        raise AssertionError(f"man page has no {name} section")
    return match.group(1)


def require(tool):
    path = shutil.which(tool)
    if path is None:
        raise AssertionError(f"{tool} is not installed (Debian: apt-get install -y {tool})")
    return path


def run(argv, env=None, timeout=60):
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


class BinaryPath:
    """An environment whose PATH starts with a directory where `ppool` is the
    built binary, as a user who installed it has."""

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        os.symlink(PPOOL, os.path.join(self.dir.name, "ppool"))
        env = dict(os.environ)
        env["PATH"] = self.dir.name + os.pathsep + env.get("PATH", "")
        return env

    def __exit__(self, *exc):
        self.dir.cleanup()


class Help(unittest.TestCase):
    def test_mode_help_groups_every_option(self):
        for mode in ("map", "imap", "imap-unordered", "apply"):
            with self.subTest(mode=mode):
                text = help_text(mode)
                self.assertIn(f"Usage: ppool {mode} [OPTIONS]", text)
                groups = re.findall(r"(?m)^(\w+):$", text)
                expected = [g for g in GROUPS if mode != "apply" or g not in ("Input", "Workflow")]
                self.assertEqual(groups, expected + ["Other"])
                self.assertEqual(len(parser_options(mode)), len(set(parser_options(mode))))

    def test_item_modes_have_the_workflow_options(self):
        for mode in ("map", "imap", "imap-unordered", "unordered"):
            with self.subTest(mode=mode):
                self.assertLessEqual({"--pipe", "--tag", "--joblog", "--resume", "--retries", "--dry-run",
                                      "--progress", "--chunksize", "--input", "--null", "--fail-fast"},
                                     set(parser_options(mode)))
        self.assertNotIn("--chunksize", parser_options("apply"))
        self.assertEqual(set(parser_options("tasks")), {"--plugin", "--help"})

    def test_top_help_lists_modes_and_every_option(self):
        text = help_text()
        for mode in MODES:
            self.assertRegex(text, r"(?m)^  " + re.escape(mode) + r"\b|, " + re.escape(mode) + r"\b")
        self.assertEqual(set(parser_options()), all_options())
        self.assertIn("--version", parser_options())
        for group in GROUPS:
            self.assertRegex(text, r"(?m)^" + group + ":$")

    def test_footer_and_width(self):
        for mode in (None,) + MODES:
            with self.subTest(mode=mode):
                text = help_text(mode)
                self.assertIn("Exit status: 0 all succeeded, 1 a task failed, 2 usage error", text)
                self.assertIn("man ppool", text)
                for line in text.splitlines():
                    self.assertLessEqual(len(line), 80, line)

    def test_value_names(self):
        text = help_text("imap")
        for shown in ("-j, --processes N", "-a, --input FILE", "-t, --task NAME", "--timeout SECONDS",
                      "--format text|json", "--joblog FILE", "--retries N", "--progress[=WHEN]"):
            self.assertIn(shown, text)


class ManPage(unittest.TestCase):
    def test_mandoc_lint_is_clean(self):
        mandoc = require("mandoc")
        result = run([mandoc, "-T", "lint", "-W", "warning", MAN_PAGE])
        self.assertEqual(result.stdout + result.stderr, "")
        self.assertEqual(result.returncode, 0)

    def test_groff_is_silent(self):
        groff = require("groff")
        result = run([groff, "-ww", "-z", "-man", MAN_PAGE])
        self.assertEqual(result.stdout + result.stderr, "")
        self.assertEqual(result.returncode, 0)

    def test_title(self):
        self.assertRegex(read(MAN_PAGE), r"(?m)^\.TH PPOOL 1 ")

    def test_sections(self):
        for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "MODES", "OPTIONS", "TASKS",
                     "REPLACEMENT STRINGS", "OUTPUT", "JOBLOG", "EXIT STATUS", "ENVIRONMENT",
                     "SIGNALS AND CLEAN-UP", "EXAMPLES", "SEE ALSO"):
            with self.subTest(section=name):
                man_section(name)

    def test_every_parser_option_is_documented(self):
        options = man_section("OPTIONS")
        for option in sorted(all_options()):
            with self.subTest(option=option):
                self.assertTrue(re.search(r"(?m)^\.[A-Z]+ .*" + re.escape(option) + r"\b", options),
                                f"{option} has no entry in the man page's OPTIONS")

    def test_documents_only_parser_options(self):
        tagged = re.findall(r"(?m)^\.TP\n\.[BIR]+ .*?(--[a-z][a-z0-9-]*)", man_section("OPTIONS"))
        self.assertTrue(tagged)
        self.assertLessEqual(set(tagged), all_options())

    def test_modes_tasks_replacements_and_keys(self):
        text = man_text()
        words = (MODES + BUILTIN_TASKS
                 + ("{}", "{.}", "{/}", "{//}", "{/.}", "{#}", "{%}", ":::")
                 + ("seq", "input", "ok", "status", "output", "stderr", "exit_code", "signal",
                    "timed_out", "error", "duration_s", "worker", "host", "attempts", "_base64")
                 + ("failed", "timeout", "worker_lost")
                 + ("PPOOL_WORKER", "PPOOL_SEQ", "PPOOL_PLUGIN_PATH", "MAKEFLAGS", "TMPDIR")
                 + ("xargs", "parallel", "make", "jq"))
        for word in words:
            with self.subTest(word=word):
                self.assertTrue(word in text, f"{word} is not in the man page")

    def test_joblog_columns(self):
        joblog = man_section("JOBLOG")
        for column in ("seq", "host", "start", "runtime", "exit_code", "signal", "status", "attempts", "key",
                       "item", "command"):
            with self.subTest(column=column):
                self.assertTrue(re.search(r"(?m)^\.B " + column + r"$", joblog), f"no column {column}")

    def test_see_also(self):
        see_also = man_section("SEE ALSO")
        for page in ("xargs", "parallel", "make", "jq"):
            self.assertTrue(f".BR {page} (1)" in see_also, f"{page}(1) is not in SEE ALSO")

    def test_examples(self):
        examples = man_section("EXAMPLES")
        self.assertIn("ppool map", examples)
        self.assertIn("jq ", examples)
        self.assertRegex(examples, r"(?m)^\t.*ppool map")  # a Makefile recipe line
        for option in ("--joblog", "--resume", "--pipe", ":::"):
            self.assertTrue(option in examples, f"no example with {option}")


class Contract(unittest.TestCase):
    def test_every_parser_option_is_in_the_contract(self):
        text = read(CONTRACT)
        for option in sorted(all_options()):
            with self.subTest(option=option):
                self.assertIn(option, text)


class CompletionFiles(unittest.TestCase):
    def test_every_parser_option_is_completed(self):
        for path in COMPLETIONS:
            text = read(path)
            for option in sorted(all_options()):
                with self.subTest(file=os.path.basename(path), option=option):
                    # fish spells long options as "-l name".
                    self.assertTrue(option in text or f"-l {option[2:]} " in text,
                                    f"{option} missing from {path}")

    def test_every_mode_is_completed(self):
        for path in COMPLETIONS:
            text = read(path)
            for mode in MODES:
                with self.subTest(file=os.path.basename(path), mode=mode):
                    self.assertRegex(text, r"(?<![\w-])" + re.escape(mode) + r"(?![\w-])")


class ShellCompletion:
    """What every shell must complete; a subclass says how to ask its shell."""

    def complete(self, words):
        raise NotImplementedError

    def test_modes(self):
        self.assertEqual(self.complete(["ppool", "im"]), {"imap", "imap-unordered"})
        self.assertLessEqual(set(MODES), self.complete(["ppool", ""]))

    def test_options_of_each_mode_are_those_of_its_help(self):
        for mode in MODES:
            with self.subTest(mode=mode):
                offered = self.complete(["ppool", mode, "--"]) - {"--"}
                self.assertEqual(offered, set(parser_options(mode)))

    def test_long_option_prefix(self):
        self.assertEqual(self.complete(["ppool", "imap", "--jo"]), {"--joblog"})
        self.assertEqual(self.complete(["ppool", "imap", "--re"]),
                         {"--recend", "--recstart", "--remote-ppool", "--results", "--resume", "--retries", "--return"})
        self.assertIn("--timeout", self.complete(["ppool", "map", "-j", "4", "--ti"]))

    def test_fixed_values(self):
        self.assertEqual(self.complete(["ppool", "imap", "--format", ""]), {"text", "json"})
        self.assertEqual(self.progress_values(), {"auto", "always", "never"})

    def test_file_names(self):
        for option in ("-a", "--input", "--joblog", "--plugin"):
            with self.subTest(option=option):
                self.assertIn("CMakeLists.txt", self.complete(["ppool", "imap", option, "CMake"]))

    def test_task_names(self):
        for words in (["ppool", "imap", "-t", ""], ["ppool", "map", "--task", ""],
                      ["ppool", "imap", "--init-task", ""], ["ppool", "apply", "-t", ""]):
            with self.subTest(words=words):
                self.assertLessEqual(set(BUILTIN_TASKS), self.complete(words))
        self.assertEqual(self.complete(["ppool", "apply", "-t", "sha"]), {"sha256sum"})

    def test_no_options_inside_the_command(self):
        self.assertNotIn("--timeout", self.complete(["ppool", "imap", "--", "gzip", "--ti"]))
        self.assertNotIn("--timeout", self.complete(["ppool", "imap", "gzip", "--ti"]))


class Bash(ShellCompletion, unittest.TestCase):
    def complete(self, words):
        """COMPREPLY of _ppool with the cursor at the end of `words`."""
        script = (
            'source "$1"; shift\n'
            'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
            'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
            '_ppool\n'
            'printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        with BinaryPath() as env:
            result = run(["bash", "-c", script, "bash", BASH, *words], env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        return set(result.stdout.split())

    def progress_values(self):
        # bash splits "--progress=al" at COMP_WORDBREAKS' "=".
        self.assertEqual(self.complete(["ppool", "imap", "--progress", "=", "al"]), {"always"})
        return self.complete(["ppool", "imap", "--progress", "=", ""])

    def test_registers_ppool(self):
        result = run(["bash", "-c", 'source "$1"; complete -p ppool', "bash", BASH])
        self.assertEqual(result.stdout.strip(), "complete -F _ppool ppool")

    def test_value_after_equals(self):
        self.assertEqual(self.complete(["ppool", "imap", "--format", "=", "j"]), {"json"})
        self.assertEqual(self.complete(["ppool", "imap", "--format", "=", "json", "--ti"]), {"--timeout"})


class Fish(ShellCompletion, unittest.TestCase):
    def complete(self, words):
        fish = require("fish")
        with BinaryPath() as env:
            result = run([fish, "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]', FISH,
                          " ".join(words)], env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        return {row.split("\t")[0] for row in result.stdout.splitlines()}

    def progress_values(self):
        offered = self.complete(["ppool", "imap", "--progress="])
        return {value.removeprefix("--progress=") for value in offered}

    def test_syntax(self):
        result = run([require("fish"), "--no-execute", FISH])
        self.assertEqual((result.returncode, result.stderr), (0, ""))


class Zsh(ShellCompletion, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # compinit's cache, shared by the runs of this class.
        cls.cache = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.cache.cleanup()

    def complete(self, words):
        """The matches zsh's completion system adds for the line, cursor at its end."""
        zsh = require("zsh")
        dump = os.path.join(self.cache.name, "zcompdump")
        with BinaryPath() as env:
            result = run([zsh, "-f", ZSH_COMPLETE, os.path.dirname(ZSH), " ".join(words), dump], env=env,
                         timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return set(result.stdout.split())

    def progress_values(self):
        return self.complete(["ppool", "imap", "--progress="])

    def test_syntax(self):
        result = run([require("zsh"), "-n", ZSH])
        self.assertEqual((result.returncode, result.stdout + result.stderr), (0, ""))

    def test_compdef_and_arguments(self):
        text = read(ZSH)
        self.assertTrue(text.startswith("#compdef ppool\n"))
        self.assertIn("_arguments", text)


if __name__ == "__main__":
    unittest.main()
