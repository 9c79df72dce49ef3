"""Discovery where answers carry several themes, and `--all` beside the themes a codebook has."""

from __future__ import annotations

import csv
import json
from itertools import combinations

import pytest

import coder.codebook.db as theme_ops
from coder.coding.codings import question_codebook
from coder.store import open_db
from coder.suggest import embeddings
from coder.suggest.discover import discover
from tests.invoke import run
from tests.suggest.test_discover_scratch import NOISE, THEMES, f1, town_survey


def two_themes_each() -> tuple[list[str], dict[str, set[int]], set[int]]:
    """Every answer joins two planted themes ("the library needs more books and potholes on every road")."""
    texts, themes = [], {}
    for a, b in combinations(THEMES, 2):
        for i in range(5):
            themes.setdefault(a, set()).add(len(texts))
            themes.setdefault(b, set()).add(len(texts))
            texts.append(f"{THEMES[a][i]} and {THEMES[b][(i + 2) % 5]}")
    noise = set(range(len(texts), len(texts) + len(NOISE)))
    return texts + NOISE, themes, noise


def check_overlapping(proposals, themes, noise):
    for name, theme in themes.items():
        # One cluster per answer could reach F1 0.4 at best: a quarter of the theme's answers, one pair.
        assert max(f1(p.member_ids, theme) for p in proposals) >= 0.8, name
    members = [m for p in proposals for m in p.member_ids]
    assert len(members) > len(set(members))  # answers belong to two proposals
    assert not noise & set(members)


def test_answers_with_two_themes_join_both_proposals():
    texts, themes, noise = two_themes_each()
    proposals = discover(texts)
    check_overlapping(proposals, themes, noise)
    for p in proposals:
        assert p.size == len(p.member_ids) == len(set(p.member_ids))
    assert discover(list(texts)) == proposals


def test_two_themes_each_in_sentence_vector_space(monkeypatch):
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.delenv("CODER_EMBEDDING_MODEL", raising=False)
    if not embeddings.available():
        pytest.skip("no sentence-embedding model installed")
    texts, themes, noise = two_themes_each()
    proposals = discover(texts, vectors=embeddings.embedder_for(texts).vectors(texts))
    # An even blend of two themes is a weak signal in meaning space: the bar chosen on real answers
    # (SEED_BAR) lets some planted themes through whole, and only as pairs the rest.
    whole = [n for n, theme in themes.items() if max(f1(p.member_ids, theme) for p in proposals) >= 0.8]
    assert len(whole) >= 2, whole
    members = [m for p in proposals for m in p.member_ids]
    assert len(members) > len(set(members)) and not noise & set(members)


@pytest.fixture
def coded(tmp_path):
    """The two-theme answers under a question whose codebook has a library theme, coded on its answers."""
    texts, themes, _ = two_themes_each()
    db_path = town_survey(tmp_path, texts, [{"id": "books", "label": "Library"}])
    with open(tmp_path / "codings.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["respondent_id", "question", "rank", "theme"])
        writer.writerows([f"R{i:03d}", "q1", 1, "books"] for i in sorted(themes["library"]))
    run("codings", "import", db_path, tmp_path / "codings.csv", "--coder", "gold")
    return db_path, themes


def test_all_leaves_out_proposals_that_repeat_an_existing_theme(coded):
    db_path, themes = coded
    result = run("discover", str(db_path), "-q", "q1", "--all", "--json", "--no-embeddings")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    library = {f"R{i:03d}" for i in themes["library"]}
    shown = [{m["respondent_id"] for m in p["members"]} for p in report["proposals"]]
    assert shown and all(f1(members, library) < 0.8 for members in shown)
    assert report["left_out"] and {r["theme"] for r in report["left_out"]} == {"books"}
    assert all(r["reason"].endswith("of its answers are coded with it") for r in report["left_out"])
    # The other planted themes are still proposed.
    for name in ("buses", "bins", "parking", "potholes"):
        theme = {f"R{i:03d}" for i in themes[name]}
        assert max(f1(members, theme) for members in shown) >= 0.8, name

    text = run("discover", str(db_path), "-q", "q1", "--all", "--no-embeddings")
    assert text.exit_code == 0
    assert f"{len(report['left_out'])} proposals repeat existing themes and are left out:" in text.output
    assert "theme books, " in text.output

    # Accepting all adds only what was shown.
    before = {t.id for t in theme_ops.read_codebook(open_db(db_path), "town").themes}
    result = run("discover", str(db_path), "-q", "q1", "--all", "--no-embeddings", "--accept", "all")
    assert result.exit_code == 0, result.output
    db = open_db(db_path)
    after = theme_ops.read_codebook(db, question_codebook(db, "q1")).themes
    assert before == {"books"} and len(after) == 1 + len(report["proposals"])
    assert sum(t.label.casefold().startswith("library") for t in after) == 1


def test_a_proposal_named_as_an_existing_theme_is_left_out(coded):
    db_path, themes = coded
    args = ["discover", str(db_path), "-q", "q1", "--all", "--json", "--no-embeddings"]
    potholes = {f"R{i:03d}" for i in themes["potholes"]}
    first = json.loads(run(*args).output)["proposals"]
    label = max(first, key=lambda p: f1({m["respondent_id"] for m in p["members"]}, potholes))["label"]
    db = open_db(db_path)
    theme = theme_ops.add_theme(db, question_codebook(db, "q1"), label.upper(), coder="test")  # no answer coded
    db.close()
    report = json.loads(run(*args).output)
    assert label not in [p["label"] for p in report["proposals"]]
    assert {"label": label, "theme": theme.id, "reason": "same label"}.items() <= next(
        r for r in report["left_out"] if r["theme"] == theme.id
    ).items()


def test_bench_discover_dev_mode(tmp_path, capsys):
    """`--dev` reads ANES's layout (texts and k-hot codes) and prints discovery beside KMeans."""
    import sys

    from tests.conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_discover

    texts, themes, _ = two_themes_each()
    folder = tmp_path / "traintest_data"
    folder.mkdir()
    with open(folder / "dataset1_Xtrain.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["caseID", "verbatim"], *([i, t] for i, t in enumerate(texts))])
    with open(folder / "dataset1_ytrain.csv", "w", newline="", encoding="utf-8") as handle:
        names = list(themes)
        csv.writer(handle).writerows([names, *([int(i in themes[n]) for n in names] for i in range(len(texts)))])
    assert bench_discover.main(["--dev", str(tmp_path), "--datasets", "1", "--seeds", "0", "--no-embeddings"]) == 0
    output = capsys.readouterr().out
    assert "corpus q14" in output and "anes 1 seed 0" in output
    assert "discover  5/5 " in output.split("anes 1 seed 0")[1].splitlines()[0]
