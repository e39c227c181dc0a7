"""Text and JSON output: blocks never interleaved, failure lines, JSON keys and
statuses, base64 for bytes that are not UTF-8, map's one array and all-or-nothing."""

import base64
import itertools
import json
import os
import select
import subprocess
import sys
import time
import unittest

from harness import PPOOL, E2ETestCase, PipeReader, json_lines, lines, run, testing, wait_for

FAILING = ["sh", "-c", 'echo "out $1"; echo "err $1" >&2; exit "$1"', "sh", "{}"]


class TextOutputTests(E2ETestCase):
    def assert_blocks(self, data, items, count):
        runs = [(key, len(list(group))) for key, group in itertools.groupby(lines(data))]
        self.assertEqual(sorted(runs), sorted((i, count) for i in items),
                         "outputs of different tasks were interleaved")

    def test_stdout_blocks_never_interleaved(self):
        items = ["a", "b", "c", "d"]
        proc = run(["imap-unordered", "-j", "4", "yes {} | head -n 100000"],
                   input="".join(i + "\n" for i in items).encode())
        self.assertStatus(proc, 0)
        self.assert_blocks(proc.stdout, items, 100000)

    def test_stderr_blocks_never_interleaved(self):
        items = ["a", "b", "c", "d"]
        proc = run(["imap-unordered", "-j", "4", "yes {} | head -n 50000 >&2"],
                   input="".join(i + "\n" for i in items).encode())
        self.assertStatus(proc, 0)
        self.assertEqual(proc.stdout, b"")
        self.assert_blocks(proc.stderr, items, 50000)

    def test_stdout_and_stderr_are_kept_apart(self):
        proc = run(["imap", "-j", "2", "echo out-{}; echo err-{} >&2"], input=b"a\nb\nc\n")
        self.assertStatus(proc, 0)
        self.assertEqual(lines(proc.stdout), ["out-a", "out-b", "out-c"])
        self.assertEqual(sorted(lines(proc.stderr)), ["err-a", "err-b", "err-c"])

    def test_command_output_is_passed_as_is(self):
        # No newline is added to a command's output (only to a registered task's).
        proc = run(["imap", "-j", "2", "--", "printf", "%s", "{}"], input=b"a\nb\n")
        self.assertOk(proc, "ab")

    def test_registered_task_gets_one_trailing_newline(self):
        proc = run(["imap", "-0", "-j", "2", "--task", "identity"], input=b"a\n\0b\0c\n\n\0")
        self.assertOk(proc, "a\nb\nc\n\n")

    def test_binary_output_is_not_corrupted(self):
        data = bytes(range(256)) * 64
        path = self.write("bin", data)
        proc = run(["imap", "-j", "1", "--", "cat"], input=f"{path}\n{path}\n".encode())
        self.assertOk(proc, data + data)

    def test_failure_lines(self):
        proc = run(["imap", "-j", "2", "--"] + FAILING, input=b"0\n3\n0\n5\n")
        self.assertStatus(proc, 1)
        err = proc.stderr.decode().splitlines()
        self.assertIn("ppool: task 2 (3) failed: exit status 3", err)
        self.assertIn("ppool: task 4 (5) failed: exit status 5", err)
        self.assertEqual(len([line for line in err if line.startswith("ppool: ")]), 2, err)
        self.assertEqual(sorted(line for line in err if line.startswith("err ")),
                         ["err 0", "err 0", "err 3", "err 5"])
        self.assertIn("out 0\n", proc.stdout.decode())

    def test_signal_failure_line(self):
        proc = run(["imap", "-j", "1", "--", "sh", "-c", 'kill -TERM $$; : "$1"', "sh", "{}"], input=b"x\n")
        self.assertStatus(proc, 1)
        self.assertIn("ppool: task 1 (x) failed: killed by signal 15 (SIGTERM)",
                      proc.stderr.decode().splitlines())

    def test_exception_failure_line(self):
        proc = testing(["imap", "-j", "1", "--task", "throw"], input=b"x\ny\n")
        self.assertStatus(proc, 1)
        err = proc.stderr.decode().splitlines()
        self.assertIn("ppool: task 1 (x) failed: boom: x", err)
        self.assertIn("ppool: task 2 (y) failed: boom: y", err)

    def test_failure_line_stays_one_line(self):
        proc = run(["imap", "-0", "-j", "1", "--", "sh", "-c", 'exit 1', "sh"], input=b"a\nb\0")
        self.assertStatus(proc, 1)
        err = proc.stderr.decode().splitlines()
        self.assertEqual(len(err), 1, err)
        self.assertTrue(err[0].startswith("ppool: task 1 ("), err)
        self.assertTrue(err[0].endswith(") failed: exit status 1"), err)

    def test_timeout_failure_line(self):
        proc = run(["imap", "-j", "1", "--timeout", "0.3", "--", "sleep"], input=b"300\n")
        self.assertStatus(proc, 1)
        self.assertRegex(proc.stderr.decode(), r"(?m)^ppool: task 1 \(300\) failed: timed out after [0-9.]+s$")


class LargeOutputTests(E2ETestCase):
    # Runs ppool, counts its output bytes, and reports the largest resident set
    # of ppool and of every descendant it reaped (getrusage of the children).
    MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
proc.stdin.write(sys.argv[1].encode()); proc.stdin.close()
total = 0
while True:
    chunk = proc.stdout.read(1 << 20)
    if not chunk:
        break
    total += len(chunk)
status = proc.wait()
print(json.dumps({"status": status, "bytes": total,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

    def measure(self, items, args, tmpdir):
        proc = subprocess.run([sys.executable, "-c", self.MEASURE, items, PPOOL] + args,
                              capture_output=True, timeout=120, env=dict(os.environ, TMPDIR=tmpdir))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        result = json.loads(proc.stdout)
        self.assertEqual(result["status"], 0, proc.stderr)
        return result

    def test_large_output_is_not_kept_in_memory(self):
        size = 256 << 20
        tmpdir = self.path("tmpdir")
        os.mkdir(tmpdir)
        result = self.measure("big\n", ["imap", "-j", "1", f"head -c {size} /dev/zero; : {{}}"], tmpdir)
        self.assertEqual(result["bytes"], size)
        self.assertLess(result["maxrss_kb"], 128 * 1024,
                        f"a {size >> 20} MiB task output was held in memory "
                        f"(largest process: {result['maxrss_kb'] >> 10} MiB)")
        self.assertEqual(os.listdir(tmpdir), [], "temporary files were left behind")

    def test_large_output_waiting_for_its_turn_is_not_kept_in_memory(self):
        size = 256 << 20
        tmpdir = self.path("tmpdir")
        os.mkdir(tmpdir)
        done = self.path("done")
        # "slow" finishes after "big" has written everything (or after 10 s, if
        # ppool holds "big" back instead); "big" must wait for its turn somewhere.
        script = (f'if [ {{}} = slow ]; then i=0; while [ ! -e {done} ] && [ $i -lt 200 ]; '
                  f'do i=$((i+1)); sleep 0.05; done; echo slow; '
                  f'else head -c {size} /dev/zero; touch {done}; fi')
        result = self.measure("slow\nbig\n", ["imap", "-j", "2", script], tmpdir)
        self.assertEqual(result["bytes"], size + len("slow\n"))
        self.assertLess(result["maxrss_kb"], 128 * 1024,
                        f"a {size >> 20} MiB task output was held in memory "
                        f"(largest process: {result['maxrss_kb'] >> 10} MiB)")
        self.assertEqual(os.listdir(tmpdir), [], "temporary files were left behind")

    def test_large_output_reaches_any_kind_of_stdout_whole(self):
        # An output past the memory limit goes from its temporary file to
        # stdout by sendfile; stdout opened for appending takes no sendfile, and
        # gets it copied. Both files, and a pipe, get every byte in order.
        script = "seq 2000000; echo {}"  # 14.8 MB: spilled
        expected = b"".join(b"%d\n" % i for i in range(1, 2000001))
        expected = expected + b"1\n" + expected + b"2\n"
        piped = run(["imap", "-j", "2", script], input=b"1\n2\n", timeout=120)
        self.assertEqual(piped.returncode, 0, piped.stderr)
        self.assertEqual(piped.stdout, expected)
        for name, flags in (("plain", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            ("appended", os.O_WRONLY | os.O_CREAT | os.O_APPEND)):
            path = self.path(name)
            with open(path, "wb") as f:
                f.write(b"before\n" if name == "appended" else b"")
            fd = os.open(path, flags)
            try:
                proc = subprocess.run([PPOOL, "imap", "-j", "2", script], input=b"1\n2\n", stdout=fd,
                                      stderr=subprocess.PIPE, timeout=120)
            finally:
                os.close(fd)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), (b"before\n" if name == "appended" else b"") + expected, name)


class StreamedOutputTests(E2ETestCase):
    """imap's text output: the large output of the task next in order goes out
    as it comes, while the task runs; everything else waits its turn."""

    PART = 1 << 20  # well past the size at which an output travels in parts

    def gate(self):
        """A FIFO a task blocks on until open_gate; the path."""
        path = self.path("gate")
        os.mkfifo(path)
        return path

    def open_gate(self, path):
        with open(path, "w") as f:
            f.write("go\n")

    def read_at_least(self, reader, n, timeout=60):
        """Reads until `n` bytes came (or fails after `timeout` s, the output held back)."""
        deadline = time.monotonic() + timeout
        while len(reader.buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{len(reader.buffer)} of {n} bytes within {timeout}s: the output was held back")
            ready, _, _ = select.select([reader.fd], [], [], remaining)
            if ready:
                chunk = os.read(reader.fd, 1 << 16)
                if not chunk:
                    raise AssertionError(f"end of output after {len(reader.buffer)} of {n} bytes")
                reader.buffer += chunk
        return reader.buffer

    def test_the_next_tasks_output_goes_out_while_it_runs(self):
        gate = self.gate()
        # The last bytes of a running task's output, less than a part, wait in its worker.
        proc = self.start(["imap", "-j", "1",
                           f"head -c {2 * self.PART} /dev/zero | tr '\\0' x; read go < {gate}; echo {{}}"])
        proc.stdin.write(b"end\n")
        proc.stdin.close()
        reader = PipeReader(proc.stdout)
        # The task is blocked on the gate: most of its output must be out already.
        self.read_at_least(reader, self.PART)
        self.open_gate(gate)
        whole = reader.read_rest(timeout=60)
        self.assertEqual(proc.wait(timeout=60), 0, self.stderr_of(proc))
        self.assertEqual(whole, b"x" * 2 * self.PART + b"end\n")

    def test_a_later_tasks_output_waits_for_the_running_one(self):
        # Task 1 writes a's and blocks; task 2 writes b's and ends at once. The
        # a's go out as they come, the b's only after task 1 ended.
        gate = self.gate()
        script = (f"if [ {{}} = 1 ]; then head -c {2 * self.PART} /dev/zero | tr '\\0' a; read go < {gate}; "
                  f"else head -c {self.PART} /dev/zero | tr '\\0' b; fi")
        done = self.path("done")
        proc = self.start(["imap", "-j", "2", "--joblog", done, script])
        proc.stdin.write(b"1\n2\n")
        proc.stdin.close()
        reader = PipeReader(proc.stdout)
        self.read_at_least(reader, self.PART)
        # The reader stops here: what task 1 writes meanwhile is held, and the pool goes on.
        # Task 2 has ended (the joblog says so) while task 1 still runs.
        def task_2_ended():
            # The joblog's header, then a line per task that ended.
            if not os.path.exists(done):
                return False
            with open(done) as f:
                return f.read().count("\n") >= 2

        wait_for(task_2_ended, timeout=60, message="task 2 did not end")
        self.assertNotIn(b"b", reader.buffer)
        self.open_gate(gate)
        whole = reader.read_rest(timeout=60)
        self.assertEqual(proc.wait(timeout=60), 0, self.stderr_of(proc))
        self.assertEqual(whole, b"a" * 2 * self.PART + b"b" * self.PART)

    def test_a_streamed_tasks_stderr_follows_its_stdout(self):
        # Its stdout began to go out while it ran: its stderr, held until it
        # ends, comes after all of it, not between two parts of it.
        script = f"head -c {self.PART} /dev/zero | tr '\\0' x; echo err-{{}} >&2; printf tail"
        proc = subprocess.run([PPOOL, "imap", "-j", "1", script], input=b"1\n", stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout[-500:])
        self.assertEqual(proc.stdout, b"x" * self.PART + b"tail" + b"err-1\n")

    def test_a_retried_tasks_output_is_written_once(self):
        # With --retries a failed attempt's output is dropped: nothing goes out before the task ends.
        mark = self.path("failed-once")
        script = (f"head -c {self.PART} /dev/zero | tr '\\0' x; "
                  f"if [ -e {mark} ]; then echo {{}}; else touch {mark}; exit 1; fi")
        proc = run(["imap", "-j", "1", "--retries", "1", script], input=b"ok\n", timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, b"x" * self.PART + b"ok\n")

    def test_tagged_and_json_output_of_a_large_task_is_whole(self):
        script = f"head -c {self.PART} /dev/zero | tr '\\0' x; echo; : {{}}"
        tagged = run(["imap", "-j", "1", "--tag", script], input=b"t\n", timeout=120)
        self.assertEqual(tagged.returncode, 0, tagged.stderr)
        self.assertEqual(tagged.stdout, b"t\t" + b"x" * self.PART + b"\n")
        as_json = run(["imap", "-j", "1", "--json", script], input=b"t\n", timeout=120)
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        self.assertEqual(json.loads(as_json.stdout)["output"], "x" * self.PART + "\n")


class JsonOutputTests(E2ETestCase):
    def test_keys_for_successful_commands(self):
        proc = run(["imap", "-j", "2", "--json", "echo {}; echo e{} >&2"], input=b"a\nb\n")
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual(len(records), 2)
        for n, (item, record) in enumerate(zip("ab", records)):
            self.assertJsonRecord(record)
            self.assertEqual(record["seq"], n + 1)
            self.assertEqual(record["input"], item)
            self.assertIs(record["ok"], True)
            self.assertEqual(record["status"], "ok")
            self.assertEqual(record["output"], f"{item}\n")
            self.assertEqual(record["stderr"], f"e{item}\n")
            self.assertEqual(record["exit_code"], 0)
            self.assertIsNone(record["signal"])
            self.assertIs(record["timed_out"], False)
            self.assertIsNone(record["error"])
            self.assertIn(record["worker"], (0, 1))
            self.assertEqual(record["host"], ":")
        # Captured, not passed on.
        self.assertNotIn(b"ea", proc.stderr)

    def test_format_json_equals_json(self):
        a = run(["imap", "-j", "1", "--json", "--task", "upper"], input=b"x\n")
        b = run(["imap", "-j", "1", "--format", "json", "--task", "upper"], input=b"x\n")
        c = run(["imap", "-j", "1", "--format", "text", "--task", "upper"], input=b"x\n")
        self.assertStatus(a, 0)
        self.assertStatus(b, 0)
        self.assertOk(c, "X\n")
        ra, rb = json_lines(a.stdout)[0], json_lines(b.stdout)[0]
        for r in (ra, rb):
            self.assertJsonRecord(r)
            self.assertEqual(r["output"].rstrip("\n"), "X")
            self.assertIsNone(r["stderr"])  # registered task
            self.assertEqual(r["host"], ":")
        self.assertEqual(set(ra), set(rb))

    def test_failed_status(self):
        proc = run(["imap", "-j", "2", "--json", "--"] + FAILING, input=b"0\n3\n")
        self.assertStatus(proc, 1)
        ok, failed = json_lines(proc.stdout)
        for r in (ok, failed):
            self.assertJsonRecord(r)
        self.assertEqual(ok["status"], "ok")
        self.assertEqual(failed["status"], "failed")
        self.assertIs(failed["ok"], False)
        self.assertEqual(failed["exit_code"], 3)
        self.assertIsNone(failed["signal"])
        self.assertIs(failed["timed_out"], False)
        self.assertEqual(failed["output"], "out 3\n")
        self.assertEqual(failed["stderr"], "err 3\n")
        self.assertEqual(failed["seq"], 2)
        self.assertEqual(failed["input"], "3")

    def test_signal_status(self):
        proc = run(["imap", "-j", "1", "--json", "--", "sh", "-c", 'kill -KILL $$; : "$1"', "sh", "{}"],
                   input=b"x\n")
        self.assertStatus(proc, 1)
        (r,) = json_lines(proc.stdout)
        self.assertJsonRecord(r)
        self.assertEqual(r["status"], "signal")
        self.assertEqual(r["signal"], 9)
        self.assertIsNone(r["exit_code"])

    def test_timeout_status(self):
        proc = run(["imap", "-j", "2", "--json", "--timeout", "1", "--", "sleep"], input=b"300\n0\n")
        self.assertStatus(proc, 1)
        slow, fast = json_lines(proc.stdout)
        self.assertJsonRecord(slow)
        self.assertEqual(slow["status"], "timeout")
        self.assertIs(slow["timed_out"], True)
        self.assertIs(slow["ok"], False)
        self.assertEqual(fast["status"], "ok")
        self.assertIs(fast["timed_out"], False)

    def test_error_status_for_exception(self):
        proc = testing(["imap", "-j", "1", "--json", "--task", "throw"], input=b"x\n")
        self.assertStatus(proc, 1)
        (r,) = json_lines(proc.stdout)
        self.assertJsonRecord(r)
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["error"], "boom: x")
        self.assertIsNone(r["stderr"])

    def test_worker_lost_status(self):
        proc = testing(["imap", "-j", "1", "--json", "--task", "crash"], input=b"x\n")
        self.assertStatus(proc, 1)
        (r,) = json_lines(proc.stdout)
        self.assertJsonRecord(r)
        self.assertEqual(r["status"], "worker_lost")
        self.assertEqual(r["signal"], 11)

    def test_utf8_is_kept_as_text(self):
        proc = run(["imap", "-j", "1", "--json", "--task", "identity"], input="h\u00e9llo \u2603\n".encode())
        self.assertStatus(proc, 0)
        (r,) = json_lines(proc.stdout)
        self.assertEqual(r["input"], "h\u00e9llo \u2603")
        self.assertEqual(r["output"].rstrip("\n"), "h\u00e9llo \u2603")
        self.assertNotIn("output_base64", r)

    def test_invalid_utf8_output_is_base64(self):
        data = b"ok \xff\xfe\x80 end\n"
        path = self.write("bad", data)
        proc = run(["imap", "-j", "1", "--json", "--", "cat"], input=f"{path}\n".encode())
        self.assertStatus(proc, 0)
        (r,) = json_lines(proc.stdout)
        self.assertIsNone(r["output"])
        self.assertEqual(base64.b64decode(r["output_base64"]), data)
        self.assertEqual(r["input"], path)

    def test_invalid_utf8_stderr_is_base64(self):
        data = b"\xc3\x28 broken\n"
        path = self.write("bad", data)
        proc = run(["imap", "-j", "1", "--json", "--", "sh", "-c", 'cat "$1" >&2', "sh", "{}"],
                   input=f"{path}\n".encode())
        self.assertStatus(proc, 0)
        (r,) = json_lines(proc.stdout)
        self.assertIsNone(r["stderr"])
        self.assertEqual(base64.b64decode(r["stderr_base64"]), data)
        self.assertEqual(r["output"], "")

    def test_invalid_utf8_input_is_base64(self):
        proc = run(["imap", "-j", "1", "--json", "--task", "identity"], input=b"a\xffb\n")
        self.assertStatus(proc, 0)
        (r,) = json_lines(proc.stdout)
        self.assertIsNone(r["input"])
        self.assertEqual(base64.b64decode(r["input_base64"]), b"a\xffb")
        self.assertIsNone(r["output"])
        self.assertEqual(base64.b64decode(r["output_base64"]).rstrip(b"\n"), b"a\xffb")

    def test_awkward_items_stay_valid_json(self):
        items = ["a\nb", 'quote " and \\ backslash', "tab\tand\x01control", "\u00e9\u2603", ""]
        proc = run(["imap", "-0", "-j", "2", "--json", "--task", "identity"],
                   input=b"".join(i.encode() + b"\0" for i in items))
        self.assertStatus(proc, 0)
        text = proc.stdout.decode()
        self.assertEqual(len(text.splitlines()), len(items), "one JSON object per line")
        self.assertEqual([r["input"] for r in json_lines(proc.stdout)], items)

    def test_imap_writes_json_lines_in_order(self):
        items = [str(i) for i in range(1, 51)]
        proc = run(["imap", "-j", "3", "--json", "--task", "len"], input="".join(i + "\n" for i in items).encode())
        self.assertStatus(proc, 0)
        text = proc.stdout.decode()
        self.assertEqual(len(text.splitlines()), 50, "one JSON object per line")
        records = json_lines(proc.stdout)
        self.assertEqual([r["seq"] for r in records], list(range(1, 51)))
        self.assertEqual([r["input"] for r in records], items)

    def test_unordered_json_lines_cover_every_seq(self):
        proc = run(["imap-unordered", "-j", "3", "--json", "--", "echo", "{}"],
                   input="".join(f"{i}\n" for i in range(1, 21)).encode())
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual(sorted(r["seq"] for r in records), list(range(1, 21)))
        for r in records:
            self.assertEqual(r["input"], str(r["seq"]))
            self.assertEqual(r["output"], f"{r['seq']}\n")


class MapOutputTests(E2ETestCase):
    def test_map_writes_one_json_array(self):
        items = [f"w{i}" for i in range(1, 13)]
        proc = run(["map", "-j", "3", "--json", "--", "echo", "{}"], input="".join(i + "\n" for i in items).encode())
        self.assertStatus(proc, 0)
        records = json.loads(proc.stdout)
        self.assertIsInstance(records, list)
        self.assertEqual([r["seq"] for r in records], list(range(1, 13)))
        self.assertEqual([r["input"] for r in records], items)
        self.assertEqual([r["output"] for r in records], [i + "\n" for i in items])
        for r in records:
            self.assertJsonRecord(r)

    def test_map_all_or_nothing_text(self):
        proc = run(["map", "-j", "2", "--"] + FAILING, input=b"0\n0\n7\n0\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"", "map wrote results although a task failed")
        self.assertIn("ppool: task 3 (7) failed: exit status 7", proc.stderr.decode().splitlines())

    def test_map_all_or_nothing_json(self):
        proc = run(["map", "-j", "2", "--json", "--"] + FAILING, input=b"0\n0\n7\n0\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"", "map wrote results although a task failed")
        self.assertIn("ppool: task 3 (7) failed: exit status 7", proc.stderr.decode().splitlines())

    def test_map_all_or_nothing_registered_task(self):
        proc = testing(["map", "-j", "2", "--task", "throw"], input=b"a\nb\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"")
        self.assertIn("ppool: task 2 (b) failed: boom: b", proc.stderr.decode().splitlines())


if __name__ == "__main__":
    unittest.main()
