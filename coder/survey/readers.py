"""Read survey exports (CSV, XLSX, JSONL) into a header and rows, whatever tool wrote them.

Exports come from survey tools and from Excel, so this module accepts what
they produce (UTF-8 with or without BOM, Windows-1252, UTF-16, `,`/`;`/tab
delimiters) and refuses, with the file, row and column, what it cannot read.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import itertools
import json
import pyexpat
import re
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from coder.errors import CoderError, location
from coder.outputs import SQLITE_MAGIC
from coder.safe_input import check_encoding, excerpt

MAX_CELL_CHARS = 200_000  # one answer
MAX_ID_CHARS = 1_000  # one respondent id
MAX_ATTRIBUTE_CHARS = 10_000  # one attribute value
MAX_HEADER_CHARS = 1_000  # one column name
MAX_COLUMNS = 16_384  # Excel's last column, XFD
DELIMITERS = (",", ";", "\t", "|")

# The csv module holds a whole field before we see it: stop a runaway cell (a lost quote, a
# hostile file) there, not after it has filled the memory.
CSV_FIELD_LIMIT = 4 * MAX_CELL_CHARS
csv.field_size_limit(CSV_FIELD_LIMIT)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte UTF-8 cannot read
_NON_ASCII_TEXT = re.compile("[^\x00-\x7f\udc80-\udcff]")
_UNDECODABLE = "coder-undecodable"


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    """Marks the bytes a file's encoding cannot read, to find their cell later."""
    if not isinstance(exc, UnicodeDecodeError):  # only ever registered for reading
        raise exc
    return "\udfff", exc.end


codecs.register_error(_UNDECODABLE, _mark_undecodable)


@dataclass
class Export:
    """A survey export opened for reading: its header and its data rows.

    Rows are numbered as a spreadsheet shows them: the header is row 1.
    """

    path: Path
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = "utf-8"
    # JSONL: each nested field's column (`answers.Why?`) and its own key (`Why?`), for `coder init`'s question wording.
    nested: dict[str, str] = field(default_factory=dict)
    title_rows: int = 0  # rows above the header holding one cell at most (a title, a date line), skipped


_PLAIN_SUBHEADS = {"", "response", "open-ended response"}  # SurveyMonkey's second row under a one-column question


def joined_header(rows: list[list[str]]) -> list[str]:
    """Column names spread over header rows, as SurveyMonkey writes them: the question in row 1 (a blank
    cell belongs to the question on its left, a merged cell), the option in row 2; joined with " - "."""
    width = max(len(row) for row in rows)
    names, top = [], ""
    for i in range(width):
        cells = [" ".join(row[i].split()) if i < len(row) else "" for row in rows]
        top = cells[0] or top
        below = [c for c in cells[1:] if c.casefold() not in _PLAIN_SUBHEADS]
        names.append(" - ".join([top, *below]) if top else " - ".join(below))
    return names


def with_header_rows(export: Export, header_rows: int, joined: bool) -> Export:
    """The export with its data rows only: `header_rows` at the top, the first naming the columns
    (Qualtrics) or all of them joined (SurveyMonkey, `joined`)."""
    rows = iter(export.rows)
    extra = [row for _, row in itertools.islice(rows, header_rows - 1)]
    if len(extra) < header_rows - 1:
        raise CoderError(f"the file ends within its {header_rows} header rows", where=str(export.path))
    header = _clean_header(joined_header([export.header, *extra]), export.path) if joined else export.header
    return Export(export.path, header, rows, export.encoding)


def check_row_width(path: Path, number: int, row: list[str], width: int) -> None:
    """Refuse a row with more filled fields than the header has columns, or fewer fields."""
    if len(row) > width and any(c.strip() for c in row[width:]):
        raise CoderError(
            f"this row has {len(row)} fields but the header has {width}: a stray delimiter or an unquoted line break?",
            where=location(path, number),
        )
    if len(row) < width:
        hint = " (an unclosed quote swallowed the rest?)" if any("\n" in c for c in row) else ""
        raise CoderError(
            f"this row has {len(row)} fields but the header has {width}: the row is cut short{hint}",
            where=location(path, number),
        )


def check_cell(text: str, limit: int, what: str, where: str) -> None:
    """Refuse a cell no store should hold: too long for `what`, a NUL, or half a surrogate pair."""
    if len(text) > limit:
        raise CoderError(f"cell has {len(text):,} characters; the limit for {what} is {limit:,}", where=where)
    if "\x00" in text:
        raise CoderError("cell holds a NUL character (U+0000); remove it from the export", where=where)
    if _LONE_SURROGATE.search(text):
        raise CoderError("cell holds an invalid character (a lone UTF-16 surrogate)", where=where)


TITLE_LOOKAHEAD = 10  # rows read to find a header below a title


def title_rows(rows: list[list[str]]) -> int:
    """How many leading rows are a title above the header: rows of one filled cell at most (a title, a
    date line, a blank), when a row of several cells follows within the first TITLE_LOOKAHEAD.

    A one-column export has no such row, so its first row stays the header. Read as the header, a title
    would name one column and leave every other column unnamed.
    """
    for index, row in enumerate(rows[:TITLE_LOOKAHEAD]):
        if _filled(row) >= 2:
            return index
    return 0


def _filled(cells: Iterable[str]) -> int:
    return sum(1 for cell in cells if cell.strip())


def _guess_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_header(header: list[str], path: Path) -> list[str]:
    if len(header) > MAX_COLUMNS:
        raise CoderError(
            f"the header has {len(header):,} columns; the limit is {MAX_COLUMNS:,}", where=location(path, 1)
        )
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    for number, name in enumerate(cleaned, start=1):
        check_cell(name, MAX_HEADER_CHARS, "a column name", f"{location(path, 1)}, column #{number}")
    if not any(cleaned):
        raise CoderError("the first row (the header) is empty", where=str(path))
    return distinct_names(cleaned)


def column_letter(index: int) -> str:
    """A spreadsheet's name for the column at 0-based `index`: A, B, ..., Z, AA, AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def distinct_names(header: list[str]) -> list[str]:
    """The header with a repeated name (two "Other (please specify)" boxes) told apart by its column's
    letter from its second use on: "Other (please specify) (column E)", so a spec can name each one."""
    seen: set[str] = set()
    out = []
    for index, name in enumerate(header):
        folded = " ".join(name.split())  # as specs and require_columns match names
        if folded and folded in seen:
            name = f"{name} (column {column_letter(index)})"
        seen.add(folded)
        out.append(name)
    return out


CHUNK_BYTES = 1 << 20


@dataclass
class _Scan:
    """What one pass over a file's bytes found: where decoding first failed, where the first NUL is."""

    bad: tuple[int, int, int] | None = None  # byte offset, line, byte value
    nul_line: int | None = None
    non_ascii: bool = False  # non-ASCII text that decoded cleanly (UTF-8 scans only)


def _note_nul(scan: _Scan, text: str, lines: int) -> None:
    if scan.nul_line is None and "\x00" in text:
        scan.nul_line = lines + text.count("\n", 0, text.index("\x00"))


def _utf8_scan(path: Path) -> _Scan:
    """Read the file as UTF-8 in chunks, keeping none, and on past the first bad byte."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    scan, fed, lines = _Scan(), 0, 1
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            start = fed - len(decoder.getstate()[0])  # the byte offset of this text
            text = decoder.decode(chunk, final=not chunk)
            fed += len(chunk)
            _note_nul(scan, text, lines)
            if not text.isascii():  # O(1) for a str: ASCII chunks, the common case, cost nothing here
                scan.non_ascii = scan.non_ascii or bool(_NON_ASCII_TEXT.search(text))
                if scan.bad is None and (match := _ESCAPED_BYTE.search(text)):
                    before = text[: match.start()]
                    offset = start + len(before.encode("utf-8", "surrogateescape"))
                    scan.bad = (offset, lines + before.count("\n"), ord(match.group()) - 0xDC00)
            lines += text.count("\n")
            if not chunk or (scan.bad and scan.non_ascii and scan.nul_line):
                return scan


def _strict_scan(path: Path, encoding: str) -> _Scan:
    """Decode the file in chunks, keeping none; stop at the first byte that does not decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    scan, fed, lines = _Scan(), 0, 1
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            state = decoder.getstate()
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                pending = state[0]
                decoder.setstate(state)
                try:
                    head = decoder.decode(chunk[: max(0, exc.start - len(pending))])
                except UnicodeDecodeError:  # pragma: no cover - the bytes before the bad one decode
                    head = ""
                _note_nul(scan, head, lines)
                scan.bad = (fed - len(pending) + exc.start, lines + head.count("\n"), (pending + chunk)[exc.start])
                return scan
            _note_nul(scan, text, lines)
            lines += text.count("\n")
            fed += len(chunk)
            if not chunk:
                return scan


def _cell_at(path: Path, encoding: str) -> str:
    """', row R, column C' of the first cell holding a byte `encoding` cannot decode ('' if none is found)."""
    try:
        with open(path, encoding=encoding, errors=_UNDECODABLE, newline="") as handle:
            first = handle.readline()
            reader = csv.reader(itertools.chain([first], handle), delimiter=_guess_delimiter(first))
            header: list[str] = []
            for number, row in enumerate(reader, start=1):
                header = header or row
                for index, cell in enumerate(row):
                    if "\udfff" in cell:
                        column = header[index] if number > 1 and index < len(header) else f"#{index + 1}"
                        return f", row {number}, column {excerpt(column.strip())}"
    except (csv.Error, OSError, UnicodeError):
        pass
    return ""


def _binary_hint(head: bytes) -> str:
    if head.startswith(SQLITE_MAGIC):
        return " (it is a SQLite database, not a survey export)"
    if head.startswith(b"PK\x03\x04"):
        return " (a ZIP file: an XLSX workbook? then give it the .xlsx extension)"
    for order, half in (("le", head[1::2]), ("be", head[0::2])):
        if len(head) >= 4 and not half.strip(b"\x00"):
            return f" (UTF-16 text without a byte order mark? pass --encoding utf-16-{order})"
    return ""


def _choose_encoding(path: Path, encoding: str | None) -> str:
    """Pick the one encoding the whole file decodes in, reading it in chunks; else name the first bad byte.

    Without --encoding a file is UTF-8 (BOM or not), UTF-16 with a BOM, or else Windows-1252 (Excel's
    "CSV" on Windows), but only when no part of it reads as UTF-8 text: a UTF-8 export with one stray
    Windows-1252 byte read as Windows-1252 would turn every other "£" into "Â£".
    """
    with open(path, "rb") as handle:
        head = handle.read(16)
    if encoding is None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif head.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
    if encoding:
        scanned, scan = encoding, _strict_scan(path, encoding)
        tried = f"{encoding} text" + (" (it starts with a UTF-8 byte order mark)" if encoding == "utf-8-sig" else "")
    else:
        scanned, scan = "utf-8", _utf8_scan(path)
        tried = "UTF-8 or Windows-1252 text"
        if scan.nul_line is None and scan.bad is None:
            return "utf-8"
        if scan.nul_line is None and not scan.non_ascii:
            scanned, scan = "cp1252", _strict_scan(path, "cp1252")
            if scan.bad is None and scan.nul_line is None:
                return "cp1252"
    if scan.nul_line is not None:
        if not codecs.lookup(scanned).name.startswith(("utf-16", "utf-32")):
            raise CoderError(
                f"contains a NUL byte at line {scan.nul_line}: this looks like a binary file, not CSV text"
                f"{_binary_hint(head)}",
                where=str(path),
            )
        raise CoderError(
            f"contains a NUL character (U+0000) at line {scan.nul_line}; text exports never hold one: remove it",
            where=str(path),
        )
    if scan.bad is None:
        return scanned
    offset, line, byte = scan.bad
    place = f"line {line} (byte offset {offset:,}){_cell_at(path, scanned)}"
    if encoding is None and scan.non_ascii:
        raise CoderError(
            f"undecodable byte 0x{byte:02x} at {place}: the rest of the file is UTF-8, so this is a stray byte "
            f"(Windows-1252 for {bytes([byte]).decode('cp1252', 'replace')!r}?); correct it and save the file as "
            "UTF-8, or pass --encoding cp1252 if the whole file really is Windows-1252",
            where=str(path),
        )
    raise CoderError(
        f"undecodable byte 0x{byte:02x} at {place}: the file is not {tried}; "
        "save it from Excel as 'CSV UTF-8', or pass --encoding with the encoding it was saved in",
        where=str(path),
    )


def _regular_file(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CoderError("file not found", where=str(path)) from None
    except OSError as exc:
        raise CoderError(f"cannot read file: {exc.strerror or exc}", where=str(path)) from None
    if stat.S_ISDIR(mode):
        raise CoderError("is a folder, not a survey export", where=str(path))
    if not stat.S_ISREG(mode):
        raise CoderError("is not a regular file (a device or a pipe?): give the export file itself", where=str(path))


def _long_cell_column(path: Path, encoding: str, line: int, delimiter: str) -> int | None:
    """Index of the first field over the csv limit in the record that starts at `line` (None if not found).

    The csv module names no field when one is too long; this walks that record alone, keeping nothing.
    """
    with open(path, encoding=encoding, newline="") as handle:
        for _ in range(line - 1):
            handle.readline()
        index, length, quoted, start = 0, 0, False, True
        while chunk := handle.read(1 << 16):
            for char in chunk:
                if quoted:
                    if char == '"':
                        quoted = False
                        continue
                elif char == '"' and (start or length == 0):
                    quoted, start = True, False
                    continue
                elif char == delimiter:
                    index, length, start = index + 1, 0, True
                    continue
                elif char in "\r\n":
                    return None
                length, start = length + 1, False
                if length > CSV_FIELD_LIMIT:
                    return index
    return None


def read_csv(path: Path, encoding: str | None = None) -> Export:
    """Stream a CSV export: only one row at a time is held, whatever the file's size."""
    _regular_file(path)
    if path.stat().st_size == 0:
        raise CoderError("the file is empty", where=str(path))
    used = _choose_encoding(path, encoding)
    handle = open(path, encoding=used, newline="")  # noqa: SIM115  (the rows generator closes it when done)
    blank = 0  # lines before the header
    first = handle.readline()
    while first and not first.strip():
        blank += 1
        first = handle.readline()
    if not first.strip():
        handle.close()
        raise CoderError("the file is empty", where=str(path))
    # A title line above the header names no column: the delimiter is guessed from the header.
    peek = [first]
    while len(peek) < TITLE_LOOKAHEAD and (line := handle.readline()):
        peek.append(line)
    if _two_cells(first):  # the usual case: the first line is the header
        delimiter, title = _guess_delimiter(first), 0
    else:
        delimiter = _guess_delimiter(next((line for line in peek if _two_cells(line)), first))
        title = title_rows(list(csv.reader(peek, delimiter=delimiter)))
    reader = csv.reader(itertools.chain(peek, handle), delimiter=delimiter)
    for _ in range(title):
        next(reader)
    header: list[str] = []

    def next_row(number: int) -> list[str]:
        """Row `number` (the header is 1); raises StopIteration at the end."""
        line = blank + reader.line_num + 1
        try:
            return next(reader)
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise CoderError(f"malformed CSV near line {blank + reader.line_num}: {exc}", where=str(path)) from None
            index = _long_cell_column(path, used, line, delimiter)
            column = header[index] if index is not None and index < len(header) else None
            raise CoderError(
                f"a cell has more than {CSV_FIELD_LIMIT:,} characters; the limit for one answer is "
                f"{MAX_CELL_CHARS:,}, for an id {MAX_ID_CHARS:,} (an unclosed quote swallowed the rest?)",
                where=location(path, number, column) + ("" if column or index is None else f", column #{index + 1}"),
            ) from None
        except (OSError, UnicodeError) as exc:
            raise CoderError(
                f"cannot read the file near line {blank + reader.line_num}: {exc}", where=str(path)
            ) from None

    try:
        header.extend(_clean_header(next_row(1 + title), path))
    except BaseException:
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1 + title
        with handle:
            while True:
                try:
                    row = next_row(number + 1)
                except StopIteration:
                    return
                number += 1
                if not row or all(not c.strip() for c in row):
                    continue
                yield number, row

    return Export(path, header, rows(), used, title_rows=title)


def _two_cells(line: str) -> bool:
    """Whether a raw line splits into two or more filled cells on its likeliest delimiter (a header, not a title)."""
    delimiter = _guess_delimiter(line)
    return _filled(cell.strip().strip('"') for cell in line.split(delimiter)) >= 2


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


XLSX_MAX_UNPACKED = 1 << 30  # bytes, all parts of a workbook together
XLSX_MAX_RATIO = 100  # unpacked / packed size of one large part; deflate bombs reach 1,000
XLSX_MAX_ROWS = 1_048_576  # Excel's last row
XLSX_MAX_CELLS = 20_000_000  # rows x header columns: a sheet's XML can claim far more than it holds


class _PrologueRead(Exception):
    """The parser reached the root element (or a DTD): the prologue has been seen."""


def _declares_dtd(member) -> bool:
    """Does this part declare a DTD before its root element? Read with expat, as openpyxl reads it."""
    parser = pyexpat.ParserCreate(None, "}")
    found = []

    def doctype(*_args):
        found.append(True)
        raise _PrologueRead

    def root(*_args):
        raise _PrologueRead

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    try:
        while chunk := member.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _PrologueRead:
        pass
    except pyexpat.ExpatError:
        pass  # not XML (an image), or broken: openpyxl's parser fails at the same byte, before any DTD
    return bool(found)


def _check_archive(path: Path) -> None:
    """Refuse a zip bomb or an XML entity bomb before openpyxl unpacks anything.

    openpyxl parses with the standard library's expat, which expands the entities a DTD declares;
    no part of an XLSX workbook needs a DTD, so one is refused. The sizes come from the zip directory,
    which also bounds what zipfile unpacks.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = 0
            for info in members:
                total += info.file_size
                if total > XLSX_MAX_UNPACKED:
                    raise CoderError(
                        f"the workbook unpacks to more than {XLSX_MAX_UNPACKED >> 30} GiB: too large (or a zip "
                        "bomb); save the sheet as CSV",
                        where=str(path),
                    )
                if info.file_size > 32 << 20 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
                    raise CoderError(
                        f"part {excerpt(info.filename)} unpacks to {info.file_size // max(info.compress_size, 1):,} "
                        "times its packed size: a zip bomb, not a spreadsheet",
                        where=str(path),
                    )
            for info in members:
                with archive.open(info) as member:
                    if _declares_dtd(member):
                        raise CoderError(
                            f"part {excerpt(info.filename)} declares a DTD (<!DOCTYPE>), which Excel never writes "
                            "and whose entities can expand without limit; re-save the workbook from Excel or "
                            "export the sheet as CSV",
                            where=str(path),
                        )
    except CoderError:
        raise
    except Exception as exc:  # zipfile raises many kinds on a damaged or hostile archive
        raise CoderError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})", where=str(path)) from None


def _sheet_rows(worksheet, path: Path, **bounds) -> Iterator[tuple[int, tuple]]:
    """Rows with their spreadsheet numbers; a damaged sheet or a row past Excel's last is a CoderError."""
    values = iter(worksheet.iter_rows(values_only=True, **bounds))
    number = bounds.get("min_row", 1) - 1
    try:
        while True:
            try:
                row = next(values)
            except StopIteration:
                return
            except Exception as exc:  # openpyxl on a damaged sheet
                raise CoderError(
                    f"sheet {excerpt(worksheet.title)} cannot be read near row {number + 1:,} "
                    f"({type(exc).__name__}: {exc})",
                    where=str(path),
                ) from None
            number += 1
            if number > XLSX_MAX_ROWS:
                raise CoderError(
                    f"sheet {excerpt(worksheet.title)} numbers a row beyond {XLSX_MAX_ROWS:,}, Excel's last row: "
                    "the file is damaged",
                    where=str(path),
                )
            yield number, row
    finally:
        if close := getattr(values, "close", None):
            close()


def _open_workbook(path: Path):
    """A workbook opened for streaming, after the checks every read makes (a regular file, a sane archive)."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise CoderError("reading XLSX needs openpyxl", where=str(path)) from None
    _regular_file(path)
    _check_archive(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise CoderError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})", where=str(path)) from None


def xlsx_sheet_names(path: Path) -> list[str]:
    """The names of a workbook's sheets, in their order."""
    workbook = _open_workbook(path)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_xlsx(path: Path, sheet: str | None = None) -> Export:
    """Stream one sheet, trusting no size the file claims: only the rows it holds are read, within limits."""
    workbook = _open_workbook(path)
    try:
        names = workbook.sheetnames
        if sheet is not None and sheet not in names:
            listed = ", ".join(excerpt(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
            raise CoderError(f"no sheet {excerpt(str(sheet))}; the workbook has {listed}", where=str(path))
        if not workbook.worksheets:
            raise CoderError("the workbook has no worksheet", where=str(path))
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        if not hasattr(worksheet, "reset_dimensions"):
            raise CoderError(f"sheet {excerpt(worksheet.title)} is a chart, not a table", where=str(path))
        worksheet.reset_dimensions()  # its `dimension` may claim any size
        header_row, first, cells = 0, [], 0
        for header_row, row in _sheet_rows(worksheet, path):  # noqa: B007  (read after the loop: where data starts)
            cells += len(row)
            if cells > XLSX_MAX_CELLS:
                raise CoderError(
                    f"sheet {excerpt(worksheet.title)} has no header in its first {cells:,} cells", where=str(path)
                )
            first = [_cell_text(v) for v in row]
            if any(c.strip() for c in first):
                break
        title = 0
        if _filled(first) == 1:
            # A title above the header? The header is the first of the next rows with several cells.
            ahead = [first]
            for number, row in _sheet_rows(
                worksheet, path, min_row=header_row + 1, max_row=header_row + TITLE_LOOKAHEAD
            ):
                ahead.append([_cell_text(v) for v in row])
                if title_rows(ahead):
                    title, first, header_row = len(ahead) - 1, ahead[-1], number
                    break
        while first and not first[-1].strip():
            first.pop()
        if not first:
            raise CoderError(f"sheet {excerpt(worksheet.title)} is empty", where=str(path))
        header = _clean_header(first, path)
    except BaseException:
        workbook.close()
        raise
    width = len(header)

    def rows() -> Iterator[tuple[int, list[str]]]:
        cells = 0
        try:
            # Cells right of the header have no column name: they are not read.
            for number, row in _sheet_rows(worksheet, path, min_row=header_row + 1, max_col=width):
                cells += width
                if cells > XLSX_MAX_CELLS:
                    raise CoderError(
                        f"sheet {excerpt(worksheet.title)} has more than {XLSX_MAX_CELLS:,} cells (rows x columns) "
                        f"by row {number:,}: split it, or save it as CSV",
                        where=str(path),
                    )
                if row.count(None) == width:
                    continue
                values = [_cell_text(v) for v in row]
                if all(not c.strip() for c in values):
                    continue
                yield number, values
        finally:
            workbook.close()

    return Export(path, header, rows(), "xlsx", title_rows=title)


MAX_JSON_DEPTH = 32


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    record = dict(pairs)
    if len(record) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return record


def _depth(value: object) -> int:
    """How deeply objects and lists nest (without recursion), stopping once past the limit."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def _flatten(
    record: dict, where: str, prefix: str = "", out: dict[str, str] | None = None, nested: dict | None = None
) -> dict[str, str]:
    out = {} if out is None else out
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, where, name + ".", out, nested)
            continue
        if prefix and nested is not None:
            nested[name.strip()] = key.strip()
        if name in out:
            raise CoderError(
                f"field {excerpt(name)} is given twice (as a key with a dot and as nested keys)", where=where
            )
        if isinstance(value, list):
            out[name] = "; ".join(_cell_text(v) for v in value)
        else:
            out[name] = _cell_text(value)
    return out


def read_jsonl(path: Path) -> Export:
    """One JSON object per line; nested objects become `outer.inner` columns."""
    _regular_file(path)
    records: list[tuple[int, dict[str, str]]] = []
    header: dict[str, None] = {}
    nested: dict[str, str] = {}
    offset = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}, line {number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise CoderError(
                    f"undecodable byte 0x{raw[exc.start]:02x} (byte offset {offset + exc.start:,}): "
                    "JSONL must be UTF-8 text",
                    where=where,
                ) from None
            offset += len(raw)
            if not line.strip():
                continue
            try:
                record = json.loads(line, object_pairs_hook=_unique_keys)
            except json.JSONDecodeError as exc:
                raise CoderError(f"invalid JSON: {exc.msg}", where=where) from None
            except RecursionError:
                raise CoderError(f"nested too deeply (the limit is {MAX_JSON_DEPTH} levels)", where=where) from None
            except _DuplicateKey as exc:
                raise CoderError(f"key {excerpt(str(exc.args[0]))} appears twice in one object", where=where) from None
            except ValueError as exc:  # a number too long to convert
                raise CoderError(f"invalid JSON: {exc}", where=where) from None
            if not isinstance(record, dict):
                raise CoderError("each line must be a JSON object", where=where)
            if _depth(record) > MAX_JSON_DEPTH:
                raise CoderError(f"nested too deeply (the limit is {MAX_JSON_DEPTH} levels)", where=where)
            flat = _flatten(record, where, nested=nested)
            for key, value in flat.items():
                # JSON may escape half a surrogate pair ("\ud800") or a NUL: no text store should hold them.
                if _LONE_SURROGATE.search(key) or _LONE_SURROGATE.search(value):
                    raise CoderError(
                        f"field {excerpt(key)} holds an invalid character (a lone UTF-16 surrogate escape)", where=where
                    )
                if "\x00" in key or "\x00" in value:
                    raise CoderError(f"field {excerpt(key)} holds a NUL character (U+0000)", where=where)
            header.update(dict.fromkeys(flat))
            records.append((number, flat))
    if not records:
        raise CoderError("the file is empty", where=str(path))
    columns = _clean_header(list(header), path)
    return Export(path, columns, ((n, [r.get(c, "") for c in header]) for n, r in records), "utf-8", nested)


def open_export(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> Export:
    path = Path(path)
    if encoding is not None:
        check_encoding(encoding, str(path))
    suffix = path.suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet)
    if suffix == ".xls":
        raise CoderError("old .xls workbooks are not supported: save as .xlsx or CSV", where=str(path))
    if suffix in (".jsonl", ".ndjson"):
        return read_jsonl(path)
    try:
        return read_csv(path, encoding)
    except OSError as exc:
        raise CoderError(f"cannot read file: {exc.strerror or exc}", where=str(path)) from None


def require_columns(export: Export, needed: list[str]) -> dict[str, int]:
    """Map each needed column to its index, or say which are missing and what is there."""
    index: dict[str, int] = {}
    for i, name in enumerate(export.header):
        # A spec folds whitespace in column names, so headers are matched folded too: Excel
        # headers that hold the question's wording often carry line breaks or double spaces.
        name = " ".join(name.split())
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
