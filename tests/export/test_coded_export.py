"""Coded data out: the CSV (to stdout or a file) and the XLSX workbook, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from coder.coding.codings import EXPORT_COLUMNS, export_codings, import_codings, question_ids, write_codings_csv
from coder.errors import CoderError
from coder.export.coded_data import XLSX_COLUMNS, export_xlsx, write_safe_csv
from coder.spreadsheet import neutralise, sheet_name, unneutralise
from tests.invoke import run

INJECTION = [
    ("=1+1", "'=1+1"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-", "'-"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=cmd|' /C calc'!A0", "'\t=cmd|' /C calc'!A0"),
    ("\r=1", "'\r=1"),
    ("More online forms - and fewer calls", "More online forms - and fewer calls"),
    ("", ""),
    ("'quoted already", "'quoted already"),
    ("'=1+1", "''=1+1"),  # quoted again, so reading back gives the original
    (3, 3),
    (0.75, 0.75),
    (None, None),
]


@pytest.mark.parametrize(
    "value,written",
    INJECTION,
    ids=[
        "formula",
        "phone",
        "dash",
        "at",
        "tab",
        "cr",
        "normal",
        "empty",
        "apostrophe",
        "apostrophe-formula",
        "int",
        "float",
        "none",
    ],
)
def test_formula_cells_are_neutralised_and_read_back(value, written):
    assert neutralise(value) == written
    if isinstance(value, str):
        assert unneutralise(written) == value


@given(st.text(max_size=12))
def test_unneutralise_inverts_neutralise(text):
    assert unneutralise(neutralise(text)) == text


def _poison(db, text: str) -> tuple[str, str, int]:
    """Give the first coded q14 answer a formula as its text; returns its cell."""
    answer_id, respondent, rank = db.execute(
        """SELECT a.id, a.respondent_id, a.rank FROM answers a JOIN codings c ON c.answer_id = a.id
           WHERE a.question_id = 'q14' ORDER BY a.id LIMIT 1"""
    ).fetchone()
    with db.atomic():
        db.execute("UPDATE answers SET text = ? WHERE id = ?", [text, answer_id])
    return respondent, "q14", rank


# CSV ---------------------------------------------------------------------------------------


def test_default_csv_output_is_unchanged(gold_db, tmp_path):
    expected = io.StringIO()
    write_codings_csv(export_codings(gold_db), expected)
    assert run("codings", "export", tmp_path / "gold.db").stdout == expected.getvalue()
    expected = io.StringIO()
    write_codings_csv(export_codings(gold_db, "q13"), expected)
    out = run("codings", "export", tmp_path / "gold.db", "--question", "q13", "--format", "csv").stdout
    assert out == expected.getvalue()
    assert out.splitlines()[0] == ",".join(EXPORT_COLUMNS)


def test_csv_to_a_file_is_the_same_csv(gold_db, tmp_path):
    stdout = run("codings", "export", tmp_path / "gold.db", "-q", "q14").stdout
    run("codings", "export", tmp_path / "gold.db", "-q", "q14", "--format", "csv", "--output", tmp_path / "q14.csv")
    assert (tmp_path / "q14.csv").read_text(encoding="utf-8") == stdout


def test_csv_neutralises_formulas_and_still_imports(gold_db, corpus_db, tmp_path):
    respondent, question, rank = _poison(gold_db, '=HYPERLINK("http://evil","click")')
    out = io.StringIO()
    write_safe_csv(export_codings(gold_db), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    poisoned = [r for r in rows if (r["respondent_id"], r["question"], r["rank"]) == (respondent, question, str(rank))]
    assert poisoned and all(r["answer"] == '\'=HYPERLINK("http://evil","click")' for r in poisoned)
    assert unneutralise(poisoned[0]["answer"]) == '=HYPERLINK("http://evil","click")'
    # Every other cell is exactly what the plain writer gives.
    plain = list(csv.DictReader(io.StringIO(_plain(gold_db))))
    assert [r for r in rows if r not in poisoned] == [r for r in plain if r["answer"][:1] != "="]
    # Ids, questions and labels survive, so the file imports as a codings file.
    path = tmp_path / "codings.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert import_codings(corpus_db, path, coder="second")["codings"] == len(rows)


def _plain(db) -> str:
    out = io.StringIO()
    write_codings_csv(export_codings(db), out)
    return out.getvalue()


# XLSX --------------------------------------------------------------------------------------


def _coded_cells(db, question: str) -> list[tuple]:
    return db.execute(
        """SELECT a.respondent_id, a.rank, a.text, group_concat(t.label, '; ')
           FROM (SELECT c.answer_id, t.label, t.position FROM codings c JOIN themes t ON t.pk = c.theme_pk
                 ORDER BY c.answer_id, t.position) AS t
           JOIN answers a ON a.id = t.answer_id JOIN respondents r ON r.id = a.respondent_id
           WHERE a.question_id = ? GROUP BY a.id ORDER BY r.position, a.rank""",
        [question],
    ).fetchall()


def test_xlsx_has_a_sheet_per_question_with_one_row_per_coded_answer(gold_db, tmp_path):
    path = tmp_path / "codings.xlsx"
    counts = export_xlsx(gold_db, path)
    book = load_workbook(path)
    assert book.sheetnames == question_ids(gold_db)
    for question in book.sheetnames:
        rows = list(book[question].iter_rows(values_only=True))
        assert rows[0] == tuple(XLSX_COLUMNS)
        expected = _coded_cells(gold_db, question)
        assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == expected
        assert counts[question] == len(expected)
        assert all(r[4] == "confirmed" and r[5] == "gold" for r in rows[1:])
    # q13 cells naming two departments carry both labels.
    assert any("; " in r[3] for r in book["q13"].iter_rows(min_row=2, values_only=True))


def test_xlsx_neutralises_formulas(gold_db, tmp_path):
    respondent, question, rank = _poison(gold_db, "@SUM(A1)")
    path = tmp_path / "codings.xlsx"
    export_xlsx(gold_db, path, "q14")
    book = load_workbook(path)
    assert book.sheetnames == ["q14"]
    cells = [row for row in book["q14"].iter_rows(min_row=2) if (row[0].value, row[1].value) == (respondent, rank)]
    assert cells[0][2].value == "'@SUM(A1)" and cells[0][2].data_type == "s"
    assert all(c.data_type != "f" for row in book["q14"].iter_rows() for c in row)


def test_xlsx_with_changed_only_and_control_characters(gold_db, tmp_path):
    respondent, _, _ = _poison(gold_db, "bell\x07 in the text")
    with gold_db.atomic():
        gold_db.execute("UPDATE answers SET changed = 1 WHERE respondent_id = ? AND question_id = 'q14'", [respondent])
    export_xlsx(gold_db, tmp_path / "changed.xlsx", changed_only=True)
    book = load_workbook(tmp_path / "changed.xlsx")
    assert book.sheetnames == question_ids(gold_db)  # every question has its sheet, even empty
    rows = list(book["q14"].iter_rows(min_row=2, values_only=True))
    assert rows and rows[0][:3] == (respondent, 1, "bell in the text")
    assert all(book[q].max_row == 1 for q in book.sheetnames if q != "q14")


@pytest.mark.parametrize(
    "question,taken,expected",
    [("q14", set(), "q14"), ("a/b:c", set(), "a_b_c"), ("x" * 40, set(), "x" * 31), ("Q1", {"q1"}, "Q1~2")],
    ids=["plain", "bad-chars", "long", "clash"],
)
def test_sheet_names_are_valid_for_excel(question, taken, expected):
    assert sheet_name(question, set(taken)) == expected


def test_cli_xlsx(gold_db, tmp_path):
    db_path = tmp_path / "gold.db"
    result = run("codings", "export", db_path, "--format", "xlsx", "--output", tmp_path / "all.xlsx")
    assert "sheet" in result.stderr and result.stdout == ""
    assert load_workbook(tmp_path / "all.xlsx").sheetnames == question_ids(gold_db)
    run("codings", "export", db_path, "-q", "q13", "-o", tmp_path / "q13.xlsx")  # the name says xlsx
    assert load_workbook(tmp_path / "q13.xlsx").sheetnames == ["q13"]
    assert "--output" in run("codings", "export", db_path, "--format", "xlsx", ok=False).output
    assert (
        "unknown question 'q99'"
        in run(
            "codings", "export", db_path, "-q", "q99", "--format", "xlsx", "-o", tmp_path / "x.xlsx", ok=False
        ).output
    )
    with pytest.raises(CoderError, match="unknown question"):
        export_xlsx(gold_db, tmp_path / "x.xlsx", "q99")
