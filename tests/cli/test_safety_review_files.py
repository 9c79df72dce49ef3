"""Issue 10, a second adversarial review of files and database state: what the first fixes missed."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from coder.errors import CoderError
from coder.export import charts
from coder.survey.spec import NonAnswers
from tests.conftest import MINI_HEADER, MINI_ROWS, write_csv
from tests.invoke import run


@pytest.mark.parametrize("pattern", ["re:(a+)+$", "re:(a|a)*$", "re:(?:x*)*y", "re:(a{1,9}){1,9}$", "re:a*a*a*a*a*b"])
def test_a_non_answer_pattern_that_backtracks_for_ever_is_refused(mini, pattern):
    spec = (
        mini["spec"]
        .read_text(encoding="utf-8")
        .replace("    base: mentions\n", f"    base: mentions\n    non_answers: ['{pattern}']\n")
    )
    mini["spec"].write_text(spec, encoding="utf-8")
    rows = [row[:] for row in MINI_ROWS]
    rows[0][-1] = "a" * 40 + "!"  # hours for (a+)+$
    write_csv(mini["export"], [MINI_HEADER, *rows])
    started = time.process_time()
    result = run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"], ok=False)
    assert time.process_time() - started < 5
    assert "non-answer pattern" in result.output and "nesting" in result.output
    assert not mini["db"].exists()


def test_ordinary_non_answer_patterns_still_work():
    non = NonAnswers.parse([r"re:\s*(n/?a|none)\s*", r"re:^\s*(none|nil)\s*[.!]*\s*$", "re:x(?:y|z)?"], "spec")
    assert non.matches(" N/A ") and non.matches("none!") and non.matches("xz")
    assert not non.matches("an answer")


def test_a_pattern_is_tried_only_on_short_cells():
    """Even a polynomial pattern stays quick: a long cell is an answer, whatever the pattern."""
    non = NonAnswers.parse(["re:a*a*a*a*b"], "spec")
    started = time.process_time()
    assert not non.matches("a" * 100_000)
    assert time.process_time() - started < 1
    with pytest.raises(CoderError, match="bad non-answer pattern"):
        NonAnswers.parse(["re:(unclosed"], "spec")


@pytest.fixture
def db_path(gold_db_path, tmp_path, monkeypatch):
    """The gold database in a folder of its own, run from another folder, with charts and quotes stubbed."""
    (tmp_path / "data").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setattr(charts, "render_chart", lambda table, path, **_: path.write_bytes(b"") or 0)
    monkeypatch.setitem(sys.modules, "coder.report.quotes", None)
    return Path(shutil.copy(gold_db_path, tmp_path / "data" / "survey.db"))


def test_report_force_never_deletes_another_database_inside_the_folder(db_path, tmp_path):
    out = tmp_path / "report"
    run("report", db_path, "--output", out)
    (out / "deep").mkdir()
    kept = Path(shutil.copy(db_path, out / "deep" / "wave2.db"))  # not the command's database, but a database
    result = run("report", db_path, "--output", out, "--force", ok=False)
    assert "holds a database" in result.output and "wave2.db" in result.output
    assert kept.read_bytes() == db_path.read_bytes() and (out / "index.md").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_import_through_a_dangling_link_leaves_no_database(mini):
    link = mini["dir"] / "link.db"
    link.symlink_to("created.db")
    write_csv(mini["export"], [["id", "role"], ["r1", "Officer"]])  # the question columns are missing
    result = run("import", link, "--survey", mini["spec"], "--responses", mini["export"], ok=False)
    assert "missing columns" in result.output
    assert not (mini["dir"] / "created.db").exists() and link.is_symlink()
    assert sorted(p.name for p in mini["dir"].iterdir()) == ["export.csv", "fruit.yaml", "link.db", "spec.yaml"]


@pytest.mark.parametrize("joined", [["\ufeffr9", "Officer", "", "", "", ""], MINI_HEADER])
def test_two_exports_joined_into_one_file_import_nothing(mini, joined):
    """A second export's header (with its BOM) once became a respondent whose answers were the column names."""
    write_csv(mini["export"], [MINI_HEADER, *MINI_ROWS])
    run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"])
    before = mini["db"].read_bytes()
    write_csv(mini["export"], [MINI_HEADER, *MINI_ROWS, joined, *MINI_ROWS[:1]])
    result = run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"], ok=False)
    assert "row 6" in result.output and "two exports joined" in result.output
    assert mini["db"].read_bytes() == before


@pytest.mark.parametrize(
    "typo, where",
    [
        ("    base: mentions\n", "    base: mentions\n    non_answer: ['-']\n"),
        ("survey: mini\n", "survey: mini\nquestionz: []\n"),
        ("fold: {into: other, themes: [kiwi]}", "fold: {into: other, theme: [kiwi]}"),
    ],
)
def test_a_misspelt_spec_key_is_named_not_ignored(mini, typo, where):
    spec = mini["spec"].read_text(encoding="utf-8")
    mini["spec"].write_text(spec.replace(typo, where, 1), encoding="utf-8")
    result = run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"], ok=False)
    assert "unknown key" in result.output and "did you mean" in result.output
    assert not mini["db"].exists()
