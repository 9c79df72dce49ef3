"""Discovery round 7: labels a researcher would keep (no phrase left hanging, no bare verb); answers
join a proposal through any of their clauses."""

from __future__ import annotations

import numpy as np

from coder.suggest.discover import _clauses, _grown, _Phrases, discover
from coder.suggest.wordclass import only
from tests.conftest import q14_gold_items

# Corpus answers (q6, q16) behind round 6's weak labels "Buy (4)" and "Bens system is nearly (3)".
BUY_IN = [
    "Buy in from all parts of the organisation especially elected members as they drive the political agenda.",
    "Buy-in across the organisation and the willingness to invest time and money will make long-term savings.",
    "buy-in and commitment from senior civil servants and ministers",
    "Funding. Invest to save money up front",
]
LEGACY = "legacy systems are the biggest problem - our revs & bens system is nearly 20 yrs old"


def answers(db, question: str) -> list[str]:
    rows = db.execute("SELECT text FROM answers WHERE question_id = ? AND is_answer = 1 ORDER BY id", [question])
    return [text for (text,) in rows.fetchall()]


def weak_phrases(texts: list[str]) -> set[str]:
    phrases = _Phrases(texts, np.ones(len(texts)), frozenset())
    return {" ".join(k) for k, weak in zip(phrases.keys, phrases.weak) if weak}


def test_word_classes_come_from_the_lookup_data():
    assert only("nearly", "adv") and only("improve", "verb")
    assert not only("early", "adv") and not only("buy", "verb")  # also an adjective; also a noun
    assert not only("unheardofword", "adv")


def test_hanging_phrases_bare_verbs_and_verb_particles_are_weak():
    weak = weak_phrases([*BUY_IN, LEGACY])
    # Ends on a word that can only be an adverb; goes on into "in" in all its uses; only a verb.
    assert {"bens system be nearly", "system be nearly", "buy", "invest"} <= weak
    assert not {"legacy system", "elect member", "senior civil servant", "bens system"} & weak


def test_corpus_labels_are_phrases_a_researcher_would_keep(gold_db, model_on):
    for question in ("q6", "q16"):
        texts = answers(gold_db, question)
        labels = [p.label for p in discover(texts, vectors=model_on.encode(texts))]
        assert labels, question
        for label in labels:
            words = label.lower().split()
            assert not only(words[-1], "adv"), label
            assert not (len(words) == 1 and only(words[0], "verb")), label
        assert "Buy" not in labels and "Bens system is nearly" not in labels


# Corpus q16 answers: one of several sentences, one whose "and" joins two nouns of one point.
SEVERAL = (
    "Most of the 'digital' talk is about the front end and ignores the heavy lifting performed by back office "
    "systems. But changing the front end will only occasionally lead to service transformation."
)
ONE = "legacy systems and processes"


def test_answers_divide_into_clauses_at_sentence_ends_and_connectives():
    seen: list[str] = []

    def encode(pieces):
        seen.extend(pieces)
        return np.eye(len(pieces), 4)

    vectors, owners = _clauses([ONE, SEVERAL, "Yes; but why"], encode, np.zeros(4))
    assert seen == [
        "Most of the 'digital' talk is about the front end and ignores the heavy lifting performed by back office systems.",
        "changing the front end will only occasionally lead to service transformation.",
    ]
    assert list(owners) == [1, 1] and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    assert _clauses([ONE], encode, np.zeros(4)) is None and _clauses([SEVERAL], None, np.zeros(4)) is None


def test_an_answer_joins_a_proposal_through_its_closest_clause():
    # Ten members around one direction; an answer of two points sits between it and another, and one
    # of its clauses makes this point.
    rng = np.random.default_rng(0)
    X = np.vstack([np.eye(4)[0] + rng.normal(0, 0.1, (10, 4)), [0.7, 0.7, 0, 0], [0, 0, 1, 0]])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    weights = np.ones(len(X))
    assert 10 not in _grown(np.arange(10), X, weights)
    units = (np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]), np.array([10, 10]))
    assert set(_grown(np.arange(10), X, weights, units)) == set(range(11))


def test_clauses_let_answers_of_two_points_join_more_proposals(model_on):
    # Corpus q14 priorities, one answer in three run together with the next ("A. B."): two points each.
    _, items = q14_gold_items()
    texts = [
        t.rstrip(".") + ". " + items[i + 1][0] if i % 3 == 0 and i + 1 < len(items) else t
        for i, (t, _) in enumerate(items)
    ]
    texts = [t for i, t in enumerate(texts) if i % 3 != 1]
    vectors = model_on.encode(texts)
    whole = discover(texts, vectors=vectors)
    clauses = discover(texts, vectors=vectors, encode=model_on.encode)
    assert sum(len(p.member_ids) for p in clauses) > sum(len(p.member_ids) for p in whole)
    assert len(clauses) == len(whole)
