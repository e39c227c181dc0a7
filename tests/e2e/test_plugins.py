"""Users' own tasks: plugins loaded with --plugin / PPOOL_PLUGIN_PATH, and a
program that embeds the command line with a task of its own."""

import json
import os
import unittest

from harness import E2ETestCase, lines, run


def _path(variable):
    path = os.environ.get(variable)
    if not path:
        raise SystemExit(f"test_plugins: the environment variable {variable} is not set (run it through ctest)")
    return path


PLUGIN = _path("PPOOL_EXAMPLE_PLUGIN")
BAD_VERSION = _path("PPOOL_BAD_VERSION_PLUGIN")
DUPLICATE = _path("PPOOL_DUPLICATE_PLUGIN")
EMBED = _path("PPOOL_EMBED_BIN")
PRINT = _path("PPOOL_PRINT_PLUGIN")
EXIT0 = _path("PPOOL_EXIT0_PLUGIN")
EXIT7 = _path("PPOOL_EXIT7_PLUGIN")
QUICK_EXIT = _path("PPOOL_QUICK_EXIT_PLUGIN")


class PluginTests(E2ETestCase):
    def test_plugin_task_runs_in_every_mode(self):
        for mode in ("map", "imap", "imap-unordered"):
            proc = run([mode, "-j", "2", "--plugin", PLUGIN, "--task", "csv_sum"], input=b"1,2,x,3.5\n10\n,\n")
            self.assertOk(proc)
            self.assertEqual(sorted(lines(proc.stdout)), sorted(["6.5", "10", "0"]), mode)

    def test_tasks_lists_what_a_plugin_adds(self):
        without = run(["tasks"])
        with_plugin = run(["tasks", "--plugin", PLUGIN])
        self.assertOk(with_plugin)
        names = {line.split()[0] for line in lines(with_plugin.stdout)}
        self.assertTrue({"csv_sum", "load_prices", "price", "len"} <= names)
        self.assertNotIn(b"csv_sum", without.stdout)

    def test_initializer_from_a_plugin_loads_once_per_worker(self):
        table = self.write("prices.csv", "apple,1.25\npear,0.5\n")
        proc = run(["imap", "-j", "2", "--plugin", PLUGIN, "--init-task", "load_prices", "--initargs", table,
                    "--task", "price"], input=b"apple\npear\napple\n")
        self.assertOk(proc, "1.25\n0.5\n1.25\n")
        missing = run(["imap", "--plugin", PLUGIN, "--init-task", "load_prices", "--initargs", table,
                       "--task", "price"], input=b"kiwi\n")
        self.assertStatus(missing, 1)
        self.assertIn(b"no price for 'kiwi'", missing.stderr)
        broken = run(["imap", "--plugin", PLUGIN, "--init-task", "load_prices", "--initargs",
                      self.path("nope.csv"), "--task", "price"], input=b"apple\n")
        self.assertStatus(broken, 2)
        self.assertIn(b"initializer failed", broken.stderr)

    def test_plugin_path_environment(self):
        # Empty entries of the colon-separated list are skipped.
        env = dict(os.environ, PPOOL_PLUGIN_PATH=":" + PLUGIN + "::")
        proc = run(["imap", "--task", "csv_sum"], input=b"1,1\n", env=env)
        self.assertOk(proc, "2\n")
        # Named twice (environment and option): loaded once, not a duplicate.
        proc = run(["imap", "--plugin", PLUGIN, "--task", "csv_sum"], input=b"1,1\n", env=env)
        self.assertOk(proc, "2\n")

    def test_bad_plugins_are_one_line_usage_errors(self):
        cases = [
            ([self.path("missing.so")], "cannot load plugin"),
            (["/bin/sh"], "cannot load plugin"),
            ([BAD_VERSION], "plugin interface version 999"),
            ([DUPLICATE], "'len' is registered twice"),
        ]
        for plugins, message in cases:
            args = ["tasks"]
            for plugin in plugins:
                args += ["--plugin", plugin]
            with self.subTest(plugins=plugins):
                self.assertUsageError(run(args), message)
        env = dict(os.environ, PPOOL_PLUGIN_PATH=BAD_VERSION)
        self.assertUsageError(run(["imap", "--task", "len"], input=b"x\n", env=env), "version 999")

    def test_a_shared_library_that_is_not_a_plugin(self):
        libc = next((p for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
                                 "/lib/x86_64-linux-gnu/libm.so.6") if os.path.exists(p)), None)
        if libc is None:
            self.fail("no system shared library found to try")
        self.assertUsageError(run(["tasks", "--plugin", libc]), "is not a ppool plugin")


class LoadTimeTests(E2ETestCase):
    """A plugin's load-time code runs inside ppool: it never ends ppool without
    a word and never writes into ppool's stdout, whichever way it is loaded."""

    LOAD_PRINTS = [f"{how} {when}" for when in ("at dlopen", "while registering")
                   for how in ("printf", "cout", "write")]

    def loaded_three_ways(self, plugin, args, input=b""):
        """(how, CompletedProcess) for --plugin, PPOOL_PLUGIN_PATH and `ppool tasks --plugin`."""
        env = dict(os.environ, PPOOL_PLUGIN_PATH=plugin)
        yield "--plugin", run(args[:1] + ["--plugin", plugin] + args[1:], input=input)
        yield "PPOOL_PLUGIN_PATH", run(args, input=input, env=env)
        yield "tasks --plugin", run(["tasks", "--plugin", plugin])

    def test_exit_while_loading_is_a_usage_error(self):
        # Static constructor (exit7) or PPOOL_PLUGIN's body (exit0, quick_exit).
        for plugin, call in ((EXIT0, "exit(0)"), (EXIT7, "exit(7)"), (QUICK_EXIT, "quick_exit()")):
            for how, proc in self.loaded_three_ways(plugin, ["map", "--json", "--task", "len"], b"x\n"):
                with self.subTest(call=call, loaded=how):
                    self.assertUsageError(proc, f"plugin '{plugin}' called {call} while loading")

    def test_prints_while_loading_go_to_stderr(self):
        for how, proc in self.loaded_three_ways(PRINT, ["map", "--json", "--task", "len"], b"a\nbb\n"):
            with self.subTest(loaded=how):
                self.assertOk(proc)
                self.assertLessEqual(set(self.LOAD_PRINTS), set(lines(proc.stderr)), proc.stderr)
                if how == "tasks --plugin":
                    self.assertIn("noisy", [line.split()[0] for line in lines(proc.stdout)])
                    self.assertNotIn(b" at dlopen", proc.stdout)
                    continue
                records = json.loads(proc.stdout)
                self.assertEqual([r["output"] for r in records], ["1", "2"])

    def test_prints_of_a_task_go_to_stderr(self):
        # Workers point descriptor 1 at stderr, and flush C stdio with their results.
        proc = run(["map", "--json", "-j", "2", "--plugin", PRINT, "--task", "noisy"], input=b"a\nbb\n")
        self.assertOk(proc)
        self.assertEqual([r["output"] for r in json.loads(proc.stdout)], ["1", "2"])
        proc = run(["imap", "--plugin", PRINT, "--task", "noisy"], input=b"a\nbb\n")
        self.assertOk(proc, "1\n2\n")
        for how in ("printf", "cout", "write"):
            self.assertEqual(lines(proc.stderr).count(f"{how} in a task"), 2, proc.stderr)


class EmbedTests(E2ETestCase):
    def test_embedding_program_has_the_whole_cli_and_its_task(self):
        proc = run(["imap", "-j", "2", "--task", "double"], input=b"1\n2\n21\n", binary=EMBED)
        self.assertOk(proc, "2\n4\n42\n")
        listed = run(["tasks"], binary=EMBED)
        self.assertIn(b"double", listed.stdout)
        self.assertUsageError(run(["imap", "--task", "tripple"], input=b"1\n", binary=EMBED), "unknown task")

    def test_a_typed_task_takes_and_gives_text(self):
        proc = run(["imap", "-j", "2", "--task", "square"], input=b"1\n-3\n12\n", binary=EMBED)
        self.assertOk(proc, "1\n9\n144\n")
        proc = run(["map", "--json", "--task", "square"], input=b"4\n", binary=EMBED)
        self.assertOk(proc)
        self.assertEqual([r["output"] for r in json.loads(proc.stdout)], ["16"])
        # An item that is not an integer fails alone, saying why.
        proc = run(["imap", "--task", "square"], input=b"2\nx2\n3\n", binary=EMBED)
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"4\n9\n")
        self.assertIn(b"cannot decode the argument of task 'square': expected an integer from "
                      b"-9223372036854775808 to 9223372036854775807, found 'x2'", proc.stderr)


if __name__ == "__main__":
    unittest.main()
