"""A discovered label is spelt as most of its answers spell it, and a typo never stands for a negation."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from coder.suggest.discover import NEGATIONS, _Spellings, _spelt_alike, _unquoted

ANSWERS = [
    "Commissioned by the council",
    "commissioned by the council.",
    "Ocmmissioned by the council",
    "commissioned by th ecouncil",
    "We should share data between councils",
]


def test_a_typo_in_the_central_clause_gives_way_to_the_usual_spelling():
    weights = np.array([6, 3, 1, 1, 2])
    assert _Spellings(ANSWERS, weights).usual("Ocmmissioned by the council") == "Commissioned by the council"
    assert _Spellings(ANSWERS, weights).usual("Commissioned by th ecouncil") == "Commissioned by the council"
    assert _Spellings(ANSWERS, weights).usual("Commissioned by the council") == "Commissioned by the council"


def test_the_label_stays_when_its_own_spelling_is_the_usual_one():
    weights = np.array([1, 0, 9, 1, 2])
    assert _Spellings(ANSWERS, weights).usual("Ocmmissioned by the council") == "Ocmmissioned by the council"


def test_a_stance_and_its_opposite_are_never_one_label():
    answers = ["Assisted suicide should not be a criminal offence"] * 5 + [
        "Assisted suicide should be a criminal offence"
    ]
    weights = np.ones(len(answers))
    assert _Spellings(answers, weights).usual("Assisted suicide should be a criminal offence") == (
        "Assisted suicide should be a criminal offence"
    )
    for yes, no in [("we can", "we can't"), ("we can", "we cant"), ("they should", "they shouldnt"), ("is", "is not")]:
        assert not _spelt_alike(yes, no) and not _spelt_alike(no, yes)
    assert _spelt_alike("goverment should act", "government should act")


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", min_size=1, max_size=10)


@given(st.lists(WORDS, min_size=1, max_size=8), st.lists(WORDS, min_size=1, max_size=8))
def test_alike_clauses_have_the_same_words_and_the_same_negations(left, right):
    a, b = " ".join(left), " ".join(right)
    if _spelt_alike(a, b):
        assert len(left) == len(right)
        for x, y in zip(left, right):
            assert (x in NEGATIONS or x.endswith("n't")) == (y in NEGATIONS or y.endswith("n't"))


def test_a_clause_cut_from_a_quote_loses_the_quote_left_open():
    assert _unquoted('"have someone that is not so close minded') == "have someone that is not so close minded"
    assert _unquoted("\u201cDigital by default\u201d is a myth") == "\u201cDigital by default\u201d is a myth"
    assert _unquoted('"Digital by default" is a myth') == '"Digital by default" is a myth'
