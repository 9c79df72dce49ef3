"""Spreadsheet rules shared by the writers and the readers: inert formulas, sheet names.

Answers are typed by the public; "=HYPERLINK(...)" or "+44 20..." must reach a
spreadsheet as text. A leaf module (it imports nothing of ours) so that tables, exporters and the
codings reader all share one rule and files round-trip.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets skip leading blanks before a formula, and some (Excel with an East Asian IME,
# LibreOffice's autocorrect) take the full-width "＝＋－＠" for the ASCII ones.
_FORMULA = re.compile(r"\s*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\u2212]")


def _needs_quote(text: str) -> bool:
    # A text already starting with ' before a formula character is quoted again,
    # so that unneutralise(neutralise(x)) == x for every string x.
    if text.startswith(FORMULA_STARTS) or _FORMULA.match(text):
        return True
    return text.startswith("'") and _needs_quote(text[1:])


def neutralise(value):
    """Prefix `'` to text a spreadsheet would run as a formula; other values pass unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


# Characters XML 1.0 cannot hold (C0 controls but tab and newlines, U+FFFE, U+FFFF, lone
# surrogates): an .xlsx holding one is a workbook Excel calls corrupt.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def unneutralise(cell: str) -> str:
    """Undo `neutralise`: for reading back a codings file this module wrote."""
    if cell.startswith("'") and _needs_quote(cell[1:]):
        return cell[1:]
    return cell


_BAD_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def sheet_name(question: str, taken: set[str]) -> str:
    """Excel allows 31 characters and none of []:*?/\\ in a sheet name, unique ignoring case."""
    base = question.translate(_BAD_SHEET_CHARS)[:31] or "question"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name
