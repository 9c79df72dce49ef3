"""The report folder: every question's table in every format, a chart, quotes and an index.

It lives beside the exporters because it is the one export that uses all the
others; its imports are lazy so `import coder.export.refi_qda` does not load
matplotlib.
"""

from __future__ import annotations

import html
import importlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CoderError

CHART_SUFFIXES = (".png", ".svg")
FORMAT_NAMES = {"md": "Markdown", "csv": "CSV", "xlsx": "Excel", "html": "HTML", "latex": "LaTeX", "json": "JSON"}


@dataclass
class Report:
    path: Path
    questions: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    quotes_note: str | None = None  # why quotes are missing, when they are


def _quote_function():
    """`coder.quotes.representative_quotes` if that module is installed, else None (quotes are optional)."""
    try:
        quotes = importlib.import_module("coder.quotes")
    except ModuleNotFoundError as exc:
        if exc.name != "coder.quotes":  # coder.quotes exists but something it needs is missing: say so
            raise
        return None
    return getattr(quotes, "representative_quotes", None)


def _check_target(db, target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise CoderError("exists and is not a folder", where=str(target))
    if not target.exists() or not any(target.iterdir()):
        return
    if not force:
        raise CoderError("the folder is not empty: give an empty or new folder, or --force to replace it",
                         where=str(target))
    # --force deletes the old folder: never one holding the database or the working directory.
    resolved = target.resolve()
    db_file = next((Path(row[2]) for row in db.execute("PRAGMA database_list") if row[1] == "main" and row[2]), None)
    for precious, what in ((db_file, "the database"), (Path.cwd(), "the current directory")):
        if precious is not None and (precious.resolve() == resolved or resolved in precious.resolve().parents):
            raise CoderError(f"--force would delete {what}; choose another folder", where=str(target))


def write_report(db, target: str | Path, *, force: bool = False, quotes_per_theme: int = 3) -> Report:
    """Write the report folder at `target`, all or nothing.

    Everything is written to a temporary folder beside `target` and renamed into place at the
    end, so a failure leaves no half-written report (and, with `force`, the old one intact).
    """
    from ..codings import question_ids

    target = Path(target)
    _check_target(db, target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        report = _write_all(db, building, question_ids(db), quotes_per_theme)
        _swap_into_place(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
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
    os.chmod(target, 0o777 & ~_umask())  # mkdtemp makes 0700; a report folder is an ordinary folder
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_all(db, folder: Path, questions: list[str], quotes_per_theme: int) -> Report:
    from ..store import get_meta
    from ..tables import build_table
    from . import charts, table_formats

    quotes = _quote_function()
    report = Report(folder, quotes_note=None if quotes else
                    "Quotes are not included: coder.quotes.representative_quotes is not available.")
    tables = {}
    for question in questions:
        table = tables[question] = build_table(db, question)
        for fmt in table_formats.FORMATS:
            name = question + table_formats.SUFFIXES[fmt]
            content = table_formats.render(table, fmt)
            if isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                (folder / name).write_text(content, encoding="utf-8", newline="")
            report.files.append(name)
        for suffix in CHART_SUFFIXES:
            charts.render_chart(table, folder / (question + suffix))
            report.files.append(question + suffix)
        if quotes:
            name = f"{question}-quotes.md"
            (folder / name).write_text(_quotes_markdown(db, table, quotes, quotes_per_theme), encoding="utf-8")
            report.files.append(name)
        report.questions.append(question)
    title = get_meta(db, "title") or get_meta(db, "survey") or "Survey"
    (folder / "index.md").write_text(_index_markdown(title, tables, report), encoding="utf-8")
    (folder / "index.html").write_text(_index_html(title, tables, report), encoding="utf-8")
    report.files += ["index.md", "index.html"]
    return report


def _quotes_markdown(db, table, representative_quotes, n: int) -> str:
    lines = [f"**Quotes: {table.title}**", ""]
    for row in table.rows:
        found = representative_quotes(db, table.question, theme=row.theme_id, n=n)
        if not found:
            continue
        lines += [f"### {row.label}", ""]
        for quote in found:
            text = " ".join(str(quote.text).split())
            lines.append(f"> \u201c{text}\u201d")
            if quote.attribution:
                lines += [">", f"> \u2014 {quote.attribution}"]
            lines.append("")
    if len(lines) == 2:
        lines.append("No quotes for this question yet.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _links(question: str, report: Report) -> list[tuple[str, str]]:
    from .table_formats import FORMATS, SUFFIXES

    links = [(FORMAT_NAMES[fmt], question + SUFFIXES[fmt]) for fmt in FORMATS]
    links += [("chart PNG", question + ".png"), ("chart SVG", question + ".svg")]
    if report.quotes_note is None:
        links.append(("quotes", f"{question}-quotes.md"))
    return links


def _index_markdown(title: str, tables: dict, report: Report) -> str:
    from ..tables import to_markdown

    lines = [f"# {title}", "", "Each question's table, chart and files. Tables: " +
             ", ".join(FORMAT_NAMES.values()) + "; charts: PNG and SVG.", ""]
    if report.quotes_note:
        lines += [f"*{report.quotes_note}*", ""]
    lines += [f"- [{q}: {t.title}](#{q})" for q, t in tables.items()]
    for question, table in tables.items():
        lines += ["", f'<a id="{question}"></a>', "", f"## {question}", "", to_markdown(table).rstrip("\n"), "",
                  f"![Chart: {table.title}]({question}.png)", "",
                  "Files: " + " · ".join(f"[{name}]({path})" for name, path in _links(question, report))]
    return "\n".join(lines) + "\n"


def _index_html(title: str, tables: dict, report: Report) -> str:
    from .table_formats import grid, html_document, html_table

    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    if report.quotes_note:
        body.append(f"<p><em>{e(report.quotes_note)}</em></p>")
    body.append("<ul>" + "".join(f'<li><a href="#{e(q)}-section">{e(q)}: {e(t.title)}</a></li>'
                                 for q, t in tables.items()) + "</ul>")
    for question, table in tables.items():
        links = " · ".join(f'<a href="{e(path)}">{e(name)}</a>' for name, path in _links(question, report))
        body += [f'<section id="{e(question)}-section">', f"<h2>{e(question)}</h2>", html_table(grid(table)).rstrip("\n"),
                 f'<img class="chart" src="{e(question)}.svg" alt="{e("Chart: " + table.title)}">',
                 f"<p>Files: {links}</p>", "</section>"]
    return html_document(title, "\n".join(body) + "\n")
