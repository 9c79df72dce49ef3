"""Percentage tables as a report prints them: counts, bases, folds and ties.

Two bases, as in Local Digital Today 2014: `mentions` divides by all codings
(table 2.10 sums to 100%); `respondents` divides by respondents who gave at
least one real answer and counts each respondent once per theme (table 2.11
sums past 100%). Non-answers are in neither base. Rows run by count, ties in
codebook order, the fold row last.

Nets: a theme with children (`parent:` in the codebook) is a net row that counts each
respondent (respondents base) or answer (mentions base) once however many of its themes it
carries, on the same base as its children. A table with nets runs in codebook order with
children indented beneath their net (`level`); nets are never folded, their children may be,
and a net still counts a child folded into the fold row. `nets=False` gives the flat table.

Also the shapes built on a table: a crosstab by a respondent attribute (column
percentages, each group its own base) and a comparison with an earlier wave's CSV.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlite_utils import Database

from coder.codebook.db import read_codebook
from coder.codebook.model import Codebook
from coder.coding.codings import question_codebook
from coder.errors import CoderError, location
from coder.spreadsheet import unneutralise
from coder.store import get_meta
from coder.survey.spec import BASES, Fold


@dataclass(frozen=True)
class Row:
    theme_id: str
    label: str
    count: int
    percent: Decimal
    folded: bool = False
    level: int = 0  # depth under nets: 0 at the top
    net: bool = False


@dataclass(frozen=True)
class Table:
    question: str
    title: str
    header: str
    base: str
    base_n: int
    respondents: int
    mentions: int
    uncoded: int
    rows: tuple[Row, ...]
    has_nets: bool = False  # the codebook has nets and they are shown: rows in tree order, with levels
    no_themes: bool = False  # an empty codebook: every answer is uncoded until themes are added

    @property
    def uncoded_note(self) -> str | None:
        """Why answers are missing from the table, and with no themes yet, how to get some."""
        if not self.uncoded:
            return None
        note = f"{self.uncoded} real answer(s) not yet coded are not counted"
        if self.no_themes:
            note += (
                ": the codebook has no themes yet (add one with coder codebook add or n in coder code, "
                "or let coder discover propose some)"
            )
        return note + "."

    @property
    def base_text(self) -> str:
        if self.base == "mentions":
            return f"Base: {self.base_n} mentions by {self.respondents} answering respondents"
        return f"Base: {self.base_n} answering respondents ({self.mentions} mentions); respondents could give more than one answer"


def percent(count: int, base: int) -> Decimal:
    """Percentage to one decimal, halves rounded up, from exact arithmetic (no float drift)."""
    if base == 0:
        return Decimal("0.0")
    exact = Fraction(count * 100, base)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def build_table(
    db: Database,
    question: str,
    base: str | None = None,
    *,
    include_empty: bool = False,
    min_count: int = 0,
    nets: bool = True,
) -> Table:
    """The question's table; `min_count` folds themes counted fewer times into the fold row."""
    source = _load(db, question, base)
    layout = _layout(source, min_count, nets)
    return _tabulate(source, layout, include_empty)


@dataclass(frozen=True)
class _Source:
    """What a table is computed from: the question's codebook, fold and codings."""

    question: str
    title: str
    header: str
    base: str
    codebook: Codebook
    fold: Fold | None
    respondents: int
    uncoded: int
    pairs: list  # (theme id, respondent id, answer id) for every coding on a real answer


@dataclass(frozen=True)
class _Layout:
    """Which row each theme is counted in, and the fold row (an existing theme or a made-up "Other")."""

    row_of: dict
    fold_row: str | None
    other: Row | None  # the made-up "Other" row when --min-count folds and the spec has no fold
    nets: dict  # net id -> the theme ids it counts (itself and every descendant); empty for a flat table


def _load(db: Database, question: str, base: str | None) -> _Source:
    codebook_id = question_codebook(db, question)
    text, q_base, fold_json, title, header = db.execute(
        "SELECT text, base, fold, table_title, table_header FROM questions WHERE id = ?", [question]
    ).fetchone()
    base = base or q_base
    if base not in BASES:
        raise CoderError(f"base must be 'mentions' or 'respondents', not {base!r}")
    respondents = db.execute(
        "SELECT count(DISTINCT respondent_id) FROM answers WHERE question_id = ? AND is_answer = 1", [question]
    ).fetchone()[0]
    uncoded = db.execute(
        """SELECT count(*) FROM answers a WHERE a.question_id = ? AND a.is_answer = 1
           AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)""",
        [question],
    ).fetchone()[0]
    pairs = db.execute(
        """SELECT t.id, a.respondent_id, a.id FROM codings c
           JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
           WHERE a.question_id = ? AND a.is_answer = 1""",
        [question],
    ).fetchall()
    return _Source(
        question=question,
        title=title or text or question,
        header=header or "Theme",
        base=base,
        codebook=read_codebook(db, codebook_id),
        fold=Fold.from_json(json.loads(fold_json)) if fold_json else None,
        respondents=respondents,
        uncoded=uncoded,
        pairs=pairs,
    )


def _count(pairs, row_of: dict, base: str, nets: dict | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    if base == "mentions":
        for theme_id, _respondent, _answer in pairs:
            key = row_of.get(theme_id, theme_id)
            counts[key] = counts.get(key, 0) + 1
    else:
        respondents: dict[str, set] = {}
        for theme_id, respondent, _answer in pairs:
            respondents.setdefault(row_of.get(theme_id, theme_id), set()).add(respondent)
        counts = {k: len(v) for k, v in respondents.items()}
    for net, members in (nets or {}).items():
        # Once per answer (mentions) or respondent, however many of the net's themes it carries.
        unit = 2 if base == "mentions" else 1
        counts[net] = len({pair[unit] for pair in pairs if pair[0] in members})
    return counts


def _net_members(codebook: Codebook) -> dict[str, frozenset]:
    """Each net (a theme some theme names as parent) with itself and all its descendants."""
    parent_of = {t.id: t.parent for t in codebook.themes}
    members: dict[str, set] = {}
    for theme in codebook.themes:
        ancestor = theme.parent
        while ancestor is not None:  # the codebook refuses cycles, so this ends
            members.setdefault(ancestor, {ancestor}).add(theme.id)
            ancestor = parent_of.get(ancestor)
    return {net: frozenset(ids) for net, ids in members.items()}


def _layout(source: _Source, min_count: int = 0, nets: bool = True) -> _Layout:
    codebook, fold = source.codebook, source.fold
    fold_row = fold.into if fold else None
    net_members = _net_members(codebook) if nets else {}
    members: set[str] = set()
    if fold is not None:
        net_members.pop(fold.into, None)  # the fold row counts what is folded into it, as in a flat table
        members = fold.members(codebook.ids) - net_members.keys()
    row_of = {t.id: (fold.into if fold is not None and t.id in members else t.id) for t in codebook.themes}
    if min_count < 0:
        raise CoderError(f"--min-count must be 0 or more, not {min_count}")
    if not min_count:
        return _Layout(row_of, fold_row, None, net_members)
    counts = _count(source.pairs, row_of, source.base)
    small = [
        t.id
        for t in codebook.themes
        if row_of[t.id] == t.id and t.id != fold_row and t.id not in net_members and counts.get(t.id, 0) < min_count
    ]
    if not small:
        return _Layout(row_of, fold_row, None, net_members)
    other = None
    if fold_row is None:
        # No fold in the spec: fold into a theme that already is "Other", else into a new "Other" row.
        existing = next((t.id for t in codebook.themes if t.id == "other" or t.label.casefold() == "other"), None)
        if existing:
            fold_row = existing
            small = [t for t in small if t != existing]
        else:
            fold_row = "other"
            other = Row(fold_row, "Other", 0, Decimal("0.0"), folded=True)
    for theme_id, target in row_of.items():
        if target in small:
            row_of[theme_id] = fold_row
    return _Layout(row_of, fold_row, other, net_members)


def _tree_order(codebook: Codebook) -> list[tuple]:
    """(theme, level) in codebook order, each net's children right beneath it."""
    children: dict[str | None, list] = {}
    known = set(codebook.ids)
    for theme in codebook.themes:
        children.setdefault(theme.parent if theme.parent in known else None, []).append(theme)
    ordered = []

    def walk(parent: str | None, level: int) -> None:
        for theme in children.get(parent, []):
            ordered.append((theme, level))
            walk(theme.id, level + 1)

    walk(None, 0)
    return ordered


def _tabulate(source: _Source, layout: _Layout, include_empty: bool) -> Table:
    codebook, row_of = source.codebook, layout.row_of
    counts = _count(source.pairs, row_of, source.base, layout.nets)
    mentions = len(source.pairs)
    base_n = mentions if source.base == "mentions" else source.respondents

    order = {t.id: i for i, t in enumerate(codebook.themes)}
    placed = _tree_order(codebook) if layout.nets else [(t, 0) for t in codebook.themes]
    rows = []
    for theme, level in placed:
        if row_of[theme.id] != theme.id:
            continue
        count = counts.get(theme.id, 0)
        if count == 0 and not include_empty:
            continue
        folded = theme.id == layout.fold_row
        net = theme.id in layout.nets and not folded
        rows.append(Row(theme.id, theme.label, count, percent(count, base_n), folded, 0 if folded else level, net))
    if layout.other is not None:
        count = counts.get(layout.other.theme_id, 0)
        if count or include_empty:
            rows.append(Row(layout.other.theme_id, layout.other.label, count, percent(count, base_n), True))
    if layout.nets:
        rows.sort(key=lambda r: r.folded)  # stable: the tree order stays, the fold row goes last
    else:
        rows.sort(key=lambda r: (r.folded, -r.count, order.get(r.theme_id, len(order))))
    return Table(
        question=source.question,
        title=source.title,
        header=source.header,
        base=source.base,
        base_n=base_n,
        respondents=source.respondents,
        mentions=mentions,
        uncoded=source.uncoded,
        rows=tuple(rows),
        has_nets=bool(layout.nets),
        no_themes=not source.codebook.themes,
    )


NET_COLUMNS = ["level", "net"]  # added to a csv or sheet only when the table has nets
# --- crosstabs ----------------------------------------------------------------------------------

NOT_GIVEN = "(not given)"


@dataclass(frozen=True)
class Column:
    """One attribute group of a crosstab, with its own base; counts and percents follow `Table.rows`."""

    name: str
    base_n: int
    counts: tuple[int, ...]
    percents: tuple[Decimal, ...]


@dataclass(frozen=True)
class Crosstab:
    """A question by a respondent attribute: one column per group, then Total (= the plain table)."""

    table: Table
    attribute: str
    columns: tuple[Column, ...]

    @property
    def total(self) -> Column:
        rows = self.table.rows
        return Column("Total", self.table.base_n, tuple(r.count for r in rows), tuple(r.percent for r in rows))

    @property
    def base_text(self) -> str:
        unit = "mentions" if self.table.base == "mentions" else "answering respondents"
        return (
            f"Column percentages of each {self.attribute} group's {unit} (the Base row); Total is the whole table. "
            f"{self.table.base_text}"
        )


def attribute_names(db: Database) -> list[str]:
    """The spec's attributes (meta `attributes`), then any others the database holds."""
    raw = get_meta(db, "attributes")
    names = list(json.loads(raw)) if raw else []
    for (name,) in db.execute("SELECT DISTINCT name FROM respondent_attributes ORDER BY name"):
        if name not in names:
            names.append(name)
    return names


def build_crosstab(
    db: Database,
    question: str,
    attribute: str,
    base: str | None = None,
    *,
    include_empty: bool = False,
    min_count: int = 0,
    nets: bool = True,
) -> Crosstab:
    names = attribute_names(db)
    if attribute not in names:
        raise CoderError(f"unknown attribute {attribute!r}; the attributes are {', '.join(names) or 'none'}")
    source = _load(db, question, base)
    layout = _layout(source, min_count, nets)
    table = _tabulate(source, layout, include_empty)
    group_of = dict(
        db.execute("SELECT respondent_id, value FROM respondent_attributes WHERE name = ?", [attribute]).fetchall()
    )
    answering = [
        r
        for (r,) in db.execute(
            "SELECT DISTINCT respondent_id FROM answers WHERE question_id = ? AND is_answer = 1", [question]
        )
    ]

    def group(respondent: str) -> str:
        return (group_of.get(respondent) or "").strip() or NOT_GIVEN

    groups = sorted({group(r) for r in answering}, key=lambda g: (g == NOT_GIVEN, g.casefold(), g))
    columns = []
    for name in groups:
        pairs = [p for p in source.pairs if group(p[1]) == name]
        base_n = len(pairs) if source.base == "mentions" else sum(1 for r in answering if group(r) == name)
        counts = _count(pairs, layout.row_of, source.base, layout.nets)
        cells = tuple(counts.get(row.theme_id, 0) for row in table.rows)
        columns.append(Column(name, base_n, cells, tuple(percent(c, base_n) for c in cells)))
    return Crosstab(table, attribute, tuple(columns))


# --- comparison with an earlier wave ------------------------------------------------------------


@dataclass(frozen=True)
class PreviousRow:
    label: str
    count: int
    percent: Decimal


@dataclass(frozen=True)
class ComparedRow:
    """A theme in either wave; None stands for N/A (not in that wave's table)."""

    label: str
    previous: Decimal | None
    current: Decimal | None
    folded: bool = False
    level: int = 0
    net: bool = False

    @property
    def change(self) -> Decimal | None:
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous


@dataclass(frozen=True)
class Comparison:
    """This wave's table beside an earlier one, as the report's year-on-year tables."""

    table: Table
    previous_label: str
    current_label: str
    source: str
    rows: tuple[ComparedRow, ...]

    @property
    def base_text(self) -> str:
        return (
            f"{self.table.base_text} ({self.current_label}). {self.previous_label} figures from {self.source}; "
            f"% Change in percentage points; N/A: not in that year's table"
        )


def format_change(change: Decimal) -> str:
    """Percentage points, signed, one decimal: `+4.6%`, `-1.2%`, `0.0%` (as table 2.2 prints them)."""
    return f"{change:+.1f}%" if change else "0.0%"


def read_previous_csv(path) -> list[PreviousRow]:
    """Read an earlier wave's `coder table --format csv` output (theme,count,percent[,level,net]).

    A table with nets adds level and net; rows are matched by label, so those are only checked for their place.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except OSError as exc:
        raise CoderError(f"cannot read the previous wave: {exc.strerror}", where=str(path)) from None
    except UnicodeDecodeError:
        raise CoderError("not UTF-8 text: give the CSV `coder table --format csv` wrote", where=str(path)) from None
    header = [c.strip().casefold() for c in lines[0]] if lines else []
    if header not in (["theme", "count", "percent"], ["theme", "count", "percent", *NET_COLUMNS]):
        raise CoderError(
            "the header must be exactly theme,count,percent or theme,count,percent,level,net "
            "(as `coder table --format csv` writes)",
            where=location(path, 1),
        )
    rows, seen = [], set()
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise CoderError(
                f"expected {len(header)} cells ({','.join(header)}), found {len(cells)}", where=location(path, number)
            )
        label = unneutralise(cells[0].strip()).strip()  # a net's children are indented
        if not label:
            raise CoderError("the theme is empty", where=location(path, number, "theme"))
        if label.casefold() in seen:
            raise CoderError(f"theme {label!r} is listed twice", where=location(path, number, "theme"))
        seen.add(label.casefold())
        try:
            count = int(cells[1].strip())
        except ValueError:
            raise CoderError(
                f"count {cells[1]!r} is not a whole number", where=location(path, number, "count")
            ) from None
        try:
            share = Decimal(cells[2].strip().removesuffix("%"))
        except ArithmeticError:
            raise CoderError(f"percent {cells[2]!r} is not a number", where=location(path, number, "percent")) from None
        if count < 0 or not share.is_finite() or not 0 <= share <= 100:
            raise CoderError("count must be 0 or more and percent between 0 and 100", where=location(path, number))
        rows.append(PreviousRow(label, count, share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)))
    return rows


def compare_table(
    table: Table,
    previous: list[PreviousRow],
    *,
    previous_label: str = "2013",
    current_label: str = "2014",
    source: str = "the previous wave",
) -> Comparison:
    """Match themes by label (case-insensitive); this year's rows in table order, then dropped themes.

    Themes only in the earlier wave come after this year's rows (fold row included) with N/A for
    this year: they are not in this year's table, so they have no place in its order.
    """
    unmatched = {row.label.casefold(): row for row in previous}
    rows = []
    for row in table.rows:
        earlier = unmatched.pop(row.label.casefold(), None)
        rows.append(
            ComparedRow(row.label, earlier.percent if earlier else None, row.percent, row.folded, row.level, row.net)
        )
    rows += [ComparedRow(row.label, row.percent, None) for row in previous if row.label.casefold() in unmatched]
    return Comparison(table, previous_label, current_label, source, tuple(rows))
