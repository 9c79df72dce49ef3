"""Discovery round 6: small questions (100-150 answers), where a theme is a handful of answers."""

from __future__ import annotations

import numpy as np

import coder.suggest.discover as discovery
from coder.suggest.discover import _grown, discover, theme_limit
from tests.conftest import q14_gold_items


def f1(members, theme) -> float:
    members = set(members)
    return 2 * len(members & theme) / (len(members) + len(theme))


def q14():
    """Corpus q14's coded cells (a small question) and each gold theme with >= 5 of them."""
    _, items = q14_gold_items()
    texts = [text for text, _ in items]
    themes: dict[str, set[int]] = {}
    for i, (_, found) in enumerate(items):
        for theme in found:
            themes.setdefault(theme, set()).add(i)
    return texts, {t: m for t, m in themes.items() if len(m) >= 5}


def test_a_small_question_has_room_for_sixteen_proposals():
    assert theme_limit(100) == theme_limit(150) == 16
    assert (theme_limit(400), theme_limit(20_000)) == (20, 30)


def test_a_proposal_takes_in_the_answers_that_sit_among_its_own():
    # Ten members around one direction, their farthest a little off it; an answer as close as most
    # of them joins, one about something else does not.
    rng = np.random.default_rng(0)
    X = np.vstack([np.eye(4)[0] + rng.normal(0, 0.1, (10, 4)), [1, 0.05, 0, 0], [0.4, 1, 0, 0], [0, 0, 1, 0]])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    grown = _grown(np.arange(10), X, np.ones(len(X)))
    assert set(grown) == set(range(11))


def test_small_questions_in_meaning_space_recover_more_gold_themes(model_on, monkeypatch):
    texts, themes = q14()
    assert len(texts) <= discovery.SMALL
    vectors = model_on.encode(texts)

    def recovered(proposals) -> int:
        return sum(max(f1(p.member_ids, theme) for p in proposals) >= 0.4 for theme in themes.values())

    proposals = discover(texts, vectors=vectors)
    assert len(proposals) <= 16
    members = sum(len(p.member_ids) for p in proposals)
    monkeypatch.setattr(discovery, "_grown", lambda rows, X, weights, units=None: rows)
    ungrown = discover(texts, vectors=vectors)
    assert members > sum(len(p.member_ids) for p in ungrown)  # answers join more proposals
    monkeypatch.setattr(discovery, "SMALL", 0)  # and as a large question: round 5's bar
    before = discover(texts, vectors=vectors)
    assert recovered(proposals) >= max(recovered(ungrown), recovered(before))
    assert recovered(proposals) >= 10, recovered(proposals)
