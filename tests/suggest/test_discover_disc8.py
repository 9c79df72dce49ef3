"""Discovery round 8: in meaning space a proposal is named by a clause of its members' nearest its
centroid (a stance needs a verb), and the benchmark scores labels against the gold themes' names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from coder.suggest.discover import ARTICLES, LABEL_WORDS, _clause_label, _grammar, discover

# Corpus q6 answers (one point each; the last two of several clauses).
MEMBERS = [
    "Test with real users early and often",
    "User testing, always. Test with real users.",
    "Involve customers in testing, because they know what they need.",
    "Therefore it should be abandoned",  # begins mid-thought: never a label
]


def _bench():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_discover.py"
    spec = importlib.util.spec_from_file_location("bench_discover", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _centred(encode, texts):
    vectors = np.asarray(encode(texts), dtype=np.float64)
    mean = vectors.mean(axis=0)
    centred = vectors - mean
    return centred / np.linalg.norm(centred, axis=1, keepdims=True), mean


def test_a_clause_label_is_a_member_clause_that_reads_whole(model_on):
    vectors, mean = _centred(model_on.encode, [*MEMBERS, "Cheaper bus fares", "Open data standards"])
    centroid = vectors[:3].sum(axis=0)
    centroid /= np.linalg.norm(centroid)
    used: set[str] = set()
    label = _clause_label(MEMBERS, centroid, model_on.encode, mean, used)
    assert label is not None and "therefore" not in label.lower()
    words = label.split()
    assert len(words) <= LABEL_WORDS and "," not in label
    assert words[0].lower() not in _grammar() or words[0].lower() in ARTICLES
    assert words[-1].lower() not in _grammar()
    assert used == {label.casefold()}
    # A label names one proposal: the next takes another clause, and none is left at the last.
    second = _clause_label(MEMBERS, centroid, model_on.encode, mean, used)
    assert second is not None and second.casefold() != label.casefold()
    assert _clause_label(["Therefore it should be abandoned"], centroid, model_on.encode, mean, used) is None


def test_corpus_proposals_are_named_by_clauses_when_an_encoder_is_given(gold_db, model_on):
    rows = gold_db.execute("SELECT text FROM answers WHERE question_id = 'q6' AND is_answer = 1 ORDER BY id")
    texts = [t for (t,) in rows.fetchall()]
    proposals = discover(texts, vectors=model_on.encode(texts), encode=model_on.encode)
    labels = [p.label for p in proposals]
    assert labels and len(set(map(str.casefold, labels))) == len(labels)
    lowered = " ".join(texts).casefold()
    # Every clause label is words of the answers as written (or a phrase label, when no clause reads whole).
    assert all(" ".join(label.split()).casefold()[:20] in " ".join(lowered.split()) for label in labels)


class _Words:
    """A stand-in embedder: a bag of words, so that the score is plain to check."""

    vocab = ["ban", "ads", "tax", "winnings", "help"]

    def vectors(self, texts):
        return np.array([[float(w in t.lower().split()) + 1e-3 for w in self.vocab] for t in texts])


def test_label_score_compares_the_recovering_proposal_label_with_the_theme_name():
    bench = _bench()
    themes = {"a": set(range(10)), "b": set(range(10, 20)), "c": set(range(20, 25))}
    clusters = [set(range(10)), set(range(10, 18)), set(range(30, 40))]
    found = bench.matches(clusters, themes)
    assert found["a"] == (1.0, 0) and found["c"] == (0.0, 0)
    names = {"a": "Ban ads", "b": "Tax winnings", "c": "Help"}
    scored = bench.label_scores(["ban ads", "help", "x"], found, names, _Words())
    assert [s["theme"] for s in scored] == ["Ban ads", "Tax winnings"]  # c is not recovered
    assert scored[0]["cosine"] > 0.99 and scored[0]["own"]
    assert scored[1]["cosine"] < 0.1 and not scored[1]["own"]  # "help" names theme c, not b
