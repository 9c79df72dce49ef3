"""Suggestions for one question, computed from the database and stored back in it: the model (model.py)
is fitted on the question's answers and confirmations, and its scores stored with their evidence.

A names question (codebook kind `names`) goes through the alias and fuzzy
matcher; a text question through zero-shot TF-IDF, blended with a classifier
once coders have confirmed enough answers. Every stored suggestion carries
its method, score and evidence, and a `selected` flag from the question's
calibrated rule that decides how many themes an answer gets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlite_utils import Database

from coder.codebook.db import read_codebook, theme_pks
from coder.codebook.model import dump_codebook
from coder.coding.codings import Code, apply_codes, question_codebook
from coder.errors import CoderError
from coder.store import now, write
from coder.suggest.embeddings import Embedder, embedder_for, over_limit
from coder.suggest.learn import uncertainty_order
from coder.suggest.model import (
    ENGINE_VERSION,
    TOP_K,
    Answer,
    TextModel,
    _selection_details,
    fit_text_model,
    names_suggestions,
    text_suggestions,
)
from coder.suggest.seeds import with_seeds
from coder.suggest.svm_fits import WARM_UP_CONFIRMED, warm_up
from coder.suggest.text import lemmatise

Progress = Callable[[int, int], None]


@dataclass
class SuggestReport:
    question: str
    kind: str
    computed: int = 0
    skipped: int = 0
    confirmed: int = 0
    seeded: int = 0  # unconfirmed answers learnt from as seeds of discovered themes (seeds.py)
    methods: dict[str, int] = field(default_factory=dict)
    selection: dict = field(default_factory=dict)
    embeddings: str | None = None  # the sentence-embedding model used, if any
    over_limit: tuple[int, int] | None = None  # (distinct answers, limit) when meaning was left out for size
    no_themes: str | None = None  # the codebook's id when it has no themes: nothing to suggest

    def lines(self) -> list[str]:
        if self.no_themes:
            return [no_themes_note(self.question, self.no_themes)]
        methods = ", ".join(f"{m} {n}" for m, n in sorted(self.methods.items())) or "none"
        meaning = f"; meaning from {self.embeddings.split(':')[0]}" if self.embeddings else ""
        seeds = f" and {self.seeded} discovery seeds" if self.seeded else ""
        lines = [
            f"{self.question}: suggestions for {self.computed} answers ({self.skipped} already up to date, "
            f"{self.confirmed} confirmed answers{seeds} used); top method: {methods}{meaning}"
        ]
        if self.over_limit:
            distinct, limit = self.over_limit
            lines.append(
                f"{self.question}: meaning left out, TF-IDF alone: {distinct:,} distinct answers, over the "
                f"limit of {limit:,} (encoding takes a few ms per answer, once; CODER_EMBEDDING_MAX raises it)"
            )
        return lines


def no_themes_note(question: str, codebook_id: str) -> str:
    """What to do when a question's codebook is empty (inductive coding starts there)."""
    return (
        f"{question}: nothing to suggest: codebook {codebook_id!r} has no themes yet; add one with "
        f"`coder codebook add DB LABEL --question {question}` (or n in `coder code`), "
        f"or let `coder discover DB --question {question}` propose some"
    )


def load_answers(db: Database, question: str) -> list[Answer]:
    confirmed: dict[int, list[str]] = {}
    for answer_id, theme in db.execute(
        """SELECT c.answer_id, t.id FROM codings c JOIN themes t ON t.pk = c.theme_pk
           JOIN answers a ON a.id = c.answer_id
           WHERE a.question_id = ? AND c.status = 'confirmed' ORDER BY c.answer_id, t.position""",
        [question],
    ):
        confirmed.setdefault(answer_id, []).append(theme)
    # Answers are read in id order (the order they were imported in), which needs no sort.
    rows = db.execute("SELECT id, text FROM answers WHERE question_id = ? AND is_answer = 1 ORDER BY id", [question])
    return [Answer(r[0], r[1], confirmed.get(r[0], [])) for r in rows]


def _version(codebook_yaml: str, answers: list[Answer], kind: str, embedder: Embedder | None = None) -> str:
    # Installing or removing an embedding model changes every text suggestion.
    model = embedder.name if embedder is not None else "-"
    digest = hashlib.sha256(f"{ENGINE_VERSION}|{kind}|{model}|{codebook_yaml}".encode())
    if kind == "text":
        # Confirmed codes teach the classifier: new confirmations make every suggestion stale.
        for answer in answers:
            if answer.confirmed:
                digest.update(f"{answer.id}:{','.join(sorted(answer.confirmed))};".encode())
    return digest.hexdigest()[:16]


def _store(
    db: Database,
    pks: dict[str, int],
    chunk: list[Answer],
    results,
    version: str,
    stamp: str,
    top_k: int,
    report: SuggestReport,
) -> None:
    """Replace the suggestions of one chunk of answers, in one short transaction.

    Replace, not add: an interrupted run may have stored this chunk already
    without its run record, and the next run computes it again.
    """
    rows = []
    for answer, items in zip(chunk, results):
        for rank, (s, selected) in enumerate(items[:top_k], start=1):
            rows.append(
                (answer.id, pks[s.theme_id], rank, s.score, s.method, s.evidence, int(selected), version, stamp)
            )
            if rank == 1:
                report.methods[s.method] = report.methods.get(s.method, 0) + 1
    with write(db):
        ids = [(a.id,) for a in chunk]
        db.conn.executemany("DELETE FROM suggestions WHERE answer_id = ?", ids)
        db.conn.executemany("DELETE FROM suggested WHERE answer_id = ?", ids)
        db.conn.executemany(
            """INSERT INTO suggestions (answer_id, theme_pk, rank, score, method, evidence, selected, version, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        # Only answers left without any suggestion need a mark that they were looked at.
        db.conn.executemany(
            "INSERT INTO suggested (answer_id, version) VALUES (?, ?)",
            [(a.id, version) for a, items in zip(chunk, results) if not items],
        )


CHUNK = 20_000  # answers scored and written at a time: bounded memory, short write locks


def suggest(
    db: Database,
    question: str,
    *,
    refresh: bool = False,
    progress: Progress | None = None,
    top_k: int = TOP_K,
    seed: int = 0,
    embeddings: bool = True,
    encode_progress: Progress | None = None,
) -> SuggestReport:
    """Compute and store suggestions for every answer of `question` without confirmed codes.

    Incremental: when neither the codebook nor the confirmed codes changed since
    the last run, only answers without suggestions are computed. Suggestions
    are derived data, written chunk by chunk: an interrupted run leaves valid
    suggestions for the chunks it finished and no run record, so the next run
    computes every chunk again, replacing what it finds.
    """
    codebook = read_codebook(db, question_codebook(db, question))
    answers = load_answers(db, question)
    report = SuggestReport(question, codebook.kind, confirmed=sum(1 for a in answers if a.confirmed))
    if not codebook.themes:
        report.no_themes = codebook.id
        return report
    embedder = embedder_for([a.text for a in answers], db) if codebook.kind == "text" and embeddings else None
    report.embeddings = embedder.name if embedder is not None else None
    if codebook.kind == "text" and embeddings and embedder is None:
        report.over_limit = over_limit([a.text for a in answers])
    # Discovered themes learn from their seeds until coders confirm enough (see seeds.py).
    learnt = with_seeds(db, question, answers) if codebook.kind == "text" else answers
    report.seeded = sum(1 for a, seen in zip(answers, learnt) if seen.confirmed and not a.confirmed)
    version = _version(dump_codebook(codebook), learnt, codebook.kind, embedder)
    run = db.execute("SELECT version FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    pending = [a for a in answers if not a.confirmed]
    if not refresh and run is not None and run[0] == version:
        have = {
            r[0]
            for r in db.execute(
                """SELECT s.answer_id FROM suggested s JOIN answers a ON a.id = s.answer_id
               WHERE a.question_id = ? AND s.version = ?
               UNION SELECT DISTINCT s.answer_id FROM suggestions s JOIN answers a ON a.id = s.answer_id
               WHERE a.question_id = ? AND s.version = ?""",
                [question, version, question, version],
            )
        }
        report.skipped = sum(1 for a in pending if a.id in have)
        pending = [a for a in pending if a.id not in have]
    details: dict = {"kind": codebook.kind}
    model: TextModel | None = None
    lemmas: dict[str, str] = {}
    matcher = None
    if codebook.kind == "names":
        from coder.suggest.names import NameMatcher

        matcher = NameMatcher(codebook)
    elif pending:
        if report.confirmed >= WARM_UP_CONFIRMED:
            warm_up()  # the second process for the learner's fits loads while answers are encoded and lemmatised
        if embedder is not None:
            # Every distinct answer at once, so a progress bar has one total; later calls hit the cache.
            embedder.progress = encode_progress
            embedder.vectors(list(dict.fromkeys(a.text for a in answers)))
            embedder.progress = None
        lemmas = dict(zip(*_unique_lemmas([a.text for a in answers])))
        model = fit_text_model(
            codebook, learnt, lemmas, seed=seed, embedder=embedder, previous=_stored_details(db, question)
        )
        details["embeddings"] = report.embeddings
        details["selection"] = _selection_details(model.selection, codebook.ids)
        details["classifier"] = bool(model.classifier)
        report.selection = details["selection"]
    elif run is not None and run[0] == version and (stored := _stored_details(db, question) or {}).get("selection"):
        details["selection"] = stored["selection"]  # nothing refitted: the stored rule still holds, for the next fit
    with write(db):
        # Answers now confirmed need no suggestions; suggestions of an older version are stale;
        # a refresh recomputes all. What remains belongs to answers that are not pending.
        db.execute(
            """DELETE FROM suggestions WHERE answer_id IN (SELECT id FROM answers WHERE question_id = ?)
               AND (? OR version != ? OR answer_id IN (SELECT answer_id FROM codings WHERE status = 'confirmed'))""",
            [question, int(refresh), version],
        )
    pks = theme_pks(db, codebook.id)
    stamp = now()
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        texts = [a.text for a in chunk]
        if codebook.kind == "names":
            results = names_suggestions(matcher, texts)
        elif model is not None:
            results = text_suggestions(model, texts, lemmas, top_k)
        else:  # the model is fitted above whenever answers are pending
            raise RuntimeError(f"{question}: no text model for its pending answers")
        _store(db, pks, chunk, results, version, stamp, top_k, report)
        if progress:
            progress(start + len(chunk), len(pending))
    with write(db):
        db.execute(
            """INSERT INTO suggestion_runs (question_id, version, created_at, details) VALUES (?, ?, ?, ?)
               ON CONFLICT (question_id) DO UPDATE SET version = excluded.version,
                 created_at = excluded.created_at, details = excluded.details""",
            [question, version, stamp, json.dumps(details)],
        )
    report.computed = len(pending)
    return report


def stored_embeddings(db: Database, question: str) -> str | None:
    """The sentence-embedding model the stored suggestions used, if any (so a number says how it was made)."""
    row = db.execute("SELECT details FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    try:
        return json.loads(row[0]).get("embeddings") if row and row[0] else None
    except (ValueError, AttributeError):
        return None


def _stored_details(db: Database, question: str) -> dict | None:
    """The stored run's details (None if unreadable)."""
    row = db.execute("SELECT details FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    try:
        return json.loads(row[0]) if row and row[0] else None
    except (ValueError, AttributeError):
        return None


def has_suggestions(db: Database, question: str) -> bool:
    """Whether `coder suggest` has ever run on the question (zero rows stored is still a run)."""
    return db.execute("SELECT 1 FROM suggestion_runs WHERE question_id = ?", [question]).fetchone() is not None


def ran_without_embeddings(db: Database, question: str) -> bool:
    """Whether the stored suggestions were made without the embedding model (so a retrain keeps to that)."""
    return has_suggestions(db, question) and stored_embeddings(db, question) is None


def _unique_lemmas(texts: list[str]) -> tuple[list[str], list[str]]:
    unique = list(dict.fromkeys(texts))
    return unique, lemmatise(unique)


def autocode(db: Database, question: str, *, min_score: float = 0.0, coder: str = "auto") -> dict[str, int]:
    """Accept the selected suggestions of each answer with no confirmed code, as status `auto`.

    Confirmed codes are never touched; earlier auto codes on the same answer are
    replaced, so re-running after new suggestions converges. With no themes
    there is nothing to accept (and `coder suggest` stores nothing to wait for).
    """
    if not read_codebook(db, question_codebook(db, question)).themes:
        return {"answers": 0, "codings": 0}
    rows = db.execute(
        """SELECT s.answer_id, s.theme_pk, s.score, s.method, s.evidence FROM suggestions s
           JOIN answers a ON a.id = s.answer_id
           WHERE a.question_id = ? AND s.selected = 1 AND s.score >= ?
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = s.answer_id AND c.status = 'confirmed')
           ORDER BY s.answer_id, s.rank""",
        [question, min_score],
    ).fetchall()
    if not rows and not has_suggestions(db, question):
        raise CoderError(f"no suggestions for {question!r} yet: run `coder suggest` first")
    by_answer: dict[int, list[Code]] = {}
    for answer_id, theme_pk, score, method, evidence in rows:
        by_answer.setdefault(answer_id, []).append(Code(theme_pk, "auto", coder, score, method, evidence))
    with write(db):
        for answer_id, codes in by_answer.items():
            apply_codes(db, answer_id, codes, coder=coder, action="coding.auto", replace=True)
    return {"answers": len(by_answer), "codings": sum(len(c) for c in by_answer.values())}


def review_queue(db: Database, question: str) -> list[int]:
    """Answer ids without confirmed codes, least confident first (for the TUI's queue)."""
    rows = db.execute(
        """SELECT a.id, s.score FROM answers a JOIN respondents r ON r.id = a.respondent_id
           LEFT JOIN suggestions s ON s.answer_id = a.id AND s.rank <= 2
           WHERE a.question_id = ? AND a.is_answer = 1
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')
           ORDER BY r.position, a.rank, s.rank""",
        [question],
    ).fetchall()
    ids: list[int] = []
    top2: dict[int, list[float]] = {}
    for answer_id, score in rows:
        if answer_id not in top2:
            ids.append(answer_id)
            top2[answer_id] = []
        if score is not None:
            top2[answer_id].append(score)
    matrix = np.array([(v + [0.0, 0.0])[:2] for v in (top2[i] for i in ids)], dtype=np.float32).reshape(-1, 2)
    return [ids[i] for i in uncertainty_order(matrix)] if ids else []


def unfit_answers(db: Database, question: str, max_score: float = 0.3) -> list[Answer]:
    """Answers no theme fits: not confirmed, and no suggestion scoring above `max_score`."""
    rows = db.execute(
        """SELECT a.id, a.text FROM answers a JOIN respondents r ON r.id = a.respondent_id
           WHERE a.question_id = ? AND a.is_answer = 1
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')
             AND coalesce((SELECT max(s.score) FROM suggestions s WHERE s.answer_id = a.id), 0) <= ?
           ORDER BY r.position, a.rank""",
        [question, max_score],
    ).fetchall()
    return [Answer(r[0], r[1], []) for r in rows]
