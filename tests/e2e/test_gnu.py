"""GNU parallel's and xargs' forms (SPEC 3c), each run side by side with
Debian's `parallel` (or `xargs`) on the same input, outputs compared: input
sources, per-source replacement strings, several items per command, columns,
--pipe at scale."""

import gzip
import json
import os
import re
import shutil
import subprocess
import unittest

from harness import E2ETestCase, json_lines, run

PARALLEL = shutil.which("parallel")


def gnu(args, input=b"", home=None, env=None):
    """GNU parallel, in input order (-k), with `args`."""
    environment = dict(os.environ, HOME=home or os.environ.get("HOME", "/tmp"), **(env or {}))
    proc = subprocess.run([PARALLEL, "--will-cite", "-k"] + [os.fspath(a) for a in args],
                          input=input, capture_output=True, timeout=120, env=environment)
    return proc


@unittest.skipUnless(PARALLEL, "GNU parallel is not installed (Debian: parallel)")
class GnuTestCase(E2ETestCase):
    def same(self, args, input=b"", ppool_args=None, gnu_args=None, mode="imap"):
        """Runs `args` with ppool (in input order) and with GNU parallel -k;
        both succeed with the same stdout, which is returned."""
        theirs = gnu(gnu_args if gnu_args is not None else args, input=input, home=self.tmp)
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        ours = run([mode] + (ppool_args if ppool_args is not None else args), input=input)
        self.assertOk(ours, theirs.stdout)
        self.assertNotEqual(ours.stdout, b"", "a comparison of nothing")
        return ours.stdout


class InputSourceTests(GnuTestCase):
    def test_two_sources_make_every_pair(self):
        out = self.same(["echo", ":::", "a", "b", ":::", "1", "2"])
        self.assertEqual(out, b"a 1\na 2\nb 1\nb 2\n")

    def test_three_sources(self):
        self.same(["echo", ":::", "a", "b", ":::", "1", "2", ":::", "x", "y"])

    def test_linked_source_pairs_by_position(self):
        out = self.same(["echo", ":::", "a", "b", "c", ":::+", "1", "2"])
        self.assertEqual(out, b"a 1\nb 2\n")
        self.same(["echo", ":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"])

    def test_link_wraps_the_shorter_sources(self):
        out = self.same(["--link", "echo", ":::", "a", "b", "c", ":::", "1", "2"])
        self.assertEqual(out, b"a 1\nb 2\nc 1\n")

    def test_file_sources(self):
        f1 = self.write("f1", "a\nb\n")
        f2 = self.write("f2", "1\n2\n3\n")
        f3 = self.write("f3", "x\ny\n")
        self.same(["echo", "::::", f1, f2])
        out = self.same(["echo", "::::", f1, "::::+", f2, f3])
        self.assertEqual(out, b"a 1 x\nb 2 y\n")
        self.same(["echo", ":::", "p", "q", "::::", f1])

    def test_repeated_input_files_are_sources(self):
        f1 = self.write("f1", "a\nb\n")
        f3 = self.write("f3", "x\ny\n")
        self.same(["-a", f1, "-a", f3, "echo"])
        self.same(["-a", f1, "echo", ":::", "z"])

    def test_stdin_as_a_source(self):
        self.same(["echo", "::::", "-", ":::", "x", "y"], input=b"1\n2\n")
        self.same(["-a", "-", "echo", ":::", "x"], input=b"1\n2\n")

    def test_per_source_replacement_strings(self):
        f = self.write("f", "e/f.g\n/top.x\n")
        out = self.same(["echo", "{1.}", "{1/}", "{2//}", "{2/.}", "{2}", "{1}", ":::", "d/a.x", "b", "::::", f])
        self.assertIn(b"d/a a.x e f e/f.g d/a.x\n", out)

    def test_all_sources_are_separate_words(self):
        args = ["printf", "<%s>", "x{}y", ":::", "a", "b c", ":::", "1"]
        out = self.same(args, gnu_args=["-q"] + args)
        self.assertEqual(out, b"<xa><1y><xb c><1y>")

    def test_shell_command_quotes_each_source(self):
        self.same(["echo {2}-{1}; echo {}", ":::", "a b", "$(id)", ":::", "1;2", "'q'"])

    def test_tag(self):
        self.same(["--tag", "echo", ":::", "a", "b", ":::", "1"])

    def test_markers_are_never_items_or_arguments(self):
        proc = run(["imap", "echo", ":::", "a", "b", ":::+", "1", "2"], input=None)
        self.assertOk(proc, "a 1\nb 2\n")
        f = self.write("f", "a\nb\n")
        proc = run(["imap", "echo", "::::", f], input=b"X\n")
        self.assertOk(proc, "a\nb\n")
        proc = run(["imap", "--dry-run", "echo", ":::", "a", "::::+", f], input=None)
        self.assertOk(proc, "echo a a\n")


class InputSourceOutputTests(E2ETestCase):
    def test_json_input_is_the_list_of_arguments(self):
        proc = run(["imap", "--json", "echo", ":::", "a", "b", ":::", "1"], input=None)
        self.assertOk(proc)
        records = json_lines(proc.stdout)
        self.assertEqual([r["input"] for r in records], [["a", "1"], ["b", "1"]])
        self.assertEqual([r["output"] for r in records], ["a 1\n", "b 1\n"])

    def test_json_input_not_utf8(self):
        f = self.write("f", b"\xff\n")
        proc = run(["imap", "--json", "echo", "::::", f, ":::", "1"], input=None)
        self.assertOk(proc)
        record = json_lines(proc.stdout)[0]
        self.assertIsNone(record["input"])
        self.assertEqual(record["input_base64"], ["/w==", "MQ=="])

    def test_registered_task_gets_the_arguments_joined(self):
        self.assertOk(run(["imap", "-t", "upper", ":::", "a", "b", ":::", "x"], input=None), "A X\nB X\n")

    def test_joblog_shows_the_arguments_and_resume_skips_them(self):
        log = self.path("log")
        self.assertOk(run(["imap", "--joblog", log, "echo", ":::", "a", ":::", "1", "2"], input=None))
        with open(log) as f:
            rows = [line.split("\t") for line in f.read().splitlines()[1:]]
        self.assertEqual(sorted(r[9] for r in rows), ["a 1", "a 2"])
        proc = run(["imap", "--joblog", log, "--resume", "echo", ":::", "a", "b", ":::", "1", "2"], input=None)
        self.assertOk(proc, "b 1\nb 2\n")

    def test_failure_line_names_the_arguments(self):
        proc = run(["imap", "sh", "-c", "exit 3", ":::", "a", ":::", "1"], input=None)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b"(a 1) failed", proc.stderr)

    def test_map_mode(self):
        self.assertOk(run(["map", "-j", "2", "echo", ":::", "a", "b", ":::", "1", "2"], input=None),
                      "a 1\na 2\nb 1\nb 2\n")

    def test_empty_source_is_no_work(self):
        self.assertOk(run(["imap", "echo", ":::", "a", ":::"], input=None), "")

    def test_mistakes(self):
        self.assertUsageError(run(["imap", "echo", ":::+", "a"], input=None), ":::+")
        self.assertUsageError(run(["imap", "echo", "::::"], input=None), "::::")
        self.assertUsageError(run(["imap", "echo", "::::", self.path("missing")], input=None), "missing")
        self.assertUsageError(run(["apply", "echo", ":::", "a"], input=None), ":::")
        self.assertUsageError(run(["imap", "--pipe", "wc", ":::", "a", ":::", "b"], input=None), "--pipe")


class ArgumentsPerCommandTests(GnuTestCase):
    def test_max_replace_args(self):
        out = self.same(["-N2", "echo", "{1}:{2}", ":::", "a", "b", "c"])
        self.assertEqual(out, b"a:b\nc:\n")
        self.same(["-N", "3", "echo", "{3}", "{1}", ":::", "a", "b", "c", "d", "e", "f"])

    def test_max_args_appends(self):
        out = self.same(["-n2", "echo", ":::", "a", "b", "c"])
        self.assertEqual(out, b"a b\nc\n")
        self.same(["--max-args", "2", "echo", "x"], input=b"1\n2\n3\n4\n5\n")

    def test_context_replace(self):
        out = self.same(["-X", "echo", "x{}y"], input=b"a\nb\nc\n", gnu_args=["-j1", "-X", "echo", "x{}y"])
        self.assertEqual(out, b"xay xby xcy\n")

    def test_multiple_arguments(self):
        out = self.same(["-m", "echo", "x{}y"], input=b"a\nb\nc\n", gnu_args=["-j1", "-m", "echo", "x{}y"])
        self.assertEqual(out, b"xa b cy\n")
        self.same(["-m", "printf", "<%s>", "x{}y"], input=b"a\nb\nc\n",
                  gnu_args=["-j1", "-q", "-m", "printf", "<%s>", "x{}y"])

    def test_replace_string(self):
        out = self.same(["-I", "@@", "echo", "{}", "@@", "{.}", ":::", "a.x"])
        self.assertEqual(out, b"{} a.x a\n")

    def test_one_result_per_command(self):
        proc = run(["imap", "--json", "-N2", "echo", ":::", "a", "b", "c"], input=None)
        self.assertOk(proc)
        records = json_lines(proc.stdout)
        self.assertEqual([r["input"] for r in records], [["a", "b"], ["c"]])
        self.assertEqual([r["seq"] for r in records], [1, 2])

    def test_with_several_sources(self):
        self.same(["-N2", "echo", "{4}-{1}", ":::", "a", "b", ":::", "1", "2"])


class ColumnTests(GnuTestCase):
    def test_colsep(self):
        out = self.same(["--colsep", "\\t", "echo", "{3}-{1}"], input=b"a\tb\tc\n1\t2\t3\n")
        self.assertEqual(out, b"c-a\n3-1\n")
        self.same(["-C", " +", "echo", "{2}{3}"], input=b"a  b   c\nd e f\n")
        self.same(["--colsep", ",", "echo", ":::", "a,b", "c,d", ":::", "x,y"])

    def test_header_names_the_columns(self):
        out = self.same(["--header", ":", "--colsep", ",", "echo", "{y}{x}"], input=b"x,y\n1,2\n3,4\n")
        self.assertEqual(out, b"21\n43\n")
        self.same(["--header", ":", "echo", "{f}-{g}", ":::", "f", "a", "b", ":::", "g", "1", "2"])
        self.same(["--header", ".*\\n", "--colsep", " ", "echo", "{h2}"], input=b"h1 h2\na b\n")

    def test_csv(self):
        data = b'n,v\n"x, y",2\n"multi\nline",3\n'
        out = self.same(["--csv", "--header", ":", "echo", "{v}", "{n}"], input=data)
        self.assertEqual(out, b"2 x, y\n3 multi\nline\n")
        record = b'a,"b ""q"" c", d \n'
        args = ["printf", "<%s>", "{1}", "{2}", "{3}"]
        out = self.same(["--csv"] + args, input=record, gnu_args=["--csv", "-q"] + args)
        self.assertEqual(out, b'<a><b "q" c>< d >')
        self.same(["--csv", "--colsep", ";", "echo", "{2}"], input=b'a;"b;c"\n')

    def test_columns_in_json(self):
        proc = run(["imap", "--json", "--csv", "echo"], input=b'a,"b,c"\n')
        self.assertOk(proc)
        record = json_lines(proc.stdout)[0]
        self.assertEqual(record["input"], ["a", "b,c"])
        self.assertEqual(record["output"], "a b,c\n")

    def test_mistakes(self):
        self.assertUsageError(run(["imap", "--csv", "echo"], input=b'"a\n'), "CSV")
        self.assertUsageError(run(["imap", "--colsep", "(", "echo"], input=b"a\n"), "--colsep")
        self.assertUsageError(run(["imap", "--csv", "--colsep", "ab", "echo"], input=b"a\n"), "--colsep")
        self.assertUsageError(run(["imap", "--header", "x", "echo"], input=b"a\n"), "--header")


def fasta(records=200):
    """Multi-line records, each starting with '>', of varied lengths."""
    lines = []
    for i in range(records):
        lines.append(f">seq{i}")
        for j in range(1 + (i * 7) % 4):
            lines.append("ACGT" * (1 + (i * 13 + j * 5) % 8))
    return ("\n".join(lines) + "\n").encode()


class PipeTests(GnuTestCase):
    """--pipe at scale: chunks by size and by records, and --pipepart."""

    def test_block_sizes_with_gnu_suffixes(self):
        numbers = "".join(f"{i}\n" for i in range(1, 100001)).encode()
        for size in ["64k", "64K", "1m"]:
            with self.subTest(size=size):
                self.same(["--pipe", "--block", size, "wc", "-c"], input=numbers)
        self.same(["--pipe", "--block", "1.5k", "wc", "-c"], input=numbers[:20000])

    def test_small_blocks_cut_at_item_boundaries(self):
        numbers = "".join(f"{i}\n" for i in range(1, 301)).encode()
        out = self.same(["--pipe", "--block", "10", "wc", "-c"], input=numbers)
        self.assertEqual(out.split(b"\n")[:3], [b"10", b"8", b"9"])

    def test_recstart(self):
        data = fasta()
        for size in ["1k", "333"]:
            with self.subTest(size=size):
                self.same(["--pipe", "--recstart", ">", "--block", size, "wc -c; head -c 5"], input=data)
        # The last block, full, is cut as any other.
        out = self.same(["--pipe", "--recstart", ">", "--block", "8", "cat; echo =="], input=b">a\n1\n>b\n2\n>c\n")
        self.assertEqual(out, b">a\n1\n==\n>b\n2\n==\n>c\n==\n")

    def test_recend(self):
        out = self.same(["--pipe", "--recend", ";", "--block", "3", "cat; echo =="], input=b"a;b;c;")
        self.assertEqual(out, b"a;==\nb;==\nc;==\n")
        self.same(["--pipe", "--recstart", ">", "--recend", "", "--block", "1k", "wc", "-c"], input=fasta())

    def test_pipepart(self):
        path = self.write("fasta", fasta())
        for size in ["1k", "100", "333", "10k"]:
            with self.subTest(size=size):
                self.same(["-a", path, "--pipepart", "--block", size, "wc", "-c"])
        self.same(["-a", path, "--pipepart", "--recstart", ">", "--block", "500", "wc -c; head -c 4"])

    def test_pipepart_hands_out_offsets(self):
        path = self.write("lines", "a\nbb\nccc\n")
        proc = run(["imap", "--json", "-a", path, "--pipepart", "--block", "3", "cat"], input=None)
        self.assertOk(proc)
        records = json_lines(proc.stdout)
        self.assertEqual([r["input"] for r in records], ["0 5", "5 4"])
        self.assertEqual("".join(r["output"] for r in records), "a\nbb\nccc\n")

    def test_mistakes(self):
        path = self.write("f", "a\n")
        self.assertUsageError(run(["imap", "--pipepart", "cat"], input=None), "--pipepart")
        self.assertUsageError(run(["imap", "--pipepart", "-a", "-", "cat"], input=None), "--pipepart")
        self.assertUsageError(run(["imap", "--pipepart", "-a", self.tmp, "cat"], input=None))
        self.assertUsageError(run(["imap", "--block", "1k", "cat"], input=None), "--pipe")
        self.assertUsageError(run(["imap", "--pipe", "--block", "1x", "cat"], input=None), "--block")
        self.assertUsageError(run(["imap", "--pipe", "--recend", "", "cat"], input=None), "--recend")
        self.assertUsageError(run(["imap", "--pipepart", "-a", path, "-S", "host", "cat"], input=None), "-S")


class XargsTests(E2ETestCase):
    """xargs' forms, compared with xargs itself."""

    def xargs(self, args, input):
        proc = subprocess.run(["xargs"] + args, input=input, capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_max_chars_fills_lines_as_xargs_does(self):
        items = "".join(f"{i}\n" for i in range(1, 2000)).encode()
        for limit in ["30", "100", "4096"]:
            with self.subTest(limit=limit):
                theirs = self.xargs(["-s", limit, "echo", "x"], items)
                self.assertOk(run(["imap", "-m", "-s", limit, "echo", "x"], input=items), theirs)
                self.assertOk(run(["imap", "-m", "--max-chars", limit, "echo", "x"], input=items), theirs)

    def test_default_limit_fits_one_command_line(self):
        items = "".join(f"{'x' * 50} {i}\n" for i in range(20000)).encode()
        proc = run(["imap", "--json", "-X", "echo"], input=items)
        self.assertOk(proc)
        records = json_lines(proc.stdout)
        self.assertGreater(len(records), 1)
        self.assertEqual(sum(len(r["input"]) for r in records), 20000)
        for r in records:
            self.assertLessEqual(sum(len(a) + 1 for a in r["input"]), 128 * 1024)

    def test_n_as_xargs(self):
        items = b"1\n2\n3\n4\n"
        self.assertOk(run(["imap", "-n", "3", "echo"], input=items), self.xargs(["-n", "3", "echo"], items))

    def test_replace_string_as_xargs(self):
        items = b"a\nb c\n"
        self.assertOk(run(["imap", "-I", "%", "echo", "[%]", "{}"], input=items),
                      self.xargs(["-I", "%", "echo", "[%]", "{}"], items))

    def test_mistakes(self):
        self.assertUsageError(run(["imap", "-N", "0", "echo"], input=None), "-N")
        self.assertUsageError(run(["imap", "-N", "2", "-X", "echo"], input=None), "-X")
        self.assertUsageError(run(["imap", "-s", "10", "echo"], input=None), "--max-chars")
        self.assertUsageError(run(["imap", "-I", "", "echo"], input=None), "-I")
        self.assertUsageError(run(["imap", "-N", "2", "-t", "len"], input=None), "--task")


MAN_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "man", "ppool.1")


def man_options(page, pattern):
    """The options a system man page documents, from its roff source."""
    for directory in ("/usr/share/man/man1", "/usr/local/share/man/man1"):
        path = os.path.join(directory, page + ".1.gz")
        if os.path.exists(path):
            with gzip.open(path, "rt", errors="replace") as f:
                text = f.read()
            return {m.replace("\\", "").strip('"') for m in re.findall(pattern, text, re.M)}
    return None


class UsersSectionTests(unittest.TestCase):
    """The man page's section for GNU parallel and xargs users names every
    option of both, with ppool's way or "not supported"."""

    def section(self):
        with open(MAN_PAGE) as f:
            text = f.read()
        match = re.search(r"^\.SH FOR GNU PARALLEL AND XARGS USERS\n(.*?)(?=^\.SH )", text, re.M | re.S)
        self.assertIsNotNone(match, "no FOR GNU PARALLEL AND XARGS USERS section")
        return match.group(1).replace("\\%", "").replace("\\-", "-")

    def check(self, options):
        words = set(re.findall(r"[-:{][^\s,;()\\\"]*", self.section()))
        missing = sorted(o for o in options if o not in words)
        self.assertEqual(missing, [])

    def test_every_gnu_parallel_option(self):
        options = man_options("parallel", r'^\.IP "\\fB(\\-[^\\]*(?:\\-[^\\]*)*)')
        if options is None:
            self.skipTest("GNU parallel's man page is not installed")
        self.assertGreater(len(options), 150)
        self.check(options | {":::", ":::+", "::::", "::::+"})

    def test_every_xargs_option(self):
        options = man_options("xargs", r'^\.B[IR]* "?((?:\\-)+[A-Za-z0-9](?:[A-Za-z0-9-]|\\+-)*)')
        if options is None:
            self.skipTest("xargs' man page is not installed")
        self.check({o for o in options if o not in ("-execdir", "-print0")})


class HintTests(E2ETestCase):
    """A GNU parallel or xargs spelling that ppool does not take names the ppool way."""

    def test_hints(self):
        for args, hint in [(["-P", "4"], "-j N"), (["--jobs", "4"], "-j N"), (["-k"], "ppool imap"),
                           (["-L", "2"], "-N N"), (["--keep-order"], "ppool imap"), (["--tf", "x"], "--transferfile"),
                           (["--xapply"], "--link")]:
            with self.subTest(args=args):
                proc = run(["imap"] + args + ["echo", ":::", "a"], input=None)
                self.assertUsageError(proc, hint)
                self.assertEqual(proc.stderr.count(b"\n"), 1)
        self.assertUsageError(run(["-P", "2", "imap", "echo"], input=None), "-j N")


if __name__ == "__main__":
    unittest.main()
