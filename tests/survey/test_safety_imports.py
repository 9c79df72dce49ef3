"""Issue 10, imports: hostile or damaged exports get a clear error, never a silent mis-read, and a
failed import leaves the database exactly as it was (or, if it was new, not there at all)."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.cli.newdb import open_or_create
from coder.errors import CoderError
from coder.survey.readers import open_export
from tests.conftest import CORPUS, fingerprint
from tests.invoke import run

SURVEY = CORPUS / "survey.yaml"
HEADER = (CORPUS / "responses.csv").read_text(encoding="utf-8").splitlines()[0]
COLUMNS = HEADER.split(",")


def row(rid: str, **cells) -> str:
    values = [cells.get(c, "") for c in COLUMNS]
    values[0] = rid
    return ",".join(values)


@pytest.fixture
def db_path(gold_copy_path):
    return gold_copy_path


def refused(db_path, export, *fragments, extra=()):
    """Import `export` into a copy of the gold database: exit 1, a clean message, the database unchanged."""
    before = fingerprint(db_path)
    result = run("import", db_path, "--survey", SURVEY, "--responses", export, *extra, ok=False)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert fingerprint(db_path) == before
    return result.output


# Item 3: one stray Windows-1252 byte in a UTF-8 export.


def test_stray_cp1252_byte_in_utf8_is_an_error_not_mojibake(db_path, tmp_path):
    export = tmp_path / "mixed.csv"
    export.write_bytes(
        f"{HEADER}\n{row('R900', q16_comments='costs £5 – honestly')}\n".encode()
        + row("R901", q16_comments="it’s fine").encode("cp1252")
        + b"\n"
    )
    output = refused(db_path, export, "0x92", "line 3", "byte offset", "column 'q16_comments'", "--encoding cp1252")
    assert "mixed.csv" in output
    # The user's way out works: the whole file read as Windows-1252, as asked.
    assert run("import", db_path, "--survey", SURVEY, "--responses", export, "--encoding", "cp1252").exit_code == 0


def test_a_windows_1252_export_still_imports(db_path, tmp_path):
    export = tmp_path / "excel.csv"
    export.write_bytes(f"{HEADER}\n{row('R900', q16_comments='costs £5 – it’s café')}\n".encode("cp1252"))
    result = run("import", db_path, "--survey", SURVEY, "--responses", export)
    assert result.exit_code == 0 and "(cp1252)" in result.output, result.output
    text = sqlite3.connect(db_path).execute("SELECT text FROM answers WHERE respondent_id = 'R900'").fetchone()[0]
    assert text == "costs £5 – it’s café"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(lambda t: t.strip()),
    st.integers(0x80, 0xFF),
    st.data(),
)
def test_valid_utf8_is_never_read_as_anything_else(tmp_path_factory, answer, stray, data):
    path = tmp_path_factory.mktemp("p") / "e.csv"
    answer = answer.replace('"', "") or "x"
    content = f'id,answer\nr1,"{answer}"\nr2,"plain £ text"\n'.encode()
    path.write_bytes(content)
    assert [r[1] for _, r in open_export(path).rows] == [answer, "plain £ text"]
    # One byte that cannot start UTF-8 put anywhere: refused, never decoded some other way.
    if stray in range(0x80, 0xC2) or stray >= 0xF5:
        at = data.draw(st.integers(0, len(content)))
        path.write_bytes(content[:at] + bytes([stray]) + content[at:])
        with pytest.raises(CoderError, match="undecodable byte"):
            list(open_export(path).rows)


# Item 9: encodings that are not text encodings.


@pytest.mark.parametrize("encoding", ["rot13", "base64", "zlib_codec", "undefined", "hex", "no-such-codec"])
def test_non_text_encodings_are_refused(db_path, encoding):
    refused(db_path, CORPUS / "responses.csv", "encoding", "utf-8, cp1252", extra=("--encoding", encoding))


# Item 10: limits on ids and attributes; NUL in every encoding.


@pytest.mark.parametrize(
    "cells,fragments",
    [
        ({"respondent_id": "R" * 5_000}, ["row 2", "column 'respondent_id'", "limit for a respondent id is 1,000"]),
        ({"respondent_id": "R" * 1_000_000}, ["row 2", "column 'respondent_id'", "more than 800,000 characters"]),
        ({"name": "N" * 20_000}, ["row 2", "column 'name'", "limit for an attribute is 10,000"]),
        ({"role": "N" * 1_000_000}, ["row 2", "column 'role'", "more than 800,000 characters"]),
    ],
    ids=["id", "huge-id", "attribute", "huge-attribute"],
)
def test_ids_and_attributes_have_limits(db_path, tmp_path, cells, fragments):
    values = [cells.get(c, "") for c in COLUMNS]
    values[0] = cells.get("respondent_id", "R900")
    export = tmp_path / "big.csv"
    export.write_text(f"{HEADER}\n{','.join(values)}\n", encoding="utf-8")
    output = refused(db_path, export, *fragments)
    assert len(output) < 1_000  # the message quotes no more than an excerpt


def test_a_huge_header_cell_is_refused(db_path, tmp_path):
    export = tmp_path / "header.csv"
    export.write_text(f"{HEADER},{'h' * 5_000}\n{row('R900')},\n", encoding="utf-8")
    refused(db_path, export, "row 1", "column #16", "limit for a column name")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_nul_is_refused_in_every_encoding(db_path, tmp_path, encoding):
    export = tmp_path / "nul.csv"
    export.write_text(HEADER + "\n" + row("R900", q16_comments="a\x00b") + "\n", encoding=encoding)
    extra = () if encoding == "utf-16" else ("--encoding", encoding)
    refused(db_path, export, "NUL", "line 2", extra=extra)


def test_nul_escaped_in_jsonl_is_refused(db_path, tmp_path):
    export = tmp_path / "nul.jsonl"
    export.write_text(json.dumps({c: "" for c in COLUMNS} | {"respondent_id": "R900", "name": "a\x00b"}) + "\n")
    refused(db_path, export, "line 1", "'name'", "NUL")


def test_a_database_given_as_the_export_is_named(db_path, tmp_path):
    other = tmp_path / "other.csv"
    shutil.copy(db_path, other)
    refused(db_path, other, "NUL byte", "SQLite database")


# Item 9: JSONL.


def test_jsonl_nested_100000_deep_is_a_clear_error(db_path, tmp_path):
    export = tmp_path / "deep.jsonl"
    export.write_text('{"respondent_id": "R900", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    refused(db_path, export, "deep.jsonl, line 1", "nested too deeply")


@pytest.mark.parametrize(
    "line,fragment",
    [
        ('{"respondent_id": "R900", "respondent_id": "R901"}', "appears twice"),
        ('{"a.b": "1", "a": {"b": "2"}, "respondent_id": "R900"}', "given twice"),
        ('{"respondent_id": ' + "9" * 5_000 + "}", "invalid JSON"),
    ],
    ids=["duplicate-key", "flattened-twice", "huge-number"],
)
def test_jsonl_ambiguous_or_unreadable_records(db_path, tmp_path, line, fragment):
    export = tmp_path / "odd.jsonl"
    export.write_text(line + "\n")
    refused(db_path, export, "odd.jsonl, line 1", fragment)


def test_a_folder_named_like_an_export_is_refused(tmp_path):
    folder = tmp_path / "export.jsonl"
    folder.mkdir()
    with pytest.raises(CoderError, match="is a folder"):
        open_export(folder)


# Item 9: XLSX bombs, built by hand.

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/{kind}" Target="{target}"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)


def column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def workbook(path, rows, *, dimension="A1:O2", prologue="", padding=""):
    cells = "".join(
        f'<row r="{n}">'
        + "".join(
            f'<c r="{column_letter(i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values, 1) if v
        )
        + "</row>"
        for n, values in rows
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{padding}{cells}</sheetData></worksheet>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS.format(kind="officeDocument", target="xl/workbook.xml"))
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS.format(kind="worksheet", target="worksheets/sheet1.xml"))
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def data_row(rid, comment="fine"):
    return [rid, "Ann", *[""] * 12, comment]


@pytest.fixture
def deadline():
    """Fail, rather than hang, if a bomb is not defused (the old code took minutes or forever)."""

    def expired(*_):
        raise TimeoutError("took too long: the file was trusted")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_xlsx_entity_bomb_is_refused(db_path, tmp_path, deadline):
    entities = (
        '<!ENTITY a "'
        + "ha" * 50
        + '">'
        + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
    )
    export = workbook(
        tmp_path / "bomb.xlsx",
        [(1, COLUMNS), (2, data_row("R900", "&i;"))],
        prologue=f"<!DOCTYPE worksheet [{entities}]>",
    )
    refused(db_path, export, "bomb.xlsx", "DTD")


def test_xlsx_zip_bomb_is_refused(db_path, tmp_path, deadline):
    export = workbook(tmp_path / "zip.xlsx", [(1, COLUMNS), (2, data_row("R900"))], padding=" " * (40 << 20))
    refused(db_path, export, "zip.xlsx", "zip bomb")


def test_xlsx_dimension_is_not_trusted(db_path, tmp_path, deadline):
    """A dimension claiming every cell of Excel and a last row renumbered 1,048,576: the two real rows import."""
    export = workbook(
        tmp_path / "dim.xlsx",
        [(1, COLUMNS), (2, data_row("R900")), (1_048_576, data_row("R901", "last"))],
        dimension="A1:XFD1048576",
    )
    result = run("import", db_path, "--survey", SURVEY, "--responses", export)
    assert result.exit_code == 0, result.output
    rows = (
        sqlite3.connect(db_path)
        .execute("SELECT respondent_id, text FROM answers WHERE respondent_id IN ('R900', 'R901') ORDER BY 1")
        .fetchall()
    )
    assert rows == [("R900", "fine"), ("R901", "last")]


def test_xlsx_row_beyond_excel_is_refused(db_path, tmp_path, deadline):
    export = workbook(tmp_path / "far.xlsx", [(1, COLUMNS), (2, data_row("R900")), (50_000_000, data_row("R901"))])
    refused(db_path, export, "far.xlsx", "beyond 1,048,576")


# Item 4 and the "database unchanged" rule.


def test_a_failed_first_import_leaves_no_database(tmp_path):
    db = tmp_path / "new.db"
    export = tmp_path / "bad.csv"
    export.write_text(f"{HEADER}\n{row('R900')}\n{row('R900')}\n", encoding="utf-8")  # a duplicate id, in row 3
    result = run("import", db, "--survey", SURVEY, "--responses", export, ok=False)
    assert result.exit_code == 1 and "duplicate respondent id" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_a_failed_codebook_import_leaves_no_database(tmp_path):
    db = tmp_path / "new.db"
    codebook = tmp_path / "cb.yaml"
    codebook.write_text("id: x\nthemes:\n  - {id: a, label: A}\n  - {id: a, label: B}\n")
    result = run("codebook", "import", db, codebook, ok=False)
    assert result.exit_code == 1 and "duplicate theme id" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cb.yaml"]


def test_a_failed_import_into_an_existing_database_keeps_it(db_path, tmp_path):
    export = tmp_path / "bad.csv"
    export.write_text(f"{HEADER}\n{row('R900')}\n{row('R900')}\n", encoding="utf-8")
    refused(db_path, export, "duplicate respondent id")
    assert db_path.exists()


def test_a_new_database_another_process_wrote_to_is_kept(tmp_path):
    db = tmp_path / "shared.db"
    with pytest.raises(CoderError), open_or_create(db):
        other = sqlite3.connect(db)
        other.execute("INSERT INTO meta (key, value) VALUES ('survey', 'theirs')")
        other.commit()
        other.close()
        raise CoderError("this command failed")
    assert sqlite3.connect(db).execute("SELECT value FROM meta").fetchone() == ("theirs",)


# The same reading serves `codings import`.


def test_codings_import_reads_with_the_same_care(db_path, tmp_path):
    before = fingerprint(db_path)
    mixed = tmp_path / "codings.csv"
    mixed.write_bytes("respondent_id,question,rank,theme\nR002,q14,1,Café\n".encode() + b"R002,q14,2,caf\xe9\n")
    result = run("codings", "import", db_path, mixed, "--coder", "x", ok=False)
    assert result.exit_code == 1 and "0xe9" in result.output and "row 3" in result.output, result.output
    empty_id = tmp_path / "empty.csv"
    empty_id.write_text("respondent_id,question,rank,theme\n  ,q14,1,CRM\n")
    result = run("codings", "import", db_path, empty_id, "--coder", "x", ok=False)
    assert result.exit_code == 1 and "respondent_id is empty" in result.output, result.output
    long_theme = tmp_path / "long.csv"
    long_theme.write_text("respondent_id,question,rank,theme\nR002,q14,1," + "T" * 100_000 + "\n")
    result = run("codings", "import", db_path, long_theme, "--coder", "x", ok=False)
    assert result.exit_code == 1 and "unknown theme" in result.output and len(result.output) < 1_000
    assert fingerprint(db_path) == before
