"""Discovery round 5: which candidates become proposals (a theme inside a looser one; how many there may be)."""

from __future__ import annotations

import json

import numpy as np

from coder.suggest.discover import _select, discover, theme_limit
from tests.invoke import run
from tests.suggest.test_discover_scratch import themes_of, town_survey

# Sixteen planted themes of 25 answers each (400 answers): more than a fixed 12 proposals could hold.
PAIRS = [
    ("ferry", "timetable"),
    ("pothole", "repair"),
    ("library", "book"),
    ("bin", "collection"),
    ("parking", "permit"),
    ("swimming", "pool"),
    ("street", "lighting"),
    ("graffiti", "wall"),
    ("market", "stall"),
    ("cycle", "lane"),
    ("council", "tax"),
    ("dog", "fouling"),
    ("youth", "club"),
    ("care", "home"),
    ("flood", "defence"),
    ("tree", "planting"),
]
OPENINGS = ["", "Honestly, ", "I think ", "Please sort out ", "Mostly "]
FORMS = ["{a} {b}", "the {a} and the {b}", "{b} for the {a}", "fix the {a} {b}", "{a} {b} please"]


def planted() -> tuple[list[str], list[set[int]]]:
    texts, themes = [], []
    for a, b in PAIRS:
        theme = set()
        for opening in OPENINGS:
            for form in FORMS:
                theme.add(len(texts))
                texts.append(opening + form.format(a=a, b=b))
        themes.append(theme)
    return texts, themes


def f1(members, theme) -> float:
    members = set(members)
    return 2 * len(members & theme) / (len(members) + len(theme))


def test_more_answers_may_hold_more_than_twelve_proposals():
    texts, themes = planted()
    proposals = discover(texts)
    assert 12 < len(proposals) <= theme_limit(len(texts)) == 20
    for theme in themes:
        assert max(f1(p.member_ids, theme) for p in proposals) >= 0.8
    # The caller's limit still holds, and the bounds do on small and huge questions.
    assert len(discover(texts, max_themes=5)) == 5
    assert (theme_limit(100), theme_limit(20_000)) == (16, 30)


def test_discover_accepts_more_than_twelve_by_default(tmp_path):
    texts, themes = planted()
    db = town_survey(tmp_path, texts)
    report = json.loads(run("discover", db, "-q", "q1", "--json", "--no-embeddings").output)
    assert 12 < len(report["proposals"]) <= 20
    run("discover", db, "-q", "q1", "--no-embeddings", "--accept", "all")
    assert len(themes_of(db)) == len(report["proposals"])  # the same proposals, in one transaction


def test_a_theme_inside_a_looser_one_is_chosen_when_it_fits_its_answers_better():
    # Three tight arguments of 10 answers each; together they make a loose 30-answer candidate (the
    # question restated), which is chosen first, being largest. Each argument lies wholly inside it.
    rng = np.random.default_rng(0)
    X = np.repeat(np.eye(3), 10, axis=0) + rng.normal(0, 0.05, (30, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    weights = np.ones(30)
    blob, first, second = np.arange(30), np.arange(10), np.arange(10, 20)
    chosen = _select([blob, first, second, blob.copy()], X, weights, max_themes=12, bar=0.15)
    assert [list(c) for c in chosen] == [list(blob), list(first), list(second)]  # the copy of the blob is not
    # A candidate that fits the blob's answers no better than the blob does stays out.
    loose = np.concatenate([np.arange(0, 5), np.arange(10, 15), np.arange(20, 25)])
    assert len(_select([blob, loose], X, weights, max_themes=12, bar=0.15)) == 1
