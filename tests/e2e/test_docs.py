#!/usr/bin/env python3
"""Checks the man page and the shell completions against docs/cli-contract.md.

Needs mandoc, groff, zsh and fish (Debian: apt-get install -y mandoc groff zsh
fish); a missing tool fails its test rather than skipping it. The task-name
completions run against a stub `ppool` that prints the contract's `ppool tasks`
format, and also against the real binary when PPOOL_BIN names it.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACT = os.path.join(ROOT, "docs", "cli-contract.md")
MAN_PAGE = os.path.join(ROOT, "man", "ppool.1")
BASH = os.path.join(ROOT, "completions", "ppool.bash")
ZSH = os.path.join(ROOT, "completions", "_ppool")
FISH = os.path.join(ROOT, "completions", "ppool.fish")
COMPLETIONS = (BASH, ZSH, FISH)

MODES = ("map", "imap", "imap-unordered", "unordered", "apply", "tasks")
BUILTIN_TASKS = ("identity", "len", "upper", "lower", "sleep", "wc", "sha256sum")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def contract_long_options():
    """The long options of the contract's "Options (all pool modes):" list."""
    text = read(CONTRACT)
    block = re.search(r"^Options \(all pool modes\):\n((?:[ \t]+\S.*\n)+)", text, re.M)
    if not block:
        raise AssertionError("no 'Options (all pool modes):' list in docs/cli-contract.md")
    options = []
    for line in block.group(1).splitlines():
        # The option names come first on a line, the meaning after two spaces.
        names = re.split(r"\s{2,}", line.strip())[0]
        options += re.findall(r"--[a-z][a-z0-9-]*", names)
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


def run(argv, env=None):
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


class TaskPath:
    """A PATH on which `ppool` is a stub printing the contract's `ppool tasks`
    lines, or the binary named by PPOOL_BIN."""

    STUB = (
        "#!/bin/sh\n"
        "[ \"$1\" = tasks ] || exit 2\n"
        + "".join(f"printf '%s\\n' '{t:<10} the {t} task'\n" for t in BUILTIN_TASKS)
    )

    def __init__(self, binary=None):
        self.binary = binary

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        target = os.path.join(self.dir.name, "ppool")
        if self.binary:
            os.symlink(os.path.abspath(self.binary), target)
        else:
            with open(target, "w") as f:
                f.write(self.STUB)
            os.chmod(target, os.stat(target).st_mode | stat.S_IXUSR)
        env = dict(os.environ)
        env["PATH"] = self.dir.name + os.pathsep + env.get("PATH", "")
        return env

    def __exit__(self, *exc):
        self.dir.cleanup()


def task_paths():
    """The stub always; the real binary too when PPOOL_BIN is set."""
    paths = [("stub", TaskPath())]
    binary = os.environ.get("PPOOL_BIN")
    if binary:
        paths.append(("PPOOL_BIN", TaskPath(binary)))
    return paths


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
                     "REPLACEMENT STRINGS", "OUTPUT", "EXIT STATUS", "ENVIRONMENT",
                     "SIGNALS AND CLEAN-UP", "EXAMPLES", "SEE ALSO"):
            with self.subTest(section=name):
                man_section(name)

    def test_every_contract_option_is_documented(self):
        options = man_section("OPTIONS")
        for option in contract_long_options():
            with self.subTest(option=option):
                self.assertRegex(options, r"(?m)^\.[A-Z]+ .*" + re.escape(option) + r"\b")

    def test_documents_only_contract_options(self):
        allowed = set(contract_long_options()) | {"--help", "--version"}
        tagged = re.findall(r"(?m)^\.TP\n\.[BI]+ .*?(--[a-z][a-z0-9-]*)", man_section("OPTIONS"))
        self.assertTrue(tagged)
        self.assertLessEqual(set(tagged), allowed)

    def test_modes_tasks_replacements_and_keys(self):
        text = man_text()
        words = (MODES + BUILTIN_TASKS
                 + ("{}", "{.}", "{/}", "{//}", "{/.}", "{#}", "{%}")
                 + ("seq", "input", "ok", "status", "output", "stderr", "exit_code", "signal",
                    "timed_out", "error", "duration_s", "worker", "_base64")
                 + ("failed", "timeout", "worker_lost")
                 + ("PPOOL_WORKER", "PPOOL_SEQ", "xargs", "parallel", "sh"))
        for word in words:
            with self.subTest(word=word):
                self.assertIn(word, text)

    def test_examples(self):
        examples = man_section("EXAMPLES")
        self.assertIn("ppool map", examples)
        self.assertIn("jq ", examples)
        self.assertRegex(examples, r"(?m)^\t.*ppool map")  # a Makefile recipe line


class CompletionFiles(unittest.TestCase):
    def test_every_contract_option_is_completed(self):
        for path in COMPLETIONS:
            text = read(path)
            for option in contract_long_options():
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


class Bash(unittest.TestCase):
    def complete(self, *words, env=None):
        """COMPREPLY of _ppool with the cursor at the end of `words`."""
        script = (
            'source "$1"; shift\n'
            'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
            'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
            '_ppool\n'
            'printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        result = run(["bash", "-c", script, "bash", BASH, *words], env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        return set(result.stdout.split())

    def test_registers_ppool(self):
        result = run(["bash", "-c", 'source "$1"; complete -p ppool', "bash", BASH])
        self.assertEqual(result.stdout.strip(), "complete -F _ppool ppool")

    def test_modes(self):
        self.assertLessEqual({"imap", "imap-unordered"}, self.complete("ppool", "im"))
        self.assertEqual(self.complete("ppool", ""), set(MODES) | {"--help", "--version"})

    def test_options_after_mode(self):
        self.assertEqual(self.complete("ppool", "imap", "--for"), {"--format"})
        self.assertIn("--timeout", self.complete("ppool", "map", "-j", "4", "--ti"))

    def test_option_values(self):
        self.assertEqual(self.complete("ppool", "imap", "--format", ""), {"text", "json"})
        self.assertEqual(self.complete("ppool", "imap", "--format", "=", "j"), {"json"})
        self.assertIn("CMakeLists.txt", self.complete("ppool", "imap", "-a", "CMake"))
        self.assertIn("CMakeLists.txt", self.complete("ppool", "imap", "--input", "CMake"))

    def test_no_options_inside_the_command(self):
        self.assertNotIn("--timeout", self.complete("ppool", "imap", "--", "gzip", "--ti"))
        self.assertNotIn("--timeout", self.complete("ppool", "imap", "gzip", "--ti"))

    def test_task_names(self):
        for name, path in task_paths():
            with path as env:
                for words in (("ppool", "imap", "-t", ""), ("ppool", "map", "--task", ""),
                              ("ppool", "imap", "--init-task", "")):
                    with self.subTest(ppool=name, words=words):
                        self.assertLessEqual(set(BUILTIN_TASKS), self.complete(*words, env=env))
                with self.subTest(ppool=name, words="-t sha"):
                    self.assertEqual(self.complete("ppool", "apply", "-t", "sha", env=env), {"sha256sum"})


class Fish(unittest.TestCase):
    def complete(self, line, env=None):
        fish = require("fish")
        result = run([fish, "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]', FISH, line],
                     env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        return {row.split("\t")[0] for row in result.stdout.splitlines()}

    def test_syntax(self):
        result = run([require("fish"), "--no-execute", FISH])
        self.assertEqual((result.returncode, result.stderr), (0, ""))

    def test_modes(self):
        self.assertEqual(self.complete("ppool im"), {"imap", "imap-unordered"})

    def test_options(self):
        self.assertIn("--timeout", self.complete("ppool imap --ti"))
        self.assertEqual(self.complete("ppool imap --format "), {"text", "json"})
        self.assertNotIn("--timeout", self.complete("ppool imap gzip --ti"))

    def test_task_names(self):
        for name, path in task_paths():
            with path as env, self.subTest(ppool=name):
                self.assertLessEqual(set(BUILTIN_TASKS), self.complete("ppool imap -t ", env=env))
                self.assertLessEqual(set(BUILTIN_TASKS), self.complete("ppool map --init-task ", env=env))


class Zsh(unittest.TestCase):
    def test_syntax(self):
        result = run([require("zsh"), "-n", ZSH])
        self.assertEqual((result.returncode, result.stdout + result.stderr), (0, ""))

    def test_compdef_and_arguments(self):
        text = read(ZSH)
        self.assertTrue(text.startswith("#compdef ppool\n"))
        self.assertIn("_arguments", text)

    def test_every_mode_is_described(self):
        text = read(ZSH)
        for mode in MODES:
            with self.subTest(mode=mode):
                self.assertRegex(text, r"(?m)^\s*'" + re.escape(mode) + ":")


if __name__ == "__main__":
    unittest.main()
