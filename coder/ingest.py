"""Read survey exports (CSV, XLSX, JSONL) and load their answer cells into the database.

Exports come from survey tools and from Excel, so this module accepts what
they produce (UTF-8 with or without BOM, Windows-1252, UTF-16, `,`/`;`/tab
delimiters) and refuses, with the file, row and column, what it cannot read.
An import is one transaction: an error anywhere leaves the database as it was.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from .errors import CoderError, location
from .spec import SurveySpec
from .store import audit, get_meta, now, set_meta, write
from .themes import install_codebook, read_codebook

MAX_CELL_CHARS = 200_000
DELIMITERS = (",", ";", "\t", "|")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Export:
    """A survey export opened for reading: its header and its data rows.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """

    path: Path
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = "utf-8"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """Decode a CSV file's bytes, trying what Excel and survey tools write."""
    nul = data.find(b"\x00")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and encoding is None:
        encoding = "utf-16"
    elif nul != -1:
        raise CoderError(
            f"contains a NUL byte at line {_line_of(data, nul)}: this looks like a binary file, not CSV text",
            where=str(path),
        )
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise CoderError(f"unknown encoding {encoding!r}", where=str(path)) from None
        except UnicodeDecodeError as exc:
            _raise_undecodable(data, path, exc, encoding)
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            _raise_undecodable(data, path, exc, "UTF-8")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            # Excel on Windows saves "CSV" in the ANSI code page.
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            _raise_undecodable(data, path, utf8_error, "UTF-8 or Windows-1252")
    raise AssertionError("unreachable")


def _raise_undecodable(data: bytes, path: Path, exc: UnicodeDecodeError, tried: str) -> None:
    """Name the row and column that holds the first byte no encoding could read."""
    bad = data[exc.start : exc.start + 1]
    text = data.decode("utf-8", errors="surrogateescape")
    where = f"line {_line_of(data, exc.start)}"
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_guess_delimiter(text))
        header: list[str] | None = None
        for number, row in enumerate(reader, start=1):
            if header is None:
                header = row
            for index, cell in enumerate(row):
                if any("\udc80" <= ch <= "\udcff" for ch in cell):
                    column = header[index] if header and index < len(header) and number > 1 else f"#{index + 1}"
                    where = f"row {number}, column {column!r}"
                    raise StopIteration
    except StopIteration:
        pass
    except csv.Error:
        pass
    raise CoderError(
        f"undecodable byte 0x{bad.hex()} at {where}: the file is not {tried} text; "
        "save it from Excel as 'CSV UTF-8' or pass --encoding",
        where=str(path),
    ) from None


def _guess_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_header(header: list[str], path: Path) -> list[str]:
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    if not any(cleaned):
        raise CoderError("the first row (the header) is empty", where=str(path))
    return cleaned


CHUNK_BYTES = 1 << 20


def _stream_check(path: Path, encoding: str) -> bool:
    """Does the whole file decode (and hold no NUL byte)? Reads it in chunks, keeping none."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    check_nul = not encoding.startswith("utf-16")
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if check_nul and b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _choose_encoding(path: Path, encoding: str | None) -> str:
    """Pick the encoding without holding the file in memory; on failure, name the bad byte."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if encoding is None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
    try:
        codecs.lookup(encoding or "utf-8")
    except LookupError:
        raise CoderError(f"unknown encoding {encoding!r}", where=str(path)) from None
    candidates = [encoding] if encoding else ["utf-8", "cp1252"]  # cp1252: Excel's "CSV" on Windows
    for candidate in candidates:
        if _stream_check(path, candidate):
            return candidate
    # Only now read it whole, to say exactly which byte in which row and column is wrong.
    _decode(path.read_bytes(), path, encoding)
    raise CoderError("the file cannot be decoded", where=str(path))  # pragma: no cover - _decode raised


def read_csv(path: Path, encoding: str | None = None) -> Export:
    """Stream a CSV export: only one row at a time is held, whatever the file's size."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CoderError("file not found", where=str(path)) from None
    except OSError as exc:
        raise CoderError(f"cannot read file: {exc.strerror}", where=str(path)) from None
    if size == 0:
        raise CoderError("the file is empty", where=str(path))
    used = _choose_encoding(path, encoding)
    handle = open(path, encoding=used, newline="")
    first = handle.readline()
    while first and not first.strip():
        first = handle.readline()
    if not first.strip():
        handle.close()
        raise CoderError("the file is empty", where=str(path))
    delimiter = _guess_delimiter(first)
    reader = csv.reader(itertools.chain([first], handle), delimiter=delimiter)
    try:
        header = _clean_header(next(reader), path)
    except csv.Error as exc:
        handle.close()
        raise CoderError(f"cannot parse the header: {exc}", where=str(path)) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        with handle:
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise CoderError(f"malformed CSV near line {reader.line_num}: {exc}", where=str(path)) from None
                number += 1
                if not row or all(not c.strip() for c in row):
                    continue
                yield number, row

    return Export(path, header, rows(), used)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path, sheet: str | None = None) -> Export:
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise CoderError("reading XLSX needs openpyxl", where=str(path)) from None
    import zipfile

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise CoderError("file not found", where=str(path)) from None
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise CoderError(f"not a readable XLSX workbook ({exc})", where=str(path)) from None
    if sheet is not None and sheet not in workbook.sheetnames:
        raise CoderError(f"no sheet {sheet!r}; the workbook has {', '.join(workbook.sheetnames)}", where=str(path))
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    values = worksheet.iter_rows(values_only=True)
    first = next(values, None)
    if first is None:
        raise CoderError(f"sheet {worksheet.title!r} is empty", where=str(path))
    header = _clean_header([_cell_text(v) for v in first], path)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, row in enumerate(values, start=2):
            cells = [_cell_text(v) for v in row]
            if all(not c.strip() for c in cells):
                continue
            yield number, cells
        workbook.close()

    return Export(path, header, rows(), "xlsx")


def _flatten(record: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = "; ".join(_cell_text(v) for v in value)
        else:
            out[name] = _cell_text(value)
    return out


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def read_jsonl(path: Path) -> Export:
    """One JSON object per line; nested objects become `outer.inner` columns."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CoderError("file not found", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise CoderError(f"not UTF-8 text (byte {exc.start})", where=str(path)) from None
    records: list[tuple[int, dict[str, str]]] = []
    header: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CoderError(f"invalid JSON: {exc.msg}", where=f"{path}, line {number}") from None
        if not isinstance(record, dict):
            raise CoderError("each line must be a JSON object", where=f"{path}, line {number}")
        flat = _flatten(record)
        for key, value in flat.items():
            # JSON may escape half a surrogate pair ("\ud800"): no text store can hold it.
            if _LONE_SURROGATE.search(key) or _LONE_SURROGATE.search(value):
                raise CoderError(f"field {key!r} holds an invalid character (a lone UTF-16 surrogate escape)",
                                 where=f"{path}, line {number}")
        header.update(dict.fromkeys(flat))
        records.append((number, flat))
    if not records:
        raise CoderError("the file is empty", where=str(path))
    columns = list(header)
    return Export(path, columns, ((n, [r.get(c, "") for c in columns]) for n, r in records), "utf-8")


def open_export(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> Export:
    path = Path(path)
    suffix = path.suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet)
    if suffix == ".xls":
        raise CoderError("old .xls workbooks are not supported: save as .xlsx or CSV", where=str(path))
    if suffix in (".jsonl", ".ndjson"):
        return read_jsonl(path)
    return read_csv(path, encoding)


def require_columns(export: Export, needed: list[str]) -> dict[str, int]:
    """Map each needed column to its index, or say which are missing and what is there."""
    index: dict[str, int] = {}
    for i, name in enumerate(export.header):
        if name in index and name in needed:
            raise CoderError(f"column {name!r} appears twice in the header", where=location(export.path, 1))
        index.setdefault(name, i)
    missing = [c for c in needed if c not in index]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, export.header, n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        shown = ", ".join(repr(h) for h in export.header[:20]) + (" ..." if len(export.header) > 20 else "")
        raise CoderError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(hints)}; the header has {shown}",
            where=location(export.path, 1),
        )
    return index


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
                [f"FLAGGED: {self.answers_flagged} coded answer(s) changed text since coding; "
                 "their codings are kept; review them (`coder codings export --changed`)"]
                if self.answers_flagged
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
                json.dumps(question.fold.to_json())
                if question.fold
                else None,
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
    columns = require_columns(export, spec.columns)
    report = ImportReport(str(export.path), export.encoding)
    stamp = now()
    id_col = columns[spec.respondent_id]
    width = len(export.header)
    with write(db):
        _install_spec(db, spec, report)
        known_respondents = {r[0]: r[1] for r in db.execute("SELECT id, position FROM respondents")}
        next_position = max(known_respondents.values(), default=-1) + 1
        attributes = {}
        for rid, name, value in db.execute("SELECT respondent_id, name, value FROM respondent_attributes"):
            attributes[(rid, name)] = value
        existing = {}
        for answer_id, rid, qid, rank, text, coded in db.execute(
            """SELECT a.id, a.respondent_id, a.question_id, a.rank, a.text,
                      EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)
               FROM answers a"""
        ):
            existing[(rid, qid, rank)] = (answer_id, text, coded)
        seen: dict[str, int] = {}
        non_answer_cache: dict[tuple[str, str], bool] = {}  # survey answers repeat a lot
        new_respondents, new_attributes, new_answers = [], [], []
        for number, row in export.rows:
            if len(row) > width and any(c.strip() for c in row[width:]):
                raise CoderError(
                    f"this row has {len(row)} fields but the header has {width}: "
                    "a stray delimiter or an unquoted line break?",
                    where=location(export.path, number),
                )
            if len(row) < width:
                hint = " (an unclosed quote swallowed the rest?)" if any("\n" in c for c in row) else ""
                raise CoderError(
                    f"this row has {len(row)} fields but the header has {width}: the row is cut short{hint}",
                    where=location(export.path, number),
                )
            rid = row[id_col].strip()
            if not rid:
                raise CoderError("respondent id is empty", where=location(export.path, number, spec.respondent_id))
            if rid in seen:
                raise CoderError(
                    f"duplicate respondent id {rid!r} (first seen in row {seen[rid]})",
                    where=location(export.path, number, spec.respondent_id),
                )
            seen[rid] = number
            changed = False
            if rid not in known_respondents:
                new_respondents.append((rid, next_position, stamp, stamp))
                known_respondents[rid] = next_position
                next_position += 1
                report.respondents_new += 1
                is_new = True
            else:
                is_new = False
            for name in spec.attributes:
                value = row[columns[name]].strip()
                if attributes.get((rid, name)) != value:
                    new_attributes.append((rid, name, value))
                    changed = changed or not is_new
            for question in spec.questions:
                for rank, column in enumerate(question.columns, start=1):
                    text = row[columns[column]].replace("\r\n", "\n").strip()
                    if len(text) > MAX_CELL_CHARS:
                        raise CoderError(
                            f"cell has {len(text):,} characters; the limit for one answer is {MAX_CELL_CHARS:,}",
                            where=location(export.path, number, column),
                        )
                    if not text:
                        is_answer = 0
                    elif len(text) <= 40:
                        # Short answers repeat ("n/a", "CRM", "savings"): check each once.
                        verdict = non_answer_cache.get((question.id, text))
                        if verdict is None:
                            verdict = non_answer_cache[(question.id, text)] = question.non_answers.matches(text)
                        is_answer = 0 if verdict else 1
                    else:
                        is_answer = 0 if question.non_answers.matches(text) else 1
                    if text and not is_answer:
                        report.non_answers += 1
                    key = (rid, question.id, rank)
                    if key not in existing:
                        if text:
                            new_answers.append((rid, question.id, rank, text, is_answer, stamp))
                            report.answers_new += 1
                            changed = changed or not is_new
                        continue
                    answer_id, old_text, coded = existing[key]
                    if old_text == text:
                        report.answers_unchanged += 1
                        continue
                    changed = True
                    if not text and not coded:
                        db.execute("DELETE FROM answers WHERE id = ?", [answer_id])
                        report.answers_removed += 1
                        continue
                    db.execute(
                        """UPDATE answers SET text = ?, is_answer = ?, previous_text = ?, changed = ?,
                               imported_at = ? WHERE id = ?""",
                        [text, is_answer, old_text, 1 if coded else 0, stamp, answer_id],
                    )
                    if coded:
                        report.answers_flagged += 1
                        audit(db, coder=coder, action="answer.changed", target=f"answer:{rid}/{question.id}/{rank}",
                              before=old_text, after=text)
                    else:
                        report.answers_updated += 1
            if not is_new:
                if changed:
                    report.respondents_updated += 1
                    db.execute("UPDATE respondents SET updated_at = ? WHERE id = ?", [stamp, rid])
                else:
                    report.respondents_unchanged += 1
            if len(new_answers) >= 5000:
                _flush(db, new_respondents, new_attributes, new_answers)
        if not seen:
            raise CoderError("the file has a header but no data rows", where=str(export.path))
        _flush(db, new_respondents, new_attributes, new_answers)
    return report


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
