"""The benchmarks still run (tiny sizes): they are measured by hand, so nothing else would notice a break."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.mark.parametrize("embeddings", ["0", "1"])
def test_bench_learn_runs(embeddings, monkeypatch, capsys):
    import bench_learn

    monkeypatch.setenv("CODER_EMBEDDINGS", embeddings)
    assert bench_learn.main(["--n", "300"]) == 0
    output = capsys.readouterr().out
    assert "classifier fit on 300 confirmed answers" in output
    assert "answer vectors" in output or "no sentence-embedding model" in output


def test_bench_suggest_runs(tmp_path, capsys):
    import bench_suggest

    assert bench_suggest.main(["--n", "200", "--workdir", str(tmp_path), "--json"]) == 0
    output = capsys.readouterr().out
    assert "ratio (import + suggest) / floor" in output and "sentence embeddings" in output
