"""End-to-end test of the benchmark script, bench/run.py, at a tiny scale.

It does not look at any timing: it checks that the benchmark runs against the
binary named by PPOOL_BIN, exits 0, prints every ratio line, and writes its
--json-out file. Peers that are not installed are skipped (--quick).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

RUN_PY = Path(__file__).resolve().parents[2] / "bench" / "run.py"
RATIO_LABELS = [
    "ppool-true / floor-true",
    "ppool-true / xargs-true",
    "ppool-echo / floor-echo",
    "parallel-true / ppool-true",
    "ppool-len / awk-len",
    "ppool-len / python-pool-len",
    "ppool-len / len-floor",
    "ppool-len json / text",
    "plugin-len / builtin-len",
    "ppool-cat / cat",
    "parallel efficiency sha",
    "first-result ppool / xargs",
    "startup ppool / xargs",
    "submit+get / apply",
    "submit+get / apply, 0.1 s initializer",
    "10 imap --server / 10 imap, 1 s initializer",
    "ssh-true / local-true",
    "ssh-len / local-len",
]


class BenchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ppool = os.environ.get("PPOOL_BIN")
        if not ppool:
            raise AssertionError("PPOOL_BIN is not set; run as PPOOL_BIN=build/ppool "
                                 "python3 tests/e2e/test_bench.py")
        cls.tmp = tempfile.TemporaryDirectory(prefix="ppool-test-bench-")
        cls.json_out = Path(cls.tmp.name) / "bench.json"
        cls.proc = subprocess.run(
            # The same binary as its own baseline: the rows exist, whatever the times.
            [sys.executable, RUN_PY, "--ppool", os.path.abspath(ppool), "--baseline", os.path.abspath(ppool),
             "--rounds", "1",
             "--scale", "0.002", "--quick", "--json-out", cls.json_out],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if not k.startswith("PPOOL_BENCH_")})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exits_zero(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)

    def test_prints_every_ratio(self):
        for label in RATIO_LABELS:
            self.assertIn(label, self.proc.stdout)
        self.assertIn("peak RSS", self.proc.stdout)

    def test_prints_ppool_rows(self):
        for row in ("ppool true", "ppool echo", "ppool len", "ppool len --json", "startup ppool",
                    "ppool cat", "ppool sha -j1", "ppool sha -j2", "first result ppool"):
            self.assertRegex(self.proc.stdout, rf"(?m)^{row}\s+\d")

    def test_prints_the_floor_and_peer_rows_of_the_new_ratios(self):
        # cc, cat and xargs are always there where ppool builds (build-essential, coreutils, findutils).
        for row in ("len floor", "cat", "first result xargs"):
            self.assertRegex(self.proc.stdout, rf"(?m)^{row}\s+\d")
        doc = json.loads(self.json_out.read_text())
        for label in ("ppool-len / len-floor", "ppool-cat / cat", "parallel efficiency sha",
                      "first-result ppool / xargs"):
            self.assertGreater(doc["ratios"][label], 0, label)
        self.assertGreater(doc["workloads"]["ppool cat"]["mib_per_s"], 0)

    def test_the_floor_is_given_the_resolved_path(self):
        # No PATH search in the floor: its `true` is an absolute path, also in the row's JSON.
        doc = json.loads(self.json_out.read_text())
        self.assertTrue(os.path.isabs(doc["workloads"]["floor true"]["argv"][-1]))
        self.assertEqual(doc["workloads"]["ppool true"]["argv"][-1], "true")

    def test_compares_every_ppool_row_with_the_baseline(self):
        self.assertIn("against the baseline", self.proc.stdout)
        doc = json.loads(self.json_out.read_text())
        for row in ("ppool true", "ppool len", "ppool len workflow", "startup ppool", "ppool cat",
                    "first result ppool"):
            self.assertRegex(self.proc.stdout, rf"(?m)^baseline {row}\s+\d")
            self.assertGreater(doc["against_baseline"][row], 0)

    def test_skips_the_ssh_rows_without_a_login_and_says_why(self):
        self.assertIn("skipping the ssh rows: no --sshlogin", self.proc.stderr)
        doc = json.loads(self.json_out.read_text())
        self.assertIsNone(doc["ratios"]["ssh-true / local-true"])
        self.assertNotIn("ssh true", doc["workloads"])

    def test_writes_json(self):
        doc = json.loads(self.json_out.read_text())
        self.assertEqual(set(doc["ratios"]), set(RATIO_LABELS))
        self.assertGreater(doc["workloads"]["ppool len"]["items_per_s"], 0)
        self.assertGreater(doc["peak_rss"]["mb"], 0)


if __name__ == "__main__":
    unittest.main()
