"""Load a survey export's answer cells into the database, as the survey spec says.

An import is one transaction: an error anywhere leaves the database as it was.
Re-importing is idempotent by respondent id and never drops or changes codings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from coder.codebook.db import install_codebook, read_codebook
from coder.errors import CoderError, location
from coder.safe_input import excerpt
from coder.store import audit, get_meta, now, set_meta, write
from coder.survey.readers import (
    MAX_ATTRIBUTE_CHARS,
    MAX_CELL_CHARS,
    MAX_ID_CHARS,
    Export,
    check_cell,
    check_row_width,
    open_export,
    require_columns,
    with_header_rows,
)
from coder.survey.spec import SurveySpec


@dataclass
class ImportReport:
    path: str
    encoding: str
    respondents_new: int = 0
    respondents_updated: int = 0
    respondents_unchanged: int = 0
    answers_new: int = 0
    answers_unchanged: int = 0
    answers_updated: int = 0
    answers_flagged: int = 0
    answers_removed: int = 0
    non_answers: int = 0
    # Unchanged cells that the spec's (edited) non_answers now reads the other way.
    now_answers: int = 0
    now_non_answers: int = 0
    coded_now_non_answers: int = 0
    codebooks_added: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"Imported {self.path} ({self.encoding})",
            f"respondents: {self.respondents_new} new, {self.respondents_updated} updated, "
            f"{self.respondents_unchanged} unchanged",
            f"answer cells: {self.answers_new} new, {self.answers_unchanged} unchanged, "
            f"{self.answers_updated} updated, {self.answers_removed} removed "
            f"({self.non_answers} non-answers kept out of every base)",
            *(
                [
                    f"FLAGGED: {self.answers_flagged} coded answer(s) changed text since coding; "
                    "their codings are kept; review them (`coder codings export --changed`)"
                ]
                if self.answers_flagged
                else []
            ),
            *(
                [
                    f"non_answers changed: {self.now_answers} cell(s) now count as answers, {self.now_non_answers} are "
                    "now non-answers"
                    + (
                        f" ({self.coded_now_non_answers} of them coded: the codings are kept, in no base)"
                        if self.coded_now_non_answers
                        else ""
                    )
                ]
                if self.now_answers or self.now_non_answers
                else []
            ),
            *([f"codebooks added: {', '.join(self.codebooks_added)}"] if self.codebooks_added else []),
        ]


def _install_spec(db: Database, spec: SurveySpec, report: ImportReport) -> None:
    held = get_meta(db, "survey")
    if held is not None and held != spec.survey:
        raise CoderError(
            f"this database holds survey {held!r}, not {spec.survey!r}; use a new database file",
            where=str(spec.path),
        )
    for position, question in enumerate(spec.questions):
        if install_codebook(db, question.codebook):
            report.codebooks_added.append(question.codebook.id)
        held_codebook = read_codebook(db, question.codebook.id)
        if question.fold:
            for theme_id in [question.fold.into, *question.fold.themes, *(question.fold.all_except or ())]:
                if held_codebook.find(theme_id) is None:
                    raise CoderError(
                        f"question {question.id!r} folds theme {theme_id!r}, which the database's codebook "
                        f"{held_codebook.id!r} lacks",
                        where=str(spec.path),
                    )
        db.execute(
            """INSERT INTO questions (id, text, codebook_id, columns, base, fold, non_answers,
                   table_title, table_header, position)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET text = excluded.text, codebook_id = excluded.codebook_id,
                   columns = excluded.columns, base = excluded.base, fold = excluded.fold,
                   non_answers = excluded.non_answers, table_title = excluded.table_title,
                   table_header = excluded.table_header, position = excluded.position""",
            [
                question.id,
                question.text,
                question.codebook.id,
                json.dumps(list(question.columns)),
                question.base,
                json.dumps(question.fold.to_json()) if question.fold else None,
                json.dumps(question.non_answers.to_list()),
                question.title,
                question.header,
                position,
            ],
        )
    set_meta(db, "survey", spec.survey)
    set_meta(db, "title", spec.title)
    set_meta(db, "respondent_id", spec.respondent_id)
    set_meta(db, "attributes", json.dumps(list(spec.attributes)))


def import_responses(
    db: Database,
    spec: SurveySpec,
    path: str | Path,
    *,
    encoding: str | None = None,
    coder: str | None = None,
) -> ImportReport:
    """Load a survey export; idempotent by respondent id, never touching codings.

    An answer whose text changed since it was coded keeps its codings and is
    flagged (`answers.changed`), so a researcher reviews it instead of the tool
    silently recoding it.
    """
    export = open_export(path, encoding=encoding or spec.encoding, sheet=spec.sheet)
    export = with_header_rows(export, spec.header_rows, spec.header_names == "joined")
    columns = require_columns(export, spec.columns)
    report = ImportReport(str(export.path), export.encoding)
    with write(db):
        _install_spec(db, spec, report)
        loader = _Loader(db, spec, export, columns, report, now(), coder)
        for number, row in export.rows:
            loader.load_row(number, row)
        if not loader.seen:
            raise CoderError("the file has a header but no data rows", where=str(export.path))
        loader.flush()
    return report


def check_row_shape(export: Export, number: int, row: list[str]) -> None:
    """Refuse a row that cannot be one respondent's: the wrong width, or a second export's header."""
    width = len(export.header)
    check_row_width(export.path, number, row, width)
    # Two exports joined into one file: the second header (with its byte-order mark) would
    # become a respondent whose answers are the column names.
    if any(cell.startswith("\ufeff") for cell in row):
        raise CoderError(
            "a cell starts with a byte-order mark (U+FEFF): two exports joined into one "
            "file? Import each file on its own",
            where=location(export.path, number),
        )
    if [cell.strip() for cell in row[:width]] == export.header:
        raise CoderError(
            "this row repeats the header: two exports joined into one file? Import each file on its own",
            where=location(export.path, number),
        )


class _Loader:
    """One import's state: what the database already holds, and the new rows waiting to be written."""

    FLUSH_EVERY = 5000  # answer cells: bounded memory on a million-row export

    def __init__(
        self,
        db: Database,
        spec: SurveySpec,
        export: Export,
        columns: dict[str, int],
        report: ImportReport,
        stamp: str,
        coder: str | None,
    ) -> None:
        self.db, self.spec, self.export, self.columns = db, spec, export, columns
        self.report, self.stamp, self.coder = report, stamp, coder
        self.known = {r[0]: r[1] for r in db.execute("SELECT id, position FROM respondents")}
        self.next_position = max(self.known.values(), default=-1) + 1
        self.attributes = {
            (rid, name): value
            for rid, name, value in db.execute("SELECT respondent_id, name, value FROM respondent_attributes")
        }
        self.existing = {
            (rid, qid, rank): (answer_id, text, was_answer, coded)
            for answer_id, rid, qid, rank, text, was_answer, coded in db.execute(
                """SELECT a.id, a.respondent_id, a.question_id, a.rank, a.text, a.is_answer,
                          EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)
                   FROM answers a"""
            )
        }
        self.seen: dict[str, int] = {}
        self.new_respondents: list = []
        self.new_attributes: list = []
        self.new_answers: list = []

    def load_row(self, number: int, row: list[str]) -> None:
        check_row_shape(self.export, number, row)
        rid = self._respondent(number, row)
        is_new = rid not in self.known
        if is_new:
            self.new_respondents.append((rid, self.next_position, self.stamp, self.stamp))
            self.known[rid] = self.next_position
            self.next_position += 1
            self.report.respondents_new += 1
        changed = self._load_attributes(number, row, rid, is_new)
        for question in self.spec.questions:
            for rank, column in enumerate(question.columns, start=1):
                changed = self._load_cell(number, row, rid, question, rank, column, is_new) or changed
        if not is_new:
            if changed:
                self.report.respondents_updated += 1
                self.db.execute("UPDATE respondents SET updated_at = ? WHERE id = ?", [self.stamp, rid])
            else:
                self.report.respondents_unchanged += 1
        if len(self.new_answers) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        _flush(self.db, self.new_respondents, self.new_attributes, self.new_answers)

    def _respondent(self, number: int, row: list[str]) -> str:
        where = location(self.export.path, number, self.spec.respondent_id)
        rid = row[self.columns[self.spec.respondent_id]].strip()
        if not rid:
            raise CoderError("respondent id is empty", where=where)
        check_cell(rid, MAX_ID_CHARS, "a respondent id", where)
        if rid in self.seen:
            raise CoderError(
                f"duplicate respondent id {excerpt(rid)} (first seen in row {self.seen[rid]})", where=where
            )
        self.seen[rid] = number
        return rid

    def _load_attributes(self, number: int, row: list[str], rid: str, is_new: bool) -> bool:
        changed = False
        for name in self.spec.attributes:
            value = row[self.columns[name]].strip()
            check_cell(value, MAX_ATTRIBUTE_CHARS, "an attribute", location(self.export.path, number, name))
            if self.attributes.get((rid, name)) != value:
                self.new_attributes.append((rid, name, value))
                changed = changed or not is_new
        return changed

    def _load_cell(self, number: int, row: list[str], rid: str, question, rank: int, column: str, is_new: bool) -> bool:
        """One answer cell: new, unchanged, re-judged by an edited non_answers list, changed or emptied.

        Returns whether the respondent changed."""
        report = self.report
        text = row[self.columns[column]].replace("\r\n", "\n").strip()
        check_cell(text, MAX_CELL_CHARS, "one answer", location(self.export.path, number, column))
        is_answer = 0 if question.non_answers.matches(text) else 1
        if text and not is_answer:
            report.non_answers += 1
        key = (rid, question.id, rank)
        if key not in self.existing:
            if text:
                self.new_answers.append((rid, question.id, rank, text, is_answer, self.stamp))
                report.answers_new += 1
                return not is_new
            return False
        answer_id, old_text, was_answer, coded = self.existing[key]
        if old_text == text:
            if was_answer == is_answer:
                report.answers_unchanged += 1
                return False
            # The spec's non_answers changed: the same text now is (or is no longer) one.
            self.db.execute("UPDATE answers SET is_answer = ? WHERE id = ?", [is_answer, answer_id])
            report.answers_updated += 1
            if is_answer:
                report.now_answers += 1
            else:
                report.now_non_answers += 1
                report.coded_now_non_answers += coded
            return True
        if not text and not coded:
            self.db.execute("DELETE FROM answers WHERE id = ?", [answer_id])
            report.answers_removed += 1
            return True
        self.db.execute(
            """UPDATE answers SET text = ?, is_answer = ?, previous_text = ?, changed = ?,
                   imported_at = ? WHERE id = ?""",
            [text, is_answer, old_text, 1 if coded else 0, self.stamp, answer_id],
        )
        if coded:
            report.answers_flagged += 1
            audit(
                self.db,
                coder=self.coder,
                action="answer.changed",
                target=f"answer:{rid}/{question.id}/{rank}",
                before=old_text,
                after=text,
            )
        else:
            report.answers_updated += 1
        return True


def _flush(db: Database, respondents: list, attributes: list, answers: list) -> None:
    db.conn.executemany(
        "INSERT INTO respondents (id, position, imported_at, updated_at) VALUES (?, ?, ?, ?)", respondents
    )
    db.conn.executemany(
        """INSERT INTO respondent_attributes (respondent_id, name, value) VALUES (?, ?, ?)
           ON CONFLICT (respondent_id, name) DO UPDATE SET value = excluded.value""",
        attributes,
    )
    db.conn.executemany(
        "INSERT INTO answers (respondent_id, question_id, rank, text, is_answer, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
        answers,
    )
    respondents.clear()
    attributes.clear()
    answers.clear()
