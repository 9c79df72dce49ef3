"""`coder init`: a spec and empty codebooks guessed from a raw export, that `coder import` takes unedited."""

from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from coder.errors import CoderError
from coder.survey import init as survey_init
from coder.survey.init import plan_survey, write_plan
from coder.survey.spec import DEFAULT_NON_ANSWERS, load_spec
from tests.conftest import CORPUS
from tests.invoke import run

COMMENTS = [
    "The council should put more services online so people can use them at any time",
    "Staff need training before any of this works, and the budget has been cut again",
    "We have no money for new systems and the old ones keep failing every winter",
    "Better broadband in rural areas would help more than another app nobody uses",
    "Leadership from the top matters most; without it projects stall after a year",
    "Residents want to phone a person, not fill in a form that loses their details",
]


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def init_and_import(tmp_path, export, folder="out"):
    out = tmp_path / folder
    result = run("init", export, "--output", out)
    assert result.exit_code == 0, result.output
    db = tmp_path / f"{folder}.db"
    imported = run("import", db, "--survey", out / "survey.yaml", "--responses", export)
    assert imported.exit_code == 0, imported.output
    return result, out, sqlite3.connect(db)


def question_columns(conn):
    return {qid: json.loads(cols) for qid, cols in conn.execute("SELECT id, columns FROM questions")}


def test_corpus_export_groups_ranked_columns_like_the_hand_written_spec(tmp_path):
    result, out, conn = init_and_import(tmp_path, CORPUS / "responses.csv")
    hand = load_spec(CORPUS / "survey.yaml")
    written = load_spec(out / "survey.yaml")
    assert written.respondent_id == hand.respondent_id
    assert written.attributes == hand.attributes
    assert {q.id: q.columns for q in written.questions} == {q.id: q.columns for q in hand.questions}
    assert question_columns(conn)["q14"] == ["q14_priority_1", "q14_priority_2", "q14_priority_3"]
    assert conn.execute("SELECT count(*) FROM respondents").fetchone()[0] == 143
    assert conn.execute("SELECT count(DISTINCT rank) FROM answers WHERE question_id = 'q13'").fetchone()[0] == 3
    for question in written.questions:
        assert question.codebook.themes == ()
        assert question.non_answers.to_list() == sorted(set(DEFAULT_NON_ANSWERS))
    assert "respondent_id" in result.output and "respondent id: named like an id" in result.output
    assert "question q13: 3 numbered columns of one question" in result.output
    assert "role" in result.output and "attribute: a few values repeated (143 filled, 7 different" in result.output


def test_spec_lists_the_default_non_answers_visibly_and_they_can_be_emptied(tmp_path):
    export = write_csv(
        tmp_path / "e.csv", ["id", "comment"], [[i, text] for i, text in enumerate(COMMENTS + ["not sure"], 1)]
    )
    out = tmp_path / "out"
    write_plan(plan_survey(export), out)
    text = (out / "survey.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text)["non_answers"] == list(DEFAULT_NON_ANSWERS)
    assert "non_answers: []" in text  # the comment says how to code them all
    coded_all = re.sub(r"non_answers:\n(  - .*\n)+", "non_answers: []\n", text)
    assert coded_all != text
    (out / "survey.yaml").write_text(coded_all, encoding="utf-8")
    assert load_spec(out / "survey.yaml").questions[0].non_answers.to_list() == [""]


def test_themefinder_style_jsonl_with_a_numeric_id(tmp_path):
    export = tmp_path / "responses.jsonl"
    export.write_text(
        "".join(
            json.dumps({"response_id": 1000 + i, "response": text, "demographic": {"region": r}}) + "\n"
            for i, (text, r) in enumerate(zip(COMMENTS * 2, ["North", "South", "East"] * 4))
        ),
        encoding="utf-8",
    )
    result, out, conn = init_and_import(tmp_path, export)
    spec = load_spec(out / "survey.yaml")
    assert spec.respondent_id == "response_id"
    assert spec.attributes == ("demographic.region",)
    assert [q.columns for q in spec.questions] == [("response",)]
    assert conn.execute("SELECT count(*) FROM answers WHERE is_answer = 1").fetchone()[0] == 12


def test_xlsx_with_a_dept_group_other_please_specify_and_odd_headers(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    header = [
        "Serial",
        "Dept 1",
        "Dept 2",
        "Dept 3",
        "Channel",
        "Other (please specify)",
        "Qu'est-ce qui compte?  ",
        "Région",
        "Notes",
        "Empty",
        "Constant",
    ]
    sheet.append(header)
    depts = ["HMRC", "Cabinet Office", "DWP", "Home Office", "DVLA", "Treasury", "Health", "BIS"]
    for i in range(12):
        sheet.append(
            [
                f"S-{i:03d}",
                depts[i % 8],
                depts[(i + 3) % 8],
                depts[(i + 5) % 8] if i % 2 else None,
                ["Phone", "Web", "Other"][i % 3],
                "By letter from the council" if i % 3 == 2 else None,
                COMMENTS[i % 6] + f" ({i})",
                ["Île-de-France", "Bretagne"][i % 2],
                None,
                None,
                "v1",
            ]
        )
    export = tmp_path / "survey export.xlsx"
    workbook.save(export)
    result, out, conn = init_and_import(tmp_path, export)
    spec = load_spec(out / "survey.yaml")
    assert spec.respondent_id == "Serial"
    columns = {q.id: q.columns for q in spec.questions}
    assert columns == {
        "dept": ("Dept 1", "Dept 2", "Dept 3"),
        "channel": ("Channel", "Other (please specify)"),
        "qu_est_ce_qui_compte": ("Qu'est-ce qui compte?",),
    }
    assert spec.attributes == ("Région",)
    assert "Empty" in result.output and "left out: empty in every row" in result.output
    assert "left out: the same value 'v1' in every row" in result.output
    assert {q.base for q in spec.questions if len(q.columns) > 1} == {"respondents"}
    assert conn.execute("SELECT count(*) FROM answers WHERE question_id = 'channel' AND rank = 2").fetchone()[0] == 4


def test_duplicate_blank_and_unicode_headers_get_safe_ids_or_are_left_out_by_name(tmp_path):
    header = ["ID", "Comments", "Comments", "", "意见", "What would you change?!", "Age"]
    rows = [[i, "a", "b", "c", COMMENTS[i % 6], COMMENTS[(i + 1) % 6] + "!", 20 + i] for i in range(8)]
    export = write_csv(tmp_path / "odd.csv", header, rows)
    result, out, conn = init_and_import(tmp_path, export)
    spec = load_spec(out / "survey.yaml")
    assert spec.respondent_id == "ID"
    assert [(q.id, q.columns) for q in spec.questions] == [
        ("q5", ("意见",)),
        ("what_would_you_change", ("What would you change?!",)),
    ]
    assert all(q.codebook.id for q in spec.questions)
    assert spec.attributes == ("Age",)
    # A repeated header is told apart by its column's letter (readers.distinct_names), so a spec can name it.
    assert "Comments (column C)" in result.output and "the same value 'b' in every row" in result.output
    assert "column #4" in result.output and "header is blank" in result.output
    assert "numbers" in result.output


def test_no_id_column_says_what_to_do_and_writes_nothing(tmp_path):
    export = write_csv(tmp_path / "e.csv", ["region", "comment"], [["North", text] for text in COMMENTS])
    result = run("init", export, "--output", tmp_path / "out", ok=False)
    assert result.exit_code == 1
    assert "no respondent id column" in result.output and "unique id per row" in result.output
    assert not (tmp_path / "out").exists()


def test_a_named_id_with_repeats_is_refused_and_unique_codes_are_used_instead(tmp_path):
    export = write_csv(
        tmp_path / "e.csv",
        ["id", "token", "comment"],
        [["1" if i < 2 else str(i), f"tok{i}x", text] for i, text in enumerate(COMMENTS)],
    )
    plan = plan_survey(export)
    assert plan.respondent_id == "token"
    assert "short codes" in plan.id_reason
    unnamed = write_csv(tmp_path / "n.csv", ["region", "comment"], [["N", t] for t in COMMENTS[:2]] * 2)
    plan = plan_survey(unnamed)
    assert plan.respondent_id is None


def test_an_id_repeated_as_in_a_long_export_is_named_with_its_counts_and_the_way_out(tmp_path):
    # One row per answer: respondent 1 wrote three, 2 wrote two; nothing else is unique either.
    rows = [["1", COMMENTS[0]], ["1", COMMENTS[1]], ["1", COMMENTS[2]], ["2", COMMENTS[3]], ["2", COMMENTS[4]]]
    export = write_csv(tmp_path / "long.csv", ["caseID", "verbatim"], rows)
    result = run("init", export, "--output", tmp_path / "out", ok=False)
    assert result.exit_code == 1
    assert "'caseID' repeats values (2 different values in 5 rows)" in result.output
    assert "one row per answer" in result.output and "numbered columns" in result.output
    assert not (tmp_path / "out").exists()


def test_numeric_id_without_an_id_name(tmp_path):
    export = write_csv(
        tmp_path / "e.csv", ["Region", "Number", "Why?"], [["North", 100 + i, text] for i, text in enumerate(COMMENTS)]
    )
    plan = plan_survey(export)
    assert plan.respondent_id == "Number" and "whole numbers" in plan.id_reason


def test_question_1_2_3_are_not_one_question_but_q5_1_is(tmp_path):
    header = ["id", "Question 1", "Question 2", "Q5_1", "Q5_2", "Q5_3"]
    rows = [
        [i, COMMENTS[i % 6], COMMENTS[(i + 2) % 6] + str(i), ["Agree", "Disagree"][i % 2], "Agree", "Neutral"]
        for i in range(10)
    ]
    plan = plan_survey(write_csv(tmp_path / "e.csv", header, rows))
    assert [q.columns for q in plan.questions] == [("Question 1",), ("Question 2",)]
    assert plan.attributes == ["Q5_1"]  # Q5_2 and Q5_3 are constant
    assert [d.role for d in plan.decisions if d.columns[0] in ("Q5_2", "Q5_3")] == ["left out", "left out"]


@pytest.mark.parametrize("existing", ["survey.yaml", "codebooks/comment.yaml"])
def test_never_overwrites_and_writes_nothing_when_a_file_is_in_the_way(tmp_path, existing):
    export = write_csv(tmp_path / "e.csv", ["id", "comment"], [[i, t] for i, t in enumerate(COMMENTS)])
    out = tmp_path / "out"
    (out / existing).parent.mkdir(parents=True)
    (out / existing).write_text("mine\n", encoding="utf-8")
    result = run("init", export, "--output", out, ok=False)
    assert result.exit_code == 1
    assert "never overwrites" in result.output and existing.split("/")[-1] in result.output
    assert (out / existing).read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == sorted(
        {existing, *(["codebooks"] if "/" in existing else [])}
    )


def test_a_failed_write_leaves_no_half_written_folder(tmp_path, monkeypatch):
    export = write_csv(
        tmp_path / "e.csv", ["id", "comment", "q2 why"], [[i, t, t[::-1]] for i, t in enumerate(COMMENTS)]
    )
    calls = []

    def failing(target, text, inputs=()):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        target.write_text(text, encoding="utf-8")

    monkeypatch.setattr(survey_init, "write_output", failing)
    with pytest.raises(OSError):
        write_plan(plan_survey(export), tmp_path / "new" / "out")
    assert not (tmp_path / "new").exists()


def test_the_export_itself_is_never_an_output(tmp_path):
    export = write_csv(tmp_path / "survey.yaml", ["id", "comment"], [[i, t] for i, t in enumerate(COMMENTS)])
    result = run("init", export, "--output", tmp_path, ok=False)
    assert result.exit_code == 1 and "never overwrites" in result.output
    assert export.read_text(encoding="utf-8").startswith("id,comment")


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_quoted_text_reads_back_exactly(text):
    assert yaml.safe_load("key: " + survey_init._quote(text)) == {"key": text}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30).filter(lambda t: t.strip()), min_size=1, max_size=4))
def test_any_header_either_round_trips_through_the_spec_or_is_left_out(tmp_path_factory, names):
    folder = tmp_path_factory.mktemp("h")
    header = ["rid", *names]
    rows = [[f"r{i}", *(COMMENTS[(i + j) % 6] + f" {i}" for j in range(len(names)))] for i in range(6)]
    try:
        export = write_csv(folder / "e.csv", header, rows)
        plan = plan_survey(export)
    except CoderError:
        return  # an export ingest itself refuses (a NUL in the header, say)
    if not plan.questions:
        return
    write_plan(plan, folder / "out")
    spec = load_spec(folder / "out" / "survey.yaml")
    kept = {c for q in spec.questions for c in q.columns}
    left_out = {" ".join(c.split()) for d in plan.decisions if d.role == "left out" for c in d.columns}
    assert kept | left_out >= {" ".join(n.split()) for n in names} - {""} - set(spec.attributes) - {spec.respondent_id}


def test_a_forced_encoding_and_a_chosen_sheet_are_written_into_the_spec(tmp_path):
    export = tmp_path / "latin.csv"
    export.write_bytes(
        b"id;commentaire\n"
        + "".join(f"{i};{t.replace(';', ',')} café\n" for i, t in enumerate(COMMENTS)).encode("latin-1")
    )
    result = run("init", export, "--output", tmp_path / "a", "--encoding", "latin-1")
    assert result.exit_code == 0, result.output
    assert load_spec(tmp_path / "a" / "survey.yaml").encoding == "latin-1"
    assert (
        run("import", tmp_path / "a.db", "--survey", tmp_path / "a" / "survey.yaml", "--responses", export).exit_code
        == 0
    )
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT text FROM answers WHERE respondent_id = '0'").fetchone()[0].endswith("café")

    workbook = Workbook()
    workbook.active.append(["cover page"])
    answers = workbook.create_sheet("Answers")
    answers.append(["Response ID", "Why?"])
    for i, text in enumerate(COMMENTS):
        answers.append([i + 1, text])
    book = tmp_path / "book.xlsx"
    workbook.save(book)
    result = run("init", book, "--output", tmp_path / "b", "--sheet", "Answers")
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "b" / "survey.yaml")
    assert (spec.sheet, spec.respondent_id, spec.questions[0].columns) == ("Answers", "Response ID", ("Why?",))
    assert (
        run("import", tmp_path / "b.db", "--survey", tmp_path / "b" / "survey.yaml", "--responses", book).exit_code == 0
    )


def test_other_please_specify_joins_a_closed_question_whose_choices_include_a_non_answer(tmp_path):
    rows = [[i, ["Phone", "None", "Other"][i % 3], "Letter from my MP" if i % 3 == 2 else ""] for i in range(9)]
    plan = plan_survey(write_csv(tmp_path / "e.csv", ["id", "Channel", "Other - please specify"], rows))
    assert [q.columns for q in plan.questions] == [("Channel", "Other - please specify")]
    assert "a closed question (3 choices)" in plan.questions[0].reason


def test_a_row_cut_short_is_refused_as_import_would(tmp_path):
    export = tmp_path / "e.csv"
    export.write_text("id,comment,region\n1,Some long answer here for sure,North\n2,Another one\n", encoding="utf-8")
    result = run("init", export, "--output", tmp_path / "out", ok=False)
    assert result.exit_code == 1 and "row 3" in result.output and "cut short" in result.output
    assert not (tmp_path / "out").exists()


def test_typed_in_ranked_answers_stay_one_question_in_a_large_export(tmp_path):
    """Over thousands of rows typed-in names repeat; variety is judged on the first answers, so size does not flip it."""
    names = [f"Department of {w} {n}" for w in ("Health", "Work", "Transport") for n in range(50)]
    rows = [[i, names[i % 150], names[(i * 7) % 150], ["North", "South"][i % 2]] for i in range(3000)]
    plan = plan_survey(write_csv(tmp_path / "e.csv", ["rid", "Dept 1", "Dept 2", "Region"], rows))
    assert [q.columns for q in plan.questions] == [("Dept 1", "Dept 2")]
    assert plan.attributes == ["Region"]


def test_an_export_with_no_free_text_says_so_after_printing_each_column(tmp_path):
    export = tmp_path / "respondents.jsonl"
    export.write_text(
        "".join(
            json.dumps({"response_id": i, "demographic_data": {"Do you live in:": r}}) + "\n"
            for i, r in enumerate(["England", "Wales", "Scotland"] * 5)
        ),
        encoding="utf-8",
    )
    result = run("init", export, "--output", tmp_path / "out", ok=False)
    assert result.exit_code == 1
    assert "demographic_data.Do you live in:" in result.output and "attribute: a few values repeated" in result.output
    assert "no open question found" in result.output
    assert not (tmp_path / "out").exists()


def test_a_header_with_the_question_wording_over_two_lines_is_kept_and_imports(tmp_path):
    """Excel headers often hold the question's wording with line breaks and double spaces."""
    header = ["id", "What would you\nchange  about the service?", "Region"]
    rows = [[str(i), COMMENTS[i % 6] + f" {i}", "North" if i % 2 else "South"] for i in range(12)]
    export = write_csv(tmp_path / "e.csv", header, rows)
    assert run("init", export, "--output", tmp_path / "out").exit_code == 0
    spec = load_spec(tmp_path / "out" / "survey.yaml")
    assert [q.columns for q in spec.questions] == [("What would you change about the service?",)]
    result = run("import", tmp_path / "e.db", "--survey", tmp_path / "out" / "survey.yaml", "--responses", export)
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(tmp_path / "e.db").execute("SELECT count(*) FROM answers").fetchone()[0] == 12


def test_a_qualtrics_export_with_three_header_rows_imports_unedited(tmp_path):
    """Qualtrics writes the column names, then the question wording, then import ids, then the answers."""
    header = ["ResponseId", "Q1", "Q2", "Q3"]
    wording = ["Response ID", "What should the council change?", "Any other comments?", "Your region"]
    ids = ['{"ImportId":"_recordId"}', '{"ImportId":"QID1_TEXT"}', '{"ImportId":"QID2_TEXT"}', '{"ImportId":"QID3"}']
    rows = [
        [f"R_{i:04d}", COMMENTS[i % 6] + f" {i}", COMMENTS[(i + 3) % 6] + f" and {i}", "North" if i % 2 else "South"]
        for i in range(12)
    ]
    export = write_csv(tmp_path / "qualtrics.csv", header, [wording, ids, *rows])
    result = run("init", export, "--output", tmp_path / "out")
    assert "A Qualtrics export: 3 header rows" in result.output
    spec = load_spec(tmp_path / "out" / "survey.yaml")
    assert spec.header_rows == 3 and spec.respondent_id == "ResponseId"
    assert [(q.id, q.text) for q in spec.questions] == [
        ("q1", "What should the council change?"),
        ("q2", "Any other comments?"),
    ]
    run("import", tmp_path / "q.db", "--survey", tmp_path / "out" / "survey.yaml", "--responses", export)
    db = sqlite3.connect(tmp_path / "q.db")
    assert db.execute("SELECT count(*) FROM respondents").fetchone()[0] == 12  # no wording or ids as respondents
    assert not db.execute("SELECT 1 FROM answers WHERE text LIKE '%ImportId%' OR text LIKE 'What should%'").fetchall()


def test_a_surveymonkey_export_with_two_header_rows_imports_unedited(tmp_path):
    """SurveyMonkey writes each question over its options: row 1 the question (blank over a merged cell),
    row 2 "Response", "Open-Ended Response" or the option."""
    top = ["Respondent ID", "Collector ID", "What should the council change?", "Which services do you use?", "", ""]
    top.append("Any other comments?")
    second = ["", "", "Response", "Libraries", "Bins", "Other (please specify)", "Open-Ended Response"]
    rows = [
        [
            str(1000 + i),
            "42",
            COMMENTS[i % 6] + f" {i}",
            "Libraries" if i % 2 else "",
            "Bins" if i % 3 else "",
            "",
            COMMENTS[(i + 3) % 6] + f" and {i}",
        ]
        for i in range(12)
    ]
    export = write_csv(tmp_path / "monkey.csv", top, [second, *rows])
    result = run("init", export, "--output", tmp_path / "out")
    assert "A SurveyMonkey export" in result.output
    spec = load_spec(tmp_path / "out" / "survey.yaml")
    assert spec.header_rows == 2 and spec.header_names == "joined" and spec.respondent_id == "Respondent ID"
    columns = {c for q in spec.questions for c in q.columns}
    assert {"What should the council change?", "Any other comments?"} <= columns
    assert "Which services do you use? - Libraries" in spec.attributes
    run("import", tmp_path / "m.db", "--survey", tmp_path / "out" / "survey.yaml", "--responses", export)
    db = sqlite3.connect(tmp_path / "m.db")
    assert db.execute("SELECT count(*) FROM respondents").fetchone()[0] == 12  # the option row is no respondent
    assert db.execute("SELECT count(*) FROM answers WHERE text = 'Open-Ended Response'").fetchone()[0] == 0


def test_a_title_row_above_the_header_is_skipped_and_said(tmp_path):
    export = write_csv(
        tmp_path / "report.csv",
        ["Council survey results 2024", "", "", ""],
        [["id", "comment", "region", "age"], *[[str(i), COMMENTS[i % 6], "North", "30"] for i in range(8)]],
    )
    result = run("init", export, "--output", tmp_path / "out")
    assert "1 row above the header skipped" in result.output
    assert load_spec(tmp_path / "out" / "survey.yaml").respondent_id == "id"


def test_two_other_please_specify_boxes_become_two_questions(tmp_path):
    """Plain exports repeat "Other (please specify)" after every closed question: each box joins its own."""
    header = ["id", "Q1 Which channel?", "Other (please specify)", "Q2 Which device?", "Other (please specify)"]
    rows = [
        [
            f"r{i}",
            ["Phone", "Email"][i % 2],
            f"carrier pigeon {i}" if i % 4 == 0 else "",
            ["Laptop", "Other"][i % 2],
            f"my old tablet {i}" if i % 2 else "",
        ]
        for i in range(30)
    ]
    export = write_csv(tmp_path / "boxes.csv", header, rows)
    result, out, conn = init_and_import(tmp_path, export)
    spec = load_spec(out / "survey.yaml")
    assert [(q.id, q.columns) for q in spec.questions] == [
        ("q1", ("Q1 Which channel?", "Other (please specify)")),
        ("q2", ("Q2 Which device?", "Other (please specify) (column E)")),
    ]
    typed = conn.execute("SELECT text FROM answers WHERE question_id = 'q2' AND text LIKE 'my old tablet%'").fetchall()
    assert len(typed) == 15
