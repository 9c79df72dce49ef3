"""`coder init` leaves out the timing columns survey tools record, and counts rows in good English."""

from __future__ import annotations

from coder.survey.spec import load_spec
from tests.conftest import write_csv
from tests.invoke import run
from tests.survey.test_init import COMMENTS


def test_qualtrics_timing_columns_are_left_out_not_attributes(tmp_path):
    header = ["StartDate", "EndDate", "Duration (in seconds)", "RecordedDate", "ResponseId", "Region", "Q1"]
    rows = [
        [
            f"2024-03-{1 + i % 28:02d} 09:{i:02d}:00",
            f"2024-03-{1 + i % 28:02d} 09:{i + 5:02d}:00",
            str(300 + 7 * i),
            f"2024-03-{1 + i % 28:02d} 09:{i + 6:02d}:00",
            f"R_{i:04d}",
            ["North", "South", "East"][i % 3],
            COMMENTS[i % len(COMMENTS)] + f" (case {i})",
        ]
        for i in range(30)
    ]
    export = write_csv(tmp_path / "export.csv", [header, *rows])
    out = run("init", export, "--output", tmp_path / "spec").output
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert spec.respondent_id == "ResponseId"
    assert spec.attributes == ("Region",)
    for name in ("StartDate", "EndDate", "Duration (in seconds)", "RecordedDate"):
        assert name in out
    assert "when the survey was taken (30 different values" in out


def test_a_timing_column_of_few_values_stays_an_attribute(tmp_path):
    header = ["id", "Duration", "Q1"]
    rows = [[str(i), ["short", "long"][i % 2], COMMENTS[i % len(COMMENTS)] + f" ({i})"] for i in range(30)]
    run("init", write_csv(tmp_path / "export.csv", [header, *rows]), "--output", tmp_path / "spec")
    assert load_spec(tmp_path / "spec" / "survey.yaml").attributes == ("Duration",)


def test_one_empty_row_is_one_row(tmp_path):
    header = ["respondent_id", "Q1"]
    rows = [[str(i) if i != 3 else "", COMMENTS[i % len(COMMENTS)] + f" ({i})"] for i in range(30)]
    out = run("init", write_csv(tmp_path / "export.csv", [header, *rows]), "--output", tmp_path / "spec", ok=None)
    assert "is empty in 1 row" in out.output and "1 rows" not in out.output


def test_a_google_forms_timestamp_is_left_out_however_few_rows(tmp_path):
    """Google Forms' first column is a time in every row: never a question to code, even in a pilot of 8 rows."""
    header = ["Timestamp", "Respondent", "What would most improve the service?"]
    rows = [
        [f"2024/03/0{1 + i // 3} 10:{10 + i:02d}:11 AM GMT", f"P{i}", COMMENTS[i % len(COMMENTS)] + f" ({i})"]
        for i in range(8)
    ]
    out = run("init", write_csv(tmp_path / "export.csv", [header, *rows]), "--output", tmp_path / "spec").output
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert [q.columns for q in spec.questions] == [("What would most improve the service?",)]
    assert "Timestamp" not in spec.attributes
    assert "when the survey was taken (8 different values" in out


def test_a_date_column_of_few_values_is_an_attribute_not_a_question(tmp_path):
    header = ["id", "Interview date", "Q1"]
    rows = [[str(i), ["2024-03-01", "2024-03-08"][i % 2], COMMENTS[i % len(COMMENTS)] + f" ({i})"] for i in range(30)]
    run("init", write_csv(tmp_path / "export.csv", [header, *rows]), "--output", tmp_path / "spec")
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert spec.attributes == ("Interview date",)
    assert [q.columns for q in spec.questions] == [("Q1",)]


def test_init_and_import_read_below_a_title_row(tmp_path):
    header = ["Ref", "Ward", "What should the council do better?"]
    rows = [[f"R{i}", ["North", "South"][i % 2], COMMENTS[i % len(COMMENTS)] + f" ({i})"] for i in range(30)]
    export = write_csv(tmp_path / "export.csv", [["Residents survey 2024", "", ""], ["", "", ""], header, *rows])
    out = run("init", export, "--output", tmp_path / "spec").output
    assert "2 rows above the header skipped" in out
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert spec.respondent_id == "Ref" and spec.attributes == ("Ward",)
    imported = run("import", tmp_path / "s.db", "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    assert "respondents: 30 new" in imported.output


def test_a_workbook_is_read_from_its_first_sheet_with_something_to_code(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Summary"
    workbook.active.append(["Question", "Responses"])
    workbook.active.append(["Q1", 30])
    raw = workbook.create_sheet("Raw data")
    raw.append(["Ref", "Ward", "What should the council do better?"])
    for i in range(30):
        raw.append([f"R{i}", ["North", "South"][i % 2], COMMENTS[i % len(COMMENTS)] + f" ({i})"])
    workbook.save(tmp_path / "multi.xlsx")
    out = run("init", tmp_path / "multi.xlsx", "--output", tmp_path / "spec").output
    assert "Sheet 'Raw data': 'Summary' holds no open question with a respondent id" in out
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert spec.sheet == "Raw data" and spec.respondent_id == "Ref"
    run(
        "import",
        tmp_path / "s.db",
        "--survey",
        tmp_path / "spec" / "survey.yaml",
        "--responses",
        tmp_path / "multi.xlsx",
    )
    # Named, a sheet is read as it is, and its failure is the answer.
    refused = run("init", tmp_path / "multi.xlsx", "--sheet", "Summary", "--output", tmp_path / "s2", ok=False)
    assert "no open question found" in refused.output
