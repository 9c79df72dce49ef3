from __future__ import annotations

import hashlib

import pytest

from coder.coding.codings import Code, apply_codes, export_codings
from coder.errors import CoderError
from coder.store import open_db
from coder.survey.load import import_responses
from coder.survey.spec import load_spec
from tests.conftest import CORPUS, MINI_HEADER, MINI_ROWS, write_csv


def dump(db) -> str:
    """Every row of every user table, to prove a failed import changed nothing."""
    digest = hashlib.sha256()
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        for row in db.execute(f"SELECT * FROM [{table}] ORDER BY 1"):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def answers(db, question="fav"):
    return db.execute(
        "SELECT respondent_id, rank, text, is_answer, changed FROM answers WHERE question_id = ? ORDER BY 1, 2",
        [question],
    ).fetchall()


def test_corpus_imports_one_row_per_answer_cell(corpus_db):
    assert corpus_db.execute("SELECT count(*) FROM respondents").fetchone()[0] == 143
    header_cells = corpus_db.execute(
        "SELECT count(*) FROM answers WHERE question_id = 'q14' AND rank NOT IN (1, 2, 3)"
    ).fetchone()[0]
    assert header_cells == 0
    # 68 respondents gave at least one real priority.
    assert (
        corpus_db.execute(
            "SELECT count(DISTINCT respondent_id) FROM answers WHERE question_id = 'q14' AND is_answer = 1"
        ).fetchone()[0]
        == 68
    )
    roles = corpus_db.execute(
        "SELECT count(*) FROM respondent_attributes WHERE name = 'role' AND value != ''"
    ).fetchone()[0]
    assert roles == 143


def test_mini_import_keeps_non_answers_out_of_answers(mini):
    db = open_db(mini["db"])
    report = import_responses(db, load_spec(mini["spec"]), mini["export"])
    assert report.respondents_new == 4
    assert answers(db) == [
        ("r1", 1, "apple", 1, 0),
        ("r1", 2, "pear", 1, 0),
        ("r2", 1, "Braeburn", 1, 0),
        ("r2", 2, "n/a", 0, 0),
        ("r3", 1, "plum", 1, 0),
        ("r3", 2, "kiwi", 1, 0),
        ("r3", 3, "apple", 1, 0),
        ("r4", 1, "none", 0, 0),
    ]
    assert report.non_answers == 3  # n/a, none, and "-" for "why"


def test_reimport_is_idempotent(mini, corpus_spec, tmp_path):
    db = open_db(tmp_path / "c.db")
    import_responses(db, corpus_spec, CORPUS / "responses.csv")
    before = db.execute("SELECT * FROM answers ORDER BY id").fetchall()
    report = import_responses(db, corpus_spec, CORPUS / "responses.csv")
    assert report.respondents_new == 0 and report.answers_new == 0
    assert report.respondents_unchanged == 143
    assert db.execute("SELECT * FROM answers ORDER BY id").fetchall() == before


def test_reimport_of_updated_file_flags_changed_coded_answers(mini):
    db = open_db(mini["db"])
    spec = load_spec(mini["spec"])
    import_responses(db, spec, mini["export"])
    apple = db.execute("SELECT pk FROM themes WHERE id = 'apple'").fetchone()[0]
    pear = db.execute("SELECT pk FROM themes WHERE id = 'pear'").fetchone()[0]
    r1_1 = db.execute(
        "SELECT id FROM answers WHERE respondent_id = 'r1' AND rank = 1 AND question_id = 'fav'"
    ).fetchone()[0]
    apply_codes(db, r1_1, [Code(apple, coder="ann")], coder="ann")
    rows = [list(r) for r in MINI_ROWS]
    rows[0][2] = "apples!"  # coded answer edited in the survey tool
    rows[0][3] = "pears"  # uncoded answer edited
    rows[2][4] = ""  # uncoded answer emptied
    rows.append(["r5", "Officer", "pear", "", "", ""])
    write_csv(mini["export"], [MINI_HEADER, *rows])
    report = import_responses(db, spec, mini["export"])
    assert (report.respondents_new, report.respondents_updated, report.respondents_unchanged) == (1, 2, 2)
    assert report.answers_flagged == 1 and report.answers_updated == 1 and report.answers_removed == 1
    flagged = db.execute("SELECT text, previous_text, changed FROM answers WHERE id = ?", [r1_1]).fetchone()
    assert flagged == ("apples!", "apple", 1)
    # The coding survived, and is listed for review.
    exported = list(export_codings(db, "fav", changed_only=True))
    assert [(r["respondent_id"], r["answer"], r["theme"], r["coder"]) for r in exported] == [
        ("r1", "apples!", "Apple", "ann")
    ]
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'answer.changed'").fetchone()[0] == 1
    # Confirming the codes again clears the flag.
    apply_codes(db, r1_1, [Code(apple, coder="ann"), Code(pear, coder="ann")], coder="ann")
    assert db.execute("SELECT changed FROM answers WHERE id = ?", [r1_1]).fetchone()[0] == 0


@pytest.mark.parametrize(
    "encoding,bom",
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")],
    ids=["utf8", "utf8-bom", "cp1252-excel", "utf16"],
)
def test_encodings_excel_and_survey_tools_write(mini, encoding, bom):
    rows = [MINI_HEADER, ["r1", "Officer", "Café £5 – “quotes”", "", "", ""]]
    path = mini["dir"] / "enc.csv"
    write_csv(path, rows, encoding=encoding)
    if bom:
        path.write_bytes(bom + path.read_bytes())
    db = open_db(mini["db"])
    report = import_responses(db, load_spec(mini["spec"]), path)
    assert answers(db)[0][2] == "Café £5 – “quotes”"
    assert report.encoding in {"utf-8", "utf-8-sig", "cp1252", "utf-16"}


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_other_delimiters(mini, delimiter):
    path = write_csv(mini["dir"] / "d.csv", [MINI_HEADER, *MINI_ROWS], delimiter=delimiter)
    db = open_db(mini["db"])
    import_responses(db, load_spec(mini["spec"]), path)
    assert len(answers(db)) == 8


def test_xlsx_import(mini):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(MINI_HEADER)
    for row in MINI_ROWS:
        sheet.append([c if c else None for c in row])
    sheet.append(["r9", "Officer", 42, None, None, None])  # numbers arrive as text
    path = mini["dir"] / "export.xlsx"
    workbook.save(path)
    db = open_db(mini["db"])
    import_responses(db, load_spec(mini["spec"]), path)
    assert ("r9", 1, "42", 1, 0) in answers(db)
    assert len(answers(db)) == 9


def test_jsonl_import(mini):
    """One object per line, nested objects flattened, lists joined, numbers as text."""
    path = mini["dir"] / "export.jsonl"
    path.write_text(
        '{"id": "r1", "role": "Officer", "fav_1": "apple", "fav_2": ["pear", "plum"], "fav_3": "", "why": "tasty"}\n'
        "\n"
        '{"id": "r2", "role": "Head", "fav_1": 42, "fav_2": null, "fav_3": "", "why": "caf\\u00e9 [b]"}\n',
        encoding="utf-8",
    )
    db = open_db(mini["db"])
    import_responses(db, load_spec(mini["spec"]), path)
    assert ("r1", 2, "pear; plum", 1, 0) in answers(db)
    assert ("r2", 1, "42", 1, 0) in answers(db)
    assert answers(db, "why") == [("r1", 1, "tasty", 1, 0), ("r2", 1, "café [b]", 1, 0)]


def bad_bytes(mini, data: bytes):
    path = mini["dir"] / "bad.csv"
    path.write_bytes(data)
    return path


def jsonl(mini, text: str):
    path = mini["dir"] / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_RECORD = '{"id": "r1", "role": "x", "fav_1": "a", "fav_2": "", "fav_3": "", "why": "b"}'

BAD_INPUTS = {
    "missing-column": (
        lambda m: write_csv(
            m["dir"] / "bad.csv", [["id", "role", "fav_1", "fav_2", "why"], ["r1", "x", "a", "b", "c"]]
        ),
        ["missing column", "fav_3", "row 1"],
    ),
    "misspelt-column": (
        lambda m: write_csv(
            m["dir"] / "bad.csv", [["id", "role", "fav_1", "fav_2", "fav3", "why"], ["r1", "x", "a", "b", "c", "d"]]
        ),
        ["'fav_3'", "did you mean 'fav3'"],
    ),
    "duplicate-id": (
        lambda m: write_csv(m["dir"] / "bad.csv", [MINI_HEADER, MINI_ROWS[0], MINI_ROWS[1], MINI_ROWS[0]]),
        ["duplicate respondent id 'r1'", "row 4", "column 'id'", "first seen in row 2"],
    ),
    "empty-id": (
        lambda m: write_csv(m["dir"] / "bad.csv", [MINI_HEADER, MINI_ROWS[0], ["", "x", "a", "", "", ""]]),
        ["respondent id is empty", "row 3"],
    ),
    "undecodable": (
        lambda m: bad_bytes(m, ",".join(MINI_HEADER).encode() + b"\r\nr1,x,ok,,,\r\nr2,x,caf\x81,,,\r\n"),
        ["undecodable byte 0x81", "row 3", "column 'fav_1'"],
    ),
    "empty-file": (lambda m: bad_bytes(m, b""), ["the file is empty"]),
    "blank-file": (lambda m: bad_bytes(m, b"\r\n  \r\n"), ["the file is empty"]),
    "header-only": (lambda m: write_csv(m["dir"] / "bad.csv", [MINI_HEADER]), ["no data rows"]),
    "binary": (lambda m: bad_bytes(m, b"PK\x03\x04\x00\x00garbage\x00\xff"), ["NUL byte", "binary"]),
    "ragged-long": (
        lambda m: write_csv(m["dir"] / "bad.csv", [MINI_HEADER, MINI_ROWS[0], ["r2", "x", "a", "b", "c", "d", "oops"]]),
        ["row 3", "7 fields", "header has 6"],
    ),
    "ragged-short": (
        lambda m: write_csv(m["dir"] / "bad.csv", [MINI_HEADER, ["r2", "x", "a"]]),
        ["row 2", "cut short"],
    ),
    "huge-cell": (
        lambda m: write_csv(m["dir"] / "bad.csv", [MINI_HEADER, ["r1", "x", "a" * 250_000, "", "", ""]]),
        ["row 2", "column 'fav_1'", "250,000 characters"],
    ),
    "not-xlsx": (
        lambda m: bad_bytes(m, b"not a zip") and (m["dir"] / "bad.csv").rename(m["dir"] / "bad.xlsx"),
        ["not a readable XLSX"],
    ),
    "missing-file": (lambda m: m["dir"] / "nope.csv", ["file not found"]),
    "jsonl-invalid": (
        lambda m: jsonl(m, GOOD_RECORD + '\n{"id": "r2", oops}\n'),
        ["bad.jsonl, line 2", "invalid JSON"],
    ),
    "jsonl-not-object": (lambda m: jsonl(m, GOOD_RECORD + "\n[1, 2]\n"), ["line 2", "must be a JSON object"]),
    "jsonl-lone-surrogate": (
        lambda m: jsonl(m, GOOD_RECORD.replace('"b"', '"caf\\ud800"') + "\n"),
        ["line 1", "field 'why'", "lone UTF-16 surrogate"],
    ),
    "jsonl-empty": (lambda m: jsonl(m, "\n \n"), ["the file is empty"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_named_and_leaves_db_unchanged(mini, case):
    make, expected = BAD_INPUTS[case]
    db = open_db(mini["db"])
    spec = load_spec(mini["spec"])
    import_responses(db, spec, mini["export"])
    before = dump(db)
    path = make(mini)
    with pytest.raises(CoderError) as info:
        import_responses(db, spec, path)
    message = str(info.value)
    for fragment in expected:
        assert fragment in message, message
    assert dump(db) == before


def test_error_midway_rolls_back_new_database(mini):
    """A duplicate id in row 4 must not leave rows 2-3 behind in a new database."""
    db = open_db(mini["db"])
    path = write_csv(mini["dir"] / "bad.csv", [MINI_HEADER, MINI_ROWS[0], MINI_ROWS[1], MINI_ROWS[0]])
    with pytest.raises(CoderError):
        import_responses(db, load_spec(mini["spec"]), path)
    assert db.execute("SELECT count(*) FROM respondents").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 0


def test_other_survey_in_same_db_is_refused(mini, corpus_spec):
    db = open_db(mini["db"])
    import_responses(db, load_spec(mini["spec"]), mini["export"])
    with pytest.raises(CoderError, match="holds survey 'mini'"):
        import_responses(db, corpus_spec, CORPUS / "responses.csv")


def test_spec_paths_resolve_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_spec(CORPUS / "survey.yaml")
    assert spec.question("q13").codebook.id == "departments"


def test_a_repeated_header_is_named_by_its_column_letter_in_every_reader(tmp_path):
    from openpyxl import Workbook

    from coder.survey.readers import column_letter, open_export

    header = ["id", "Other (please specify)", "Q2", "Other  (please specify)", "Other (please specify)"]
    csv_path = write_csv(tmp_path / "e.csv", [header, ["r1", "a", "b", "c", "d"]])
    workbook = Workbook()
    workbook.active.append(header)
    workbook.active.append(["r1", "a", "b", "c", "d"])
    workbook.save(tmp_path / "e.xlsx")
    for path in (csv_path, tmp_path / "e.xlsx"):
        assert open_export(path).header == [
            "id",
            "Other (please specify)",
            "Q2",
            "Other  (please specify) (column D)",  # names match with whitespace folded, as specs do
            "Other (please specify) (column E)",
        ]
    assert [column_letter(i) for i in (0, 25, 26, 51, 702)] == ["A", "Z", "AA", "AZ", "AAA"]


def test_title_rows_above_the_header_are_skipped_in_csv_and_xlsx(tmp_path):
    """Hand-made workbooks put a title (and a date line, a blank row) above the header: the header is
    the first row of several cells, and row numbers stay the spreadsheet's."""
    from openpyxl import Workbook

    from coder.survey.readers import open_export

    header, data = ["Ref", "Ward", "Comment"], [["R1", "North", "Fix the roads"], ["R2", "South", "Bins, please"]]
    csv_path = tmp_path / "titled.csv"
    csv_path.write_text(
        'Residents survey 2024;;\r\nExported 1 May;;\r\n\r\nRef;Ward;Comment\r\nR1;North;Fix the roads\r\nR2;South;"Bins, please"\r\n',
        encoding="utf-8",
    )
    workbook = Workbook()
    for row in (["Residents survey 2024"], [], header, *data):
        workbook.active.append(row)
    workbook.save(tmp_path / "titled.xlsx")
    for path, title, first_row in ((csv_path, 3, 5), (tmp_path / "titled.xlsx", 2, 4)):
        export = open_export(path)
        assert export.header == header and export.title_rows == title
        rows = list(export.rows)
        assert rows == [(first_row, data[0]), (first_row + 1, data[1])]


def test_a_one_column_export_keeps_its_first_row_as_the_header(tmp_path):
    from coder.survey.readers import open_export

    export = open_export(write_csv(tmp_path / "one.csv", [["Comment"], ["Fix the roads"], ["More buses"]]))
    assert export.header == ["Comment"] and export.title_rows == 0
    assert [row for _, row in export.rows] == [["Fix the roads"], ["More buses"]]
