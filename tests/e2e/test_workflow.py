"""Workflow options (SPEC 3b): ::: items, --tag, --pipe, --retries, --joblog,
--resume and --dry-run. --progress has its own file (test_progress.py)."""

import json
import os
import resource
import signal
import socket
import time
import unittest

from harness import (E2ETestCase, PipeReader, assert_gone, json_lines, read_pid, run, testing, wait_for)

HEADER = "seq\thost\tstart\truntime\texit_code\tsignal\tstatus\tattempts\tkey\titem\tcommand"
# The header of joblogs written before the host column.
OLD_HEADER = "seq\tstart\truntime\texit_code\tsignal\tstatus\tattempts\tkey\titem\tcommand"


def joblog_rows(path):
    with open(path) as f:
        text = f.read()
    rows = [line.split("\t") for line in text.splitlines()]
    return text, rows


class ArgItemsTests(E2ETestCase):
    def test_items_after_the_command(self):
        self.assertOk(run(["imap", "--", "echo", "x{}", ":::", "a", "b c", "d"], input=None), "xa\nxb c\nxd\n")

    def test_stdin_is_not_read(self):
        self.assertOk(run(["imap", "-t", "upper", ":::", "a", "b"], input=b"ignored\n"), "A\nB\n")

    def test_with_a_task_and_in_map(self):
        self.assertOk(run(["map", "-t", "len", ":::", "a", "bb", ""], input=None), "1\n2\n0\n")

    def test_no_items_is_no_work(self):
        self.assertOk(run(["imap", "--", "echo", ":::"], input=None), "")

    def test_with_an_input_file_is_a_second_source(self):
        path = self.write("in", "a\n")
        self.assertOk(run(["imap", "-a", path, "--", "echo", ":::", "x"]), "a x\n")

    def test_two_lists_are_two_sources(self):
        self.assertOk(run(["imap", "--", "echo", ":::", "a", ":::", "b"]), "a b\n")


class TagTests(E2ETestCase):
    def test_every_output_line_is_tagged(self):
        proc = run(["imap", "--tag", "--", "sh", "-c", 'printf "one\\ntwo\\n"; echo "err $1" >&2', "sh", "{}"],
                   input=b"a\nb\n")
        self.assertOk(proc, "a\tone\na\ttwo\nb\tone\nb\ttwo\n")
        self.assertEqual(proc.stderr, b"a\terr a\nb\terr b\n")

    def test_a_last_line_without_newline_gets_one(self):
        self.assertOk(run(["imap", "--tag", "--", "printf", "x\\ny"], input=b"i\n"), "i\tx\ni\ty\n")

    def test_registered_task(self):
        self.assertOk(run(["imap", "--tag", "-t", "len"], input=b"abc\nde\n"), "abc\t3\nde\t2\n")

    def test_control_bytes_in_the_tag_are_escaped(self):
        proc = run(["imap", "-0", "--tag", "-t", "len"], input=b"a\tb\0c\nd\0")
        self.assertOk(proc, "a\\tb\t3\nc\\nd\t3\n")

    def test_a_backslash_in_the_tag_is_doubled(self):
        # A TAB and the two characters backslash-t must not get the same tag.
        proc = run(["imap", "-0", "--tag", "-t", "len"], input=b"a\tb\0a\\tb\0")
        self.assertOk(proc, "a\\tb\t3\na\\\\tb\t4\n")

    def test_large_output_is_tagged_line_by_line(self):
        # Past the in-memory limit, so the output comes back from a spill file.
        proc = run(["imap", "--tag", "--", "seq", "1"], input=b"900000\n", timeout=120)
        self.assertStatus(proc, 0)
        out = proc.stdout.decode().splitlines()
        self.assertEqual(len(out), 900000)
        self.assertEqual(out[0], "900000\t1")
        self.assertEqual(out[-1], "900000\t900000")
        self.assertTrue(all(line.startswith("900000\t") for line in out))

    def test_with_json_or_pipe_is_a_usage_error(self):
        self.assertUsageError(run(["imap", "--tag", "--json", "-t", "len"]), "--tag")
        self.assertUsageError(run(["imap", "--tag", "--pipe", "--", "cat"]), "--tag")


class PipeTests(E2ETestCase):
    def test_chunks_go_to_stdin(self):
        self.assertOk(run(["imap", "--pipe", "-c", "4", "--", "wc", "-l"], input=b"".join(
            b"%d\n" % i for i in range(10))), "4\n4\n2\n")

    def test_chunk_sequence_number_and_slot(self):
        proc = run(["imap", "--pipe", "-c", "2", "-j", "1", "--", "sh", "-c", 'echo "{#} {%} $(cat | tr "\\n" ,)"'],
                   input=b"a\nb\nc\n")
        self.assertOk(proc, "1 1 a,b,\n2 1 c,\n")

    def test_null_separated_items_stay_null_terminated(self):
        self.assertOk(run(["imap", "-0", "--pipe", "-c", "5", "--", "od", "-An", "-c"], input=b"a\0b\n\0"),
                      "   a  \\0   b  \\n  \\0\n")

    def test_default_chunk_in_streaming_modes_is_1000(self):
        data = b"".join(b"%d\n" % i for i in range(2500))
        self.assertOk(run(["imap", "--pipe", "--", "wc", "-l"], input=data), "1000\n1000\n500\n")

    def test_map_default_chunk_is_pythons(self):
        # 100 items, 2 workers: ceil(100 / 8) = 13 per chunk.
        data = b"".join(b"%d\n" % i for i in range(100))
        self.assertOk(run(["map", "-j", "2", "--pipe", "--", "wc", "-l"], input=data), "13\n" * 7 + "9\n")

    def test_chunks_larger_than_a_pipe_buffer_do_not_deadlock(self):
        # The command echoes its input while it is still being written.
        data = b"".join(b"line %08d\n" % i for i in range(400000))
        proc = run(["imap", "--pipe", "-c", "200000", "--", "cat"], input=data, timeout=120)
        self.assertStatus(proc, 0)
        self.assertEqual(proc.stdout, data)

    def test_a_command_may_read_only_part_of_its_chunk(self):
        data = b"".join(b"%d\n" % i for i in range(100000))
        self.assertOk(run(["imap", "--pipe", "-c", "50000", "--", "head", "-n", "1"], input=data), "0\n50000\n")

    def test_a_failed_chunk_is_named_by_its_size(self):
        proc = run(["imap", "--pipe", "-c", "3", "--", "sh", "-c", 'd=$(cat); case "$d" in *x*) exit 1;; esac; echo "$d"'],
                   input=b"a\nb\nx\nc\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"c\n")
        self.assertEqual(proc.stderr, b"ppool: task 1 (chunk of 3 items) failed: exit status 1\n")

    def test_json_input_is_the_chunk(self):
        proc = run(["imap", "--pipe", "--json", "-c", "2", "--", "wc", "-l"], input=b"a\nb\nc\n")
        self.assertStatus(proc, 0)
        records = json_lines(proc.stdout)
        self.assertEqual([(r["seq"], r["input"], r["output"]) for r in records], [(1, "a\nb\n", "2\n"),
                                                                                (2, "c\n", "1\n")])

    def test_a_command_still_being_fed_is_stopped_with_ppool(self):
        # The command never reads its stdin, so the worker is blocked feeding it.
        pidfile = self.path("pid")
        self.kill_on_cleanup(pidfile)
        proc = self.start(["imap", "--pipe", "-c", "200000", "--", "sh", "-c", f'echo $$ > {pidfile}; exec sleep 300'])
        proc.stdin.write(b"".join(b"line %08d\n" % i for i in range(200000)))
        pid = wait_for(lambda: read_pid(pidfile))
        os.kill(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 128 + signal.SIGTERM)
        assert_gone([pid])

    def test_item_replacement_strings_and_tasks_are_usage_errors(self):
        self.assertUsageError(run(["imap", "--pipe", "--", "echo", "{}"]), "--pipe")
        self.assertUsageError(run(["imap", "--pipe", "--", "echo", "{/.}"]), "--pipe")
        self.assertUsageError(run(["imap", "--pipe", "-t", "len"]), "--pipe")


COUNTING = ["sh", "-c", 'n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; echo "run $n";'
            ' test $n -ge "$2"', "sh"]


class RetryTests(E2ETestCase):
    def test_a_task_that_succeeds_on_the_third_attempt(self):
        counter = self.path("count")
        proc = run(["imap", "--json", "--retries", "2", "--"] + COUNTING + [counter, "{}"], input=b"3\n")
        self.assertStatus(proc, 0)
        [record] = json_lines(proc.stdout)
        self.assertJsonRecord(record)
        self.assertEqual((record["ok"], record["attempts"], record["output"]), (True, 3, "run 3\n"))

    def test_the_last_attempt_is_the_result(self):
        counter = self.path("count")
        proc = run(["imap", "--retries", "1", "--"] + COUNTING + [counter, "{}"], input=b"5\n")
        self.assertStatus(proc, 1)
        self.assertEqual(proc.stdout, b"run 2\n")
        self.assertEqual(proc.stderr, b"ppool: task 1 (5) failed: exit status 1\n")
        with open(counter) as f:
            self.assertEqual(f.read(), "2\n")

    def test_without_retries_one_attempt(self):
        proc = run(["imap", "--json", "--"] + COUNTING + [self.path("count"), "{}"], input=b"2\n")
        self.assertEqual(json_lines(proc.stdout)[0]["attempts"], 1)

    def test_order_is_kept_across_retries(self):
        # Item 2 fails once; its retry comes back after items 3..6 finished.
        script = ('if [ "$1" = 2 ] && [ ! -e "$2" ]; then : > "$2"; exit 1; fi; echo $1')
        proc = run(["imap", "-j", "2", "--retries", "1", "--", "sh", "-c", script, "sh", "{}",
                    self.path("failed-once")], input=b"1\n2\n3\n4\n5\n6\n")
        self.assertOk(proc, "1\n2\n3\n4\n5\n6\n")

    def test_a_lost_worker_is_retried(self):
        proc = testing(["imap", "--json", "--retries", "2", "-t", "crash"], input=b"x\n")
        self.assertStatus(proc, 1)
        [record] = json_lines(proc.stdout)
        self.assertEqual((record["status"], record["attempts"]), ("worker_lost", 3))

    def test_a_timeout_is_retried(self):
        proc = run(["imap", "--json", "--retries", "1", "--timeout", "0.3", "--", "sh", "-c", "sleep 30", "sh", "{}"], input=b"x\n",
                   timeout=60)
        self.assertStatus(proc, 1)
        [record] = json_lines(proc.stdout)
        self.assertEqual((record["status"], record["attempts"]), ("timeout", 2))

    def test_fail_fast_waits_for_the_retries(self):
        counter = self.path("count")
        proc = run(["imap", "--fail-fast", "--retries", "1", "--"] + COUNTING + [counter, "{}"],
                   input=b"2\n")
        self.assertOk(proc, "run 2\n")

    def test_a_negative_count_is_a_usage_error(self):
        self.assertUsageError(run(["imap", "--retries", "-1", "-t", "len"]), "--retries")


class JoblogTests(E2ETestCase):
    def test_one_line_per_task_with_a_header(self):
        log = self.path("log")
        proc = run(["imap", "--joblog", log, "--", "sh", "-c", 'test "$1" != b', "sh"], input=b"a\nb\n")
        self.assertStatus(proc, 1)
        text, rows = joblog_rows(log)
        self.assertEqual(text.splitlines()[0], HEADER)
        rows = sorted(rows[1:])
        self.assertEqual(len(rows), 2)
        for row in rows:
            self.assertEqual(len(row), 11, row)
            float(row[2]), float(row[3])
            self.assertRegex(row[8], "^[0-9a-f]{64}$")
        self.assertEqual([(r[0], r[1], r[4], r[5], r[6], r[7], r[9], r[10]) for r in rows],
                         [("1", ":", "0", "0", "ok", "1", "a", "sh -c 'test \"$1\" != b' sh a"),
                          ("2", ":", "1", "0", "failed", "1", "b", "sh -c 'test \"$1\" != b' sh b")])

    def test_signals_timeouts_and_tasks(self):
        log = self.path("log")
        run(["imap", "--joblog", log, "--timeout", "0.3", "--", "sh", "-c", 'kill -9 $$'], input=b"x\n")
        run(["imap", "--joblog", log, "-t", "upper"], input=b"y\n")
        _, rows = joblog_rows(log)
        self.assertEqual([r[0] for r in rows].count("seq"), 1, "one header")
        self.assertEqual((rows[1][4], rows[1][5], rows[1][6]), ("-", "9", "signal"))
        self.assertEqual((rows[2][6], rows[2][9], rows[2][10]), ("ok", "y", "--task upper y"))

    def test_items_with_tabs_and_newlines_are_escaped(self):
        log = self.path("log")
        self.assertStatus(run(["imap", "-0", "--joblog", log, "-t", "len"], input=b"a\tb\0c\nd\\\0"), 0)
        _, rows = joblog_rows(log)
        self.assertEqual(sorted(r[9] for r in rows[1:]), ["a\\tb", "c\\nd\\\\"])

    def test_a_line_is_written_when_its_task_finishes(self):
        # The second item blocks until its file appears; the first one's line must be there before.
        log, gate = self.path("log"), self.path("gate")
        proc = self.start(["imap-unordered", "-j", "2", "--joblog", log, "--", "sh", "-c",
                           'if [ "$1" = slow ]; then while [ ! -e "$2" ]; do sleep 0.02; done; fi; echo $1',
                           "sh", "{}", gate])
        proc.stdin.write(b"fast\nslow\n")
        proc.stdin.close()
        reader = PipeReader(proc.stdout)
        self.assertEqual(reader.readline(), b"fast\n")
        wait_for(lambda: any(r[9] == "fast" for r in joblog_rows(log)[1][1:]))
        # Killed outright: the finished task's line is in the joblog, whole.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        text, rows = joblog_rows(log)
        self.assertTrue(text.endswith("\n"))
        self.assertEqual([r[9] for r in rows[1:]], ["fast"])

    def test_a_torn_last_line_is_ended_and_ignored(self):
        log = self.path("log")
        self.assertStatus(run(["imap", "--joblog", log, "-t", "len"], input=b"a\n"), 0)
        with open(log, "a") as f:
            f.write("2\t:\t17")
        self.assertOk(run(["imap", "--joblog", log, "--resume", "-t", "len"], input=b"a\nbb\n"), "2\n")
        text, rows = joblog_rows(log)
        self.assertEqual([len(r) for r in rows], [11, 11, 3, 11])

    def test_an_unwritable_joblog_is_a_usage_error(self):
        self.assertUsageError(run(["imap", "--joblog", self.path("no/such/dir"), "-t", "len"]), "joblog")

    def test_a_fifo_nobody_reads_is_refused_at_once(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        start = time.monotonic()
        proc = run(["imap", "--joblog", fifo, "-t", "len"], input=b"a\n", timeout=10)
        self.assertUsageError(proc, f"cannot write the joblog '{fifo}': no process is reading the FIFO")
        self.assertLess(time.monotonic() - start, 5)

    def test_a_fifo_with_a_reader_gets_the_lines(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.addCleanup(os.close, reader)
        self.assertOk(run(["imap", "--joblog", fifo, "-t", "len"], input=b"ab\n", timeout=10), "2\n")
        lines = os.read(reader, 65536).decode().splitlines()
        self.assertEqual((lines[0], lines[1].split("\t")[9]), (HEADER, "ab"))

    def test_a_character_device_takes_the_lines(self):
        self.assertOk(run(["imap", "--joblog", "/dev/null", "-t", "len"], input=b"ab\n"), "2\n")

    def test_a_full_disk_names_the_joblog(self):
        link = self.path("full.log")
        os.symlink("/dev/full", link)
        for path in ("/dev/full", link):
            with self.subTest(path=path):
                proc = run(["imap", "--joblog", path, "-t", "len"], input=b"a\n")
                self.assertUsageError(proc, f"cannot write the joblog '{path}': No space left on device")

    def test_a_joblog_that_cannot_grow_is_named(self):
        log = self.path("log")
        self.assertStatus(run(["imap", "--joblog", log, "-t", "len"], input=b"a\n"), 0)
        size = os.path.getsize(log)

        def no_growth():
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

        proc = run(["imap", "--joblog", log, "-t", "len"], input=b"b\n", preexec_fn=no_growth)
        self.assertStatus(proc, 2)
        self.assertEqual(proc.stderr.decode(), f"ppool: cannot write the joblog '{log}': File too large\n")


class ResumeTests(E2ETestCase):
    RECORD = ["sh", "-c", 'echo "$1" >> "$2"; test "$1" != bad && echo "$1"', "sh", "{}"]

    def runs(self):
        with open(self.path("runs")) as f:
            return sorted(f.read().split())

    def test_only_failed_and_new_items_run_again(self):
        log, runs = self.path("log"), self.path("runs")
        first = run(["imap", "--joblog", log, "--"] + self.RECORD + [runs], input=b"a\nbad\nc\n")
        self.assertStatus(first, 1)
        os.remove(runs)
        # Reordered and extended: a and c are done; bad and d run.
        second = run(["imap", "--joblog", log, "--resume", "--"] + self.RECORD + [runs], input=b"d\nc\nbad\na\n")
        self.assertStatus(second, 1)
        self.assertEqual(self.runs(), ["bad", "d"])
        self.assertEqual(second.stdout, b"d\n")

    def test_each_success_skips_one_occurrence(self):
        log, runs = self.path("log"), self.path("runs")
        self.assertStatus(run(["imap", "--joblog", log, "--"] + self.RECORD + [runs], input=b"a\n"), 0)
        os.remove(runs)
        self.assertStatus(run(["imap", "--joblog", log, "--resume", "--"] + self.RECORD + [runs],
                              input=b"a\na\n"), 0)
        self.assertEqual(self.runs(), ["a"])

    def test_the_task_is_part_of_the_key(self):
        log = self.path("log")
        self.assertOk(run(["imap", "--joblog", log, "-t", "upper"], input=b"a\n"), "A\n")
        self.assertOk(run(["imap", "--joblog", log, "--resume", "-t", "lower"], input=b"a\n"), "a\n")
        self.assertOk(run(["imap", "--joblog", log, "--resume", "-t", "upper"], input=b"a\n"), "")

    def test_a_joblog_without_the_host_column_resumes_and_keeps_its_columns(self):
        # As an earlier ppool wrote it: a succeeded, bad failed; the keys are
        # those of this task, taken from a joblog written now.
        log, runs, fresh = self.path("log"), self.path("runs"), self.path("fresh")
        self.assertStatus(run(["imap", "--joblog", fresh, "--"] + self.RECORD + [runs], input=b"a\nbad\n"), 1)
        os.remove(runs)
        _, rows = joblog_rows(fresh)
        old_rows = ["\t".join(r[:1] + r[2:]) for r in sorted(rows[1:])]
        self.write("log", OLD_HEADER + "\n" + "\n".join(old_rows) + "\n")
        second = run(["imap", "--joblog", log, "--resume", "--"] + self.RECORD + [runs], input=b"a\nbad\nc\n")
        self.assertStatus(second, 1)
        self.assertEqual(self.runs(), ["bad", "c"])
        text, rows = joblog_rows(log)
        self.assertEqual(rows[0], OLD_HEADER.split("\t"))
        self.assertEqual([len(r) for r in rows], [10] * 5, text)
        self.assertEqual(sorted((r[5], r[8]) for r in rows[1:]), [("failed", "bad"), ("failed", "bad"),
                                                                 ("ok", "a"), ("ok", "c")])

    def test_resume_with_a_missing_joblog_runs_everything(self):
        self.assertOk(run(["imap", "--joblog", self.path("new"), "--resume", "-t", "len"], input=b"ab\n"), "2\n")

    def test_a_file_that_is_not_a_joblog_is_refused(self):
        path = self.write("other", "Seq\tHost\tStarttime\n")
        self.assertUsageError(run(["imap", "--joblog", path, "--resume", "-t", "len"], input=b"a\n"), "joblog")

    def test_a_joblog_that_cannot_be_read_back_is_refused_at_once(self):
        fifo, sock = self.path("fifo"), self.path("sock")
        os.mkfifo(fifo)
        listener = socket.socket(socket.AF_UNIX)
        self.addCleanup(listener.close)
        listener.bind(sock)
        for path, kind in ((fifo, "a FIFO"), (self.tmp, "a directory"), ("/dev/null", "a character device"),
                           (sock, "a socket")):
            with self.subTest(path=path):
                start = time.monotonic()
                proc = run(["imap", "--joblog", path, "--resume", "-t", "len"], input=b"a\n", timeout=10)
                self.assertUsageError(proc, f"'{path}' is {kind}")
                self.assertLess(time.monotonic() - start, 5)

    def test_resume_needs_a_joblog(self):
        self.assertUsageError(run(["imap", "--resume", "-t", "len"]), "--joblog")


class DryRunTests(E2ETestCase):
    def test_prints_commands_and_runs_nothing(self):
        marker = self.path("ran")
        proc = run(["imap", "--dry-run", "--initializer", f"touch {marker}", "--", "touch", marker + "-{}"],
                   input=b"a\nb c\n")
        self.assertOk(proc, f"touch {marker}-a\ntouch '{marker}-b c'\n")
        self.assertEqual(os.listdir(self.tmp), [])

    def test_shell_commands_show_the_script(self):
        self.assertOk(run(["imap", "--dry-run", "echo {} | wc -c"], input=b"it's\n"),
                      "/bin/sh -c 'echo '\\''it'\\''\\'\\'''\\''s'\\'' | wc -c'\n")

    def test_tasks_and_sequence_numbers(self):
        self.assertOk(run(["imap", "--dry-run", "-t", "len"], input=b"a b\n"), "--task len 'a b'\n")
        self.assertOk(run(["map", "--dry-run", "--", "echo", "{#}:{}"], input=b"x\ny\n"), "echo 1:x\necho 2:y\n")

    def test_pipe_prints_one_line_per_chunk(self):
        self.assertOk(run(["imap", "--dry-run", "--pipe", "-c", "2", "--", "wc", "-l", "{#}"], input=b"a\nb\nc\n"),
                      "wc -l 1\nwc -l 2\n")

    def test_resume_skips_what_succeeded(self):
        log = self.path("log")
        run(["imap", "--joblog", log, "-t", "len"], input=b"a\n")
        self.assertOk(run(["imap", "--dry-run", "--joblog", log, "--resume", "-t", "len"], input=b"a\nb\n"),
                      "--task len b\n")


if __name__ == "__main__":
    unittest.main()
