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


def test_bench_named_runs(tmp_path, capsys):
    """On the corpus's q14 priorities written out as ArgKP's files: one topic, its themes as key points."""
    import csv

    import bench_named
    import yaml

    with open(ROOT / "corpus" / "local-digital-2014" / "responses.csv", newline="", encoding="utf-8") as handle:
        texts = {
            (r["respondent_id"], str(n)): r[f"q14_priority_{n}"] for r in csv.DictReader(handle) for n in (1, 2, 3)
        }
    with open(ROOT / "corpus" / "local-digital-2014" / "codings.csv", newline="", encoding="utf-8") as handle:
        gold = [
            r for r in csv.DictReader(handle) if r["question"] == "q14" and texts.get((r["respondent_id"], r["rank"]))
        ]
    labels = [t["label"] for t in yaml.safe_load((ROOT / "codebooks" / "priorities-2014.yaml").read_text())["themes"]]
    folder = tmp_path / "kpm_data"
    folder.mkdir()
    topic = "Digital priorities"

    def write(name, header, rows):
        with open(folder / f"{name}_train.csv", "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *rows])

    cells = sorted({(r["respondent_id"], r["rank"]) for r in gold})
    write(
        "arguments", ["arg_id", "argument", "topic", "stance"], [[f"{r}-{k}", texts[r, k], topic, 1] for r, k in cells]
    )
    write(
        "key_points",
        ["key_point_id", "key_point", "topic", "stance"],
        [[f"kp{i}", t, topic, 1] for i, t in enumerate(labels)],
    )
    kp = {t.casefold(): f"kp{i}" for i, t in enumerate(labels)}
    write(
        "labels",
        ["arg_id", "key_point_id", "label"],
        [[f"{r['respondent_id']}-{r['rank']}", kp[r["theme"].casefold()], 1] for r in gold],
    )
    assert bench_named.main(["--stance", str(tmp_path), "--fractions", "0,0.5", "--seeds", "0", "--no-embeddings"]) == 0
    output = capsys.readouterr().out
    assert f"1 topics, {len(cells)} coded arguments, {len(labels)} key points" in output
    zero, half = (line.split() for line in output.splitlines()[2:4])
    assert zero[0] == "0%" and half[0] == "50%" and float(half[1]) > float(zero[1]) > 0.5
