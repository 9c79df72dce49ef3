"""A researcher's own data, shaped like exports coder was not developed on (ArgKP, ANES, survey tools)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import write_csv
from tests.invoke import run

ANSWERS = [
    "cannabis is a gateway drug to harder drugs",
    "it relieves pain for cancer patients",
    "legal cannabis would bring tax revenue",
    "it harms the developing brain of teenagers",
    "alcohol is legal and far more harmful",
    "police could focus on serious crime instead",
]


def _write(path, header, rows):
    return write_csv(path, [header, *([str(cell) for cell in row] for row in rows)])


def _themes(db, question, *labels):
    """Add themes to the question's codebook, then suggest: what a researcher does after init."""
    for label in labels:
        run("codebook", "add", db, label, "--question", question)
    run("suggest", db, "--question", question)


@pytest.fixture
def survey(tmp_path):
    """A wide export from `coder init`: two motions as open questions, stance as an attribute."""
    export = _write(
        tmp_path / "export.csv",
        ["Respondent ID", "Stance", "We should legalize cannabis", "We should subsidize space exploration"],
        [
            [f"R_{i}", "for" if i % 2 else "against", text, f"space exploration answer number {i} about science"]
            for i, text in enumerate(ANSWERS)
        ],
    )
    run("init", export, "--output", tmp_path / "spec")
    db = tmp_path / "s.db"
    run("import", db, "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    return db


def _codes(db, respondent):
    return sorted(
        sqlite3.connect(db).execute(
            """SELECT t.label, c.status FROM codings c JOIN answers a ON a.id = c.answer_id
               JOIN themes t ON t.pk = c.theme_pk WHERE a.respondent_id = ? AND a.question_id = ?""",
            [respondent, "we_should_legalize_cannabis"],
        )
    )


def test_a_colleagues_file_replaces_autocoded_codes_on_the_cells_it_codes(survey, tmp_path):
    q = "we_should_legalize_cannabis"
    _themes(survey, q, "Gateway drug", "Pain relief", "Tax revenue")
    run("autocode", survey, "--question", q, "--min-score", "0")
    assert any(status == "auto" for _, status in _codes(survey, "R_1"))
    colleague = _write(
        tmp_path / "kp.csv", ["respondent_id", "question", "rank", "theme"], [["R_1", q, 1, "Tax revenue"]]
    )
    run("codings", "import", survey, colleague, "--coder", "kpa")
    assert _codes(survey, "R_1") == [("Tax revenue", "confirmed")]  # no auto code left beside the file's
    table = run("table", survey, "--question", q, "--format", "csv").output
    uncoded_by_file = len({label for label, _ in _codes(survey, "R_2")})
    assert "Tax revenue" in table and uncoded_by_file >= 1  # cells the file leaves alone keep their auto codes


def test_evaluate_one_question_of_a_whole_survey_gold_file(survey, tmp_path):
    q = "we_should_legalize_cannabis"
    _themes(survey, q, "Gateway drug", "Pain relief")
    # The other question's themes are in no codebook of this database: --question must not read them.
    gold = _write(
        tmp_path / "gold.csv",
        ["respondent_id", "question", "rank", "theme"],
        [
            ["R_0", "we_should_subsidize_space_exploration", 1, "Science"],
            ["R_0", q, 1, "Gateway drug"],
            ["R_1", q, 1, "Pain relief"],
        ],
    )
    result = run("evaluate", survey, "--gold", gold, "--question", q, "--json")
    assert '"cells": 2' in result.output
    one = _write(tmp_path / "one.csv", ["respondent_id", "theme"], [["R_0", "Gateway drug"], ["R_1", "Pain relief"]])
    assert '"cells": 2' in run("evaluate", survey, "--gold", one, "--question", q, "--json").output


def test_an_unknown_theme_after_init_points_at_add_themes(survey, tmp_path):
    q = "we_should_legalize_cannabis"
    colleague = _write(tmp_path / "kp.csv", ["respondent_id", "question", "rank", "theme"], [["R_1", q, 1, "Pain"]])
    result = run("codings", "import", survey, colleague, "--coder", "kpa", ok=False)
    assert "--add-themes" in result.output


def test_questions_keeps_its_columns_aligned_for_long_ids(survey):
    lines = run("questions", survey).output.splitlines()
    starts = {line.index(" mentions") for line in lines[1:]}
    assert len(starts) == 1 and lines[0].index("base") == starts.pop() + 1


def test_evaluate_leaves_out_gold_cells_that_are_non_answers(tmp_path):
    export = _write(
        tmp_path / "export.csv",
        ["caseID", "Why did they attack"],
        [[str(i), text] for i, text in enumerate(ANSWERS + ["don't know", "dont know"], start=100)],
    )
    run("init", export, "--output", tmp_path / "spec")
    db = tmp_path / "s.db"
    run("import", db, "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    q = "why_did_they_attack"
    _themes(db, q, "Gateway drug", "Dont know")
    gold = _write(
        tmp_path / "gold.csv",
        ["respondent_id", "question", "theme"],
        [["100", q, "Gateway drug"], ["106", q, "Dont know"], ["107", q, "Dont know"]],
    )
    result = run("evaluate", db, "--gold", gold, "--question", q)
    coder_row = next(line for line in result.output.splitlines() if line.strip().startswith("coder "))
    assert coder_row.split()[1] == "1"  # the one real answer, not the two non-answers nothing suggests for
    assert "2 gold cell(s) left out: non-answers" in result.output


def test_init_leaves_out_the_ip_address_and_location_survey_tools_record(tmp_path):
    import yaml

    names = ["ResponseId", "IPAddress", "LocationLatitude", "LocationLongitude", "Q1", "Q2"]
    wording = ["Response ID", "IP Address", "Location Latitude", "Location Longitude", "Region", "Why?"]
    ids = [f'{{"ImportId":"{n}"}}' for n in names]
    rows = [
        [f"R_{i}", f"10.0.{i}.7", f"51.{i}", f"-0.{i}", "North" if i % 2 else "South", text]
        for i, text in enumerate(ANSWERS)
    ]
    export = _write(tmp_path / "qualtrics.csv", names, [wording, ids, *rows])
    result = run("init", export, "--output", tmp_path / "spec")
    spec = yaml.safe_load((tmp_path / "spec" / "survey.yaml").read_text(encoding="utf-8"))
    assert spec["attributes"] == ["Q1"] and spec["header_rows"] == 3
    assert result.output.count("an IP address or location a survey tool records") == 3
    run("import", tmp_path / "s.db", "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    stored = sqlite3.connect(tmp_path / "s.db").execute("SELECT DISTINCT name FROM respondent_attributes").fetchall()
    assert stored == [("Q1",)]


def test_xlsx_export_says_where_an_answer_over_excels_cell_limit_is_cut(survey, tmp_path):
    from openpyxl import load_workbook

    q = "we_should_legalize_cannabis"
    long = "the economy is bad " * 2500  # 47,500 characters: ANES has answers this long, Excel holds 32,767
    export = _write(
        tmp_path / "export2.csv",
        ["Respondent ID", "Stance", "We should legalize cannabis", "We should subsidize space exploration"],
        [["R_9", "for", long.strip(), "space exploration answer about science"]],
    )
    run("import", survey, "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    run("codebook", "add", survey, "Economy", "--question", q)
    codes = _write(tmp_path / "c.csv", ["respondent_id", "question", "theme"], [["R_9", q, "Economy"]])
    run("codings", "import", survey, codes, "--coder", "ann")
    result = run("codings", "export", survey, "-o", tmp_path / "c.xlsx")
    assert "1 answer(s) over Excel's 32,767 characters" in result.output
    cell = next(load_workbook(tmp_path / "c.xlsx")[q].iter_rows(min_row=2, values_only=True))[2]
    assert len(cell) <= 32_767 and cell.endswith("the CSV export has it whole]") and "47,499 characters" in cell
    assert long.strip() in run("codings", "export", survey, "-q", q).output  # the CSV keeps it whole


def test_a_question_named_by_its_header_is_refused_with_its_id(survey, tmp_path):
    before = sqlite3.connect(survey).execute("SELECT count(*) FROM audit").fetchone()
    colleague = _write(
        tmp_path / "kp.csv", ["respondent_id", "question", "theme"], [["R_1", " We should  legalize cannabis", "Pain"]]
    )
    result = run("codings", "import", survey, colleague, "--coder", "kpa", "--add-themes", ok=False)
    assert "column or wording of question we_should_legalize_cannabis: write its id" in result.output
    assert sqlite3.connect(survey).execute("SELECT count(*) FROM audit").fetchone() == before


def test_init_says_a_short_repeating_column_of_many_spellings_could_be_coded(tmp_path):
    spellings = ["vice president", "Vice President", "VP", "vice-president", "veep", "the vice president"]
    rows = [
        [i, ["North", "South"][i % 2], spellings[i % 3] if i % 4 else f"vice pres {i}", ANSWERS[i % 6] + f" ({i})"]
        for i in range(240)
    ]
    export = _write(tmp_path / "anes.csv", ["caseID", "Region", "What job does Dick Cheney hold", "Why"], rows)
    output = run("init", export, "--output", tmp_path / "spec").output
    assert "Region" in output and "attribute: a few values repeated (240 filled, 2 different" in output
    assert "short answers that repeat (240 filled, 63 different" in output and "move it to questions" in output
    stamps = [[i, f"2024-05-01 09:{i % 60:02d}", ANSWERS[i % 6] + f" ({i})"] for i in range(240)]
    export = _write(tmp_path / "q.csv", ["ResponseId", "StartDate", "Why"], stamps)
    output = run("init", export, "--output", tmp_path / "spec2").output
    assert "StartDate" in output and "move it to questions" not in output  # timestamps are not answers to code


def test_init_words_a_nested_jsonl_answer_by_its_own_key(tmp_path):
    import json

    import yaml

    export = tmp_path / "export.jsonl"
    export.write_text(
        "".join(
            json.dumps({"response_id": i, "demographic_data": {"Region": "North"}, "answers": {"Why ban them?": a}})
            + "\n"
            for i, a in enumerate(ANSWERS)
        ),
        encoding="utf-8",
    )
    run("init", export, "--output", tmp_path / "spec")
    spec = yaml.safe_load((tmp_path / "spec" / "survey.yaml").read_text(encoding="utf-8"))
    (question,) = spec["questions"]
    assert question["id"] == "why_ban_them" and question["text"] == "Why ban them?"
    assert question["columns"] == ["answers.Why ban them?"]
    run("import", tmp_path / "s.db", "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    assert "Why ban them?" in run("table", tmp_path / "s.db", "--question", "why_ban_them").output


def test_an_id_a_spreadsheet_stripped_of_leading_zeros_is_named(tmp_path):
    from openpyxl import Workbook

    export = _write(
        tmp_path / "e.csv", ["id", "Why did you choose this?"], [["0012", ANSWERS[0]], ["0013", ANSWERS[1]]]
    )
    run("init", export, "--output", tmp_path / "spec")
    db = tmp_path / "s.db"
    run("import", db, "--survey", tmp_path / "spec" / "survey.yaml", "--responses", export)
    book = Workbook()
    book.active.append(["respondent_id", "theme"])
    book.active.append([12, "Price"])  # Excel read the id as a number
    book.save(tmp_path / "codes.xlsx")
    args = ("codings", "import", db, tmp_path / "codes.xlsx", "--coder", "ann", "-q", "why_did_you_choose_this")
    result = run(*args, "--add-themes", ok=False)
    assert "the database has '0012': a spreadsheet drops leading zeros" in result.output
    assert sqlite3.connect(db).execute("SELECT count(*) FROM themes").fetchone() == (0,)  # nothing half-written


def test_wide_reads_one_column_per_theme_marked_1(survey, tmp_path):
    q = "we_should_legalize_cannabis"
    khot = _write(
        tmp_path / "khot.csv",
        ["respondent_id", "answer", "Gateway drug", "Pain relief", "Tax revenue"],
        [["R_0", ANSWERS[0], 1, 0, 0], ["R_1", ANSWERS[1], "0", "1", "1.0"], ["R_2", ANSWERS[2], 0, "", 0]],
    )
    result = run("codings", "import", survey, khot, "--coder", "anes", "--wide", "-q", q, "--add-themes")
    assert "Imported 3 codings on 2 answer cells" in result.output
    assert _codes(survey, "R_1") == [("Pain relief", "confirmed"), ("Tax revenue", "confirmed")]
    assert _codes(survey, "R_2") == []
    bad = _write(tmp_path / "bad.csv", ["respondent_id", "Gateway drug", "notes"], [["R_3", 1, "check this"]])
    result = run("codings", "import", survey, bad, "--coder", "anes", "--wide", "-q", q, ok=False)
    assert "row 2, column 'notes'" in result.output and "marked 1 or 0" in result.output
    assert _codes(survey, "R_3") == []


def test_a_colleagues_capitalised_headers_are_read(survey, tmp_path):
    q = "we_should_legalize_cannabis"
    colleague = _write(tmp_path / "kp.csv", ["Respondent ID", "Question", "Theme"], [["R_1", q, "Pain relief"]])
    run("codings", "import", survey, colleague, "--coder", "kpa", "--add-themes")
    assert _codes(survey, "R_1") == [("Pain relief", "confirmed")]
    gold = _write(tmp_path / "gold.csv", ["RESPONDENT_ID", "Theme"], [["R_2", "Pain relief"]])
    run("suggest", survey, "--question", q)
    assert '"cells": 1' in run("evaluate", survey, "--gold", gold, "-q", q, "--json").output
