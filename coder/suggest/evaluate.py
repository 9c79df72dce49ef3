"""How good are the suggestions? Compare them with a human gold coding.

Per answer cell with gold codes: top-1 and top-3 accuracy of the ranked
suggestions; macro precision, recall and F1 and the sample-averaged F1 of the
selected set (what `autocode` would accept); Cohen's kappa on the top theme;
and the themes most often got wrong. Baselines are measured in the same run
on the same cells so the numbers sit side by side.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlite_utils import Database

from coder.codebook.db import read_codebook, theme_pks
from coder.coding.codings import Code, apply_codes, question_codebook, question_ids, read_coding_file
from coder.coding.history import backup
from coder.errors import CoderError
from coder.store import open_db, write
from coder.suggest.engine import stored_embeddings
from coder.suggest.learn import sample_f1


@dataclass
class Cell:
    answer_id: int
    text: str
    gold: set[str]
    ranked: list[str] = field(default_factory=list)
    selected: set[str] = field(default_factory=set)


def read_gold(
    db: Database, path: str | Path, *, wide: bool = False, question: str | None = None
) -> dict[str, dict[int, set[str]]]:
    """Gold codes per question and answer id, from a codings file in any layout `codings import` reads.

    With `question`, only its codes: other questions' rows are not read, so
    their themes need not be in the database's codebooks.
    """
    gold: dict[str, dict[int, set[str]]] = {}
    for row in read_coding_file(db, path, wide=wide, only=question):
        gold.setdefault(row.question, {}).setdefault(row.answer_id, set()).add(row.theme_id)
    return gold


def _non_answers(db: Database, question: str) -> set[int]:
    """The question's non-answer cells: kept out of every base, never suggested for, so never scored."""
    return {r[0] for r in db.execute("SELECT id FROM answers WHERE question_id = ? AND is_answer = 0", [question])}


def _cells(db: Database, question: str, gold: dict[int, set[str]], non_answers: set[int]) -> list[Cell]:
    """Gold cells that have suggestions (answers with confirmed codes were training data, not predictions)."""
    confirmed = {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT c.answer_id FROM codings c JOIN answers a ON a.id = c.answer_id "
            "WHERE a.question_id = ? AND c.status = 'confirmed'",
            [question],
        )
    }
    texts = {r[0]: r[1] for r in db.execute("SELECT id, text FROM answers WHERE question_id = ?", [question])}
    skipped = confirmed | non_answers
    cells = {aid: Cell(aid, texts[aid], themes) for aid, themes in gold.items() if aid not in skipped}
    for answer_id, theme, selected in db.execute(
        """SELECT s.answer_id, t.id, s.selected FROM suggestions s JOIN themes t ON t.pk = s.theme_pk
           JOIN answers a ON a.id = s.answer_id WHERE a.question_id = ? ORDER BY s.answer_id, s.rank""",
        [question],
    ):
        if answer_id in cells:
            cells[answer_id].ranked.append(theme)
            if selected:
                cells[answer_id].selected.add(theme)
    return list(cells.values())


def score_cells(cells: list[Cell], theme_order: list[str]) -> dict:
    """All the metrics for one list of (gold, ranked, selected) cells."""
    from sklearn.metrics import cohen_kappa_score

    n = len(cells)
    if n == 0:
        return {"cells": 0}
    top1 = sum(1 for c in cells if c.ranked[:1] and c.ranked[0] in c.gold) / n
    top3 = sum(1 for c in cells if any(t in c.gold for t in c.ranked[:3])) / n
    order = {t: i for i, t in enumerate(theme_order)}
    predicted_top = [c.ranked[0] if c.ranked else "(none)" for c in cells]
    # For multi-label gold, the gold "primary" is the predicted theme when it is right.
    gold_top = [
        p if p in c.gold else min(c.gold, key=lambda t: order.get(t, 1e9)) for p, c in zip(predicted_top, cells)
    ]
    kappa = float(cohen_kappa_score(gold_top, predicted_top)) if len(set(gold_top) | set(predicted_top)) > 1 else 1.0
    themes = sorted({t for c in cells for t in c.gold | c.selected}, key=lambda t: order.get(t, 1e9))
    per_theme = {}
    for theme in themes:
        tp = sum(1 for c in cells if theme in c.gold and theme in c.selected)
        fp = sum(1 for c in cells if theme not in c.gold and theme in c.selected)
        fn = sum(1 for c in cells if theme in c.gold and theme not in c.selected)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        per_theme[theme] = {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "support": tp + fn,
        }
    confusions: Counter[tuple[str, str]] = Counter()
    for c in cells:
        if c.ranked and c.ranked[0] not in c.gold:
            for g in c.gold:
                confusions[(g, c.ranked[0])] += 1
    worst = sorted(
        (t for t in per_theme if per_theme[t]["support"]), key=lambda t: (per_theme[t]["f1"], -per_theme[t]["support"])
    )[:5]
    return {
        "cells": n,
        "top1": top1,
        "top3": top3,
        "precision": float(np.mean([v["precision"] for v in per_theme.values()])) if per_theme else 0.0,
        "recall": float(np.mean([v["recall"] for v in per_theme.values()])) if per_theme else 0.0,
        "f1": float(np.mean([v["f1"] for v in per_theme.values()])) if per_theme else 0.0,
        "sample_f1": sample_f1([c.selected for c in cells], [c.gold for c in cells]),
        "kappa": kappa,
        "worst": [
            {
                "theme": t,
                **{k: round(v, 3) for k, v in per_theme[t].items()},
                "confused_with": [f"{p} ({n})" for (g, p), n in confusions.most_common() if g == t][:3],
            }
            for t in worst
        ],
    }


def baselines(db: Database, question: str, cells: list[Cell]) -> dict[str, dict]:
    """Naive methods on the same cells: fuzzy extractOne against labels; TF-IDF nearest label."""
    codebook = read_codebook(db, question_codebook(db, question))
    labels = [t.label for t in codebook.themes]
    texts = [c.text for c in cells]
    out = {}
    if codebook.kind == "names":
        from rapidfuzz import process

        ranked = []
        for text in texts:
            found = process.extractOne(text, labels)
            ranked.append([codebook.themes[found[2]].id] if found else [])
        out["rapidfuzz extractOne(labels)"] = ranked
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer().fit(texts + labels)
    sims = (vectorizer.transform(texts) @ vectorizer.transform(labels).T).toarray()
    out["tf-idf nearest label"] = [[codebook.ids[j] for j in np.argsort(-row, kind="stable")[:3]] for row in sims]
    results = {}
    for name, ranked in out.items():
        base_cells = [Cell(c.answer_id, c.text, c.gold, r, set(r[:1])) for c, r in zip(cells, ranked)]
        results[name] = score_cells(base_cells, codebook.ids)
    return results


def evaluate(
    db: Database, gold_path: str | Path, question: str | None = None, *, with_baselines: bool = True, wide: bool = False
) -> dict:
    """Metrics per question for the stored suggestions against a gold codings file."""
    gold = read_gold(db, gold_path, wide=wide, question=question)
    questions = [question] if question else [q for q in question_ids(db) if q in gold]
    if question and question not in gold:
        raise CoderError(f"the gold file has no codes for question {question!r}")
    suggested = {r[0] for r in db.execute("SELECT question_id FROM suggestion_runs")}
    if question is None:
        questions = [q for q in questions if q in suggested]
    if not questions or (question and question not in suggested):
        raise CoderError(f"no suggestions for {question or 'any question in the gold file'}: run `coder suggest` first")
    results = {}
    for q in questions:
        codebook = read_codebook(db, question_codebook(db, q))
        non_answers = _non_answers(db, q)
        cells = _cells(db, q, gold[q], non_answers)
        results[q] = {
            "engine": score_cells(cells, codebook.ids),
            "embeddings": stored_embeddings(db, q),
            "non_answers": len(non_answers & gold[q].keys()),
        }
        if with_baselines:
            results[q]["baselines"] = baselines(db, q, cells)
    return results


def simulate_confirmed(
    db_path: str | Path, gold_path: str | Path, question: str, fraction: float, seeds: list[int], *, wide: bool = False
) -> dict:
    """Confirm a random `fraction` of the gold answers, suggest for the rest, score; averaged over seeds.

    Works on one temporary copy, made once (copying and checking a large
    database per seed cost more than the learning): the real database is not touched.
    """
    from coder.suggest.engine import suggest

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(backup(db_path, Path(tmp) / "sim.db"))
        gold = read_gold(db, gold_path, wide=wide, question=question)[question]
        non_answers = _non_answers(db, question)
        ids = sorted(gold.keys() - non_answers)
        pks = theme_pks(db, question_codebook(db, question))
        order = read_codebook(db, question_codebook(db, question)).ids
        # As the stored suggestions were made: with the embedding model or without it.
        with_embeddings = stored_embeddings(db, question) is not None
        for seed in seeds:
            rng = np.random.default_rng(seed)
            chosen = [ids[i] for i in rng.choice(len(ids), int(round(fraction * len(ids))), replace=False)]
            with write(db):
                db.execute(
                    "DELETE FROM codings WHERE answer_id IN (SELECT id FROM answers WHERE question_id = ?)", [question]
                )
                for answer_id in chosen:
                    apply_codes(
                        db,
                        answer_id,
                        [Code(pks[t], "confirmed", "simulated") for t in gold[answer_id]],
                        coder="simulated",
                        action="coding.simulate",
                    )
            suggest(db, question, refresh=True, seed=seed, embeddings=with_embeddings)
            runs.append(score_cells(_cells(db, question, gold, non_answers), order))
        db.close()
    keys = ["top1", "top3", "precision", "recall", "f1", "sample_f1", "kappa"]
    summary: dict[str, object] = {k: float(np.mean([r[k] for r in runs])) for k in keys}
    summary["cells"] = runs[0]["cells"]
    summary["seeds"] = seeds
    summary["fraction"] = fraction
    return summary


def format_report(results: dict) -> str:
    lines = []
    for q, result in results.items():
        model = result.get("embeddings")
        lines.append(f"{q}" + (f" (meaning from {model.split(':')[0]})" if model else ""))
        header = (
            f"  {'method':<30} {'cells':>5} {'top1':>6} {'top3':>6} {'P':>6} {'R':>6} {'F1':>6} {'sF1':>6} {'kappa':>6}"
        )
        lines.append(header)
        rows = [("coder", result["engine"])] + list(result.get("baselines", {}).items())
        for name, m in rows:
            if not m.get("cells"):
                continue
            lines.append(
                f"  {name:<30} {m['cells']:>5} {m['top1']:>6.3f} {m['top3']:>6.3f} {m['precision']:>6.3f} "
                f"{m['recall']:>6.3f} {m['f1']:>6.3f} {m['sample_f1']:>6.3f} {m['kappa']:>6.3f}"
            )
        if result.get("simulated"):
            m = result["simulated"]
            lines.append(
                f"  {'coder, ' + str(int(m['fraction'] * 100)) + '% confirmed':<30} {m['cells']:>5} {m['top1']:>6.3f} "
                f"{m['top3']:>6.3f} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} {m['sample_f1']:>6.3f} {m['kappa']:>6.3f}"
            )
        if result.get("non_answers"):
            lines.append(
                f"  {result['non_answers']} gold cell(s) left out: non-answers (the spec's non_answers), never suggested "
                "for; set `non_answers: []` and import again to score them"
            )
        worst = result["engine"].get("worst", [])
        if worst:
            lines.append("  worst themes:")
            for w in worst:
                confused = f"; confused with {', '.join(w['confused_with'])}" if w["confused_with"] else ""
                lines.append(f"    {w['theme']}: F1 {w['f1']:.2f} (support {w['support']}){confused}")
    return "\n".join(lines)
