"""The report folder: every question's table in every format, a chart, quotes and an index.

It lives beside the exporters because it is the one export that uses all the
others; its imports are lazy so `import coder.codebook.qdc` does not load
matplotlib.
"""

from __future__ import annotations

import html
import importlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coder.codebook.model import ID_PATTERN
from coder.errors import CoderError
from coder.outputs import is_sqlite_file, umask, write_output

CHART_SUFFIXES = (".png", ".svg")
# `--force` replaces only a folder holding this file, so it can never delete a folder coder did not write.
MARKER = ".coder-report"
MARKER_TEXT = (
    "This folder was written by `coder report`; `coder report --force` may replace it, with everything in it.\n"
)
FORMAT_NAMES = {"md": "Markdown", "csv": "CSV", "xlsx": "Excel", "html": "HTML", "latex": "LaTeX", "json": "JSON"}


@dataclass
class Report:
    path: Path
    questions: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    quotes_note: str | None = None  # why quotes are missing, when they are


def _quote_function():
    """`coder.report.quotes.representative_quotes` if that module is installed, else None (quotes are optional)."""
    try:
        quotes = importlib.import_module("coder.report.quotes")
    except ModuleNotFoundError as exc:
        if exc.name != "coder.report.quotes":  # coder.report.quotes exists but something it needs is missing: say so
            raise
        return None
    return getattr(quotes, "representative_quotes", None)


def _precious(db) -> list[tuple[Path, str]]:
    db_file = next((Path(row[2]) for row in db.execute("PRAGMA database_list") if row[1] == "main" and row[2]), None)
    found = [(Path.cwd().resolve(), "the current directory")]
    if db_file is not None:
        found.append((db_file.resolve(), "the database"))
    return found


def _check_target(db, target: Path, shown: str, force: bool) -> None:
    """Refuse any target whose replacing could delete something coder did not write."""
    if target.is_symlink():
        raise CoderError("is a symbolic link; give the folder itself", where=shown)
    if target.exists() and not target.is_dir():
        raise CoderError("exists and is not a folder", where=shown)
    if not target.exists():
        return
    # The existing folder is renamed away and deleted: never one holding the database or the working directory.
    resolved = target.resolve()
    for precious, what in _precious(db):
        if precious == resolved or resolved in precious.parents:
            raise CoderError(f"replacing this folder would delete {what}; choose another folder", where=shown)
    if not any(target.iterdir()):
        return
    if not force:
        raise CoderError(
            "the folder is not empty: give an empty or new folder, or --force to replace a report folder coder wrote",
            where=shown,
        )
    if not _is_marked(target):
        raise CoderError(
            f"--force replaces only a folder that coder report wrote (it holds {MARKER}); this one "
            "does not, so coder will not delete it. Choose another folder, or delete it yourself "
            "(report folders written before coder marked them carry no marker)",
            where=shown,
        )
    database = _database_inside(target)
    if database is not None:
        raise CoderError(
            f"holds a database ({database.relative_to(target)}); coder never deletes one: "
            "move it out of the folder first",
            where=shown,
        )


def _database_inside(folder: Path) -> Path | None:
    """The first SQLite database anywhere in `folder` (links are not followed), or None."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink() and is_sqlite_file(path):
                return path
    return None


def _is_marked(folder: Path) -> bool:
    marker = folder / MARKER
    return not folder.is_symlink() and marker.is_file() and not marker.is_symlink()


def _remove_leftovers(target: Path) -> None:
    """Delete the temporary folders that interrupted runs left beside `target`, if coder wrote them."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.(tmp|old)")
    for leftover in target.parent.iterdir():
        ours = pattern.fullmatch(leftover.name) and not leftover.is_symlink() and leftover.is_dir()
        if ours and (_is_marked(leftover) or not any(leftover.iterdir())):
            shutil.rmtree(leftover, ignore_errors=True)


def write_report(db, target: str | Path, *, force: bool = False, quotes_per_theme: int = 3) -> Report:
    """Write the report folder at `target`, all or nothing.

    Everything is written to a temporary folder beside `target` and renamed into place at the
    end, so a failure leaves no half-written report (and, with `force`, the old one intact).
    The folder carries a marker file: `force` replaces only a folder that has one.
    """
    from coder.coding.codings import question_ids

    shown = str(target)
    target = Path(os.path.abspath(target))  # "." and "x/.." get a real name and parent
    _check_target(db, target, shown, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(target)
        building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise CoderError(f"cannot write here: {exc.strerror or exc}", where=shown) from None
    try:
        write_output(building / MARKER, MARKER_TEXT)
        report = _write_all(db, building, question_ids(db), quotes_per_theme)
        _swap_into_place(building, target)
    except BaseException as exc:
        shutil.rmtree(building, ignore_errors=True)
        if isinstance(exc, OSError):  # a full disk or a lost permission: a message, not a traceback
            raise CoderError(f"cannot write the report: {exc.strerror or exc}", where=shown) from None
        raise
    report.path = target
    return report


def _swap_into_place(building: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.rmdir(old)
        target.rename(old)
    try:
        building.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    os.chmod(target, 0o777 & ~umask())  # mkdtemp makes 0700; a report folder is an ordinary folder
    if old is not None:
        # rmtree removes a symbolic link inside as a link: it never follows one out of the folder.
        shutil.rmtree(old, ignore_errors=True)


def _write_all(db, folder: Path, questions: list[str], quotes_per_theme: int) -> Report:
    from coder.export import charts, formats
    from coder.report.tables import build_table
    from coder.store import get_meta

    quotes = _quote_function()
    report = Report(
        folder,
        quotes_note=None
        if quotes
        else "Quotes are not included: coder.report.quotes.representative_quotes is not available.",
    )
    tables = {}
    for question in questions:
        if not ID_PATTERN.fullmatch(question):  # it names files: "../x" must not write outside the folder
            raise CoderError(f"question id {question[:40]!r} cannot name a file; fix it in the survey spec")
        table = tables[question] = build_table(db, question)
        for fmt in formats.FORMATS:
            name = question + formats.SUFFIXES[fmt]
            write_output(folder / name, formats.render(table, fmt))
            report.files.append(name)
        for suffix in CHART_SUFFIXES:
            charts.render_chart(table, folder / (question + suffix))
            report.files.append(question + suffix)
        if quotes:
            name = f"{question}-quotes.md"
            write_output(folder / name, _quotes_markdown(db, table, quotes, quotes_per_theme))
            report.files.append(name)
        report.questions.append(question)
    title = get_meta(db, "title") or get_meta(db, "survey") or "Survey"
    write_output(folder / "index.md", _index_markdown(title, tables, report))
    write_output(folder / "index.html", _index_html(title, tables, report))
    report.files += ["index.md", "index.html"]
    return report


def _quotes_markdown(db, table, representative_quotes, n: int) -> str:
    from coder.export.formats import md_text

    lines = [f"**Quotes: {md_text(table.title)}**", ""]
    for row in table.rows:
        found = representative_quotes(db, table.question, theme=row.theme_id, n=n)
        if not found:
            continue
        lines += [f"### {md_text(row.label)}", ""]
        for quote in found:
            text = md_text(" ".join(str(quote.text).split()))
            lines.append(f"> \u201c{text}\u201d")
            if quote.attribution:
                lines += [">", f"> \u2014 {md_text(quote.attribution)}"]
            lines.append("")
    if len(lines) == 2:
        lines.append("No quotes for this question yet.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _links(question: str, report: Report) -> list[tuple[str, str]]:
    from coder.export.formats import FORMATS, SUFFIXES

    links = [(FORMAT_NAMES[fmt], question + SUFFIXES[fmt]) for fmt in FORMATS]
    links += [("chart PNG", question + ".png"), ("chart SVG", question + ".svg")]
    if report.quotes_note is None:
        links.append(("quotes", f"{question}-quotes.md"))
    return links


def _index_markdown(title: str, tables: dict, report: Report) -> str:
    from coder.export.formats import md_text, to_markdown

    lines = [
        f"# {md_text(title)}",
        "",
        "Each question's table, chart and files. Tables: "
        + ", ".join(FORMAT_NAMES.values())
        + "; charts: PNG and SVG.",
        "",
    ]
    if report.quotes_note:
        lines += [f"*{md_text(report.quotes_note)}*", ""]
    lines += [f"- [{q}: {md_text(t.title)}](#{q})" for q, t in tables.items()]
    for question, table in tables.items():
        lines += [
            "",
            f'<a id="{question}"></a>',
            "",
            f"## {question}",
            "",
            to_markdown(table).rstrip("\n"),
            "",
            f"![Chart: {md_text(table.title)}]({question}.png)",
            "",
            "Files: " + " · ".join(f"[{name}]({path})" for name, path in _links(question, report)),
        ]
    return "\n".join(lines) + "\n"


def _index_html(title: str, tables: dict, report: Report) -> str:
    from coder.export.formats import grid, html_document, html_table

    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    if report.quotes_note:
        body.append(f"<p><em>{e(report.quotes_note)}</em></p>")
    body.append(
        "<ul>"
        + "".join(f'<li><a href="#{e(q)}-section">{e(q)}: {e(t.title)}</a></li>' for q, t in tables.items())
        + "</ul>"
    )
    for question, table in tables.items():
        links = " · ".join(f'<a href="{e(path)}">{e(name)}</a>' for name, path in _links(question, report))
        body += [
            f'<section id="{e(question)}-section">',
            f"<h2>{e(question)}</h2>",
            html_table(grid(table)).rstrip("\n"),
            f'<img class="chart" src="{e(question)}.svg" alt="{e("Chart: " + table.title)}">',
            f"<p>Files: {links}</p>",
            "</section>",
        ]
    return html_document(title, "\n".join(body) + "\n")
