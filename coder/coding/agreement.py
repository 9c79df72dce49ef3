"""Inter-coder agreement: percent agreement, Cohen's kappa and Krippendorff's alpha.

Answers may carry several themes, so agreement is measured two ways: on the
whole set of themes an answer got (one nominal label per answer: an exact
match or not), and per theme (did both coders put this theme on this answer or
not). Per theme there is one kappa per theme, their mean, and the pooled kappa
of De Vries et al. (2008): the 2x2 tables of all themes summed, then one kappa,
the form most papers report. Alpha pools the same per-theme decisions, so one
answer with two themes is two decisions. Cohen's kappa is defined for two
coders, so with more it is given per pair; alpha takes any number. A statistic
the data cannot define (no variation, nothing pairable) is None, with the
reason in `notes`, never NaN. All functions are pure; the database side lives
in coder.coding.team.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from typing import Any

# unit -> coder -> themes; a unit is any hashable key the caller has (Any, as Mapping keys are invariant)
Units = Mapping[Any, Mapping[str, frozenset[str]]]

POOLED_KAPPA_NOTE = (
    "De Vries et al. 2008: the 2x2 tables of all themes summed, then one kappa; the form most papers report"
)


class Undefined(ValueError):
    """A statistic these data do not define; the message says why."""


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa for two coders' nominal labels of the same units."""
    if len(a) != len(b):
        raise ValueError("both coders must label the same units")
    n = len(a)
    if n == 0:
        raise Undefined("no answers both coders coded")
    observed = sum(1 for x, y in zip(a, b) if x == y) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[c] * count_b[c] for c in count_a) / (n * n)
    if expected == 1.0:
        raise Undefined("no variation: both coders gave every answer the same label")
    return (observed - expected) / (1 - expected)


def krippendorff_alpha_nominal(data: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha, nominal, for any number of coders; None marks a missing value.

    `data` is coders x units, like the reliability data matrix of the literature.
    Units with fewer than two values are not pairable and are left out.
    """
    coincidence: defaultdict[tuple, float] = defaultdict(float)
    n_units = len(data[0]) if data else 0
    for unit in range(n_units):
        values = [row[unit] for row in data if row[unit] is not None]
        m = len(values)
        if m < 2:
            continue
        for i, j in ((i, j) for i in range(m) for j in range(m) if i != j):
            coincidence[(values[i], values[j])] += 1 / (m - 1)
    totals: defaultdict[object, float] = defaultdict(float)
    for (c, _), weight in coincidence.items():
        totals[c] += weight
    n = sum(totals.values())
    if n <= 1:
        raise Undefined("fewer than two pairable values (no answer coded by two coders)")
    disagree_observed = sum(w for (c, k), w in coincidence.items() if c != k)
    disagree_expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if disagree_expected == 0:
        raise Undefined("no variation: every coder gave every answer the same label")
    return 1 - (n - 1) * disagree_observed / disagree_expected


def roll_up(units: Units, parents: Mapping[str, str | None], level: int) -> dict:
    """Each theme replaced by its ancestor net `level` deep (1 = top); a theme no deeper stays itself."""

    def at_level(theme: str) -> str:
        path = [theme]
        while parent := parents.get(path[-1]):
            path.append(parent)
        path.reverse()  # top first
        return path[level - 1] if len(path) >= level else theme

    return {u: {c: frozenset(at_level(t) for t in themes) for c, themes in codes.items()} for u, codes in units.items()}


def depth(parents: Mapping[str, str | None]) -> int:
    """How many levels the codebook's nets have (1 when no theme has a parent)."""

    def levels(theme: str) -> int:
        n = 1
        while parent := parents.get(theme):
            theme, n = parent, n + 1
        return n

    return max((levels(t) for t in parents), default=1)


def _measure(notes: dict[str, str], name: str, compute: Callable[[], float]) -> float | None:
    try:
        return compute()
    except Undefined as why:
        notes[name] = str(why)
        return None


@dataclass
class PairAgreement:
    """Two coders on the answers both coded: the Cohen's kappa family is defined for pairs only."""

    coders: tuple[str, str]
    units: int
    percent: float | None  # whole theme sets identical
    kappa_sets: float | None  # one nominal label per answer: its whole set of themes
    kappa_pooled: float | None  # POOLED_KAPPA_NOTE
    kappa_mean: float | None  # mean of the per-theme kappas that are defined
    theme_kappa: dict[str, float | None] = field(default_factory=dict)
    theme_percent: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # statistic -> why it is n/a
    theme_notes: dict[str, str] = field(default_factory=dict)  # theme -> why its kappa is n/a

    @property
    def name(self) -> str:
        return "/".join(self.coders)

    def to_dict(self) -> dict:
        return {
            "coders": list(self.coders),
            "units": self.units,
            "percent_agreement": self.percent,
            "cohen_kappa_sets": self.kappa_sets,
            "cohen_kappa_pooled": self.kappa_pooled,
            "cohen_kappa_mean_per_theme": self.kappa_mean,
            "themes": {
                t: {
                    "percent_agreement": self.theme_percent[t],
                    "cohen_kappa": k,
                    **({"n/a": self.theme_notes[t]} if t in self.theme_notes else {}),
                }
                for t, k in self.theme_kappa.items()
            },
            "n/a": self.notes,
        }


@dataclass
class ThemeAgreement:
    theme: str
    percent: float | None  # present/absent agreement (mean over coder pairs)
    kappa: float | None  # two coders only; with more, see Agreement.pairs
    alpha: float | None
    units_with_theme: int  # units where at least one coder used it
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Agreement:
    coders: tuple[str, ...]
    units: int  # coded by at least two of the coders
    percent: float | None  # whole sets identical (mean over coder pairs)
    kappa: float | None  # two coders: kappa on the whole set as one nominal label
    kappa_pooled: float | None  # two coders: pooled per-theme kappa (POOLED_KAPPA_NOTE)
    kappa_mean: float | None  # two coders: mean of the per-theme kappas
    alpha: float | None  # nominal, pooled over per-theme present/absent decisions
    alpha_sets: float | None  # nominal, the whole set as one label
    themes: list[ThemeAgreement] = field(default_factory=list)
    pairs: list[PairAgreement] = field(default_factory=list)
    disagreements: list[tuple[Any, dict[str, frozenset[str]]]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # statistic -> why it is n/a

    def to_dict(self) -> dict:
        return {
            "coders": list(self.coders),
            "units": self.units,
            "percent_agreement": self.percent,
            "cohen_kappa_sets": self.kappa,
            "cohen_kappa_pooled": self.kappa_pooled,
            "cohen_kappa_pooled_is": POOLED_KAPPA_NOTE,
            "cohen_kappa_mean_per_theme": self.kappa_mean,
            "krippendorff_alpha_pooled": self.alpha,
            "krippendorff_alpha_sets": self.alpha_sets,
            "n/a": self.notes,
            "themes": [
                {
                    "theme": t.theme,
                    "percent_agreement": t.percent,
                    "cohen_kappa": t.kappa,
                    "krippendorff_alpha": t.alpha,
                    "units_with_theme": t.units_with_theme,
                    "n/a": t.notes,
                }
                for t in self.themes
            ],
            "pairs": [p.to_dict() for p in self.pairs],
            "disagreements": [
                {"unit": unit, "codes": {c: sorted(v) for c, v in codes.items()}} for unit, codes in self.disagreements
            ],
        }


def pair_agreement(units: Units, a: str, b: str, themes: Sequence[str]) -> PairAgreement:
    """Percent agreement and the kappas of coders `a` and `b` over the units both coded."""
    both = [u for u, codes in units.items() if a in codes and b in codes]
    notes: dict[str, str] = {}
    percent = sum(1 for u in both if units[u][a] == units[u][b]) / len(both) if both else None
    if not both:
        notes["percent_agreement"] = "no answers both coders coded"
    sets = _measure(
        notes, "cohen_kappa_sets", lambda: cohen_kappa([units[u][a] for u in both], [units[u][b] for u in both])
    )
    theme_notes: dict[str, str] = {}
    theme_kappa, theme_percent = {}, {}
    for t in themes:
        x, y = [t in units[u][a] for u in both], [t in units[u][b] for u in both]
        theme_kappa[t] = _measure(theme_notes, t, partial(cohen_kappa, x, y))
        if t in theme_notes and both:
            theme_notes[t] = (
                "no variation: both coders put it on every answer both coded"
                if x[0]
                else "no variation: neither coder used it on the answers both coded"
            )
        theme_percent[t] = sum(1 for p, q in zip(x, y) if p == q) / len(both) if both else None
    pooled = _measure(
        notes,
        "cohen_kappa_pooled",
        lambda: cohen_kappa(
            [t in units[u][a] for t in themes for u in both], [t in units[u][b] for t in themes for u in both]
        ),
    )
    defined = [k for k in theme_kappa.values() if k is not None]
    mean = sum(defined) / len(defined) if defined else None
    if not defined:
        notes["cohen_kappa_mean_per_theme"] = "no theme has a defined kappa"
    return PairAgreement((a, b), len(both), percent, sets, pooled, mean, theme_kappa, theme_percent, notes, theme_notes)


def agreement(units: Units, coders: Sequence[str] | None = None, theme_order: Sequence[str] = ()) -> Agreement:
    """Agreement among `coders` (default: everyone) over units coded by at least two of them.

    Themes none of them used on those units are left out of every per-theme
    statistic (and of the pooled ones), as they carry no decision.
    """
    if coders is None:
        coders = sorted({c for codes in units.values() for c in codes})
    coders = tuple(coders)
    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    shared = [u for u, codes in units.items() if sum(1 for c in coders if c in codes) >= 2]
    order = {t: i for i, t in enumerate(theme_order)}
    themes = sorted(
        {t for u in shared for c in coders for t in units[u].get(c, ())}, key=lambda t: (order.get(t, len(order)), t)
    )
    pairs = [pair_agreement(units, a, b, themes) for a, b in combinations(coders, 2)]

    notes: dict[str, str] = {}
    scored = [p.percent for p in pairs if p.percent is not None]
    percent = sum(scored) / len(scored) if scored else None
    if not scored:
        notes["percent_agreement"] = "no answers two coders both coded"
    two = pairs[0] if len(coders) == 2 else None
    if two:
        notes.update(two.notes)
    else:
        for name in ("cohen_kappa_sets", "cohen_kappa_pooled", "cohen_kappa_mean_per_theme"):
            notes[name] = "Cohen's kappa is for two coders: see the pairs"

    def value(u, c, theme=None):
        if c not in units[u]:
            return None
        return units[u][c] if theme is None else theme in units[u][c]

    alpha_sets = _measure(
        notes,
        "krippendorff_alpha_sets",
        lambda: krippendorff_alpha_nominal([[value(u, c) for u in shared] for c in coders]),
    )
    if themes:
        alpha = _measure(
            notes,
            "krippendorff_alpha_pooled",
            lambda: krippendorff_alpha_nominal([[value(u, c, t) for t in themes for u in shared] for c in coders]),
        )
    else:
        alpha = None
        notes["krippendorff_alpha_pooled"] = "no coder used any theme"

    per_theme = []
    for t in themes:
        theme_notes: dict[str, str] = {}
        if two and t in two.theme_notes:
            theme_notes["cohen_kappa"] = two.theme_notes[t]
        alpha_t = _measure(
            theme_notes,
            "krippendorff_alpha",
            partial(krippendorff_alpha_nominal, [[value(u, c, t) for u in shared] for c in coders]),
        )
        used = sum(1 for u in shared if any(t in units[u].get(c, ()) for c in coders))
        agree = [pct for p in pairs if (pct := p.theme_percent[t]) is not None]
        per_theme.append(
            ThemeAgreement(
                t,
                sum(agree) / len(agree) if agree else None,
                two.theme_kappa[t] if two else None,
                alpha_t,
                used,
                theme_notes,
            )
        )

    disagreements = [
        (u, {c: units[u][c] for c in coders if c in units[u]})
        for u in shared
        if len({units[u][c] for c in coders if c in units[u]}) > 1
    ]
    return Agreement(
        coders,
        len(shared),
        percent,
        two.kappa_sets if two else None,
        two.kappa_pooled if two else None,
        two.kappa_mean if two else None,
        alpha,
        alpha_sets,
        per_theme,
        pairs,
        disagreements,
        notes,
    )
