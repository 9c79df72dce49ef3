"""Discovery round 9: a clause label never begins with a contracted stop word ("It's not just about
banning ads", "Don't promise more than you can deliver")."""

from __future__ import annotations

import numpy as np

from coder.suggest.discover import _clause_label, _grammar, _uncontracted


def _never(texts):
    raise AssertionError("no clause qualifies, so nothing is encoded")


def test_contractions_read_as_the_words_they_shorten():
    grammar = _grammar()
    for word, base in [("It's", "it"), ("don't", "do"), ("Won't", "will"), ("can\u2019t", "can"), ("I'm", "i")]:
        assert _uncontracted(word) == base and base in grammar
    # Content words and possessives are left as they are.
    assert _uncontracted("Banning") == "banning"
    assert _uncontracted("Let's") == "let" and "let" not in grammar


def test_a_clause_label_does_not_begin_with_a_contracted_stop_word(gold_db):
    # A corpus q6 answer: its clause begins with "Don't", which the stop-word test read as a content word.
    (text,) = gold_db.execute(
        "SELECT text FROM answers WHERE text LIKE '%Don''t promise more than you can deliver%'"
    ).fetchone()
    clauses = [c for c in text.split(".") if "Don't promise" in c]
    assert clauses
    assert _clause_label(clauses, np.zeros(3), _never, np.zeros(3), set()) is None
