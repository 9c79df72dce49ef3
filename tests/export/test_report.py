from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from coder.coding.codings import question_ids
from coder.export import charts
from tests.conftest import FakeQuote
from tests.invoke import run

TABLE_SUFFIXES = [".md", ".csv", ".xlsx", ".html", ".tex", ".json"]
CHART_SUFFIXES = [".png", ".svg"]


@pytest.fixture
def gold_path(gold_db):
    gold_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return gold_db.conn.execute("PRAGMA database_list").fetchone()[2]


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_report_writes_every_file_and_an_index(gold_db, gold_path, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "coder.report.quotes", None)  # as if the module were not installed
    out = tmp_path / "nested" / "report"
    result = run("report", gold_path, "--output", out)
    questions = question_ids(gold_db)
    expected = {q + s for q in questions for s in TABLE_SUFFIXES + CHART_SUFFIXES} | {"index.md", "index.html"}
    assert {p.name for p in out.iterdir()} == expected | {".coder-report"}  # the marker --force looks for
    assert f"Wrote {len(expected)} files for {len(questions)} questions" in result.output
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "| Cabinet Office/GDS/GOV.UK | 23.8% |" in index and "| HR / payroll | 4.4% |" in index
    assert "[Excel](q13.xlsx)" in index and "![Chart: 2.11" in index
    assert "Quotes are not included" in index  # coder.report.quotes is missing: noted, not fatal
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="q14.tex">LaTeX</a>' in page and '<img class="chart" src="q14.svg"' in page
    assert '<th scope="row">Other/unknown</th>' in page
    assert json.loads((out / "q14.json").read_text(encoding="utf-8"))["base"]["n"] == 68
    assert (out / "q13.png").read_bytes()[:4] == b"\x89PNG"
    assert leftovers(out.parent) == []


def test_report_refuses_a_non_empty_folder_unless_forced(gold_path, tmp_path, monkeypatch):
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / ".coder-report").write_text("", encoding="utf-8")  # as if coder had written the folder
    result = run("report", gold_path, "--output", out, ok=False)
    assert "not empty" in result.output and "--force" in result.output
    assert sorted(p.name for p in out.iterdir()) == [".coder-report", "notes.txt"]
    # With quotes available and --force, the folder is replaced by the new report.
    seen = []

    def representative_quotes(db, question, theme=None, n=3):
        seen.append((question, theme, n))
        return [FakeQuote(theme, "x", f"Quote about {theme} in {question}", "Officer, a council")] if theme else []

    monkeypatch.setattr(charts, "render_chart", lambda table, path: path.write_bytes(b"") or 0)  # charts: tested above
    monkeypatch.setitem(
        sys.modules, "coder.report.quotes", types.SimpleNamespace(representative_quotes=representative_quotes)
    )
    run("report", gold_path, "--output", out, "--force")
    assert not (out / "notes.txt").exists()
    quotes = (out / "q14-quotes.md").read_text(encoding="utf-8")
    assert "### Cost and efficiency savings / staff reduction" in quotes
    assert "Quote about cost-savings in q14" in quotes and "Officer, a council" in quotes
    assert ("q14", "cost-savings", 3) in seen
    assert "[quotes](q14-quotes.md)" in (out / "index.md").read_text(encoding="utf-8")
    assert leftovers(tmp_path) == []


def test_force_never_deletes_the_folder_holding_the_database(gold_path, tmp_path):
    folder = Path(gold_path).parent
    result = run("report", gold_path, "--output", folder, "--force", ok=False)
    assert "would delete the database" in result.output
    assert Path(gold_path).exists()


def test_failure_leaves_no_partial_report(gold_path, tmp_path, monkeypatch):
    calls = []

    def broken(table, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        return 0

    monkeypatch.setattr(charts, "render_chart", broken)
    out = tmp_path / "report"
    result = run("report", gold_path, "--output", out, ok=False)
    assert result.exit_code == 1 and "cannot write the report: disk full" in result.output
    assert not out.exists() and leftovers(tmp_path) == []
    # An earlier report replaced with --force survives a failed rewrite untouched.
    out.mkdir()
    (out / "index.md").write_text("old report", encoding="utf-8")
    (out / ".coder-report").write_text("", encoding="utf-8")
    calls.clear()
    run("report", gold_path, "--output", out, "--force", ok=False)
    assert (out / "index.md").read_text(encoding="utf-8") == "old report"
    assert leftovers(tmp_path) == []


def test_report_into_an_existing_empty_folder(gold_path, tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "render_chart", lambda table, path: path.write_bytes(b"") or 0)
    out = tmp_path / "empty"
    out.mkdir()
    run("report", gold_path, "--output", out)
    assert (out / "index.html").exists() and (out / "q13.xlsx").exists()
