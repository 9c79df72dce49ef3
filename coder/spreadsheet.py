"""Spreadsheet formula injection: text a spreadsheet would run as a formula, made inert.

Answers are typed by the public; "=HYPERLINK(...)" or "+44 20..." must reach a
spreadsheet as text. A leaf module (it imports nothing of ours) so that tables, exporters and the
codings reader all share one rule and files round-trip.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    # A text already starting with ' before a formula character is quoted again,
    # so that unneutralise(neutralise(x)) == x for every string x.
    if text.startswith(FORMULA_STARTS):
        return True
    return text.startswith("'") and _needs_quote(text[1:])


def neutralise(value):
    """Prefix `'` to text a spreadsheet would run as a formula; other values pass unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def unneutralise(cell: str) -> str:
    """Undo `neutralise`: for reading back a codings file this module wrote."""
    if cell.startswith("'") and _needs_quote(cell[1:]):
        return cell[1:]
    return cell
