"""Discovery round 7: labels a researcher would keep (no phrase left hanging, no bare verb)."""

from __future__ import annotations

import numpy as np

from coder.suggest.discover import _Phrases, discover
from coder.suggest.wordclass import only

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
