"""Issue 10: outputs never destroy what coder did not write, and show labels as plain text."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from coder.export import charts
from coder.store import open_db
from tests.conftest import FakeQuote
from tests.invoke import run

MARKER = ".coder-report"  # the file that marks a folder coder report wrote


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def db_path(gold_db_path, tmp_path):
    """A copy of the gold database in a folder of its own (neither the cwd nor a report target)."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "survey.db"
    shutil.copy(gold_db_path, path)
    return path


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Run from a folder of our own, so the cwd is not what protects a target."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def fast_charts(monkeypatch):
    monkeypatch.setattr(charts, "render_chart", lambda table, path, **_: path.write_bytes(b"") or 0)
    monkeypatch.setitem(sys.modules, "coder.report.quotes", None)


def fake_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "documents").mkdir(parents=True)
    (home / "documents" / "thesis.docx").write_bytes(b"years of work")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY", encoding="utf-8")
    return home


# --- item 1: report --force replaces only a folder coder wrote ------------------------------------


def test_force_refuses_a_home_folder_and_deletes_nothing(db_path, tmp_path, elsewhere, fast_charts):
    home = fake_home(tmp_path)
    before = tree(home)
    result = run("report", db_path, "--output", home, "--force", ok=False)
    assert str(home) in result.output and MARKER in result.output and "delete it yourself" in result.output
    assert tree(home) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_force_refuses_an_old_report_folder_without_the_marker(db_path, tmp_path, elsewhere, fast_charts):
    out = tmp_path / "report"
    run("report", db_path, "--output", out)
    (out / MARKER).unlink()  # as written before coder marked its folders
    before = tree(out)
    result = run("report", db_path, "--output", out, "--force", ok=False)
    assert "delete it yourself" in result.output
    assert tree(out) == before


def test_force_replaces_a_folder_coder_wrote(db_path, tmp_path, elsewhere, fast_charts):
    out = tmp_path / "report"
    run("report", db_path, "--output", out)
    assert (out / MARKER).is_file()
    (out / "stale.md").write_text("old", encoding="utf-8")
    run("report", db_path, "--output", out, "--force")
    assert not (out / "stale.md").exists() and (out / "index.md").exists() and (out / MARKER).is_file()


def test_replacing_never_follows_a_symlink_out_of_the_folder(db_path, tmp_path, elsewhere, fast_charts):
    home = fake_home(tmp_path)
    before = tree(home)
    out = tmp_path / "report"
    run("report", db_path, "--output", out)
    (out / "docs").symlink_to(home / "documents", target_is_directory=True)
    (out / "key").symlink_to(home / ".ssh" / "id_ed25519")
    run("report", db_path, "--output", out, "--force")
    assert tree(home) == before
    assert not (out / "docs").exists() and (out / "index.md").exists()


def test_a_symlinked_target_is_refused(db_path, tmp_path, elsewhere, fast_charts):
    real = tmp_path / "real-report"
    run("report", db_path, "--output", real)
    (real / "mine.txt").write_text("keep", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    result = run("report", db_path, "--output", link, "--force", ok=False)
    assert "symbolic link" in result.output
    assert (real / "mine.txt").read_text(encoding="utf-8") == "keep" and link.is_symlink()


def test_force_never_replaces_the_current_directory_or_a_parent(db_path, tmp_path, elsewhere, fast_charts):
    (elsewhere / MARKER).write_text("", encoding="utf-8")  # even a marked one
    (elsewhere / "work.txt").write_text("keep", encoding="utf-8")
    for target in (elsewhere, tmp_path, "."):
        result = run("report", db_path, "--output", target, "--force", ok=False)
        assert "current directory" in result.output
    assert (elsewhere / "work.txt").read_text(encoding="utf-8") == "keep"


def test_leftovers_of_interrupted_runs_are_removed_but_not_unmarked_folders(db_path, tmp_path, elsewhere, fast_charts):
    out = tmp_path / "rep"
    building, old = tmp_path / ".rep.abcd1234.tmp", tmp_path / ".rep.wxyz_987.old"
    for leftover in (building, old):
        leftover.mkdir()
        (leftover / MARKER).write_text("", encoding="utf-8")
        (leftover / "q13.md").write_text("half", encoding="utf-8")
    foreign = tmp_path / ".rep.zzzzzzzz.old"  # same shape of name, but coder did not write it
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep", encoding="utf-8")
    run("report", db_path, "--output", out)
    assert not building.exists() and not old.exists()
    assert (foreign / "mine.txt").read_text(encoding="utf-8") == "keep"


def test_a_question_id_that_is_a_path_is_refused(db_path, tmp_path, elsewhere, fast_charts):
    db = open_db(db_path)
    with db.conn:
        db.execute(
            "INSERT INTO questions (id, codebook_id, columns, base, position) "
            "SELECT '../escaped', codebook_id, '[]', base, 99 FROM questions WHERE id = 'q13'"
        )
    db.close()
    result = run("report", db_path, "--output", tmp_path / "report", ok=False)
    assert "cannot name a file" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "work"]


# --- item 2: no export overwrites the database or an input --------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["codings", "export", "{db}", "-o", "{db}"],
        ["codings", "export", "{db}", "--format", "xlsx", "-o", "{db}"],
        ["codings", "export", "{db}", "-o", "{db}-wal"],
        ["codebook", "export", "{db}", "--question", "q14", "-o", "{db}"],
        ["codebook", "export", "{db}", "--question", "q14", "-o", "{link}"],
        ["table", "{db}", "-q", "q14", "--output", "{db}"],
        ["table", "{db}", "-q", "q14", "--format", "xlsx", "--output", "{db}"],
        ["table", "{db}", "-q", "q14", "--output", "{copy}"],
        ["chart", "{db}", "-q", "q14", "--output", "{png}"],
    ],
    ids=[
        "codings-csv",
        "codings-xlsx",
        "wal",
        "codebook",
        "codebook-symlink",
        "table",
        "table-xlsx",
        "other-database",
        "chart-over-a-database",
    ],
)
def test_an_export_never_overwrites_a_database(db_path, tmp_path, args):
    copy, png, link = tmp_path / "other.db", tmp_path / "looks-like.png", tmp_path / "link.yaml"
    shutil.copy(db_path, copy)
    shutil.copy(db_path, png)
    link.symlink_to(db_path)
    before = db_path.read_bytes()
    names = dict(db=db_path, copy=copy, png=png, link=link)
    result = run(*[a.format(**names) for a in args], ok=False)
    assert "Wrote" not in result.output
    assert db_path.read_bytes() == before and copy.read_bytes() == before and png.read_bytes() == before
    assert not Path(f"{db_path}-wal").exists() or Path(f"{db_path}-wal").stat().st_size == 0


def test_table_compare_never_overwrites_its_previous_wave(db_path, tmp_path):
    previous = tmp_path / "q14-2013.csv"
    previous.write_text(run("table", db_path, "-q", "q14", "--format", "csv").output, encoding="utf-8")
    before = previous.read_bytes()
    result = run("table", db_path, "-q", "q14", "--compare", previous, "--output", previous, ok=False)
    assert "input" in result.output and previous.read_bytes() == before


def test_a_failed_codings_export_keeps_the_old_file(db_path, tmp_path, monkeypatch):
    from coder.export import coded_data

    def broken(rows, handle):
        handle.write("respondent_id,half a row")
        raise OSError("disk full")

    target = tmp_path / "codings.csv"
    target.write_text("the old export", encoding="utf-8")
    monkeypatch.setattr(coded_data, "write_safe_csv", broken)
    result = run("codings", "export", db_path, "-o", target, ok=False)
    assert "disk full" in result.output
    assert target.read_text(encoding="utf-8") == "the old export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codings.csv", "data"]


# --- items 13 and 14: labels are plain text ------------------------------------------------------

SCRIPT = "<script>alert(1)</script> *x* [y](javascript:alert(2))"


def set_label(db_path: Path, question: str, label: str) -> None:
    """Give the question's most-mentioned theme `label` (any theme of it would do)."""
    db = open_db(db_path)
    with db.conn:
        db.execute(
            "UPDATE themes SET label = ? WHERE pk = (SELECT c.theme_pk FROM codings c "
            "JOIN answers a ON a.id = c.answer_id WHERE a.question_id = ? "
            "GROUP BY c.theme_pk ORDER BY count(*) DESC LIMIT 1)",
            [label, question],
        )
    db.close()


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_table_markdown_passes_no_raw_html(db_path):
    set_label(db_path, "q14", SCRIPT)
    db = open_db(db_path)
    with db.conn:
        db.execute("UPDATE respondent_attributes SET value = '<img src=x onerror=alert(3)>' WHERE name = 'role'")
    db.close()
    for extra in ([], ["--by", "role"]):
        page = rendered(run("table", db_path, "-q", "q14", "--format", "md", *extra).output)
        assert "<script" not in page and "<img" not in page and "<a " not in page and "<em>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; *x*" in page


def test_report_markdown_passes_no_raw_html(db_path, tmp_path, elsewhere, monkeypatch):
    set_label(db_path, "q14", SCRIPT)
    monkeypatch.setattr(charts, "render_chart", lambda table, path, **_: path.write_bytes(b"") or 0)

    def representative_quotes(db, question, theme=None, n=3):
        return [FakeQuote(theme, "x", "<iframe src=evil></iframe> **loud**", "<b>Officer</b>")]

    monkeypatch.setitem(
        sys.modules, "coder.report.quotes", types.SimpleNamespace(representative_quotes=representative_quotes)
    )
    out = tmp_path / "report"
    run("report", db_path, "--output", out)
    for name in ("index.md", "q14-quotes.md", "q14.md"):
        page = rendered((out / name).read_text(encoding="utf-8"))
        for tag in ("<script", "<iframe", "<b>", "<strong>loud", "<em>"):
            assert tag not in page, (name, tag)
    assert "&lt;script&gt;" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("label", ["Budget $5m and $10m", r"$\input{x}$", r"$\frac{1}{0$ and $x^$"])
def test_dollar_labels_are_drawn_as_plain_text(db_path, tmp_path, label):
    set_label(db_path, "q14", label)
    out = tmp_path / "q14.svg"
    run("chart", db_path, "-q", "q14", "--output", out)
    texts = ["".join(el.itertext()) for el in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}text")]
    assert label in texts  # drawn as the text itself, not as mathtext glyphs
    run("chart", db_path, "-q", "q14", "--output", tmp_path / "q14.png")


def test_svg_chart_escapes_markup_in_labels(db_path, tmp_path):
    set_label(db_path, "q14", "<script>alert(1)</script>")
    out = tmp_path / "q14.svg"
    run("chart", db_path, "-q", "q14", "--output", out)
    svg = out.read_text(encoding="utf-8")
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_latex_escapes_every_special_character(db_path):
    set_label(db_path, "q14", "\\input{x} & 5% $ # _ ~ ^ <>\rend")
    tex = run("table", db_path, "-q", "q14", "--format", "latex").output
    line = next(line for line in tex.splitlines() if "input" in line)
    assert line.startswith(
        r"\textbackslash{}input\{x\} \& 5\% \$ \# \_ \textasciitilde{} \textasciicircum{} "
        r"\textless{}\textgreater{} end"
    )


def test_control_characters_leave_valid_svg_and_no_terminal_escapes(db_path, tmp_path):
    set_label(db_path, "q14", "red\x1b[31m alert\x00\x9b end")
    out = tmp_path / "q14.svg"
    run("chart", db_path, "-q", "q14", "--output", out)
    texts = ["".join(el.itertext()) for el in ET.parse(out).getroot().iter("{http://www.w3.org/2000/svg}text")]
    assert "red[31m alert end" in texts
    for fmt in ("md", "latex"):
        assert "\x1b" not in run("table", db_path, "-q", "q14", "--format", fmt).output


def test_an_export_never_replaces_a_pipe_or_device(db_path, tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = run("table", db_path, "-q", "q14", "--output", pipe, ok=False)
    assert "not a regular file" in result.output and stat.S_ISFIFO(pipe.stat().st_mode)
