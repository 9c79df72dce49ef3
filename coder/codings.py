"""Codings: which themes an answer cell carries, who said so, and how sure.

`apply_codes` is the one way codes change; it writes the audit log in the same
transaction, so every change has a who, when, before and after.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from sqlite_utils import Database

from .errors import CoderError, location
from .spreadsheet import unneutralise
from .ingest import open_export, require_columns
from .safe_input import excerpt
from .store import audit, now, write
from .themes import read_codebook

STATUSES = ("auto", "confirmed")
EXPORT_COLUMNS = ["respondent_id", "question", "rank", "answer", "theme", "status", "coder", "score", "coded_at"]


@dataclass(frozen=True)
class Code:
    """One theme to put on an answer cell."""

    theme_pk: int
    status: str = "confirmed"
    coder: str | None = None
    score: float | None = None
    method: str | None = None
    evidence: str | None = None


def question_ids(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM questions ORDER BY position")]


def question_codebook(db: Database, question_id: str) -> str:
    row = db.execute("SELECT codebook_id FROM questions WHERE id = ?", [question_id]).fetchone()
    if row is None:
        known = ", ".join(question_ids(db)) or "none (import a survey first)"
        raise CoderError(f"unknown question {excerpt(question_id)}; the database has {known}")
    return row[0]


def _state(db: Database, answer_id: int) -> dict[str, dict]:
    return {
        theme_id: {"status": status, "coder": coder, "score": score, "method": method}
        for theme_id, status, coder, score, method in db.execute(
            """SELECT t.id, c.status, c.coder, c.score, c.method FROM codings c
               JOIN themes t ON t.pk = c.theme_pk WHERE c.answer_id = ? ORDER BY t.position""",
            [answer_id],
        )
    }


def apply_codes(
    db: Database,
    answer_id: int,
    add: Iterable[Code] = (),
    remove: Iterable[int] = (),
    *,
    coder: str | None,
    action: str = "coding.set",
    replace: bool = False,
    exact: bool = False,
) -> None:
    """Add and remove codes on one answer, audited; the caller may wrap several in one transaction.

    A confirmed code is never downgraded to auto, unless `exact` (an undo
    restoring an earlier state as it was). With `replace`, every code not in
    `add` is removed (a coder confirming the full set for an answer).
    """
    add = list(add)
    # When an existing coding keeps its status, coder and time instead of taking the new ones.
    keep_old = "0" if exact else "(codings.status = 'confirmed' AND excluded.status = 'auto')"
    with write(db):
        before = _state(db, answer_id)
        stamp = now()
        if replace:
            keep = [c.theme_pk for c in add]
            marks = ",".join("?" * len(keep))
            # "NOT IN ()" is not SQL, and "NOT IN (NULL)" matches nothing: no keep list means delete all.
            condition = f"AND theme_pk NOT IN ({marks})" if keep else ""
            db.execute(f"DELETE FROM codings WHERE answer_id = ? {condition}", [answer_id, *keep])
        for theme_pk in remove:
            db.execute("DELETE FROM codings WHERE answer_id = ? AND theme_pk = ?", [answer_id, theme_pk])
        for code in add:
            if code.status not in STATUSES:
                raise CoderError(f"status must be one of {', '.join(STATUSES)}, not {code.status!r}")
            db.execute(
                f"""INSERT INTO codings (answer_id, theme_pk, status, coder, score, method, evidence, coded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (answer_id, theme_pk) DO UPDATE SET
                      status = CASE WHEN {keep_old} THEN codings.status ELSE excluded.status END,
                      coder = CASE WHEN {keep_old} THEN codings.coder ELSE excluded.coder END,
                      score = coalesce(excluded.score, codings.score),
                      method = coalesce(excluded.method, codings.method),
                      evidence = coalesce(excluded.evidence, codings.evidence),
                      coded_at = CASE WHEN {keep_old} THEN codings.coded_at ELSE excluded.coded_at END""",
                [answer_id, code.theme_pk, code.status, code.coder, code.score, code.method, code.evidence, stamp],
            )
        if not any(c.status == "auto" for c in add):
            # A human has looked at this answer's codes: its change flag is resolved.
            db.execute("UPDATE answers SET changed = 0 WHERE id = ? AND changed = 1", [answer_id])
        after = _state(db, answer_id)
        if after != before:
            audit(db, coder=coder, action=action, target=f"answer:{answer_id}", before=before, after=after)


@dataclass(frozen=True)
class CodingRow:
    """One row of a codings file, resolved against the database."""

    number: int  # row number as a spreadsheet shows it
    question: str
    answer_id: int
    is_answer: bool
    codebook_id: str
    theme_id: str


def read_coding_file(db: Database, path: str | Path) -> list[CodingRow]:
    """Resolve every row of a codings file (at least respondent_id,question,rank,theme), or say which is wrong.

    Theme is a label or an id. Shared by `import_codings` and the gold file of `evaluate`.
    """
    path = Path(path)
    export = open_export(path)
    index = require_columns(export, ["respondent_id", "question", "rank", "theme"])
    answers = {
        (r[1], r[2], r[3]): (r[0], bool(r[4]))
        for r in db.execute("SELECT id, respondent_id, question_id, rank, is_answer FROM answers")
    }
    codebooks: dict = {}
    out = []
    for number, cells in export.rows:
        # A cell written formula-safe by our exports ("'=..." for "=...") reads back as it was.
        row = {name: unneutralise(cells[i].strip()).strip() if i < len(cells) else "" for name, i in index.items()}
        question = row["question"]
        if question not in codebooks:
            try:
                codebooks[question] = read_codebook(db, question_codebook(db, question))
            except CoderError as exc:
                raise CoderError(exc.message, where=location(path, number, "question")) from None
        codebook = codebooks[question]
        try:
            rank = int(row["rank"] or "1")
        except ValueError:
            raise CoderError(f"rank must be a whole number, not {excerpt(row['rank'])}",
                             where=location(path, number, "rank")) from None
        if not row["respondent_id"]:
            raise CoderError("respondent_id is empty", where=location(path, number, "respondent_id"))
        key = (row["respondent_id"], question, rank)
        if key not in answers:
            raise CoderError(
                f"no answer cell for respondent {excerpt(key[0])}, question {excerpt(question)}, rank {rank} "
                "(unknown respondent, or the cell is blank)",
                where=location(path, number),
            )
        theme = codebook.find(row["theme"]) if row["theme"] else None
        if theme is None:
            close = [t.label for t in codebook.themes if row["theme"].casefold() in t.label.casefold()][:3]
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            if not codebook.themes:
                hint = (f": it has no themes yet (import the codebook this file was coded with: "
                        f"`coder codebook import DB CODEBOOK.yaml --question {question}`)")
            raise CoderError(
                f"unknown theme {excerpt(row['theme'])} in codebook {codebook.id!r}{hint}",
                where=location(path, number, "theme"),
            )
        answer_id, is_answer = answers[key]
        out.append(CodingRow(number, question, answer_id, is_answer, codebook.id, theme.id))
    return out


def import_codings(db: Database, path: str | Path, *, coder: str, replace: bool = False,
                   independent: bool = False) -> dict[str, int]:
    """Record a codings file as confirmed codes by `coder`; all rows or none.

    Every row is checked before anything is written. On answers another coder
    has confirmed, the file's codes become `coder`'s own blind codes (see
    `team.code_independently`): one coder's import never rewrites another's
    work. With `independent`, the codes are also kept as blind codes on the
    answers no one else coded, so later comparisons see exactly this file.
    With `replace`, answer cells named in the file get exactly the file's
    codes as their final coding, whoever coded them before.
    """
    from .team import code_independently, others_codes, set_own_codes  # team builds on this module

    if not coder or not coder.strip():
        raise CoderError("a coder name is required (--coder)")
    if replace and independent:
        raise CoderError("--replace overwrites the final codings and --independent keeps them: choose one")
    path = Path(path)
    rows = read_coding_file(db, path)
    if not rows:
        raise CoderError("the codings file has no rows", where=str(path))
    pks = {(cb_id, theme_id): pk for cb_id, theme_id, pk in db.execute("SELECT codebook_id, id, pk FROM themes")}
    planned: dict[int, list[int]] = {}
    for row in rows:
        if not row.is_answer:
            text = db.execute("SELECT text FROM answers WHERE id = ?", [row.answer_id]).fetchone()[0]
            raise CoderError(
                f"the answer to {row.question!r} in this row, {excerpt(text)}, is a non-answer (on the survey "
                "spec's `non_answers` list, or the default list when the spec sets none) and cannot be coded; to code "
                f"it, set `non_answers: []` (or a list without it) in the spec, for the survey or under question "
                f"{row.question}, then import the export again",
                where=location(path, row.number),
            )
        pk = pks[(row.codebook_id, row.theme_id)]
        if pk not in planned.setdefault(row.answer_id, []):
            planned[row.answer_id].append(pk)
    coded = 0
    settled = {"shared": 0, "agreed": 0, "disputed": 0}
    ids = {pk: theme_id for (_, theme_id), pk in pks.items()}
    with write(db):
        for answer_id, theme_pks in planned.items():
            coded += len(theme_pks)
            if not replace and others_codes(db, answer_id, coder):
                status = code_independently(db, answer_id, coder, theme_pks, "coding.import.blind")
                settled["shared"] += 1
                settled[status] = settled.get(status, 0) + 1
                continue
            apply_codes(
                db,
                answer_id,
                [Code(pk, "confirmed", coder) for pk in theme_pks],
                coder=coder,
                action="coding.import",
                replace=replace,
            )
            if independent:
                set_own_codes(db, answer_id, coder, {ids[pk]: pk for pk in theme_pks},
                              {ids[pk]: "confirmed" for pk in theme_pks}, "coding.import.blind")
    return {"answers": len(planned), "codings": coded, **settled}


def export_codings(db: Database, question: str | None = None, *, changed_only: bool = False) -> Iterator[dict]:
    """Rows for `coder codings export`, in question, respondent and rank order."""
    if question is not None:
        question_codebook(db, question)  # raises for an unknown question
    sql = """
        SELECT a.respondent_id, a.question_id, a.rank, a.text, t.label, c.status, c.coder, c.score, c.coded_at
        FROM codings c
        JOIN answers a ON a.id = c.answer_id
        JOIN themes t ON t.pk = c.theme_pk
        JOIN questions q ON q.id = a.question_id
        JOIN respondents r ON r.id = a.respondent_id
        WHERE (:question IS NULL OR a.question_id = :question) AND (:changed = 0 OR a.changed = 1)
        ORDER BY q.position, r.position, a.rank, t.position
    """
    for row in db.execute(sql, {"question": question, "changed": int(changed_only)}):
        yield dict(zip(EXPORT_COLUMNS, row))


def write_codings_csv(rows: Iterable[dict], out) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        count += 1
    return count
