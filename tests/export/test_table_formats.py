from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from coder.errors import CoderError
from coder.export.formats import FORMATS, grid, grid_csv, latex_escape, render, to_csv, to_markdown, to_xlsx
from coder.report.tables import (
    Row,
    Table,
    build_crosstab,
    build_table,
    compare_table,
    format_change,
    read_previous_csv,
)
from coder.spreadsheet import neutralise as spreadsheet_safe
from coder.spreadsheet import unneutralise
from tests.conftest import write_csv
from tests.invoke import run

QUESTIONS = ["q13", "q14"]


def sheet_rows(data: bytes) -> list[tuple]:
    return [tuple(c for c in row) for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]


def tricky_table() -> Table:
    rows = (
        Row("rd", "R&D_costs <100%> {x} $#", 3, Decimal("60.0")),
        Row("eq", "=HYPERLINK(1)", 1, Decimal("20.0")),
        Row("other", "-other-", 1, Decimal("20.0"), folded=True),
    )
    return Table("q1", "Spend & tax_rates at 5% <now>", "Theme", "mentions", 5, 4, 5, 0, rows)


# --- every format of the plain table ----------------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS)
def test_md_and_csv_are_unchanged(gold_db, question):
    table = build_table(gold_db, question)
    assert render(table, "md") == to_markdown(table)
    assert render(table, "csv") == to_csv(table)


@pytest.mark.parametrize("question", QUESTIONS)
def test_json_values_equal_the_table(gold_db, question):
    table = build_table(gold_db, question)
    data = json.loads(render(table, "json"))
    assert data["base"]["n"] == table.base_n and data["base"]["kind"] == table.base
    assert data["base"]["text"] == table.base_text
    assert [(r["theme_id"], r["label"], r["count"], Decimal(str(r["percent"])), r["folded"]) for r in data["rows"]] == [
        (r.theme_id, r.label, r.count, r.percent, r.folded) for r in table.rows
    ]


@pytest.mark.parametrize("question", QUESTIONS)
def test_xlsx_has_the_rows_and_the_base(gold_db, question):
    table = build_table(gold_db, question)
    rows = sheet_rows(render(table, "xlsx"))
    assert rows[0][0] == table.title
    assert rows[2] == (table.header, "Count", "Response")
    body = rows[3 : 3 + len(table.rows)]
    assert [(label, count, Decimal(str(share))) for label, count, share in body] == [
        (r.label, r.count, r.percent) for r in table.rows
    ]
    assert table.base_text + "." in [row[0] for row in rows]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("fmt", ["html", "latex"])
def test_html_and_latex_have_every_row_and_the_base(gold_db, question, fmt):
    table = build_table(gold_db, question)
    text = render(table, fmt)
    escape = (lambda s: s.replace("&", "&amp;")) if fmt == "html" else latex_escape
    for row in table.rows:
        assert escape(row.label) in text
        assert f"{row.percent}%" in text or f"{row.percent}\\%" in text
    assert escape(table.base_text) in text


def test_html_escapes_what_it_must():
    text = render(tricky_table(), "html")
    assert "R&amp;D_costs &lt;100%&gt; {x} $#" in text
    assert "<caption>Spend &amp; tax_rates at 5% &lt;now&gt;</caption>" in text
    assert "<now>" not in text


def test_latex_escapes_what_it_must():
    text = render(tricky_table(), "latex")
    assert r"R\&D\_costs \textless{}100\%\textgreater{} \{x\} \$\#" in text
    assert r"\caption{Spend \& tax\_rates at 5\% \textless{}now\textgreater{}}" in text
    assert r"60.0\%" in text and r"Base: 5 mentions by 4 answering respondents." in text


def test_every_format_renders_every_shape(gold_db, tmp_path):
    previous = write_csv(tmp_path / "prev.csv", [["theme", "count", "percent"], ["CRM", "3", "5.0"]])
    shapes = [
        build_table(gold_db, "q14"),
        build_crosstab(gold_db, "q14", "role"),
        compare_table(build_table(gold_db, "q14"), read_previous_csv(previous)),
    ]
    for shape in shapes:
        for fmt in FORMATS:
            assert render(shape, fmt)


# --- formula safety -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,safe",
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-other-", "'-other-"),
        ("@SUM", "'@SUM"),
        ("'=x", "''=x"),
        ("CRM", "CRM"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
    ids=["eq", "plus", "minus", "at", "quoted-formula", "plain", "apostrophe", "empty"],
)
def test_spreadsheet_safe_round_trips(text, safe):
    assert spreadsheet_safe(text) == safe
    assert unneutralise(safe) == text


def test_csv_and_xlsx_neutralise_labels_not_numbers():
    table = tricky_table()
    lines = to_csv(table).splitlines()
    assert lines[2:] == ["'=HYPERLINK(1),1,20.0", "'-other-,1,20.0"]
    rows = sheet_rows(to_xlsx(grid(table)))
    assert ("'=HYPERLINK(1)", 1, 20.0) in rows and ("'-other-", 1, 20.0) in rows
    assert "'=HYPERLINK(1)" in grid_csv(grid(table))


# --- crosstab -------------------------------------------------------------------------------------------


def test_crosstab_by_role(gold_db):
    cross = build_crosstab(gold_db, "q14", "role")
    plain = build_table(gold_db, "q14")
    total = cross.total
    # Each respondent has one role: the groups partition the answering respondents.
    assert sum(c.base_n for c in cross.columns) == plain.base_n == total.base_n == 68
    assert cross.table == plain
    assert total.counts == tuple(r.count for r in plain.rows)
    assert total.percents == tuple(r.percent for r in plain.rows)
    names = [c.name for c in cross.columns]
    assert "Digital Practitioner (web teams etc)" in names and names == sorted(names, key=str.casefold)
    for column in cross.columns:
        assert all(count <= column.base_n for count in column.counts)
    # A theme's respondents split across the groups (one role each).
    for index, row in enumerate(plain.rows):
        assert sum(c.counts[index] for c in cross.columns) == row.count


def test_crosstab_mentions_base_is_the_groups_mentions(gold_db):
    cross = build_crosstab(gold_db, "q13", "role")
    assert sum(c.base_n for c in cross.columns) == 147
    for column in cross.columns:
        assert sum(column.counts) == column.base_n


def test_crosstab_formats_carry_column_bases(gold_db):
    cross = build_crosstab(gold_db, "q14", "role")
    md = render(cross, "md")
    assert "| **Base** |" in md and "**68** |" in md
    assert md.splitlines()[2].endswith("| Total |")
    data = json.loads(render(cross, "json"))
    assert [c["base_n"] for c in data["columns"]] == [c.base_n for c in cross.columns] + [68]
    header = render(cross, "csv").splitlines()[0].split(",")
    assert header[0] == "theme" and header[-2:] == ["Total count", "Total percent"]


def test_crosstab_unknown_attribute_lists_the_attributes(gold_db):
    with pytest.raises(CoderError, match="unknown attribute 'seniority'.*name, job_title, organisation, role"):
        build_crosstab(gold_db, "q14", "seniority")


# --- comparison with an earlier wave ------------------------------------------------------------------


@pytest.mark.parametrize(
    "change,text",
    [(Decimal("4.6"), "+4.6%"), (Decimal("-1.2"), "-1.2%"), (Decimal("0.0"), "0.0%"), (Decimal("18.7"), "+18.7%")],
    ids=["up", "down", "same", "big"],
)
def test_change_is_signed_to_one_decimal(change, text):
    assert format_change(change) == text


def test_compare_with_previous_wave(gold_db, tmp_path):
    previous = write_csv(
        tmp_path / "q14-2013.csv",
        [
            ["theme", "count", "percent"],
            ["COST AND EFFICIENCY SAVINGS / STAFF REDUCTION", "20", "33.6"],  # matched case-insensitively
            ["Customer access / self service", "25", "32.1"],
            ["Paperless office", "4", "5.1"],  # dropped this year
        ],
    )
    comparison = compare_table(build_table(gold_db, "q14"), read_previous_csv(previous))
    rows = {r.label: r for r in comparison.rows}
    assert str(rows["Cost and efficiency savings / staff reduction"].change) == "4.6"
    assert rows["Customer access / self service"].change == Decimal("-1.2")
    assert rows["Business transformation"].previous is None and rows["Business transformation"].change is None
    assert comparison.rows[-1].label == "Paperless office" and comparison.rows[-1].current is None
    md = render(comparison, "md")
    assert "| Top service redesign priorities | 2013 | 2014 | % Change |" in md
    assert "| Cost and efficiency savings / staff reduction | 33.6% | 38.2% | +4.6% |" in md
    assert "| Customer access / self service | 32.1% | 30.9% | -1.2% |" in md
    assert "| Business transformation | N/A | 23.5% | N/A |" in md
    assert "| Paperless office | 5.1% | N/A | N/A |" in md
    labels = compare_table(
        build_table(gold_db, "q14"), read_previous_csv(previous), previous_label="Wave 1", current_label="Wave 2"
    )
    assert "| Top service redesign priorities | Wave 1 | Wave 2 | % Change |" in render(labels, "md")


def test_compare_reads_what_coder_table_wrote(gold_db, tmp_path):
    previous = tmp_path / "prev.csv"
    previous.write_text(to_csv(build_table(gold_db, "q13")), encoding="utf-8")
    comparison = compare_table(build_table(gold_db, "q13"), read_previous_csv(previous))
    assert all(r.change == 0 for r in comparison.rows) and len(comparison.rows) == 12


@pytest.mark.parametrize(
    "rows,message",
    [
        ([["label", "n", "pct"]], "prev.csv, row 1: the header must be exactly theme,count,percent"),
        ([["theme", "count", "percent"], ["CRM", "x", "3.0"]], "prev.csv, row 2, column 'count'"),
        ([["theme", "count", "percent"], ["CRM", "3", "lots"]], "prev.csv, row 2, column 'percent'"),
        (
            [["theme", "count", "percent"], ["CRM", "3", "3.0"], ["crm", "3", "3.0"]],
            "prev.csv, row 3, column 'theme': theme 'crm' is listed twice",
        ),
        ([["theme", "count", "percent"], ["CRM", "3"]], "prev.csv, row 2: expected 3 cells"),
        ([["theme", "count", "percent"], ["CRM", "3", "140"]], "prev.csv, row 2: count must be"),
    ],
    ids=["header", "count", "percent", "twice", "short", "range"],
)
def test_bad_previous_csv_names_file_and_row(tmp_path, rows, message):
    path = write_csv(tmp_path / "prev.csv", rows)
    with pytest.raises(CoderError) as caught:
        read_previous_csv(path)
    assert message in str(caught.value)


# --- min-count folding --------------------------------------------------------------------------------


def test_min_count_folds_into_the_specs_fold_row(gold_db):
    plain = build_table(gold_db, "q13")
    folded = build_table(gold_db, "q13", min_count=4)
    assert all(r.count >= 4 for r in folded.rows if not r.folded)
    assert folded.rows[-1].label == "Other/unknown" and folded.rows[-1].folded
    assert sum(r.count for r in folded.rows) == sum(r.count for r in plain.rows) == 147
    small = sum(r.count for r in plain.rows if r.count < 4 and not r.folded)
    assert folded.rows[-1].count == plain.rows[-1].count + small


def test_min_count_adds_an_other_row_without_a_fold(gold_db):
    folded = build_table(gold_db, "q14", min_count=5)
    last = folded.rows[-1]
    assert (last.theme_id, last.label, last.folded) == ("other", "Other", True)
    small = {"digital-inclusion", "housing", "environmental", "hr-payroll"}
    assert small.isdisjoint(r.theme_id for r in folded.rows)
    # Respondents base: a respondent counts once in Other, however many folded themes they gave.
    respondents = gold_db.execute(
        f"""SELECT count(DISTINCT a.respondent_id) FROM codings c JOIN answers a ON a.id = c.answer_id
            JOIN themes t ON t.pk = c.theme_pk WHERE a.question_id = 'q14' AND a.is_answer = 1
            AND t.id IN ({",".join("?" * len(small))})""",
        sorted(small),
    ).fetchone()[0]
    assert last.count == respondents and folded.base_n == 68
    assert build_table(gold_db, "q14", min_count=0) == build_table(gold_db, "q14")


# --- the command ----------------------------------------------------------------------------------------


@pytest.fixture
def gold_path(gold_db):
    gold_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return gold_db.conn.execute("PRAGMA database_list").fetchone()[2]


def test_table_command_formats(gold_path, tmp_path):
    table = json.loads(run("table", gold_path, "-q", "q14", "--format", "json").output)
    assert table["rows"][0]["count"] == 26
    assert (
        run("table", gold_path, "-q", "q14", "--format", "csv").output.splitlines()[1]
        == "Cost and efficiency savings / staff reduction,26,38.2"
    )
    result = run("table", gold_path, "-q", "q14", "--format", "xlsx", ok=False)
    assert "give --output" in result.output
    out = tmp_path / "q14.xlsx"
    run("table", gold_path, "-q", "q14", "--format", "xlsx", "--output", out)
    assert sheet_rows(out.read_bytes())[3][:2] == ("Cost and efficiency savings / staff reduction", 26)
    latex = tmp_path / "q13.tex"
    run("table", gold_path, "-q", "q13", "--format", "latex", "-o", latex)
    assert r"\begin{tabular}" in latex.read_text(encoding="utf-8")


def test_table_command_by_compare_and_min_count(gold_path, tmp_path):
    assert "| **Base** |" in run("table", gold_path, "-q", "q14", "--by", "role").output
    result = run("table", gold_path, "-q", "q14", "--by", "grade", ok=False)
    assert "unknown attribute 'grade'" in result.output and "role" in result.output
    previous = write_csv(tmp_path / "q14-2013.csv", [["theme", "count", "percent"], ["CRM", "4", "6.3"]])
    out = run(
        "table", gold_path, "-q", "q14", "--compare", previous, "--previous-label", "2012", "--current-label", "2013"
    ).output
    assert "| CRM | 6.3% | 8.8% | +2.5% |" in out and "| 2012 | 2013 | % Change |" in out
    assert (
        "--by and --compare"
        in run("table", gold_path, "-q", "q14", "--by", "role", "--compare", previous, ok=False).output
    )
    bad = write_csv(tmp_path / "bad.csv", [["theme", "count", "percent"], ["CRM", "four", "6.3"]])
    assert "bad.csv, row 2, column 'count'" in run("table", gold_path, "-q", "q14", "--compare", bad, ok=False).output
    assert (
        run("table", gold_path, "-q", "q14", "--min-count", "5", "--format", "csv")
        .output.splitlines()[-1]
        .startswith("Other,")
    )
