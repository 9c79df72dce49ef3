"""Percentage tables as a report prints them: counts, bases, folds and ties.

Two bases, as in Local Digital Today 2014: `mentions` divides by all codings
(table 2.10 sums to 100%); `respondents` divides by respondents who gave at
least one real answer and counts each respondent once per theme (table 2.11
sums past 100%). Non-answers are in neither base. Rows run by count, ties in
codebook order, the fold row last.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlite_utils import Database

from .codings import question_codebook
from .errors import CoderError
from .spec import BASES, Fold
from .themes import read_codebook


@dataclass(frozen=True)
class Row:
    theme_id: str
    label: str
    count: int
    percent: Decimal
    folded: bool = False


@dataclass(frozen=True)
class Table:
    question: str
    title: str
    header: str
    base: str
    base_n: int
    respondents: int
    mentions: int
    uncoded: int
    rows: tuple[Row, ...]

    @property
    def base_text(self) -> str:
        if self.base == "mentions":
            return f"Base: {self.base_n} mentions by {self.respondents} answering respondents"
        return f"Base: {self.base_n} answering respondents ({self.mentions} mentions); respondents could give more than one answer"


def percent(count: int, base: int) -> Decimal:
    """Percentage to one decimal, halves rounded up, from exact arithmetic (no float drift)."""
    if base == 0:
        return Decimal("0.0")
    exact = Fraction(count * 100, base)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def build_table(db: Database, question: str, base: str | None = None, *, include_empty: bool = False) -> Table:
    codebook_id = question_codebook(db, question)
    text, q_base, fold_json, title, header = db.execute(
        "SELECT text, base, fold, table_title, table_header FROM questions WHERE id = ?", [question]
    ).fetchone()
    base = base or q_base
    if base not in BASES:
        raise CoderError(f"base must be 'mentions' or 'respondents', not {base!r}")
    codebook = read_codebook(db, codebook_id)
    fold = Fold.from_json(json.loads(fold_json)) if fold_json else None
    fold_members = fold.members(codebook.ids) if fold else set()

    respondents = db.execute(
        "SELECT count(DISTINCT respondent_id) FROM answers WHERE question_id = ? AND is_answer = 1", [question]
    ).fetchone()[0]
    uncoded = db.execute(
        """SELECT count(*) FROM answers a WHERE a.question_id = ? AND a.is_answer = 1
           AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)""",
        [question],
    ).fetchone()[0]
    # (theme id, respondent id) for every coding on a real answer.
    pairs = db.execute(
        """SELECT t.id, a.respondent_id FROM codings c
           JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
           WHERE a.question_id = ? AND a.is_answer = 1""",
        [question],
    ).fetchall()
    mentions = len(pairs)
    row_of = {t.id: (fold.into if t.id in fold_members else t.id) for t in codebook.themes}
    counted: dict[str, set | int] = {}
    for theme_id, respondent in pairs:
        key = row_of.get(theme_id, theme_id)
        if base == "mentions":
            counted[key] = counted.get(key, 0) + 1
        else:
            counted.setdefault(key, set()).add(respondent)
    counts = {k: (v if isinstance(v, int) else len(v)) for k, v in counted.items()}
    base_n = mentions if base == "mentions" else respondents

    order = {t.id: i for i, t in enumerate(codebook.themes)}
    rows = []
    for theme in codebook.themes:
        if row_of[theme.id] != theme.id:
            continue
        count = counts.get(theme.id, 0)
        if count == 0 and not include_empty:
            continue
        folded = fold is not None and theme.id == fold.into
        rows.append(Row(theme.id, theme.label, count, percent(count, base_n), folded))
    rows.sort(key=lambda r: (r.folded, -r.count, order[r.theme_id]))
    return Table(
        question=question,
        title=title or text or question,
        header=header or "Theme",
        base=base,
        base_n=base_n,
        respondents=respondents,
        mentions=mentions,
        uncoded=uncoded,
        rows=tuple(rows),
    )


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["theme", "count", "percent"])
    for row in table.rows:
        writer.writerow([row.label, row.count, f"{row.percent}"])
    return out.getvalue()


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    lines = [f"**{_md_cell(table.title)}**", "", f"| {_md_cell(table.header)} | Response |", "|---|---:|"]
    for row in table.rows:
        lines.append(f"| {_md_cell(row.label)} | {row.percent}% |")
    lines += ["", table.base_text + "."]
    if table.uncoded:
        lines.append(f"{table.uncoded} real answer(s) not yet coded are not counted.")
    return "\n".join(lines) + "\n"
