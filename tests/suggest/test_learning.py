"""The learner: more confirmations teach more, themes do not compete, few examples still help."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from coder.suggest.learn import (
    OWN_THRESHOLD,
    THRESHOLD_PRIOR,
    THRESHOLD_STEADY,
    Selection,
    ThemeLearner,
    Thresholds,
    picked_f1,
    sample_f1,
    zero_shot_say,
)
from coder.suggest.model import Answer, _selection_details, _steadied, fit_text_model, text_suggestions
from coder.suggest.text import lemmatise
from tests.conftest import q14_gold_items


@pytest.fixture(scope="module")
def blind():
    """q14 with opaque labels and no keywords: only confirmed answers can teach the themes."""
    codebook, items = q14_gold_items()
    codebook = replace(
        codebook,
        themes=tuple(
            replace(t, label=f"Theme {i}", description="", keywords=()) for i, t in enumerate(codebook.themes)
        ),
    )
    texts = [t for t, _ in items]
    return codebook, items, dict(zip(texts, lemmatise(texts)))


def run(codebook, items, lemmas, confirmed, test):
    answers = [Answer(i, t, sorted(g) if i in confirmed else []) for i, (t, g) in enumerate(items)]
    model = fit_text_model(codebook, answers, lemmas)
    results = text_suggestions(model, [items[i][0] for i in test], lemmas)
    return model, results


def selected(results):
    return [{s.theme_id for s, chosen in r if chosen} for r in results]


def test_more_confirmations_teach_more(blind):
    codebook, items, lemmas = blind
    order = np.random.default_rng(0).permutation(len(items)).tolist()
    test = order[: len(items) // 4]
    f1 = []
    for share in (0.1, 0.4, 0.75):
        confirmed = set(order[len(test) : len(test) + int(share * len(items))])
        _, results = run(codebook, items, lemmas, confirmed, test)
        f1.append(sample_f1(selected(results), [items[i][1] for i in test]))
    assert f1[0] < f1[1] <= f1[2] + 0.02 and f1[2] > f1[0] + 0.1


def test_every_real_answer_gets_a_theme(blind):
    codebook, items, lemmas = blind
    confirmed = set(range(0, len(items), 2))
    test = [i for i in range(len(items)) if i not in confirmed]
    model, results = run(codebook, items, lemmas, confirmed, test)
    assert model.classifier is not None and model.selection.calibrated_on == len(confirmed)
    assert all(any(chosen for _, chosen in r) for r in results)


def test_two_theme_answers_get_both_once_learnt(blind):
    """One-vs-rest: a second theme is not crowded out by the first."""
    codebook, items, lemmas = blind
    multi = [i for i, (_, g) in enumerate(items) if len(g) >= 2]
    assert multi
    confirmed = set(range(len(items))) - set(multi)
    _, results = run(codebook, items, lemmas, confirmed, multi)
    both = sum(items[i][1] <= chosen for i, chosen in zip(multi, selected(results)))
    assert both >= 1


def test_few_shot_themes_benefit(blind):
    """Three confirmed answers per theme already beat the codebook alone."""
    codebook, items, lemmas = blind
    seen: dict[str, int] = {}
    confirmed = set()
    for i, (_, gold) in enumerate(items):
        theme = sorted(gold)[0]
        if len(gold) == 1 and seen.get(theme, 0) < 3:
            seen[theme] = seen.get(theme, 0) + 1
            confirmed.add(i)
    test = [i for i in range(len(items)) if i not in confirmed]
    gold = [items[i][1] for i in test]
    _, before = run(codebook, items, lemmas, set(), test)
    _, after = run(codebook, items, lemmas, confirmed, test)
    top = lambda results: np.mean([bool(r) and r[0][0].theme_id in g for r, g in zip(results, gold)])  # noqa: E731
    assert top(after) > top(before) + 0.3


def test_thresholds_come_from_the_scores_per_theme():
    """A theme with many examples gets (nearly) its own threshold; one with few stays near the global one."""
    rng = np.random.default_rng(0)
    n = 200
    Y = np.zeros((n, 3), dtype=np.int8)
    Y[np.arange(n), rng.integers(0, 2, n)] = 1
    scores = np.where(Y > 0, 0.9, 0.1).astype(np.float32)
    # Theme 1 is scored low even where it is right: only its own threshold (under 0.4) finds it.
    scores[:, 1] = np.where(Y[:, 1] > 0, 0.35, 0.05)
    Y[:3, 2] = 1  # too few to move far from the global threshold, whatever they say
    scores[:3, 2] = 0.9
    scores[3:, 2] = 0.6
    rule = Thresholds.fit(scores, Y)
    assert rule.values[1] <= 0.35 < rule.values[0] + 0.5 and OWN_THRESHOLD <= 3
    assert abs(rule.values[2] - rule.values[0]) <= 0.9 * 3 / (3 + THRESHOLD_PRIOR)
    assert rule.calibrated_on == n
    assert set(rule.choose(scores[0])) == set(np.flatnonzero(Y[0]))


def test_thresholds_weigh_a_theme_by_whole_answers():
    """Adding a third theme at 0.4 to 20 answers (F1 0.8 -> 1 each) would also add it, wrongly, to 15
    one-theme answers (1 -> 0.67 each): the theme's own F1 says add it, the answers' F1 says not."""
    groups = [({0}, 0.05, 0.05, 15), ({0}, 0.05, 0.4, 15), ({0, 2}, 0.05, 0.7, 30), ({0, 1, 2}, 0.9, 0.4, 20)]
    Y, scores = [], []
    for gold, theme1, theme2, count in groups:
        Y += [[int(j in gold) for j in range(3)]] * count
        scores += [[0.95, theme1, theme2]] * count
    Y, scores = np.array(Y, dtype=np.int8), np.array(scores, dtype=np.float32)
    rule = Thresholds.fit(scores, Y)
    assert rule.values[2] > 0.4
    assert picked_f1(rule.picked(scores), Y > 0) == pytest.approx(1 - 20 * 0.2 / len(Y))


def test_thresholds_shrink_towards_the_stored_run_by_its_share():
    """Ten answers after a hundred move a threshold by under half of what they alone would say."""
    fitted = Thresholds(np.array([0.2, 0.6, 0.3], dtype=np.float32), calibrated_on=110)
    steady = fitted.shrunk(np.array([0.4, np.nan, 0.3]), 100, 0.5)
    w = 0.5 * 100 / 110
    assert steady.values == pytest.approx([w * 0.4 + (1 - w) * 0.2, 0.6, 0.3])
    assert steady.calibrated_on == 110
    assert fitted.shrunk(np.array([0.4, 0.4, 0.4]), 0, 0.5) is fitted  # no stored run: as fitted


def test_a_retrain_steadies_the_thresholds_the_stored_run_chose():
    """The per-theme thresholds stored in suggestion_runs.details (as JSON) pull the next fit's towards them;
    after a run of the ratio rule, or a theme new to the codebook, the fit stands."""
    ids = ["a", "b", "c"]
    stored = Thresholds(np.array([0.4, 0.5, 0.6], dtype=np.float32), calibrated_on=100)
    previous = json.loads(json.dumps({"selection": _selection_details(stored, ids[:2])}))
    fitted = Thresholds(np.array([0.2, 0.5, 0.1], dtype=np.float32), calibrated_on=100)
    steady = _steadied(fitted, ids, previous)
    # Nothing new since the stored run: THRESHOLD_STEADY of the way to its thresholds.
    assert steady.values == pytest.approx([0.2 + THRESHOLD_STEADY * 0.2, 0.5, 0.1], abs=1e-4)
    ratio = {"selection": _selection_details(Selection(0.8, 0.1, 100))}
    assert _steadied(fitted, ids, ratio) is fitted and _steadied(fitted, ids, None) is fitted


def test_zero_shot_say_falls_to_nothing():
    say = zero_shot_say(np.array([0, 5, 1000], dtype=np.float32))
    assert say[0] == 1 and 0 < say[1] < 1 and say[2] == 0


def test_repeated_answers_are_merged_without_changing_the_fit():
    """Identical rows become one weighted row: the same models as training on every copy."""
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    base = sp.random(30, 20, density=0.3, random_state=1, format="csr")
    pick = rng.integers(0, 30, 300)
    X, Y = base[pick], np.zeros((300, 3), dtype=np.int8)
    Y[np.arange(300), pick % 3] = 1
    vectors = rng.normal(size=(30, 8))[pick]
    merged = ThemeLearner.fit(X, Y, vectors)
    assert merged.counts.tolist() == Y.sum(axis=0).tolist()
    margins = merged.margins(X, vectors)
    assert (margins.argmax(axis=1) == pick % 3).mean() > 0.9


def test_rules_on_whole_matrices_match_row_by_row():
    """`picked` (what calibration scores) decides exactly as `choose` (what suggestions store)."""
    from coder.suggest.learn import Selection, picked_f1

    rng = np.random.default_rng(2)
    scores = (rng.random((200, 9)) ** 3).astype(np.float32)
    scores[:4] = 0  # nothing positive: no theme
    Y = rng.random((200, 9)) < 0.15
    gold = [set(np.flatnonzero(row).tolist()) for row in Y]
    for rule in (Selection(0.7, 0.2), Thresholds(rng.random(9).astype(np.float32))):
        rows = [set(rule.choose(row)) for row in scores]
        assert [set(np.flatnonzero(row).tolist()) for row in rule.picked(scores)] == rows
        assert picked_f1(rule.picked(scores), Y) == pytest.approx(sample_f1(rows, gold))


def test_probability_scale_keeps_each_answers_ranking():
    """The scale reads a score's distance below its answer's top: the ranking within an answer survives."""
    from coder.suggest.learn import Platt

    rng = np.random.default_rng(3)
    scores = rng.random((300, 6)).astype(np.float32) * rng.random((300, 1)).astype(np.float32)
    Y = np.zeros(scores.shape, dtype=np.int8)
    Y[np.arange(300), scores.argmax(axis=1)] = 1  # the top theme is right, whatever its raw level
    scale = Platt.fit(scores, Y)
    p = scale(scores)
    assert scale.c > 0 and (p.argmax(axis=1) == scores.argmax(axis=1)).all()
    assert p[np.arange(300), scores.argmax(axis=1)].mean() > 0.5 > p[Y == 0].mean()
