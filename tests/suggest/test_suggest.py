"""The suggestion engine on the bundled corpus: zero-shot, learning, storage, autocode, evaluate."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from coder.codebook.db import read_codebook
from coder.coding.codings import import_codings
from coder.suggest.engine import autocode, review_queue, suggest
from coder.suggest.evaluate import evaluate
from coder.suggest.learn import Selection, calibrate, uncertainty_order
from coder.suggest.model import Answer, fit_text_model, text_suggestions
from coder.suggest.text import lemmatise
from tests.conftest import CORPUS, q14_gold_items
from tests.invoke import run


@pytest.fixture(scope="module")
def q14_items():
    """(text, gold theme ids) for every coded q14 cell of the bundled corpus."""
    return q14_gold_items()


def top1(codebook, items, confirmed=()):
    texts = [t for t, _ in items]
    lemmas = dict(zip(texts, lemmatise(texts)))
    answers = [Answer(i, t, sorted(g) if i in confirmed else []) for i, (t, g) in enumerate(items)]
    model = fit_text_model(codebook, answers, lemmas)
    test = [i for i in range(len(items)) if i not in confirmed]
    results = text_suggestions(model, [texts[i] for i in test], lemmas)
    return np.mean([bool(r) and r[0][0].theme_id in items[i][1] for r, i in zip(results, test)])


def test_zero_shot_q14(q14_items):
    codebook, items = q14_items
    assert top1(codebook, items) >= 0.90


def test_learning_improves_accuracy(q14_items):
    """With opaque labels and no keywords, zero-shot is near chance; confirmed codes teach the themes."""
    codebook, items = q14_items
    blind = replace(
        codebook,
        themes=tuple(
            replace(t, label=f"Theme {i}", description="", keywords=()) for i, t in enumerate(codebook.themes)
        ),
    )
    confirmed = set(range(0, len(items), 2))
    before = top1(blind, [items[i] for i in range(len(items)) if i not in confirmed])
    after = top1(blind, items, confirmed)
    assert before < 0.35 and after > 0.6 and after > before + 0.3


def test_suggestions_are_stored_with_method_and_evidence(corpus_db):
    report = suggest(corpus_db, "q14")
    assert report.computed == 148 and report.methods
    rows = corpus_db.execute(
        """SELECT s.rank, s.score, s.method, s.evidence, a.text FROM suggestions s JOIN answers a ON a.id = s.answer_id
           WHERE a.text = 'Customer self service' ORDER BY s.rank"""
    ).fetchall()
    assert rows[0][2] == "zero-shot" and "self service" in rows[0][3]
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(0 <= r[1] <= 1 for r in rows)
    # Incremental: nothing changed, nothing recomputed; --refresh recomputes everything.
    assert suggest(corpus_db, "q14").computed == 0
    assert suggest(corpus_db, "q14", refresh=True).computed == 148


def test_names_question_uses_aliases(corpus_db):
    suggest(corpus_db, "q13")
    methods = dict(
        corpus_db.execute(
            """SELECT s.method, count(*) FROM suggestions s JOIN answers a ON a.id = s.answer_id
           WHERE a.question_id = 'q13' AND s.rank = 1 GROUP BY s.method"""
        ).fetchall()
    )
    assert methods["alias"] > 100
    evidence = corpus_db.execute(
        """SELECT s.evidence, t.id FROM suggestions s JOIN answers a ON a.id = s.answer_id JOIN themes t ON t.pk = s.theme_pk
           WHERE a.text = 'Jobcentreplus'"""
    ).fetchall()
    assert evidence and evidence[0][1] == "dwp" and "Jobcentre" in evidence[0][0]


def test_confirmations_make_suggestions_stale_and_train_the_classifier(gold_db):
    # Gold codes everything: take q14 codes off half the answers, then suggest for them.
    answers = [
        r[0] for r in gold_db.execute("SELECT id FROM answers WHERE question_id = 'q14' AND is_answer = 1 ORDER BY id")
    ]
    with gold_db.atomic():
        gold_db.execute(f"DELETE FROM codings WHERE answer_id IN ({','.join(map(str, answers[::2]))})")
    report = suggest(gold_db, "q14")
    assert report.confirmed == len(answers) - len(answers[::2]) and report.computed == len(answers[::2])
    assert report.selection["calibrated_on"] > 0
    assert {m for m in report.methods} <= {"zero-shot", "classifier"}
    assert (
        gold_db.execute(
            "SELECT count(*) FROM suggestions s JOIN codings c ON c.answer_id = s.answer_id AND c.status = 'confirmed'"
        ).fetchone()[0]
        == 0
    )


def test_autocode_never_overwrites_confirmed(corpus_db, tmp_path):
    path = tmp_path / "c.csv"
    first = corpus_db.execute(
        "SELECT respondent_id, rank FROM answers WHERE question_id = 'q14' AND is_answer = 1 ORDER BY id LIMIT 1"
    ).fetchone()
    path.write_text(f"respondent_id,question,rank,theme\n{first[0]},q14,{first[1]},HR / payroll\n", encoding="utf-8")
    import_codings(corpus_db, path, coder="ann")
    suggest(corpus_db, "q14")
    result = autocode(corpus_db, "q14")
    with_suggestions = corpus_db.execute(
        """SELECT count(DISTINCT s.answer_id) FROM suggestions s
           WHERE NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = s.answer_id AND c.status = 'confirmed')"""
    ).fetchone()[0]
    assert result["answers"] == with_suggestions >= 140
    rows = corpus_db.execute(
        """SELECT c.status, c.coder, c.method, c.evidence, t.id FROM codings c JOIN answers a ON a.id = c.answer_id
           JOIN themes t ON t.pk = c.theme_pk WHERE a.respondent_id = ? AND a.question_id = 'q14' AND a.rank = ?""",
        list(first),
    ).fetchall()
    assert rows == [("confirmed", "ann", None, None, "hr-payroll")]
    auto = corpus_db.execute("SELECT DISTINCT status, coder FROM codings WHERE coder != 'ann'").fetchall()
    assert auto == [("auto", "auto")]
    assert (
        corpus_db.execute(
            "SELECT count(*) FROM codings WHERE status = 'auto' AND (method IS NULL OR evidence IS NULL)"
        ).fetchone()[0]
        == 0
    )
    # Running again converges: same auto codes, no duplicates.
    before = corpus_db.execute("SELECT count(*) FROM codings").fetchone()[0]
    autocode(corpus_db, "q14")
    assert corpus_db.execute("SELECT count(*) FROM codings").fetchone()[0] == before


def test_evaluate_on_corpus(corpus_db):
    suggest(corpus_db, "q13")
    suggest(corpus_db, "q14")
    results = evaluate(corpus_db, CORPUS / "codings.csv")
    assert set(results) == {"q13", "q14"}
    q13, q14 = results["q13"], results["q14"]
    assert q13["engine"]["top1"] >= 0.97
    assert q13["engine"]["top1"] > max(b["top1"] for b in q13["baselines"].values())
    assert q14["engine"]["top1"] >= 0.90 and q14["engine"]["top3"] >= 0.97
    assert q14["engine"]["top1"] > q14["baselines"]["tf-idf nearest label"]["top1"]
    assert -1 <= q14["engine"]["kappa"] <= 1 and q14["engine"]["worst"]


def test_review_queue_is_least_confident_first(corpus_db):
    suggest(corpus_db, "q14")
    queue = review_queue(corpus_db, "q14")
    assert len(queue) == 148
    margins = []
    for answer_id in queue:
        scores = [
            r[0]
            for r in corpus_db.execute(
                "SELECT score FROM suggestions WHERE answer_id = ? ORDER BY rank LIMIT 2", [answer_id]
            )
        ]
        scores += [0.0, 0.0]  # an answer with no suggestion is the least confident of all
        margins.append(scores[0] - scores[1])
    assert margins == sorted(margins)


def test_uncertainty_order_and_selection_rules():
    scores = np.array([[0.9, 0.1, 0.0], [0.5, 0.45, 0.1], [0.6, 0.3, 0.2]])
    assert list(uncertainty_order(scores)) == [1, 2, 0]
    assert Selection(ratio=0.85).choose(scores[1]) == [0, 1]
    assert Selection(ratio=0.85).choose(scores[0]) == [0]
    # Calibration learns that answers here carry two themes.
    rows = np.array([[0.8, 0.6, 0.1]] * 20)
    assert calibrate(rows, [{0, 1}] * 20).choose(rows[0]) == [0, 1]


def test_cli_suggest_autocode_evaluate_discover(tmp_path):
    db = tmp_path / "c.db"
    assert run("import", db, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv").exit_code == 0
    result = run("autocode", db, "--question", "q14", ok=False)
    assert result.exit_code == 1 and "coder suggest" in result.output
    result = run("suggest", db)
    assert result.exit_code == 0 and "q14: suggestions for 148 answers" in result.output
    assert run("autocode", db, "--question", "q13", "--min-score", "0.5").exit_code == 0
    result = run("evaluate", db, "--gold", CORPUS / "codings.csv", "--question", "q14", "--json")
    metrics = json.loads(result.output)["q14"]
    assert metrics["engine"]["top1"] >= 0.9 and "tf-idf nearest label" in metrics["baselines"]
    result = run("evaluate", db, "--gold", CORPUS / "codings.csv", "--question", "q13")
    assert "rapidfuzz extractOne(labels)" in result.output and "coder" in result.output
    result = run("discover", db, "--question", "q16")
    assert result.exit_code == 0 and "proposals" in result.output
    before = len(read_codebook_of(db, "q16").themes)
    result = run("discover", db, "--question", "q16", "--accept", "1", "--label", "Something new")
    assert result.exit_code == 0 and "Added theme something-new" in result.output
    assert len(read_codebook_of(db, "q16").themes) == before + 1


def read_codebook_of(path, question):
    from coder.coding.codings import question_codebook
    from coder.store import open_db

    database = open_db(path)
    return read_codebook(database, question_codebook(database, question))


def test_discover_on_names_question_offers_unknown_spellings(tmp_path):
    from coder.store import open_db
    from coder.survey.load import import_responses
    from coder.survey.spec import load_spec
    from tests.conftest import HOLDOUT

    db_path = tmp_path / "h.db"
    db = open_db(db_path)
    import_responses(db, load_spec(HOLDOUT / "survey.yaml"), HOLDOUT / "responses.csv")
    db.close()
    result = run("discover", str(db_path), "--question", "q13")
    assert result.exit_code == 0 and "Local Digital Campaign" in result.output
    number = next(line.split(".")[0] for line in result.output.splitlines() if "Local Digital Campaign" in line)
    result = run("discover", str(db_path), "-q", "q13", "--accept", number, "--alias-of", "dclg")
    assert result.exit_code == 0, result.output
    assert "Local Digital Campaign" in read_codebook_of(db_path, "q13").theme("dclg").aliases
    result = run("discover", str(db_path), "-q", "q13", ok=None)
    assert "Local Digital Campaign" not in result.output
