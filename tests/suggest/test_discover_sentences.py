"""The development measure's multi-theme samples (`bench_discover.py --dev --pairs`): answers that carry two
themes, as ThemeFinder's do, built from single-theme ANES answers."""

import csv
import sys

from tests.conftest import ROOT


def _bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_discover

    return bench_discover


def test_paired_joins_half_the_answers_and_codes_them_with_both():
    pairs = [(f"answer {i}.", [f"code{i % 7}"]) for i in range(600)]
    texts, themes = _bench().paired(pairs, seed=3)
    assert len(texts) == 300
    joined = [i for i, t in enumerate(texts) if t.count("answer") == 2]
    assert len(joined) == 150
    for i in joined:
        codes = {c for c, members in themes.items() if i in members}
        numbers = [int(w.rstrip(".")) for w in texts[i].split() if w.rstrip(".").isdigit()]
        assert codes == {f"code{n % 7}" for n in numbers}
    assert texts[joined[0]].count(".") == 2  # "a. b.": the first answer's full stop is not doubled
    assert _bench().paired(pairs, seed=3) == (texts, themes)  # a seed is a fixed sample


def test_paired_on_a_small_set_uses_what_there_is():
    pairs = [(f"answer {i}", ["x"]) for i in range(30)]
    texts, themes = _bench().paired(pairs, seed=0)
    assert len(texts) == 20 and themes == {"x": set(range(20))}


def test_dev_mode_prints_the_paired_samples(tmp_path, capsys):
    folder = tmp_path / "traintest_data"
    folder.mkdir()
    texts = [f"{word} is what matters" for word in ("jobs", "taxes", "war", "health") for _ in range(15)]
    with open(folder / "dataset1_Xtrain.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["caseID", "verbatim"], *([i, t] for i, t in enumerate(texts))])
    with open(folder / "dataset1_ytrain.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [["a", "b", "c", "d"], *([int(i // 15 == j) for j in range(4)] for i in range(60))]
        )
    args = ["--dev", str(tmp_path), "--datasets", "1", "--seeds", "0", "--no-embeddings", "--pairs"]
    assert _bench().main(args) == 0
    output = capsys.readouterr().out
    assert "anes 1 seed 0" in output and "anes 1 pairs 0" in output
