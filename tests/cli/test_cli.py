from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import subprocess
import sys

import click
import pytest

from coder.cli.main import cli
from coder.codebook.db import read_codebook
from coder.store import open_db
from tests.conftest import CORPUS, ROOT, fingerprint
from tests.invoke import run
from tests.report.test_tables import TABLE_2_10, TABLE_2_11


@pytest.fixture
def demo_db(tmp_path):
    path = tmp_path / "demo.db"
    run("import", path, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv")
    run("codings", "import", path, CORPUS / "codings.csv", "--coder", "gold")
    return path


def count(path, sql: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def test_import_reports_counts(tmp_path):
    result = run(
        "import", tmp_path / "x.db", "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv"
    )
    assert "respondents: 143 new" in result.output
    assert count(tmp_path / "x.db", "SELECT count(*) FROM respondents") == 143
    assert count(tmp_path / "x.db", "SELECT count(DISTINCT question_id) FROM answers") == 6


def test_import_works_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = os.path.relpath(CORPUS / "survey.yaml", tmp_path)
    responses = os.path.relpath(CORPUS / "responses.csv", tmp_path)
    run("import", "x.db", "--survey", spec, "--responses", responses)
    assert count(tmp_path / "x.db", "SELECT count(*) FROM respondents") == 143


def test_table_csv_is_exact(demo_db):
    out = run("table", demo_db, "--question", "q13", "--format", "csv").output
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["theme", "count", "percent"]
    assert [(r[0], r[2]) for r in rows[1:]] == TABLE_2_10
    out = run("table", demo_db, "--question", "q14", "--format", "csv").output
    assert [(r[0], r[2]) for r in list(csv.reader(io.StringIO(out)))[1:]] == TABLE_2_11


def test_table_markdown_and_base_option(demo_db):
    out = run("table", demo_db, "--question", "q14").output
    assert "| Top service redesign priorities | Response |" in out
    assert "| Cost and efficiency savings / staff reduction | 38.2% |" in out
    assert "Base: 68 answering respondents" in out
    out = run("table", demo_db, "--question", "q14", "--base", "mentions", "--format", "csv").output
    assert "Cost and efficiency savings / staff reduction,26,17.1" in out


def test_codings_export_columns(demo_db):
    out = run("codings", "export", demo_db, "--question", "q14").output
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == [
        "respondent_id",
        "question",
        "rank",
        "answer",
        "theme",
        "status",
        "coder",
        "score",
        "coded_at",
    ]
    rows = list(reader)
    assert len(rows) == 152 and {r["status"] for r in rows} == {"confirmed"}


def test_errors_are_clean_and_non_zero(tmp_path, demo_db):
    result = run("table", tmp_path / "missing.db", "--question", "q13", ok=False)
    assert result.exit_code == 1 and "no such database" in result.output
    assert not (tmp_path / "missing.db").exists()
    result = run("table", demo_db, "--question", "q99", ok=False)
    assert result.exit_code == 1 and "unknown question 'q99'" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("respondent_id,question,rank,theme\nR001,q13,1,Nonsense Dept\n", encoding="utf-8")
    before = fingerprint(demo_db)
    result = run("codings", "import", demo_db, bad, "--coder", "x", ok=False)
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output
    assert fingerprint(demo_db) == before


def test_codebook_commands(demo_db, tmp_path):
    out = run("codebook", "show", demo_db, "--question", "q14").output
    assert "crm: CRM" in out
    exported = tmp_path / "p.yaml"
    run("codebook", "export", demo_db, "--question", "q14", "--output", exported)
    run("codebook", "add", demo_db, "Waste", "--question", "q14", "--coder", "ann")
    run("codebook", "rename", demo_db, "waste", "Waste and recycling", "--question", "q14")
    run("codebook", "nest", demo_db, "waste", "environmental", "--question", "q14")
    out = run("codebook", "show", demo_db, "--codebook", "priorities-2014").output
    assert "    - waste: Waste and recycling" in out
    assert [t.label for t in themes(demo_db) if t.id == "waste"] == ["Waste and recycling"]
    coded = count(demo_db, "SELECT count(*) FROM codings")
    out = run("codebook", "merge", demo_db, "hr-payroll", "it-infrastructure", "--question", "q14").output
    assert "3 codings moved" in out
    assert (
        "hr-payroll" not in {t.id for t in themes(demo_db)} and count(demo_db, "SELECT count(*) FROM codings") <= coded
    )
    # Re-importing the exported version brings hr-payroll back and drops the uncoded "waste".
    out = run("codebook", "import", demo_db, exported).output
    assert "1 added" in out and "1 removed" in out
    ids = {t.id for t in themes(demo_db)}
    assert "hr-payroll" in ids and "waste" not in ids
    out = run("codebook", "show", CORPUS.parent.parent / "codebooks" / "departments.yaml").output
    assert out.startswith("departments:")


def themes(path):
    db = open_db(path, readonly=True)
    try:
        return read_codebook(db, "priorities-2014").themes
    finally:
        db.close()


def test_questions_lists_progress(demo_db):
    out = run("questions", demo_db).output
    assert "q13" in out and "departments" in out


def test_console_script_runs_without_a_terminal(tmp_path):
    """The installed entry point works with no stdin, as in CI."""
    result = subprocess.run(
        [sys.executable, "-m", "coder.cli.main", "--help"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert result.returncode == 0 and "import" in result.stdout


def test_every_command_has_help_and_is_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = []
    for name, command in cli.commands.items():
        if hasattr(command, "commands"):
            names += [f"{name} {sub}" for sub in command.commands]
        else:
            names.append(name)
    for name in names:
        # "coder code" must not pass because "coder codebook" is there.
        assert re.search(rf"`coder {name}[ `]", readme), f"README lacks `coder {name}`"


def commands():
    for name, command in cli.commands.items():
        yield name, command
        for sub, subcommand in getattr(command, "commands", {}).items():
            yield f"{name} {sub}", subcommand


@pytest.mark.parametrize("name", [name for name, _ in commands()])
def test_every_command_help_names_its_purpose_arguments_and_options(name):
    """Help that lost its docstring or an option must fail here, not merely be short."""
    command = dict(commands())[name]
    assert command.help and command.help.strip(), f"`coder {name}` has no docstring"
    shown = run(*name.split(), "--help").output
    # Click rewraps the text (also after a hyphen), so compare with whitespace removed.
    first_line = "".join(command.help.strip().splitlines()[0].split())
    assert first_line in "".join(shown.split()), (first_line, shown[:300])
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if isinstance(param, click.Argument):
            assert param.make_metavar(click.Context(command)) in shown, (name, param.name)
        else:
            for opt in param.opts + param.secondary_opts:
                assert opt in shown, (name, opt)


def test_wal_and_foreign_keys(demo_db):
    db = open_db(demo_db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
