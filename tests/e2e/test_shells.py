"""Shells and the environment (SPEC 3c): shell operators among the words of
a command, {:raw}, --shell with PPOOL_SHELL and PARALLEL_SHELL, exported
bash functions, --env and -q, each run side by side with Debian's `parallel`
where it has the form."""

import os
import shutil
import sys
import unittest

from harness import PARALLEL, PPOOL, E2ETestCase, gnu_parallel as parallel, run
BASH = shutil.which("bash")

# What `export -f shout` puts in the environment for
# shout() { echo "shout:$1" | tr a-z A-Z; }
SHOUT = {"BASH_FUNC_shout%%": '() {  echo "shout:$1" | tr a-z A-Z\n}'}


def environment(**extra):
    """This environment without a shell chosen for the tests, with `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("PPOOL_SHELL", "PARALLEL_SHELL")}
    env.update(extra)
    return env


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class OperatorTests(E2ETestCase):
    def test_operators_among_the_words_run_in_a_shell_as_gnu_parallel_runs_them(self):
        for words in (["echo", "{}", "|", "tr", "a-z", "A-Z"],
                      ["false", "{}", "||", "echo", "fallback", "{}"],
                      ["echo", "{}", "&&", "echo", "then", "{.}"],
                      ["echo", "{}", ";", "echo", "after"],
                      ["cat", "/nonexistent/{}", "2>&1", "|", "wc", "-l"]):
            with self.subTest(words=words):
                ours = run(["imap", "--"] + words + [":::", "ab.c", "cd"])
                theirs = parallel(["-k"] + words + [":::", "ab.c", "cd"])
                self.assertOk(ours)
                self.assertEqual(theirs.returncode, 0, theirs.stderr)
                self.assertEqual(ours.stdout, theirs.stdout)

    def test_a_redirection_writes_the_files_gnu_parallel_writes(self):
        for tool, command in (("ppool", [PPOOL, "imap", "--"]), ("gnu", [PARALLEL, "--will-cite"])):
            directory = self.path(tool)
            os.mkdir(directory)
            proc = run(command[1:] + ["echo", "{}", ">", "out_{}.txt", ";", "echo", "x", ">>out_{}.txt",
                                      ":::", "p1", "p 2"], binary=command[0], cwd=directory)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout, b"")
        for name in ("out_p1.txt", "out_p 2.txt"):
            with open(os.path.join(self.path("ppool"), name), "rb") as ours, \
                    open(os.path.join(self.path("gnu"), name), "rb") as theirs:
                self.assertEqual(ours.read(), theirs.read())
        self.assertEqual(sorted(os.listdir(self.path("ppool"))), sorted(os.listdir(self.path("gnu"))))

    def test_an_item_is_never_code_beside_an_operator(self):
        marker = self.path("pwned")
        proc = run(["imap", "--", "echo", "{}", ">", self.path("out"), ":::", f"$(touch {marker}); `touch {marker}`"])
        self.assertOk(proc)
        self.assertFalse(os.path.exists(marker))
        with open(self.path("out"), "rb") as f:
            self.assertEqual(f.read(), f"$(touch {marker}); `touch {marker}`\n".encode())

    def test_every_other_word_stays_the_word_it_was(self):
        # GNU parallel would expand $HOME and split "a  b": in ppool a word stays one word.
        proc = run(["imap", "--", "printf", "[%s]", "$HOME", "a  b", "{}", "|", "tr", "a-z", "A-Z", ":::", "x"])
        self.assertOk(proc, b"[$HOME][A  B][X]")

    def test_quote_passes_operators_as_arguments_as_gnu_parallel_does(self):
        ours = run(["imap", "-q", "--", "echo", "{}", ">", "x", "|", "y", ":::", "1"], cwd=self.tmp)
        theirs = parallel(["-q", "echo", "{}", ">", "x", "|", "y", ":::", "1"])
        self.assertOk(ours, b"1 > x | y\n")
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertFalse(os.path.exists(self.path("x")))

    def test_the_semicolon_of_find_exec_stays_finds(self):
        for name in ("a.txt", "b.txt"):
            self.write(name, "")
        proc = run(["imap", "--", "find", "{}", "-name", "*.txt", "-exec", "echo", "found", ";", ":::", self.tmp])
        self.assertOk(proc, b"found\nfound\n")

    def test_dry_run_shows_the_script(self):
        proc = run(["imap", "--dry-run", "--", "echo", "{}", ">", "out_{}.txt", ":::", "a b"])
        self.assertOk(proc, b"/bin/sh -c 'echo '\\''a b'\\'' > out_'\\''a b'\\''.txt'\n")


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class RawTests(E2ETestCase):
    def test_raw_puts_the_item_into_the_script_as_gnu_parallel_puts_every_item(self):
        ours = run(["imap", "echo $(( {:raw} * 10 ))", ":::", "3", "4 + 1"])
        theirs = parallel(["-k", "echo $(( {} * 10 ))", ":::", "3", "4 + 1"])
        # The item is code: 4 + 1 * 10. GNU parallel quotes "4 + 1" (and fails); {:raw} does not.
        self.assertOk(ours, b"30\n14\n")
        self.assertEqual(ours.stdout.splitlines()[0], theirs.stdout.splitlines()[0])

    def test_without_raw_the_item_stays_quoted(self):
        proc = run(["imap", "echo $(( {} * 10 ))", ":::", "3"])
        self.assertStatus(proc, 1)

    def test_raw_among_several_words_makes_that_word_shell_code(self):
        proc = run(["imap", "--", "echo", "$(( {:raw} * 2 ))", "{}", ":::", "21"])
        self.assertOk(proc, b"42 21\n")

    def test_raw_of_a_column(self):
        proc = run(["imap", "--colsep", ",", "echo {1} $(( {2:raw} ))"], input=b"a b,6*7\n")
        self.assertOk(proc, b"a b 42\n")


@unittest.skipUnless(BASH, "bash is not installed")
class ShellTests(E2ETestCase):
    SCRIPT = "echo $0 {}"

    def test_the_shell_comes_from_shell_then_ppool_shell_then_parallel_shell(self):
        cases = ((["--shell", BASH], {"PPOOL_SHELL": "/bin/sh", "PARALLEL_SHELL": "/bin/sh"}, BASH),
                 ([], {"PPOOL_SHELL": BASH, "PARALLEL_SHELL": "/bin/sh"}, BASH),
                 ([], {"PARALLEL_SHELL": BASH}, BASH),
                 ([], {}, "/bin/sh"))
        for options, extra, shell in cases:
            with self.subTest(options=options, extra=extra):
                proc = run(["imap"] + options + [self.SCRIPT, ":::", "x"], env=environment(**extra))
                self.assertOk(proc, f"{shell} x\n".encode())

    @unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
    def test_parallel_shell_runs_the_scripts_as_in_gnu_parallel(self):
        env = environment(PARALLEL_SHELL=BASH)
        ours = run(["imap", self.SCRIPT, ":::", "x", "y"], env=env)
        theirs = parallel(["-k", self.SCRIPT, ":::", "x", "y"], env=env)
        self.assertOk(ours)
        self.assertEqual(ours.stdout, theirs.stdout)

    def test_bash_syntax_needs_bash(self):
        script = "[[ {} == a* ]] && echo yes {}"
        self.assertStatus(run(["imap", script, ":::", "ab"], env=environment()), 1)
        self.assertOk(run(["imap", "--shell", "bash", script, ":::", "ab"], env=environment()), b"yes ab\n")

    def test_the_initializer_runs_in_the_chosen_shell(self):
        proc = run(["imap", "-j", "1", "--shell", BASH, "--initializer", "echo init $0 >&2", "true", ":::", "x"],
                   env=environment())
        self.assertOk(proc)
        self.assertIn(f"init {BASH}".encode(), proc.stderr)

    @unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
    def test_an_exported_bash_function_runs_as_in_gnu_parallel(self):
        env = environment(**SHOUT)
        for words in (["shout"], ["shout", "{}"], ["shout {} | rev"]):
            with self.subTest(words=words):
                ours = run(["imap", "--"] + words + [":::", "a", "b"], env=env)
                theirs = parallel(["-k", "--"] + words + [":::", "a", "b"], env=dict(env, PARALLEL_SHELL=BASH))
                self.assertOk(ours)
                self.assertEqual(ours.stdout, theirs.stdout)

    def test_a_missing_shell_fails_the_task_with_a_reason(self):
        proc = run(["imap", "--shell", self.path("no-shell"), self.SCRIPT, ":::", "x"], env=environment())
        self.assertStatus(proc, 1)
        self.assertIn(b"cannot run", proc.stderr)


class EnvTests(E2ETestCase):
    def bare_launcher(self):
        """Workers started with an empty environment, as a worker on another host
        has none of this one's."""
        return ["--launcher", f"env -i PATH=/usr/bin:/bin {PPOOL} worker --stdio"]

    def test_env_passes_a_variable_to_workers_that_lack_it(self):
        env = environment(PPOOL_TEST_VALUE="it's here")
        without = run(["imap"] + self.bare_launcher() + ["echo [$PPOOL_TEST_VALUE] {}", ":::", "x"], env=env)
        self.assertOk(without, b"[] x\n")
        passed = run(["imap"] + self.bare_launcher() + ["--env", "PPOOL_TEST_VALUE", "echo [$PPOOL_TEST_VALUE] {}",
                                                         ":::", "x"], env=env)
        self.assertOk(passed, b"[it's here] x\n")

    def test_env_replaces_the_workers_own_value(self):
        launcher = ["--launcher", f"env PPOOL_TEST_VALUE=theirs {PPOOL} worker --stdio"]
        proc = run(["imap"] + launcher + ["--env", "PPOOL_TEST_VALUE", "echo $PPOOL_TEST_VALUE", ":::", "x"],
                   env=environment(PPOOL_TEST_VALUE="ours"))
        self.assertOk(proc, b"ours x\n")

    def test_env_of_an_unset_name_passes_nothing_as_in_gnu_parallel(self):
        proc = run(["imap", "--env", "PPOOL_TEST_UNSET", "echo", ":::", "x"], env=environment())
        self.assertOk(proc, b"x\n")

    @unittest.skipUnless(BASH, "bash is not installed")
    def test_the_commands_exported_function_goes_along(self):
        proc = run(["imap"] + self.bare_launcher() + ["shout", ":::", "a"], env=environment(**SHOUT))
        self.assertOk(proc, b"SHOUT:A\n")

    @unittest.skipUnless(BASH, "bash is not installed")
    def test_env_passes_a_function_a_script_calls(self):
        args = ["imap", "--shell", "bash"] + self.bare_launcher()
        self.assertStatus(run(args + ["echo {} | { read x; shout $x; }", ":::", "a"], env=environment(**SHOUT)), 1)
        proc = run(args + ["--env", "shout", "echo {} | { read x; shout $x; }", ":::", "a"], env=environment(**SHOUT))
        self.assertOk(proc, b"SHOUT:A\n")

    def test_bad_names_and_shells_are_usage_errors(self):
        for args, message in ((["--env", "1X"], b"--env needs the name of a variable or bash function, not '1X'"),
                              (["--env", "A-B"], b"not 'A-B'"),
                              (["--env", ""], b"not ''"),
                              (["--shell", ""], b"--shell needs the path or name of a shell, not ''")):
            with self.subTest(args=args):
                proc = run(["imap"] + args + ["echo", ":::", "x"])
                self.assertStatus(proc, 2)
                self.assertEqual(proc.stderr.count(b"\n"), 1, proc.stderr)
                self.assertIn(message, proc.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:])
