"""Coded data out to spreadsheets: the codings CSV to a file, and an XLSX workbook per survey.

Answers are free text typed by the public, and a spreadsheet runs a cell that
starts with `=`, `+`, `-` or `@` as a formula ("=HYPERLINK(...)"). Every text
cell written here is neutralised with a leading `'`; `unneutralise` undoes it
exactly, so a file exported and imported again gives back the same ids and labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlite_utils import Database

from coder.coding.codings import export_codings, question_codebook, question_ids, write_codings_csv
from coder.errors import CoderError
from coder.outputs import atomic_output
from coder.spreadsheet import NOT_XML, neutralise, sheet_name

XLSX_COLUMNS = ["respondent_id", "rank", "answer", "themes", "status", "coder"]
_WIDTHS = {"respondent_id": 14, "rank": 6, "answer": 70, "themes": 40, "status": 12, "coder": 14}


def safe_rows(rows: Iterable[dict]) -> Iterator[dict]:
    for row in rows:
        yield {key: neutralise(value) for key, value in row.items()}


def write_safe_csv(rows: Iterable[dict], out) -> int:
    """The `coder codings export` CSV (same columns and format), with formula cells neutralised."""
    return write_codings_csv(safe_rows(rows), out)


def export_csv_file(
    db: Database,
    path: str | Path,
    question: str | None = None,
    *,
    changed_only: bool = False,
    inputs: tuple[str | Path, ...] = (),
) -> int:
    """Write the codings CSV to `path` atomically; `inputs` (the database) may not be the target."""
    rows = export_codings(db, question, changed_only=changed_only)
    try:
        with (
            atomic_output(path, inputs=inputs) as temporary,
            open(temporary, "w", newline="", encoding="utf-8") as handle,
        ):
            return write_safe_csv(rows, handle)
    except OSError as exc:
        raise CoderError(f"cannot write: {exc.strerror or exc}", where=str(path)) from None


def answer_rows(rows: Iterable[dict]) -> Iterator[dict]:
    """One row per coded answer cell from per-coding rows (which come grouped by cell)."""
    current: dict | None = None
    for row in rows:
        key = (row["question"], row["respondent_id"], row["rank"])
        if current is None or current["key"] != key:
            if current is not None:
                yield _finish(current)
            current = {
                "key": key,
                "question": row["question"],
                "respondent_id": row["respondent_id"],
                "rank": row["rank"],
                "answer": row["answer"],
                "themes": [],
                "status": [],
                "coder": [],
            }
        current["themes"].append(row["theme"])
        for name in ("status", "coder"):
            if row[name] and row[name] not in current[name]:
                current[name].append(row[name])
    if current is not None:
        yield _finish(current)


def _finish(cell: dict) -> dict:
    out = {name: cell[name] for name in ("question", "respondent_id", "rank", "answer")}
    for name in ("themes", "status", "coder"):
        out[name] = "; ".join(cell[name])
    return out


EXCEL_CELL_CHARS = 32_767  # Excel's limit per cell; openpyxl would cut a longer answer silently


def _cell(value):
    if isinstance(value, str):
        # openpyxl refuses control characters a pasted answer may hold, and writes U+FFFE into broken XML.
        return neutralise(_fit(NOT_XML.sub("", value)))
    return value


def _fit(text: str) -> str:
    """Text that fits an Excel cell, a longer answer cut with a note that says so (and room for neutralise's `'`)."""
    if len(text) <= EXCEL_CELL_CHARS:
        return text
    note = f" … [cut: {len(text):,} characters, over Excel's {EXCEL_CELL_CHARS:,} a cell; the CSV export has it whole]"
    return text[: EXCEL_CELL_CHARS - len(note) - 1] + note


def cut_answers(db: Database, question: str | None = None, *, changed_only: bool = False) -> int:
    """How many coded answers `export_xlsx` writes cut, being over Excel's cell limit."""
    return db.execute(
        """SELECT count(*) FROM answers a WHERE length(a.text) > :limit
           AND EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)
           AND (:question IS NULL OR a.question_id = :question) AND (:changed = 0 OR a.changed = 1)""",
        {"limit": EXCEL_CELL_CHARS, "question": question, "changed": int(changed_only)},
    ).fetchone()[0]


def export_xlsx(
    db: Database,
    path: str | Path,
    question: str | None = None,
    *,
    changed_only: bool = False,
    inputs: tuple[str | Path, ...] = (),
) -> dict[str, int]:
    """Write one sheet per question (named by its id): each coded answer cell with its themes.

    Returns the number of rows written per question. Questions without codes
    get a sheet with only the header, so the workbook's shape does not depend
    on coding progress. Written atomically; `inputs` (the database) may not be the target.
    """
    if question is not None:
        question_codebook(db, question)  # raises for an unknown question
    questions = [question] if question else question_ids(db)
    if not questions:
        raise CoderError("the database has no questions; import a survey first")
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets, counts = {}, {}
    taken: set[str] = set()
    for qid in questions:
        sheet = workbook.create_sheet(sheet_name(qid, taken))
        sheet.append(XLSX_COLUMNS)
        for index, name in enumerate(XLSX_COLUMNS):
            sheet.cell(row=1, column=index + 1).font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(index + 1)].width = _WIDTHS[name]
        sheet.freeze_panes = "A2"
        sheets[qid], counts[qid] = sheet, 0
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in answer_rows(export_codings(db, question, changed_only=changed_only)):
        sheet = sheets[row["question"]]
        sheet.append([_cell(row[name]) for name in XLSX_COLUMNS])
        sheet.cell(row=sheet.max_row, column=XLSX_COLUMNS.index("answer") + 1).alignment = wrap
        counts[row["question"]] += 1
    try:
        with atomic_output(path, inputs=inputs) as temporary:
            workbook.save(temporary)
    except OSError as exc:
        raise CoderError(f"cannot write: {exc.strerror or exc}", where=str(path)) from None
    return counts
