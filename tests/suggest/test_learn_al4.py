"""bench_learning names the selection rule each retrain chose, so a dip in a curve can be traced."""

from __future__ import annotations

import re
import sys

from tests.conftest import ROOT


def test_bench_learning_names_each_retrains_rule(capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_learning

    assert bench_learning.main(["--data", "q14", "--steps", "10", "--every", "10", "--strategies", "queue"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "confirmed, F1" in line]
    assert len(lines) == 1
    # The rule is the one `suggest` stored; both kinds read as their settings.
    assert all(re.search(r"rule (thresholds \(median 0\.\d\d\)|ratio [\d.]+ floor [\d.]+)$", line) for line in lines)
