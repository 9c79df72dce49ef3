"""A table, crosstab or wave comparison in every output format: md, csv, xlsx, html, latex, json.

Every shape is first laid out as a `Grid` (title, typed columns, rows, base notes), so each
format is one small renderer and all formats agree on what a table holds. The plain table's
Markdown and CSV stay those of `coder.report.tables` (the report's layout, and exactly
`theme,count,percent`). Every format but CSV prints the base under the table; CSV is
machine-read and carries only the rows. A table with nets marks them in every format: bold
(or a `net` column) and children indented beneath, with `level` and `net` columns added last
in CSV and XLSX; a table without nets renders exactly as a flat one.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from coder.errors import CoderError
from coder.report.tables import NET_COLUMNS, Comparison, Crosstab, Table, format_change
from coder.spreadsheet import NOT_XML
from coder.spreadsheet import neutralise as spreadsheet_safe

INDENT = "  "


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    nets = table.has_nets
    writer.writerow(["theme", "count", "percent", *(NET_COLUMNS if nets else [])])
    for row in table.rows:
        if nets:
            writer.writerow(
                [spreadsheet_safe(INDENT * row.level + row.label), row.count, f"{row.percent}", row.level, int(row.net)]
            )
        else:
            writer.writerow([spreadsheet_safe(row.label), row.count, f"{row.percent}"])
    return out.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Control characters left once line breaks are spaces: a terminal runs ESC sequences, XML and LaTeX refuse them
# (XML also U+FFFE, U+FFFF and lone surrogates: an SVG chart holding one is no XML).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def output_line(text: str) -> str:
    """Text for a label's place in an output: line breaks become spaces, control characters go."""
    return _CONTROL.sub("", " ".join(str(text).splitlines()))


def md_text(text: str) -> str:
    """Labels and answers as literal Markdown text: no raw HTML, links, emphasis or table breaks."""
    # "&amp;" or "&#60;" would show as the character it names, not as typed.
    return _ENTITY.sub(r"\\&", _MD_SPECIAL.sub(r"\\\1", output_line(text)))


def md_label(label: str, level: int = 0, net: bool = False) -> str:
    """A row's label in a Markdown cell: nets bold, children indented with no-break spaces (kept in a cell)."""
    text = md_text(label)
    return "\u00a0" * (2 * level) + (f"**{text}**" if net else text)


def to_markdown(table: Table) -> str:
    lines = [f"**{md_text(table.title)}**", "", f"| {md_text(table.header)} | Response |", "|---|---:|"]
    for row in table.rows:
        lines.append(f"| {md_label(row.label, row.level, row.net)} | {row.percent}% |")
    lines += ["", md_text(table.base_text) + "."]
    if table.uncoded_note:
        lines.append(table.uncoded_note)
    return "\n".join(lines) + "\n"


FORMATS = ("md", "csv", "xlsx", "html", "latex", "json")
SUFFIXES = {"md": ".md", "csv": ".csv", "xlsx": ".xlsx", "html": ".html", "latex": ".tex", "json": ".json"}

# Column kinds: how a cell is shown and whether a spreadsheet gets a number.
TEXT, COUNT, PERCENT, CHANGE, COUNT_PERCENT = "text", "count", "percent", "change", "count+percent"


@dataclass(frozen=True)
class Grid:
    """A shape laid out for rendering; `footer` is the crosstab's per-column Base row."""

    name: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (heading, kind)
    rows: tuple[tuple, ...]
    notes: tuple[str, ...]
    folded: tuple[bool, ...] = ()
    footer: tuple | None = None
    levels: tuple[int, ...] = ()  # with `nets`, only for a table that has nets
    nets: tuple[bool, ...] = ()

    def level(self, index: int) -> int:
        return self.levels[index] if self.levels else 0

    def net(self, index: int) -> bool:
        return bool(self.nets) and self.nets[index]


def _tree(table: Table, rows) -> dict:
    if not table.has_nets:
        return {}
    return {"levels": tuple(r.level for r in rows), "nets": tuple(r.net for r in rows)}


def grid(shape: Table | Crosstab | Comparison) -> Grid:
    if isinstance(shape, Table):
        return Grid(
            shape.question,
            shape.title,
            ((shape.header, TEXT), ("Count", COUNT), ("Response", PERCENT)),
            tuple((r.label, r.count, r.percent) for r in shape.rows),
            _notes(shape, shape.base_text),
            tuple(r.folded for r in shape.rows),
            **_tree(shape, shape.rows),
        )
    if isinstance(shape, Crosstab):
        table, columns = shape.table, (*shape.columns, shape.total)
        return Grid(
            f"{table.question}-by-{shape.attribute}",
            table.title,
            ((table.header, TEXT), *((c.name, COUNT_PERCENT) for c in columns)),
            tuple((row.label, *((c.counts[i], c.percents[i]) for c in columns)) for i, row in enumerate(table.rows)),
            _notes(table, shape.base_text),
            tuple(r.folded for r in table.rows),
            footer=("Base", *(c.base_n for c in columns)),
            **_tree(table, table.rows),
        )
    if isinstance(shape, Comparison):
        table = shape.table
        return Grid(
            f"{table.question}-compared",
            table.title,
            (
                (table.header, TEXT),
                (shape.previous_label, PERCENT),
                (shape.current_label, PERCENT),
                ("% Change", CHANGE),
            ),
            tuple((r.label, r.previous, r.current, r.change) for r in shape.rows),
            _notes(table, shape.base_text),
            tuple(r.folded for r in shape.rows),
            **_tree(table, shape.rows),
        )
    raise TypeError(f"cannot lay out {type(shape).__name__}")


def _notes(table: Table, base_text: str) -> tuple[str, ...]:
    notes = [base_text.rstrip(".") + "."]
    if table.uncoded_note:
        notes.append(table.uncoded_note)
    return tuple(notes)


def render(shape: Table | Crosstab | Comparison, fmt: str) -> str | bytes:
    """The shape in format `fmt`: text, or bytes for xlsx."""
    if fmt not in FORMATS:
        raise CoderError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "json":
        return to_json(shape)
    if isinstance(shape, Table) and fmt == "md":
        return to_markdown(shape)
    if isinstance(shape, Table) and fmt == "csv":
        return to_csv(shape)
    renderers: dict[str, Callable[[Grid], str | bytes]] = {
        "md": grid_markdown,
        "csv": grid_csv,
        "xlsx": to_xlsx,
        "html": to_html,
        "latex": to_latex,
    }
    return renderers[fmt](grid(shape))


# --- text cells ----------------------------------------------------------------------------------


def _cell(value, kind: str) -> str:
    if kind == TEXT:
        return str(value)
    if kind == COUNT:
        return str(value)
    if kind == PERCENT:
        return "N/A" if value is None else f"{value}%"
    if kind == CHANGE:
        return "N/A" if value is None else format_change(value)
    count, share = value
    return f"{share}% ({count})"


def _footer_cells(g: Grid) -> list[str]:
    return [str(v) for v in g.footer] if g.footer else []


# --- Markdown ----------------------------------------------------------------------------------


def grid_markdown(g: Grid) -> str:
    lines = [
        f"**{md_text(g.title)}**",
        "",
        "| " + " | ".join(md_text(h) for h, _ in g.columns) + " |",
        "|" + "|".join("---" if kind == TEXT else "---:" for _, kind in g.columns) + "|",
    ]
    for index, row in enumerate(g.rows):
        cells = [md_label(str(row[0]), g.level(index), g.net(index))]
        cells += [md_text(_cell(v, k)) for v, (_, k) in zip(row[1:], g.columns[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    if g.footer:
        lines.append("| " + " | ".join(f"**{md_text(c)}**" for c in _footer_cells(g)) + " |")
    lines += ["", *(md_text(note) for note in g.notes)]
    return "\n".join(lines) + "\n"


# --- CSV and XLSX: one column per number ---------------------------------------------------------


def _flat_headings(g: Grid) -> list[tuple[str, str]]:
    """Columns as a spreadsheet has them: a count+percent column becomes two; nets add level and net last."""
    flat = [("theme", TEXT)]
    for heading, kind in g.columns[1:]:
        if kind == COUNT_PERCENT:
            flat += [(f"{heading} count", COUNT), (f"{heading} percent", PERCENT)]
        else:
            flat.append((heading, kind))
    if g.levels:
        flat += [(name, COUNT) for name in NET_COLUMNS]
    return flat


def _flat_values(index: int, g: Grid) -> list:
    row = g.rows[index]
    values = [row[0]]
    for value, (_, kind) in zip(row[1:], g.columns[1:]):
        values += list(value) if kind == COUNT_PERCENT else [value]
    if g.levels:
        values += [g.level(index), int(g.net(index))]
    return values


def grid_csv(g: Grid) -> str:
    """Rows only, numbers bare (no %, no sign), N/A as an empty cell; text made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    headings = _flat_headings(g)
    writer.writerow([spreadsheet_safe(h) for h, _ in headings])
    for index in range(len(g.rows)):
        cells = []
        for value, (_, kind) in zip(_flat_values(index, g), headings):
            if kind == TEXT:
                cells.append(spreadsheet_safe(INDENT * g.level(index) + str(value)))
            elif value is None:
                cells.append("")
            elif kind == CHANGE:
                cells.append(f"{value:.1f}")
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()


_NUMBER_FORMATS = {PERCENT: '0.0"%"', CHANGE: '+0.0"%";-0.0"%";0.0"%"'}


def _sheet_text(text: str) -> str:
    return spreadsheet_safe(NOT_XML.sub("", text))


def to_xlsx(g: Grid) -> bytes:
    """One sheet: title, headings, rows, (Base row), then the base notes. Numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", "-", g.name)[:31] or "table"
    bold = Font(bold=True)
    sheet.append([_sheet_text(g.title)])
    sheet["A1"].font = bold
    sheet.append([])
    headings = _flat_headings(g)
    headings[0] = (g.columns[0][0], TEXT)
    sheet.append([_sheet_text(h) for h, _ in headings])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for index in range(len(g.rows)):
        sheet.append(
            [
                _sheet_text(str(v))
                if k == TEXT
                else ("N/A" if v is None else (float(v) if isinstance(v, Decimal) else v))
                for v, (_, k) in zip(_flat_values(index, g), headings)
            ]
        )
        for cell, (_, kind) in zip(sheet[sheet.max_row], headings):
            if kind in _NUMBER_FORMATS and cell.value != "N/A":
                cell.number_format = _NUMBER_FORMATS[kind]
        label = sheet.cell(sheet.max_row, 1)
        if g.level(index):
            label.alignment = Alignment(indent=g.level(index))
        if g.net(index):
            label.font = bold
    if g.footer:
        base = [g.footer[0]]
        for value, (_, kind) in zip(g.footer[1:], g.columns[1:]):
            base += [value, None] if kind == COUNT_PERCENT else [value]
        sheet.append(base)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
    sheet.append([])
    for note in g.notes:
        sheet.append([_sheet_text(note)])
    sheet.column_dimensions["A"].width = min(60, max([len(str(r[0])) for r in g.rows] + [len(headings[0][0]), 12]) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- HTML --------------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table.coder-table{border-collapse:collapse;margin:1rem 0}
.coder-table caption{font-weight:bold;text-align:left;padding-bottom:.4rem}
.coder-table th,.coder-table td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.coder-table .num{text-align:right;white-space:nowrap}
.coder-table tr.fold th{font-style:italic}
.coder-table tfoot td,.coder-table tfoot th{border:0;font-size:.9em;color:#555}
img.chart{max-width:100%}"""


NUM = ' class="num"'


def html_table(g: Grid) -> str:
    """The table as an HTML fragment: title as <caption>, base notes in <tfoot>."""
    e = html.escape
    width = len(g.columns)
    parts = [f'<table class="coder-table" id="{e(g.name)}">', f"<caption>{e(g.title)}</caption>", "<thead><tr>"]
    parts += [f'<th scope="col"{"" if kind == TEXT else NUM}>{e(h)}</th>' for h, kind in g.columns]
    parts.append("</tr></thead>\n<tbody>")
    for index, row in enumerate(g.rows):
        classes = [name for name, on in (("fold", g.folded and g.folded[index]), ("net", g.net(index))) if on]
        fold = f' class="{" ".join(classes)}"' if classes else ""
        # Inline, not in the stylesheet: a table without nets stays byte for byte as it was.
        style = ([f"padding-left:{0.6 + 1.2 * g.level(index):.1f}rem"] if g.level(index) else []) + (
            ["font-weight:bold"] if g.net(index) else []
        )
        style_attr = f' style="{";".join(style)}"' if style else ""
        cells = [f'<th scope="row"{style_attr}>{e(str(row[0]))}</th>']
        cells += [f'<td class="num">{e(_cell(v, k))}</td>' for v, (_, k) in zip(row[1:], g.columns[1:])]
        parts.append(f"<tr{fold}>{''.join(cells)}</tr>")
    parts.append("</tbody>\n<tfoot>")
    if g.footer:
        footer = _footer_cells(g)
        parts.append(
            f'<tr><th scope="row">{e(footer[0])}</th>'
            + "".join(f'<td class="num">{e(c)}</td>' for c in footer[1:])
            + "</tr>"
        )
    parts += [f'<tr><td colspan="{width}">{e(note)}</td></tr>' for note in g.notes]
    parts.append("</tfoot>\n</table>")
    return "\n".join(parts) + "\n"


def html_document(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>\n{_CSS}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def to_html(g: Grid) -> str:
    return html_document(g.title, html_table(g))


# --- LaTeX -------------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    # A cell starting "[" after "\\" or "\midrule" would be read as their optional argument.
    "[": "{[}",
    "]": "{]}",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in output_line(text))


def to_latex(g: Grid) -> str:
    """A booktabs `table` float: caption = title, the base under the tabular."""
    spec = r"p{0.45\linewidth}" + "r" * (len(g.columns) - 1)
    label = re.sub(r"[^A-Za-z0-9-]", "-", g.name)  # a \label takes no escapes
    lines = [
        "% needs \\usepackage{booktabs}",
        r"\begin{table}[htbp]",
        r"\centering",
        f"\\caption{{{latex_escape(g.title)}}}",
        f"\\label{{tab:{label}}}",
        f"\\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(latex_escape(h) for h, _ in g.columns) + r" \\",
        r"\midrule",
    ]
    for index, row in enumerate(g.rows):
        label = latex_escape(str(row[0]))
        label = f"\\textbf{{{label}}}" if g.net(index) else label
        if g.level(index):
            label = f"\\hspace{{{g.level(index)}em}}{label}"
        lines.append(
            " & ".join([label, *(latex_escape(_cell(v, k)) for v, (_, k) in zip(row[1:], g.columns[1:]))]) + r" \\"
        )
    if g.footer:
        lines += [r"\midrule", " & ".join(latex_escape(c) for c in _footer_cells(g)) + r" \\"]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [r"\par\smallskip{\footnotesize " + latex_escape(note) + "}" for note in g.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


# --- JSON --------------------------------------------------------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _base(table: Table) -> dict:
    return {
        "kind": table.base,
        "n": table.base_n,
        "respondents": table.respondents,
        "mentions": table.mentions,
        "uncoded": table.uncoded,
        "text": table.base_text,
        "note": table.uncoded_note,
    }


def to_json(shape: Table | Crosstab | Comparison) -> str:
    """Numbers as JSON numbers (percent to one decimal), N/A as null, the base spelt out."""
    table = shape if isinstance(shape, Table) else shape.table
    data: dict[str, Any] = {
        "question": table.question,
        "title": table.title,
        "header": table.header,
        "base": _base(table),
    }

    def tree(row) -> dict:
        return {"level": row.level, "net": row.net} if table.has_nets else {}

    if isinstance(shape, Table):
        data["rows"] = [
            {
                "theme_id": r.theme_id,
                "label": r.label,
                "count": r.count,
                "percent": _number(r.percent),
                "folded": r.folded,
                **tree(r),
            }
            for r in table.rows
        ]
    elif isinstance(shape, Crosstab):
        columns = (*shape.columns, shape.total)
        data["attribute"] = shape.attribute
        data["base"]["text"] = shape.base_text
        data["columns"] = [{"name": c.name, "base_n": c.base_n} for c in columns]
        data["rows"] = [
            {
                "theme_id": r.theme_id,
                "label": r.label,
                "folded": r.folded,
                **tree(r),
                "cells": [{"count": c.counts[i], "percent": _number(c.percents[i])} for c in columns],
            }
            for i, r in enumerate(table.rows)
        ]
    else:
        data.update(previous_label=shape.previous_label, current_label=shape.current_label, source=shape.source)
        data["base"]["text"] = shape.base_text
        data["rows"] = [
            {
                "label": r.label,
                "previous": _number(r.previous),
                "current": _number(r.current),
                "change": _number(r.change),
                "folded": r.folded,
                **tree(r),
            }
            for r in shape.rows
        ]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
