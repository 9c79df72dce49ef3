from __future__ import annotations

import csv

import pytest
from spacy.lang.en.stop_words import STOP_WORDS

import coder.suggest.discover as discover_module
from coder.suggest.discover import Proposal, discover
from tests.conftest import CORPUS

# A theme the comments codebook does not have, worded as differently as officers would.
CHATBOT = [
    "we're trialling a chatbot on the website",
    "webchat for council tax queries",
    "virtual assistant to answer FAQs out of hours",
    "Chat bot for bins",
    "Live chat on the contact us page has cut phone calls",
    "chatbots - is anyone else using them?",
    "an AI chat assistant for housing questions",
    "web chat with the contact centre team",
]


@pytest.fixture(scope="module")
def comments() -> list[str]:
    with open(CORPUS / "responses.csv", newline="", encoding="utf-8") as handle:
        return [row["q16_comments"] for row in csv.DictReader(handle) if row["q16_comments"].strip()]


@pytest.fixture(scope="module")
def planted(comments):
    texts = comments + CHATBOT
    ids = [1000 + i for i in range(len(texts))]
    planted_ids = set(ids[len(comments) :])
    return texts, ids, planted_ids, discover(texts, ids)


def test_a_planted_theme_is_found(planted):
    texts, ids, planted_ids, proposals = planted
    best = max(proposals, key=lambda p: len(planted_ids & set(p.member_ids)))
    assert len(planted_ids & set(best.member_ids)) >= 6
    assert "chat" in (best.label + " " + " ".join(best.terms)).lower()
    assert len(best.examples) == 3 and set(best.examples) <= set(CHATBOT)


def test_proposals_are_sorted_and_well_formed(planted):
    texts, ids, _, proposals = planted
    assert proposals and all(isinstance(p, Proposal) for p in proposals)
    assert [(-p.size, -p.cohesion) for p in proposals] == sorted((-p.size, -p.cohesion) for p in proposals)
    by_id = dict(zip(ids, texts))
    for p in proposals:
        # An answer may carry several themes, so proposals may share answers; none lists one twice.
        assert p.size == len(p.member_ids) == len(set(p.member_ids)) >= 3 and 0 <= p.cohesion <= 1
        assert set(p.member_ids) <= set(ids)
        assert len(set(p.examples)) == len(p.examples) <= 3
        assert set(p.examples) <= {by_id[i].strip() for i in p.member_ids}
        # A phrase of the answers' own ("Digital by default"): stop words only inside it.
        words = p.label.lower().split()
        assert words and not STOP_WORDS.intersection([words[0], words[-1]]), p.label


def test_same_input_same_output(comments):
    texts = comments + CHATBOT
    assert discover(texts, random_state=3) == discover(list(texts), random_state=3)


def test_indices_stand_in_for_missing_ids(comments):
    texts = comments + CHATBOT
    proposals = discover(texts)
    assert proposals
    for p in proposals:
        assert set(p.member_ids) <= set(range(len(texts)))
        assert set(p.examples) <= {texts[i].strip() for i in p.member_ids}


@pytest.mark.parametrize(
    "texts",
    [[], ["bins"], ["chatbot", "webchat"], ["n/a", "???", "-", "the", "of it"]],
    ids=["empty", "one", "fewer-than-min-size", "no-lemmas"],
)
def test_too_little_to_cluster(texts):
    assert discover(texts) == []


def test_identical_answers_make_one_theme():
    proposals = discover(["Potholes"] * 5 + ["potholes", "n/a", "???"], ids=list(range(10, 18)))
    assert len(proposals) == 1
    (p,) = proposals
    assert p.size == 6 and p.member_ids == tuple(range(10, 16))
    assert p.examples == ("Potholes",) and p.label == "Potholes" and p.cohesion == pytest.approx(1.0)


def test_min_size_and_max_themes(comments):
    texts = comments + CHATBOT
    assert all(p.size >= 6 for p in discover(texts, min_size=6))
    assert len(discover(texts, max_themes=2)) == 2
    small = discover(texts, min_size=2, max_themes=100)
    assert len(small) >= len(discover(texts, max_themes=100))


def test_excluded_terms_stay_out_of_labels(planted):
    texts, ids, planted_ids, _ = planted
    proposals = discover(texts, ids, exclude_terms=["Chat and chatbots", "Webchat"])
    for p in proposals:
        assert not {"chat", "chatbot", "chatbots", "webchat"} & set(p.label.lower().replace("/", " ").split())
        assert not {"chat", "chatbot", "chatbots", "webchat"} & {w for t in p.terms for w in t.split()}


def test_noun_phrases_label_when_a_parser_is_available(monkeypatch):
    texts = ["the recycling centre hours", "recycling centre opening", "a recycling centre booking", "parking permits"]
    monkeypatch.setattr(
        discover_module,
        "noun_chunks",
        lambda xs: [["the recycling centre"] if "recycling" in x else ["parking permits"] for x in xs],
    )
    (p,) = discover(texts)
    # "recycle" among the terms is the phrase's own word, so it is not repeated.
    assert p.label == "Recycling centre" and p.size == 3
