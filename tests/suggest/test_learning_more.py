"""Issue 11, learning from confirmations: measuring few confirmations and over-selection on ANES-shaped data."""

from __future__ import annotations

import json
import sys

import pytest

from tests.conftest import ROOT, q14_gold_items, write_csv


@pytest.fixture(scope="module")
def bench_anes():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_anes

    return bench_anes


def fake_anes(folder, items, n: int = 3) -> None:
    """An ANES-shaped repository (traintest_data/datasetN_{X,y}{train,test}.csv) of the corpus's coded q14 cells."""
    themes = sorted({t for _, ts in items for t in ts})
    data = folder / "traintest_data"
    data.mkdir(parents=True)
    for part, rows in (("train", items[:-20]), ("test", items[-20:])):
        write_csv(
            data / f"dataset{n}_X{part}.csv", [["caseID", "verbatim"]] + [[str(i), t] for i, (t, _) in enumerate(rows)]
        )
        write_csv(
            data / f"dataset{n}_y{part}.csv", [themes] + [["1" if t in ts else "0" for t in themes] for _, ts in rows]
        )


def test_over_selection_counts_one_code_answers_given_more(bench_anes):
    predicted = [{"1", "2"}, {"1"}, {"3"}, {"1", "2"}, set()]
    gold = [{"1"}, {"1"}, {"2"}, {"1", "2"}, {"4"}]
    assert bench_anes.over_selected(predicted, gold) == pytest.approx(1 / 4)  # answers 0-2 and 4 have one code
    assert bench_anes.over_selected([{"1"}], [{"1", "2"}]) == 0.0


def test_bench_anes_confirms_only_the_asked_number(bench_anes, tmp_path, capsys):
    _, items = q14_gold_items()
    items = [(t, sorted(ts)) for t, ts in items if t.strip()][:120]
    fake_anes(tmp_path, items)
    assert bench_anes.main(["--repo", str(tmp_path), "--datasets", "3", "--confirmed", "30", "--json"]) == 0
    output = capsys.readouterr().out
    assert "only 30 train answers confirmed" in output and " over " in output
    [result] = json.loads(output[output.index("\n[") + 1 :])
    assert result["train"] == 30 and result["test"] == 20 and 0.0 <= result["over"] <= 1.0
    assert bench_anes.run_dataset(tmp_path, 3, confirmed=30)["coder"] == result["coder"]  # the same 30 each time


def test_bench_learning_says_what_kind_of_answers_each_order_offered(capsys):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_learning

    assert bench_learning.main(["--data", "q14", "--steps", "20", "--every", "10", "--json"]) == 0
    output = capsys.readouterr().out
    assert "answers confirmed by the last step: queue " in output and "; random " in output
    [result] = json.loads(output[output.index("\n[") + 1 :])
    for strategy in ("queue", "random"):
        codes, words = result["picks"][strategy]
        assert 1.0 <= codes <= 3.0 and words >= 1.0  # q14 cells carry one to three themes
