#!/usr/bin/env python3
"""Benchmark of ppool against its peers (xargs -P, GNU parallel, Python's
multiprocessing.Pool, awk, cat) and against the floors: bench/floor.c, the
cheapest way we know to run one process per line with two slots, given the
command's resolved path (no PATH search per task), and bench/len_floor.c, a
single process printing the length of each line as fast as we can.

Besides the throughput rows it measures a file of 256 MiB copied by
`ppool imap -j1 -- cat {}` against `cat FILE` (both into a pipe), the
parallel efficiency of a CPU-bound plugin task (bench/plugin_sha.cpp: the
time with -j1 over twice the time with -j2, 1.00 at best), and the time to
the first result when the input arrives slowly: the pool has started and
waits, one line is written, and the clock runs until its result is read
(against xargs -P2 and GNU parallel; a tool that waits for the next line
gets its stdin closed after a second, and its time shows it).

    python3 bench/run.py [--ppool PATH] [--baseline PATH] [--rounds N] [--scale F] [--quick] [--json-out FILE]
                         [--sshlogin LOGIN [--ssh CMD] [--remote-ppool PATH]]

With --baseline, every ppool workload also runs with that other ppool binary
(an earlier build, say) in the same rounds, and the report ends with each
workload's time against the baseline's.

With --sshlogin (or PPOOL_BENCH_SSHLOGIN), the remote rows run too: `true`
tasks over `-S 2/LOGIN` against a local `-j 2`, and `--task len` over ssh
against the local run (goals: at most 1.3x the local time; at least half the
local throughput). Without a login they are skipped, and the script says so.
The test sshd of this repository serves a login on this machine:

    bash tests/scaleout/sshd.sh start build/scaleout
    python3 bench/run.py --sshlogin ppooltest@127.0.0.1 --ssh "ssh -F build/scaleout/sshd/ssh_config"
    bash tests/scaleout/sshd.sh stop build/scaleout

Every workload runs once per round, the rounds interleaved so machine noise
hits all alike; the table shows medians over the rounds. Nothing here asserts
speed: the exit status is 0 after printing, 1 only if ppool itself fails (a
non-zero exit or a wrong number of output lines), 2 on a setup error (a peer
not installed without --quick, or ppool failing to build).
"""

import argparse
import json
import os
import platform
import re
import select
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SLOTS = 2              # every pool in the benchmark runs two workers
CHUNK = 1000           # chunk size of the registered-task runs (ppool -c, Pool.imap)
COMMAND_ITEMS = 3000   # lines for the one-process-per-item workloads
TASK_ITEMS = 1_000_000 # lines for the in-process workloads
RSS_ITEMS = 3_000_000  # lines for the peak-RSS run
STARTUP_REPEATS = 20   # one-item runs per round for start-up; their median counts
RUN_TIMEOUT = 600      # seconds; a run taking longer is a failure, not a hang
REMOTE_COMMAND_ITEMS = 2000  # `true` tasks over ssh, and locally beside them
CAT_BYTES = 256 << 20  # the file the cat rows copy into a pipe
CAT_LINE = b"x" * 63 + b"\n"  # its lines, so that the pipe check can count them
SHA_ITEMS = 2500       # items of the CPU-bound task: about 1 s with -j1
SHA_CHUNK = 10         # its chunk size
FIRST_RESULT_REPEATS = 10  # slow-input runs per round; their median counts
SLOW_INPUT_GAP = 0.25  # seconds between a slow-input run's start and its one line (GNU parallel's start-up fits)
FIRST_RESULT_LIMIT = 1  # seconds a slow-input run waits for its first result before stdin closes

# label, numerator, denominator, how: "time" divides the median times,
# "rate" divides items/s (so the denominator's time over the numerator's),
# "efficiency" is the numerator's time over SLOTS times the denominator's.
RATIOS = [
    ("ppool-true / floor-true", "ppool true", "floor true", "time",
     "time; 1.00 = as cheap as our floor"),
    ("ppool-true / xargs-true", "ppool true", "xargs true", "time",
     "time; < 1 = ppool faster"),
    ("ppool-echo / floor-echo", "ppool echo", "floor echo", "time",
     "time; output through a pipe"),
    ("parallel-true / ppool-true", "parallel true", "ppool true", "time",
     "time; > 1 = GNU parallel slower"),
    ("ppool-len / awk-len", "ppool len", "awk len", "rate",
     "items/s over lines/s; > 1 = ppool faster"),
    ("ppool-len / python-pool-len", "ppool len", "python pool len", "rate",
     "items/s; > 1 = ppool faster"),
    ("ppool-len / len-floor", "ppool len", "len floor", "time",
     "time; 1.00 = as fast as one C process"),
    ("ppool-len json / text", "ppool len --json", "ppool len", "time",
     "time; cost of JSON Lines"),
    ("plugin-len / builtin-len", "ppool plugin len", "ppool len", "time",
     "time; 1.00 = a plugin task is as fast as a built-in"),
    ("ppool-cat / cat", "ppool cat", "cat", "time",
     "time; the file through ppool -j1 into a pipe, 1.00 = as cheap as cat"),
    ("parallel efficiency sha", "ppool sha -j1", "ppool sha -j2", "efficiency",
     f"time(-j1) / ({SLOTS} x time(-j{SLOTS})), CPU-bound plugin task; goal 0.95"),
    ("first-result ppool / xargs", "first result ppool", "first result xargs", "time",
     "time from a slow line to its result; < 1 = ppool faster"),
    ("startup ppool / xargs", "startup ppool", "startup xargs", "time",
     "time of one item; < 1 = ppool faster"),
    ("submit+get / apply", "serve submit+get", "apply len", "time",
     "time of one task; < 1 = a warm ppool serve answers faster"),
    ("submit+get / apply, 0.1 s initializer", "serve submit+get init", "apply len init", "time",
     "time of one task; the server ran its initializer once, apply runs it every time"),
    ("10 imap --server / 10 imap, 1 s initializer", "serve imap x10 init", "imap x10 init", "time",
     "time of ten runs; the server ran its initializer once, each plain run runs it"),
    ("ssh-true / local-true", "ssh true", "local true", "time",
     "time; -S 2/LOGIN against -j 2; goal <= 1.3"),
    ("ssh-len / local-len", "ssh len", "ppool len", "rate",
     "items/s over ssh over local; goal >= 0.5"),
]


class PpoolFailure(Exception):
    """ppool exited non-zero or printed the wrong number of lines."""


class PeerFailure(Exception):
    """A peer (or our floor) misbehaved; its rows are dropped, ppool is not to blame."""


@dataclass
class Workload:
    name: str              # row label and key in --json-out
    argv: list
    input: Path
    items: int             # items per run
    expect_lines: int      # lines a correct run prints
    unit: str              # "task": ms per task, "item": items/s, "run": ms per run, "byte": MiB/s
    is_ppool: bool = False
    pipe: bool = False     # stdout read (and counted) through a pipe, not /dev/null
    repeat: int = 1        # runs per measurement; the measurement is their median
    first_result: bool = False  # a slow-input run: the time from one line written to its result


# --- setup ------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ppool", type=Path,
                   help="ppool binary (default: build a Release one in build-release/)")
    p.add_argument("--baseline", type=Path,
                   help="another ppool binary whose ppool workloads run beside this one's")
    p.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiplies every item and repeat count (default 1.0)")
    p.add_argument("--quick", action="store_true",
                   help="skip peers that are not installed instead of failing")
    p.add_argument("--json-out", type=Path, help="also write medians and ratios as JSON")
    p.add_argument("--sshlogin", default=os.environ.get("PPOOL_BENCH_SSHLOGIN"),
                   help="a host for the remote rows, as -S takes it without N/ (default $PPOOL_BENCH_SSHLOGIN; "
                        "none: the remote rows are skipped)")
    p.add_argument("--ssh", default=os.environ.get("PPOOL_BENCH_SSH", "ssh"),
                   help="the ssh command for it, e.g. 'ssh -F FILE' (default $PPOOL_BENCH_SSH, else ssh)")
    p.add_argument("--remote-ppool",
                   help="the ppool the host runs (default: a copy of --ppool, and of --baseline, in a "
                        "temporary directory any user may read: for a login to this machine)")
    args = p.parse_args()
    if args.rounds < 1 or args.scale <= 0:
        p.error("--rounds must be >= 1 and --scale > 0")
    return args


def die(message):
    """Ends the run on a setup error (status 2; 1 is kept for ppool failing)."""
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(2)


def scaled(n, scale):
    return max(1, round(n * scale))


def run_quiet(argv, what):
    """Runs a setup step, showing its output only if it fails."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        die(f"{what} failed: {' '.join(map(str, argv))}")


def build_release_ppool():
    build = REPO / "build-release"
    print(f"bench: building a Release ppool in {build} ...", file=sys.stderr)
    run_quiet(["cmake", "-S", REPO, "-B", build, "-G", "Ninja",
               "-DCMAKE_BUILD_TYPE=Release", "-DPPOOL_BUILD_TESTS=OFF"], "configuring ppool")
    run_quiet(["cmake", "--build", build], "building ppool")
    return build / "ppool"


def resolve_ppool(path):
    ppool = (path or build_release_ppool()).resolve()
    if not (ppool.is_file() and os.access(ppool, os.X_OK)):
        die(f"{ppool} is not an executable file")
    return ppool


def remote_copy(binary, directory):
    """`binary` copied into `directory`, where another user may run it: the
    build tree's parents may be closed to the login's user."""
    copy = directory / f"{binary.parent.name}-{binary.name}"
    shutil.copy2(binary, copy)
    copy.chmod(0o755)
    return str(copy)


def setup_remote(args, ppool, baseline, directory):
    """The remote rows' (login, ssh, remote ppool) and the baseline's remote
    ppool, or (None, None) after saying why they are skipped. A login that
    does not work is a setup error."""
    if not args.sshlogin:
        print("bench: skipping the ssh rows: no --sshlogin LOGIN given (nor PPOOL_BENCH_SSHLOGIN); "
              "bash tests/scaleout/sshd.sh start DIR serves one on this machine (see --help)", file=sys.stderr)
        return None, None
    if re.match(r"\s*\d+/", args.sshlogin):
        die(f"--sshlogin takes a login without N/ (the rows use {SLOTS} slots): '{args.sshlogin}'")
    directory.chmod(0o755)
    remote_ppool = args.remote_ppool or remote_copy(ppool, directory)
    remote_baseline = None
    if baseline:
        remote_baseline = args.remote_ppool or remote_copy(baseline, directory)
    # One item over ssh: the login, the ssh command and the remote ppool work.
    check = subprocess.run([ppool, "imap", "-S", f"1/{args.sshlogin}", "--ssh", args.ssh, "--remote-ppool",
                            remote_ppool, "--task", "len"], input=b"abc\n", capture_output=True,
                           timeout=RUN_TIMEOUT)
    if check.returncode != 0 or check.stdout != b"3\n":
        sys.stderr.write(check.stderr.decode(errors="replace"))
        die(f"ppool cannot run a task over --sshlogin {args.sshlogin} --ssh '{args.ssh}' "
            f"(exit status {check.returncode})")
    return (args.sshlogin, args.ssh, remote_ppool), remote_baseline


def is_gnu_parallel(path):
    proc = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    return "GNU parallel" in proc.stdout


def find_tools(quick, tmp):
    """Paths of the peers (None when skipped), of our floors, built from floor.c
    and len_floor.c, and of the plugins."""
    tools = {name: shutil.which(name) for name in ("xargs", "parallel", "awk", "cat", "cc", "c++")}
    if tools["parallel"] and not is_gnu_parallel(tools["parallel"]):
        tools["parallel"] = None     # moreutils' parallel takes other arguments
    tools["time"] = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    missing = [name for name in ("xargs", "parallel", "awk", "cat", "cc") if not tools[name]]
    if missing and not quick:
        die(f"not installed: {', '.join(missing)} "
            "(apt-get install -y findutils parallel gawk coreutils gcc), or pass --quick")
    for name in missing:
        print(f"bench: skipping {name}: not installed", file=sys.stderr)
    tools["floor"] = tools["len floor"] = None
    if tools["cc"]:
        floor = tmp / "floor"
        run_quiet([tools["cc"], "-O2", "-o", floor, BENCH_DIR / "floor.c"], "compiling floor.c")
        tools["floor"] = str(floor)
        len_floor = tmp / "len_floor"
        run_quiet([tools["cc"], "-O2", "-o", len_floor, BENCH_DIR / "len_floor.c"], "compiling len_floor.c")
        tools["len floor"] = str(len_floor)
    tools["plugin"] = None
    if tools["c++"]:
        plugin = tmp / "libplugin_len.so"
        run_quiet([tools["c++"], "-std=c++20", "-O2", "-shared", "-fPIC", "-I", REPO / "include",
                   "-o", plugin, BENCH_DIR / "plugin_len.cpp"], "compiling plugin_len.cpp")
        tools["plugin"] = str(plugin)
    tools["sha plugin"] = compile_sha_plugin(tools["c++"], quick, tmp)
    return tools


def compile_sha_plugin(cxx, quick, tmp):
    """The CPU-bound plugin (it needs OpenSSL's libcrypto), or None when
    skipped: without a compiler, or, with --quick, without OpenSSL's headers."""
    if not cxx:
        return None
    plugin = tmp / "libplugin_sha.so"
    argv = [cxx, "-std=c++20", "-O2", "-shared", "-fPIC", "-I", REPO / "include",
            "-o", plugin, BENCH_DIR / "plugin_sha.cpp", "-lcrypto"]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        if not quick:
            sys.stderr.write(proc.stdout)
            die("compiling plugin_sha.cpp failed (apt-get install -y libssl-dev), or pass --quick")
        print("bench: skipping the parallel efficiency rows: plugin_sha.cpp does not compile "
              "(is libssl-dev installed?)", file=sys.stderr)
        return None
    return str(plugin)


def write_lines(path, n):
    with open(path, "w") as f:
        f.writelines(f"{i}\n" for i in range(1, n + 1))
    return path


def write_cat_file(path, size):
    """A file of about `size` bytes in lines of CAT_LINE; returns its line count."""
    lines = max(1, size // len(CAT_LINE))
    block = CAT_LINE * (1 << 14)
    with open(path, "wb") as f:
        for _ in range(lines >> 14):
            f.write(block)
        f.write(CAT_LINE * (lines & ((1 << 14) - 1)))
    return lines


def make_inputs(tmp, scale):
    counts = {"command": scaled(COMMAND_ITEMS, scale), "task": scaled(TASK_ITEMS, scale),
              "rss": scaled(RSS_ITEMS, scale), "startup": 1, "remote": scaled(REMOTE_COMMAND_ITEMS, scale),
              "sha": scaled(SHA_ITEMS, scale), "stream": STREAM_ITEMS}
    inputs = {kind: (write_lines(tmp / f"{kind}.txt", n), n) for kind, n in counts.items()}
    # The cat rows: the file, and ppool's one item, the file's path.
    cat_file = tmp / "cat.data"
    inputs["cat"] = (cat_file, write_cat_file(cat_file, scaled(CAT_BYTES, scale)))
    cat_item = tmp / "cat-item.txt"
    cat_item.write_text(f"{cat_file}\n")
    inputs["cat item"] = (cat_item, 1)
    return inputs


# --- workloads: one function per kind ---------------------------------------

def command_workloads(ppool, tools, inputs):
    """One process per item: `true ITEM` (prints nothing) and `echo ITEM` (piped)."""
    path, n = inputs["command"]
    prefixes = {  # argv before the command, or None if not installed
        "floor": [tools["floor"]] if tools["floor"] else None,
        "ppool": [ppool, "imap", f"-j{SLOTS}", "--"],
        "xargs": [tools["xargs"], f"-P{SLOTS}", "-n1"] if tools["xargs"] else None,
        "parallel": [tools["parallel"], "--will-cite", f"-j{SLOTS}"] if tools["parallel"] else None,
    }
    runs = [("floor", "true"), ("ppool", "true"), ("xargs", "true"), ("parallel", "true"),
            ("ppool", "echo"), ("floor", "echo")]
    # The floor is given the command's absolute path: posix_spawnp then tries no
    # PATH directory before it (ppool resolves a command once per worker).
    resolved = {command: shutil.which(command) or command for _, command in runs}
    return [Workload(f"{runner} {command}",
                     prefixes[runner] + [resolved[command] if runner == "floor" else command], path, n,
                     expect_lines=n if command == "echo" else 0, unit="task",
                     is_ppool=runner == "ppool", pipe=command == "echo")
            for runner, command in runs if prefixes[runner]]


def task_workloads(ppool, tools, inputs):
    """In-process work on every line: its length, by ppool's registered task and peers."""
    path, n = inputs["task"]
    ppool_len = [ppool, "imap", f"-j{SLOTS}", "-c", str(CHUNK), "--task", "len"]
    candidates = [
        ("ppool len", ppool_len, True),
        ("ppool len --json", ppool_len + ["--json"], True),
        # The options that must not cost a slower path.
        ("ppool len workflow", ppool_len + ["--timeout", "600", "--retries", "1", "--fail-fast"], True),
        ("ppool plugin len", [ppool, "imap", f"-j{SLOTS}", "-c", str(CHUNK), "--plugin", tools["plugin"],
                              "--task", "plugin_len"] if tools["plugin"] else None, True),
        ("awk len", [tools["awk"], "{print length($0)}"] if tools["awk"] else None, False),
        ("len floor", [tools["len floor"]] if tools["len floor"] else None, False),
        ("python pool len", [sys.executable, BENCH_DIR / "py_pool_len.py"], False),
    ]
    return [Workload(name, argv, path, n, n, "item", is_ppool=is_ppool)
            for name, argv, is_ppool in candidates if argv]


def cat_workloads(ppool, tools, inputs):
    """Throughput of output: the file by `ppool imap -j1 -- cat {}` (its path the
    one item) and by cat itself, both read through a pipe and their lines counted."""
    path, lines = inputs["cat"]
    item_path, _ = inputs["cat item"]
    size = path.stat().st_size
    candidates = [
        ("ppool cat", [ppool, "imap", "-j1", "--", "cat", "{}"], True),
        ("cat", [tools["cat"], path] if tools["cat"] else None, False),
    ]
    return [Workload(name, argv, item_path, size, lines, "byte", is_ppool=is_ppool, pipe=True)
            for name, argv, is_ppool in candidates if argv]


def cpu_workloads(ppool, tools, inputs):
    """The CPU-bound plugin task with one worker and with SLOTS: parallel efficiency."""
    if not tools["sha plugin"]:
        return []
    path, n = inputs["sha"]
    return [Workload(f"ppool sha -j{jobs}", [ppool, "imap", f"-j{jobs}", "-c", str(SHA_CHUNK), "--plugin",
                                            tools["sha plugin"], "--task", "sha_rounds"],
                     path, n, n, "item", is_ppool=True)
            for jobs in (1, SLOTS)]


def first_result_workloads(ppool, tools, repeats):
    """Slow input: one line written to a started pool, timed to its result."""
    candidates = [
        ("first result ppool", [ppool, "imap", f"-j{SLOTS}", "--", "echo"], True),
        ("first result xargs", [tools["xargs"], f"-P{SLOTS}", "-n1", "echo"] if tools["xargs"] else None, False),
        ("first result parallel", [tools["parallel"], "--will-cite", f"-j{SLOTS}", "echo"]
         if tools["parallel"] else None, False),
    ]
    return [Workload(name, argv, None, 1, 1, "run", is_ppool=is_ppool, pipe=True, repeat=repeats,
                     first_result=True)
            for name, argv, is_ppool in candidates if argv]


def remote_workloads(ppool, remote, inputs):
    """The same work over `-S 2/LOGIN` and here: `true` per item, and `len` in
    chunks (against the local "ppool len" row). `remote`: None (skipped) or
    (login, ssh command, the remote ppool)."""
    if not remote:
        return []
    login, ssh, remote_ppool = remote
    over_ssh = [ppool, "imap", "-S", f"{SLOTS}/{login}", "--ssh", ssh, "--remote-ppool", remote_ppool]
    path, n = inputs["remote"]
    task_path, task_n = inputs["task"]
    return [Workload("local true", [ppool, "imap", f"-j{SLOTS}", "--", "true"], path, n, 0, "task", is_ppool=True),
            Workload("ssh true", over_ssh + ["--", "true"], path, n, 0, "task", is_ppool=True),
            Workload("ssh len", over_ssh + ["-c", str(CHUNK), "--task", "len"], task_path, task_n, task_n, "item",
                     is_ppool=True)]


def startup_workloads(ppool, tools, inputs, repeats):
    """One item through a two-slot pool: the fixed cost of starting up."""
    path, n = inputs["startup"]
    candidates = [
        ("startup ppool", [ppool, "imap", f"-j{SLOTS}", "--", "true"], True),
        ("startup xargs", [tools["xargs"], f"-P{SLOTS}", "-n1", "true"]
         if tools["xargs"] else None, False),
    ]
    return [Workload(name, argv, path, n, 0, "run", is_ppool=is_ppool, repeat=repeats)
            for name, argv, is_ppool in candidates if argv]


INITIALIZER = "sleep 0.1"  # the slow initializer of the second pair of serve rows
STREAM_INITIALIZER = "sleep 1"  # the initializer of the server of the imap --server rows
STREAM_RUNS = 10
STREAM_ITEMS = 100


def serve_workloads(ppool, inputs, socks, repeats):
    """One task's round trip: submit and get on a warm server (ppool serve),
    against ppool apply, which starts a pool of its own for it; and the same
    where every pool has a slow initializer, which a server runs only once."""
    path, n = inputs["startup"]
    ppool_q = shlex.quote(str(ppool))
    workloads = []
    for suffix, sock, init in (("", socks[0], ""), (" init", socks[1], f" --initializer {shlex.quote(INITIALIZER)}")):
        sock_q = shlex.quote(str(sock))
        round_trip = (f"id=$({ppool_q} submit --server {sock_q} --task len x) && "
                      f"exec {ppool_q} get --server {sock_q} \"$id\"")
        workloads += [
            Workload("serve submit+get" + suffix, ["sh", "-c", round_trip], path, n, 1, "run", is_ppool=True,
                     repeat=repeats),
            Workload("apply len" + suffix, ["sh", "-c", f"exec {ppool_q} apply -j{SLOTS}{init} --task len x"], path,
                     n, 1, "run", is_ppool=True, repeat=repeats)]
    # Ten runs of a mode on a server's workers, against ten runs with workers of their own.
    path, n = inputs["stream"]
    path_q = shlex.quote(str(path))
    init = shlex.quote(STREAM_INITIALIZER)
    for name, run in (("serve imap x10 init", f"{ppool_q} imap --server={shlex.quote(str(socks[2]))} -- echo {{}}"),
                      ("imap x10 init", f"{ppool_q} imap -j{SLOTS} --initializer {init} -- echo {{}}")):
        loop = f"for i in $(seq {STREAM_RUNS}); do {run} < {path_q} || exit 1; done"
        workloads.append(Workload(name, ["sh", "-c", loop], path, n, STREAM_RUNS * n, "run", is_ppool=True))
    return workloads


def start_servers(ppool, socks):
    """The servers of the serve rows, detached (the second with the slow
    initializer); ppool terminate stops them."""
    run_quiet([ppool, "serve", f"-j{SLOTS}", "--socket", str(socks[0])], "ppool serve")
    run_quiet([ppool, "serve", f"-j{SLOTS}", "--initializer", INITIALIZER, "--socket", str(socks[1])], "ppool serve")
    run_quiet([ppool, "serve", f"-j{SLOTS}", "--initializer", STREAM_INITIALIZER, "--socket", str(socks[2])],
              "ppool serve")


def stop_servers(ppool, socks):
    for sock in socks:
        subprocess.run([ppool, "terminate", "--server", str(sock)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


# --- running ----------------------------------------------------------------

def drain_counting_lines(stream):
    lines = 0
    while chunk := stream.read(1 << 16):
        lines += chunk.count(b"\n")
    return lines


def wait_or_kill(proc):
    """The exit status of `proc`, or None if it ran past RUN_TIMEOUT (it is killed).
    The wait blocks in waitpid, with a timer thread as the limit: Popen.wait(timeout)
    polls with sleeps of 0.5, 1, 2, 4 ... 50 ms, which would round every time up to
    the next poll (3.5 or 7.5 ms for a start-up, a multiple of 50 ms for a long run)."""
    killed = threading.Event()

    def kill():
        killed.set()
        proc.kill()

    timer = threading.Timer(RUN_TIMEOUT, kill)
    timer.start()
    try:
        rc = proc.wait()
    finally:
        timer.cancel()
    return None if killed.is_set() else rc


WAITED_FOR_MORE = set()  # argv of the slow-input runs already warned about


def read_first_line(fd, proc):
    """Bytes read from `fd` up to and including the first newline (or all of
    them, at end of file). If nothing has come after FIRST_RESULT_LIMIT
    seconds, `proc`'s stdin is closed (a pool waiting for the end of its
    input then runs the line) and the wait goes on."""
    got = b""
    deadline = time.monotonic() + FIRST_RESULT_LIMIT
    while b"\n" not in got:
        if not proc.stdin.closed:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                command = " ".join(map(str, proc.args))
                if command not in WAITED_FOR_MORE:
                    WAITED_FOR_MORE.add(command)
                    print(f"bench: warning: no result {FIRST_RESULT_LIMIT} s after the line, it waits for more "
                          f"input: its stdin is closed then ({command})", file=sys.stderr)
                proc.stdin.close()
                continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        got += chunk
    return got


def run_first_result(w):
    """A slow-input run of `w`: it starts with a pipe as stdin, and after
    SLOW_INPUT_GAP (the pool has started and waits for input) one line is
    written; the time is from that write to the first result line read. Then
    stdin is closed and the rest drained. Returns (seconds, exit code or None,
    lines printed)."""
    with subprocess.Popen(w.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        fd = proc.stdout.fileno()
        time.sleep(SLOW_INPUT_GAP)  # the workload: input that comes late
        start = time.perf_counter()
        os.write(proc.stdin.fileno(), b"1\n")
        first = read_first_line(fd, proc)
        seconds = time.perf_counter() - start
        if not proc.stdin.closed:
            proc.stdin.close()
        lines = first.count(b"\n")
        while chunk := os.read(fd, 1 << 16):
            lines += chunk.count(b"\n")
        rc = wait_or_kill(proc)
    return seconds, rc, lines


def run_once(w, count_lines):
    """Runs `w` once with stdin from its input file; returns (seconds, exit code or
    None if it timed out, lines printed or None). Counting reads stdout through a pipe."""
    if w.first_result:
        return run_first_result(w)
    stdout = subprocess.PIPE if count_lines else subprocess.DEVNULL
    with open(w.input, "rb") as stdin:
        start = time.perf_counter()
        with subprocess.Popen(w.argv, stdin=stdin, stdout=stdout) as proc:
            lines = drain_counting_lines(proc.stdout) if count_lines else None
            rc = wait_or_kill(proc)
        return time.perf_counter() - start, rc, lines


def check(w, rc, lines):
    problem = None
    if rc is None:
        problem = f"timed out after {RUN_TIMEOUT} s"
    elif rc != 0:
        problem = f"exit status {rc}"
    elif lines is not None and lines != w.expect_lines:
        problem = f"printed {lines} lines, expected {w.expect_lines}"
    if problem:
        error = PpoolFailure if w.is_ppool else PeerFailure
        raise error(f"{w.name}: {problem} ({' '.join(map(str, w.argv))})")


def spot_check(w):
    """An untimed run counting every line printed; also warms caches."""
    _, rc, lines = run_once(w, count_lines=True)
    check(w, rc, lines)


def measure(w):
    """Seconds of one measurement: the median of `w.repeat` timed runs."""
    if w.unit in ("item", "byte"):
        # A short CPU-bound run right after a row of thousands of processes
        # pays for the kernel's clean-up of them (`ppool len` took 145 ms
        # there, 90 ms on the next run): an untimed run absorbs it.
        run_once(w, count_lines=False)
    times = []
    for _ in range(w.repeat):
        seconds, rc, lines = run_once(w, count_lines=w.pipe)
        check(w, rc, lines)
        times.append(seconds)
    return statistics.median(times)


def drop_failed_peer(workloads, w, error):
    print(f"bench: warning: dropping {error}", file=sys.stderr)
    workloads.remove(w)


def run_rounds(workloads, rounds):
    """Spot-checks every workload, then runs them interleaved, round by round,
    each round starting one workload further along so no row always goes first."""
    for w in list(workloads):
        try:
            spot_check(w)
        except PeerFailure as error:
            drop_failed_peer(workloads, w, error)
    samples = {w.name: [] for w in workloads}
    for r in range(rounds):
        print(f"bench: round {r + 1}/{rounds}", file=sys.stderr)
        shift = r % len(workloads)
        for w in workloads[shift:] + workloads[:shift]:
            try:
                samples[w.name].append(measure(w))
            except PeerFailure as error:
                drop_failed_peer(workloads, w, error)
                del samples[w.name]
    return samples


def peak_rss_mb(ppool, tools, inputs):
    """Peak RSS (largest process of the tree, MB) of `ppool len` over the RSS input,
    and how it was measured."""
    path, n = inputs["rss"]
    w = Workload("ppool len (rss)", [ppool, "imap", f"-j{SLOTS}", "-c", str(CHUNK),
                                     "--task", "len"], path, n, n, "item", is_ppool=True)
    with open(path, "rb") as stdin:
        if tools["time"]:
            with tempfile.NamedTemporaryFile("r") as out:
                proc = subprocess.Popen([tools["time"], "-f", "%M", "-o", out.name] + w.argv,
                                        stdin=stdin, stdout=subprocess.DEVNULL)
                check(w, wait_or_kill(proc), None)
                kb, method = out.read().split()[-1], "/usr/bin/time -f %M"
        else:
            # ru_maxrss is a high-water mark, so deltas of RUSAGE_CHILDREN cannot
            # isolate one run; wait4 reports this child (and its reaped children)
            # alone. The child starts as a copy of this Python process, though, and
            # the mark survives exec, so the figure is an upper bound.
            proc = subprocess.Popen(w.argv, stdin=stdin, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            check(w, proc.returncode, None)
            kb, method = usage.ru_maxrss, "os.wait4 ru_maxrss, an upper bound"
    return int(kb) / 1024, method, n


# --- reporting --------------------------------------------------------------

def summarize(workloads, samples):
    """Per-workload medians and derived per-item figures, keyed by name."""
    summary = {}
    for w in workloads:
        times = samples[w.name]
        median = statistics.median(times)
        row = {"median_s": median, "min_s": min(times), "max_s": max(times),
               "items": w.items, "unit": w.unit, "argv": [str(a) for a in w.argv]}
        if w.unit == "item":
            row["items_per_s"] = w.items / median
        elif w.unit == "byte":
            row["mib_per_s"] = w.items / median / (1 << 20)
        else:
            row["ms_per_" + w.unit] = median * 1000 / w.items
        summary[w.name] = row
    return summary


def ratios(summary):
    result = {}
    for label, num, den, how, _ in RATIOS:
        if num in summary and den in summary:
            a, b = summary[num]["median_s"], summary[den]["median_s"]
            result[label] = {"time": a / b, "rate": b / a, "efficiency": a / (SLOTS * b)}[how]
        else:
            result[label] = None
    return result


def per_item_text(row):
    if row["unit"] == "item":
        return f"{row['items_per_s'] / 1e6:8.3f} M items/s"
    if row["unit"] == "byte":
        return f"{row['mib_per_s']:8.1f} MiB/s"
    return f"{row['ms_per_' + row['unit']]:8.3f} ms/{row['unit']}"


BASELINE = "baseline "


def baseline_workloads(workloads, baseline, remote_ppool=None, remote_baseline=None):
    """The ppool workloads again, run by the baseline binary (and over ssh,
    by the baseline's remote copy: a worker speaks its own ppool's protocol)."""
    copies = []
    for w in workloads:
        if w.is_ppool:
            argv = [remote_baseline if remote_ppool and arg == remote_ppool else arg for arg in w.argv[1:]]
            copies.append(replace(w, name=BASELINE + w.name, argv=[baseline] + argv, is_ppool=False))
    return copies


def baseline_ratios(summary):
    """Each ppool workload's median time over the baseline's."""
    return {name: row["median_s"] / summary[BASELINE + name]["median_s"]
            for name, row in summary.items() if BASELINE + name in summary}


def print_report(header, summary, ratio_values, rss):
    print(header)
    print()
    print(f"{'workload':<21} {'items':>9} {'median ms':>11} {'min ms':>10} {'max ms':>10}   per item")
    for name, row in summary.items():
        print(f"{name:<21} {row['items']:>9} {row['median_s'] * 1000:>11.1f} "
              f"{row['min_s'] * 1000:>10.1f} {row['max_s'] * 1000:>10.1f}   {per_item_text(row)}")
    print()
    print("ratios (of medians)")
    for label, _, _, how, note in RATIOS:
        value = ratio_values[label]
        shown = "     n/a " if value is None else f"{value:8.2f} " if how == "efficiency" else f"{value:8.2f}x"
        print(f"  {label:<30} {shown}   ({note})")
    mb, method, n = rss
    print(f"  {'peak RSS ppool len':<30} {mb:8.1f} MB  (over {n} lines, largest process, {method})")
    against = baseline_ratios(summary)
    if against:
        print()
        print("against the baseline (time of this ppool / the baseline's; < 1 = faster now)")
        for name, value in against.items():
            print(f"  {name:<30} {value:8.2f}x")


def header_line(ppool, args, inputs, load_at_start):
    version = subprocess.run([ppool, "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{version} ({ppool}) | {os.cpu_count()} CPUs, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}\n"
            f"{SLOTS} slots | {inputs['command'][1]} command items, {inputs['task'][1]} task "
            f"items (chunks of {CHUNK}) | {args.rounds} rounds, scale {args.scale:g} | "
            f"1-min load {load_at_start:.2f} at start, {os.getloadavg()[0]:.2f} at end\n"
            f"cat rows: {inputs['cat'][0].stat().st_size} bytes | sha rows: {inputs['sha'][1]} items "
            f"(chunks of {SHA_CHUNK}) | first result: one line {SLOW_INPUT_GAP * 1000:g} ms after the start\n"
            + (f"ssh rows: -S {SLOTS}/{args.sshlogin} --ssh '{args.ssh}', {inputs['remote'][1]} true items"
               if args.sshlogin else "ssh rows: skipped (no --sshlogin)"))


def write_json(path, header, args, summary, ratio_values, rss):
    mb, method, n = rss
    doc = {"header": header, "rounds": args.rounds, "scale": args.scale, "slots": SLOTS,
           "workloads": summary, "ratios": ratio_values, "against_baseline": baseline_ratios(summary),
           "peak_rss": {"mb": mb, "method": method, "lines": n}}
    path.write_text(json.dumps(doc, indent=2) + "\n")


def main():
    args = parse_args()
    ppool = resolve_ppool(args.ppool)
    baseline = args.baseline.resolve() if args.baseline else None
    if baseline and not (baseline.is_file() and os.access(baseline, os.X_OK)):
        die(f"{baseline} is not an executable file")
    with tempfile.TemporaryDirectory(prefix="ppool-bench-") as tmp_name, \
            tempfile.TemporaryDirectory(prefix="ppool-bench-remote-") as remote_dir:
        tmp = Path(tmp_name)
        load_at_start = os.getloadavg()[0]
        tools = find_tools(args.quick, tmp)
        inputs = make_inputs(tmp, args.scale)
        remote, remote_baseline = setup_remote(args, ppool, baseline, Path(remote_dir))
        workloads = (command_workloads(ppool, tools, inputs)
                     + task_workloads(ppool, tools, inputs)
                     + cat_workloads(ppool, tools, inputs)
                     + cpu_workloads(ppool, tools, inputs)
                     + remote_workloads(ppool, remote, inputs)
                     + first_result_workloads(ppool, tools, scaled(FIRST_RESULT_REPEATS, args.scale))
                     + startup_workloads(ppool, tools, inputs,
                                         scaled(STARTUP_REPEATS, args.scale)))
        if baseline:
            workloads += baseline_workloads(workloads, baseline, remote and remote[2], remote_baseline)
        socks = (tmp / "serve.sock", tmp / "serve-init.sock", tmp / "serve-stream.sock")
        workloads += serve_workloads(ppool, inputs, socks, scaled(STARTUP_REPEATS, args.scale))
        start_servers(ppool, socks)
        try:
            samples = run_rounds(workloads, args.rounds)
            rss = peak_rss_mb(ppool, tools, inputs)
        except PpoolFailure as error:
            print(f"bench: ppool failed: {error}", file=sys.stderr)
            return 1
        finally:
            stop_servers(ppool, socks)
        header = header_line(ppool, args, inputs, load_at_start)
    summary = summarize(workloads, samples)
    ratio_values = ratios(summary)
    print_report(header, summary, ratio_values, rss)
    if args.json_out:
        write_json(args.json_out, header, args, summary, ratio_values, rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
