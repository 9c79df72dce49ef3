"""An empty codebook (open coding starts with no themes) works in every command; non-answers are visible.

A spec in tmp_path points the corpus's q13 (names), q14 and q16 (text) at empty codebooks;
every command is run on the imported database and its files and rows are checked.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from coder.codebook.db import read_codebook
from coder.codebook.model import ID_PATTERN, codebook_from_dict
from coder.store import open_db
from coder.suggest.names import NameMatcher
from coder.tui import make_app
from tests.conftest import CODEBOOKS, CORPUS, ROOT
from tests.invoke import run

NO_THEMES_APP = "No themes yet: press n to add one, or run coder discover"

SPEC = """\
survey: local-digital-2014
respondent_id: respondent_id
attributes: [name, job_title, organisation, role]
questions:
  - id: q13
    text: Which departments could help?
    columns: [q13_dept_1, q13_dept_2, q13_dept_3]
    codebook: departments-open.yaml
    base: mentions
  - id: q14
    text: Top three priorities?
    columns: [q14_priority_1, q14_priority_2, q14_priority_3]
    codebook: priorities-open.yaml
    base: respondents
  - id: q16
    text: Any other comments?
    columns: q16_comments
    codebook: comments-open.yaml
    base: respondents
"""


def write_spec(folder, extra: str = "") -> None:
    (folder / "departments-open.yaml").write_text(
        "id: departments-open\ntitle: Departments\nkind: names\n", encoding="utf-8"
    )
    (folder / "priorities-open.yaml").write_text(
        "id: priorities-open\ntitle: Priorities\nthemes: []\n", encoding="utf-8"
    )
    (folder / "comments-open.yaml").write_text("id: comments-open\ntitle: Comments\nthemes:\n", encoding="utf-8")
    (folder / "survey.yaml").write_text(SPEC + extra, encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("empty")
    write_spec(folder)
    path = folder / "open.db"
    result = run("import", path, "--survey", folder / "survey.yaml", "--responses", CORPUS / "responses.csv")
    assert "codebooks added: departments-open, priorities-open, comments-open" in result.output
    return path


@pytest.fixture
def db_path(built, tmp_path):
    path = tmp_path / "open.db"
    shutil.copy(built, path)
    return path


def rows(path, sql, params=()):
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def test_import_keeps_the_empty_codebooks_and_every_answer(db_path):
    assert rows(db_path, "SELECT codebook_id, count(*) FROM themes GROUP BY codebook_id") == []
    counts = dict(rows(db_path, "SELECT question_id, count(*) FROM answers WHERE is_answer = 1 GROUP BY question_id"))
    assert counts == {"q13": 142, "q14": 148, "q16": 46}


def test_questions_shows_non_answers_beside_the_old_columns(db_path):
    out = run("questions", db_path).output.splitlines()
    assert out[0].split() == ["question", "codebook", "base", "answers", "coded", "non-answers"]
    stored = dict(
        rows(
            db_path, "SELECT question_id, count(*) FROM answers WHERE is_answer = 0 AND text != '' GROUP BY question_id"
        )
    )
    shown = {line.split()[0]: line.split() for line in out[1:]}
    assert shown["q14"] == ["q14", "priorities-open", "respondents", "148", "0", str(stored["q14"])]
    assert stored["q14"] == 9 and shown["q16"][-1] == str(stored["q16"])
    assert shown["q13"][-1] == str(stored.get("q13", 0))


def test_table_in_every_format_lists_no_rows_and_says_why(db_path, tmp_path):
    md = run("table", db_path, "--question", "q14").output
    assert "148 real answer(s) not yet coded are not counted: the codebook has no themes yet" in md
    assert "Base: 68 answering respondents (0 mentions)" in md
    assert run("table", db_path, "--question", "q14", "--format", "csv").output == "theme,count,percent\n"
    data = json.loads(run("table", db_path, "--question", "q14", "--format", "json").output)
    assert data["rows"] == [] and data["base"]["uncoded"] == 148 and "no themes yet" in data["base"]["note"]
    for fmt in ("html", "latex"):
        assert "no themes yet" in run("table", db_path, "--question", "q16", "--format", fmt).output
    assert "no themes yet" in run("table", db_path, "--question", "q14", "--by", "role").output
    out = tmp_path / "q13.xlsx"
    run("table", db_path, "--question", "q13", "--format", "xlsx", "--output", out)
    cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row if c]
    assert any("no themes yet" in str(c) for c in cells)


def test_chart_says_there_are_no_themes(db_path, tmp_path):
    run("chart", db_path, "--question", "q14", "--output", tmp_path / "q14.svg")
    svg = (tmp_path / "q14.svg").read_text(encoding="utf-8")
    assert "No themes yet" in svg or "No themes yet" in svg.replace("&#160;", " ")
    run("chart", db_path, "--question", "q13", "--output", tmp_path / "q13.png")
    assert (tmp_path / "q13.png").read_bytes()[:4] == b"\x89PNG"


def test_suggest_and_autocode_say_there_is_nothing_to_suggest(db_path):
    out = run("suggest", db_path).output
    for question in ("q13", "q14", "q16"):
        assert f"{question}: nothing to suggest: codebook" in out
    assert "`coder discover DB --question q14`" in out
    out = run("autocode", db_path, "--question", "q14").output
    assert "nothing to suggest" in out and "coder codebook add" in out
    assert rows(db_path, "SELECT count(*) FROM suggestions")[0][0] == 0
    assert rows(db_path, "SELECT count(*) FROM codings")[0][0] == 0


def test_first_theme_then_suggest_works(db_path):
    run("codebook", "add", db_path, "National platform", "--question", "q16")
    assert "suggestions for 46 answers" in run("suggest", db_path, "--question", "q16", "--no-embeddings").output
    run("autocode", db_path, "--question", "q16")
    assert rows(db_path, "SELECT count(DISTINCT answer_id) FROM codings")[0][0] > 0


def test_report_quotes_and_exports(db_path, tmp_path):
    run("report", db_path, "--output", tmp_path / "report")
    index = (tmp_path / "report" / "index.md").read_text(encoding="utf-8")
    assert index.count("the codebook has no themes yet") == 3
    assert json.loads((tmp_path / "report" / "q14.json").read_text(encoding="utf-8"))["rows"] == []
    assert "nothing to quote" in run("quotes", db_path, "--question", "q14").output
    assert json.loads(run("quotes", db_path, "--question", "q14", "--format", "json").output) == []
    assert run("quotes", db_path, "--question", "q14", "--theme", "x", ok=False).output.endswith(
        "in the codebook of q14; it has no themes yet\n"
    )
    out = run("codings", "export", db_path).output
    assert list(csv.reader(io.StringIO(out)))[1:] == []
    run("codings", "export", db_path, "--format", "xlsx", "-o", tmp_path / "codings.xlsx")
    assert load_workbook(tmp_path / "codings.xlsx").sheetnames
    exported = yaml.safe_load(run("codebook", "export", db_path, "--question", "q14").output)
    assert exported["themes"] == [] and codebook_from_dict(exported).themes == ()
    assert "(text, 0 themes)" in run("codebook", "show", db_path, "--question", "q14").output


def test_an_empty_qdc_goes_out_and_comes_back(db_path, tmp_path):
    qdc = tmp_path / "priorities-open.qdc"
    run("codebook", "export", db_path, "--question", "q14", "-o", qdc)
    assert "<Codes" in qdc.read_text(encoding="utf-8")
    assert "0 themes" in run("codebook", "show", qdc).output
    run("codebook", "import", db_path, qdc, "--question", "q14")
    assert read_codebook(open_db(db_path, readonly=True), "priorities-open").themes == ()


def test_discover_on_an_empty_names_codebook_lists_every_spelling(db_path):
    out = run("discover", db_path, "--question", "q13").output
    assert "groups of spellings" in out and "1. DWP" in out and "no near theme" in out
    run("discover", db_path, "--question", "q13", "--accept", "1")
    assert [t.id for t in read_codebook(open_db(db_path, readonly=True), "departments-open").themes] == ["dwp"]


def test_discover_on_an_empty_text_codebook_runs_and_changes_nothing(db_path):
    run("discover", db_path, "--question", "q16")
    assert rows(db_path, "SELECT count(*) FROM themes") == [(0,)]


EMPTY_NAMES = NameMatcher(codebook_from_dict({"id": "x", "kind": "names", "themes": []}))


def test_name_matcher_with_no_themes_matches_nothing():
    assert EMPTY_NAMES.match("Department for Work and Pensions") == []
    assert [c.nearest_theme for c in EMPTY_NAMES.unmatched(["DWP", "dwp"])] == [None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=5))
def test_name_matcher_with_no_themes_takes_any_text(texts):
    assert EMPTY_NAMES.match_many(texts) == [[] for _ in texts]
    assert all(c.nearest_theme is None for c in EMPTY_NAMES.unmatched(texts))


def test_codings_and_evaluate_on_gold_say_the_codebook_is_empty(db_path, tmp_path):
    before = rows(db_path, "SELECT count(*) FROM audit")
    for args in (
        ("codings", "import", db_path, CORPUS / "codings.csv", "--coder", "gold"),
        ("evaluate", db_path, "--gold", CORPUS / "codings.csv"),
    ):
        out = run(*args, ok=False).output
        assert "has no themes yet" in out and "coder codebook import" in out and "Traceback" not in out
    assert rows(db_path, "SELECT count(*) FROM codings")[0][0] == 0
    assert rows(db_path, "SELECT count(*) FROM audit") == before


def test_assign_and_agreement(db_path):
    run("assign", db_path, "--question", "q14", "--coders", "ann,bob")
    assert rows(db_path, "SELECT count(DISTINCT answer_id) FROM assignments")[0][0] == 148
    out = run("agreement", db_path, "--question", "q14", ok=False).output
    assert out.startswith("Error: agreement needs two coders") and "Traceback" not in out


async def test_coding_app_says_no_themes_and_n_adds_the_first(db_path):
    from coder.tui.screens import CodingScreen

    app = make_app(db_path, "q16", "ann")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CodingScreen) and not screen.retraining  # no `coder suggest` on nothing
        assert NO_THEMES_APP in str(screen.query_one("#suggestions").render())
        assert NO_THEMES_APP in [n.message for n in app._notifications]
        first = app.session.current_id
        await pilot.press("space", "enter", "1", "slash", "escape")  # nothing to accept, confirm, toggle or find
        assert app.session.current_id == first and isinstance(app.screen, CodingScreen)
        await pilot.press("n", *"National platform", "enter")
        await pilot.press("enter")
        await pilot.pause()
        assert NO_THEMES_APP not in str(screen.query_one("#suggestions").render())
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("escape")
    assert rows(db_path, "SELECT t.id FROM themes t WHERE t.codebook_id = 'comments-open'") == [("national-platform",)]
    assert rows(
        db_path, "SELECT c.answer_id, t.id, c.status, c.coder FROM codings c JOIN themes t ON t.pk = c.theme_pk"
    ) == [(first, "national-platform", "confirmed", "ann")]


async def test_codebook_screen_of_an_empty_codebook(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert "No themes yet: press a to add one" in str(app.screen.query_one("#codebook-detail").render())
        for key in ("r", "m", "p", "[", "]", "e", "w", "j", "k"):  # nothing selected: each does nothing
            await pilot.press(key)
        await pilot.press("a", *"Cost savings", "enter")
        await pilot.pause()
        await pilot.press("escape")
    assert rows(db_path, "SELECT id FROM themes WHERE codebook_id = 'priorities-open'") == [("cost-savings",)]


# Non-answers ------------------------------------------------------------------------------------------------


def not_sure_cell(path):
    return rows(
        path, "SELECT respondent_id, rank, is_answer FROM answers WHERE question_id = 'q14' AND text = 'not sure'"
    )[0]


def test_coding_a_non_answer_names_the_setting_and_the_value(gold_copy_path, tmp_path):
    respondent, rank, is_answer = not_sure_cell(gold_copy_path)
    assert is_answer == 0
    codings = tmp_path / "c.csv"
    codings.write_text(
        f"respondent_id,question,rank,theme\n{respondent},q14,{rank},Business transformation\n", encoding="utf-8"
    )
    before = rows(gold_copy_path, "SELECT count(*) FROM codings")
    out = run("codings", "import", gold_copy_path, codings, "--coder", "ann", ok=False).output
    assert "'not sure'" in out and "non_answers: []" in out and "question q14" in out and "row 2" in out
    assert rows(gold_copy_path, "SELECT count(*) FROM codings") == before


def test_non_answers_setting_then_reimport_makes_them_codable(tmp_path):
    spec = yaml.safe_load((CORPUS / "survey.yaml").read_text(encoding="utf-8"))
    for question in spec["questions"]:
        question["codebook"] = str(CODEBOOKS / (question["codebook"].rsplit("/", 1)[-1]))
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    path = tmp_path / "s.db"
    run("import", path, "--survey", tmp_path / "survey.yaml", "--responses", CORPUS / "responses.csv")
    respondent, rank, _ = not_sure_cell(path)
    spec["questions"][4]["non_answers"] = []  # q14 only: its "not sure" is now an answer
    assert spec["questions"][4]["id"] == "q14"
    (tmp_path / "survey.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = run("import", path, "--survey", tmp_path / "survey.yaml", "--responses", CORPUS / "responses.csv").output
    assert "9 updated" in out and "non_answers changed: 9 cell(s) now count as answers, 0 are now non-answers" in out
    assert not_sure_cell(path)[2] == 1
    assert rows(path, "SELECT count(*) FROM answers WHERE question_id = 'q14' AND is_answer = 0 AND text != ''") == [
        (0,)
    ]
    codings = tmp_path / "c.csv"
    codings.write_text(
        f"respondent_id,question,rank,theme\n{respondent},q14,{rank},Business transformation\n", encoding="utf-8"
    )
    run("codings", "import", path, codings, "--coder", "ann")
    assert rows(path, "SELECT count(*) FROM codings")[0][0] == 1
    q14 = run("questions", path).output.splitlines()[5].split()
    assert q14[0] == "q14" and q14[-1] == "0"


# Theme ids ----------------------------------------------------------------------------------------------------


def test_theme_ids_with_underscores_load_and_the_docs_say_so():
    codebook = codebook_from_dict(
        {
            "id": "open_q",
            "themes": [{"id": "cost_savings", "label": "Cost savings"}, {"id": "staff-cuts", "label": "Staff cuts"}],
        }
    )
    assert codebook.ids == ["cost_savings", "staff-cuts"]
    assert ID_PATTERN.pattern == r"^[a-z0-9][a-z0-9_-]*$"
    docs = (CODEBOOKS / "README.md").read_text(encoding="utf-8")
    assert "[a-z0-9-]" not in docs and "[a-z0-9][a-z0-9_-]*" in docs
    assert "[a-z0-9-]" not in (ROOT / "README.md").read_text(encoding="utf-8").split("## Codebooks")[1].split("##")[0]


def test_a_coded_answer_that_becomes_a_non_answer_is_reported(mini):
    run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"])
    codings = mini["dir"] / "c.csv"
    codings.write_text("respondent_id,question,rank,theme\nr1,why,1,Apple\n", encoding="utf-8")
    run("codings", "import", mini["db"], codings, "--coder", "ann")
    spec = mini["spec"].read_text(encoding="utf-8")
    mini["spec"].write_text(
        spec.replace("respondent_id: id\n", "respondent_id: id\nnon_answers: [tasty, n/a]\n"), encoding="utf-8"
    )
    out = run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"]).output
    # "none" and "-" were non-answers only by the default list, which the spec now replaces.
    assert "2 cell(s) now count as answers, 1 are now non-answers (1 of them coded: the codings are kept" in out
    assert rows(mini["db"], "SELECT is_answer FROM answers WHERE text = 'tasty'") == [(0,)]
    assert rows(mini["db"], "SELECT count(*) FROM codings") == [(1,)]


def test_discover_on_a_handful_of_answers_says_why_nothing_is_proposed(tmp_path):
    from tests.conftest import write_csv

    texts = ["Longer opening hours", "More computers", "Open on Sundays", "Faster wifi", "Quiet study space"]
    export = write_csv(
        tmp_path / "pilot.csv", [["id", "What would improve it?"], *[[f"p{i}", t] for i, t in enumerate(texts)]]
    )
    run("init", export, "--output", tmp_path)
    run("import", tmp_path / "s.db", "--survey", tmp_path / "survey.yaml", "--responses", export)
    out = run("discover", tmp_path / "s.db", "--question", "what_would_improve_it").output
    assert "0 proposals" in out and "(there are only 5)" in out and "coder codebook add" in out
