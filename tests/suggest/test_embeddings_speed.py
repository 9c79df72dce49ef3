"""The fast encoder: packed steps and threads change no vector, and no 2,000-answer cliff.

Speed itself is measured by benchmarks/bench_embeddings.py, never here.
"""

from __future__ import annotations

import json

import numpy as np

from coder.suggest import embeddings
from coder.suggest.engine import suggest
from tests.suggest.test_embeddings import REFERENCE

TEXTS = [
    "CRM",
    "DWP",
    "IT",
    "Channel shift",
    "Moving services online",
    "Better website for residents",
    "Channel shift and moving services online for residents " * 3,
    "[x] odd ] text",
    "",
    "crm",
    "Dept for Work & Pensions " * 40,
]


def test_many_small_steps_on_threads_give_the_vectors_of_one_text_at_a_time(model_on, monkeypatch):
    alone = np.vstack([model_on.encode([t]) for t in TEXTS])
    monkeypatch.setattr(embeddings, "STEP_TOKENS", 6)  # about one text a step: many steps, spread over threads
    monkeypatch.setattr(embeddings, "_cores", lambda: 2)
    assert np.allclose(model_on.encode(TEXTS), alone, atol=1e-5)
    monkeypatch.setattr(embeddings, "STEP_TOKENS", 100_000)  # every text in one step
    assert np.allclose(model_on.encode(TEXTS * 3), np.vstack([alone] * 3), atol=1e-5)


def test_vectors_stay_those_of_sentence_transformers_in_any_step(model_on, monkeypatch):
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    theirs = np.array(reference["vectors"], dtype=np.float32)
    for step in (4, 2048):
        monkeypatch.setattr(embeddings, "STEP_TOKENS", step)
        ours = model_on.encode(reference["texts"])
        assert ours.dtype == np.float32 and np.all((ours * theirs).sum(axis=1) > 0.9999)


def test_no_cliff_at_2000_distinct_answers(monkeypatch, tmp_path):
    """Deciding to embed costs nothing: no model is loaded, so thousands of answers need no encoding here."""
    monkeypatch.delenv("CODER_EMBEDDING_MAX", raising=False)
    assert embeddings.max_texts() == 20_000
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 384}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\x00" * 16)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.setenv("CODER_EMBEDDING_MODEL", str(folder))
    if not embeddings.available():
        return  # the tokenizers package is not installed: nothing is ever embedded
    answers = [f"answer {i}" for i in range(5_000)]
    assert embeddings.embedder_for(answers) is not None and embeddings.over_limit(answers) is None
    many = [f"answer {i}" for i in range(20_001)]
    assert embeddings.embedder_for(many) is None and embeddings.over_limit(many) == (20_001, 20_000)


def test_over_the_limit_suggest_says_meaning_was_left_out(model_on, corpus_db, monkeypatch):
    distinct = len(
        {r[0] for r in corpus_db.execute("SELECT text FROM answers WHERE question_id = 'q14' AND is_answer = 1")}
    )
    monkeypatch.setenv("CODER_EMBEDDING_MAX", str(distinct - 1))
    report = suggest(corpus_db, "q14")
    assert report.embeddings is None and report.over_limit == (distinct, distinct - 1)
    assert f"q14: meaning left out, TF-IDF alone: {distinct:,} distinct answers" in "\n".join(report.lines())
    monkeypatch.setenv("CODER_EMBEDDING_MAX", str(distinct))
    report = suggest(corpus_db, "q14")
    assert report.embeddings and report.over_limit is None and len(report.lines()) == 1


def test_no_limit_line_without_a_model_or_when_turned_off(corpus_db, monkeypatch):
    monkeypatch.setenv("CODER_EMBEDDING_MAX", "1")
    monkeypatch.setenv("CODER_EMBEDDINGS", "0")
    assert suggest(corpus_db, "q14").over_limit is None
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    assert suggest(corpus_db, "q14", embeddings=False).over_limit is None


def test_bench_embeddings_runs(model_on, capsys):
    import sys

    from tests.conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_embeddings

    assert bench_embeddings.main(["--n", "20", "--repeats", "1", "--window", "0.05"]) == 0
    output = capsys.readouterr().out
    assert "ratio encode / floor" in output and "cosine to a plain float64 forward, every text: min 0.9999" in output
