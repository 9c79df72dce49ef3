"""Inter-coder agreement: percent agreement, Cohen's kappa and Krippendorff's alpha.

Answers may carry several themes, so agreement is measured two ways: on the
whole set of themes an answer got (an exact match or not), and per theme (did
both coders put this theme on this answer or not). Alpha pools the per-theme
decisions, so one answer with two themes is two decisions, as is usual for
multi-label coding. All functions are pure; the database side lives elsewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Hashable, Mapping, Sequence

Units = Mapping[Hashable, Mapping[str, frozenset[str]]]  # unit -> coder -> themes


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa for two coders' nominal labels of the same units."""
    if len(a) != len(b):
        raise ValueError("both coders must label the same units")
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(1 for x, y in zip(a, b) if x == y) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[c] * count_b[c] for c in count_a) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0  # one category only: agreement is total or meaningless
    return (observed - expected) / (1 - expected)


def krippendorff_alpha_nominal(data: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha, nominal, for any number of coders; None marks a missing value.

    `data` is coders x units, like the reliability data matrix of the literature.
    Units with fewer than two values are not pairable and are left out.
    """
    coincidence: Counter = Counter()
    n_units = len(data[0]) if data else 0
    for unit in range(n_units):
        values = [row[unit] for row in data if row[unit] is not None]
        m = len(values)
        if m < 2:
            continue
        for i, j in ((i, j) for i in range(m) for j in range(m) if i != j):
            coincidence[(values[i], values[j])] += 1 / (m - 1)
    totals: Counter = Counter()
    for (c, _), weight in coincidence.items():
        totals[c] += weight
    n = sum(totals.values())
    if n <= 1:
        return float("nan")
    disagree_observed = sum(w for (c, k), w in coincidence.items() if c != k)
    disagree_expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if disagree_expected == 0:
        return 1.0 if disagree_observed == 0 else float("nan")
    return 1 - (n - 1) * disagree_observed / disagree_expected


@dataclass
class ThemeAgreement:
    theme: str
    percent: float
    kappa: float | None  # two coders only
    alpha: float
    units_with_theme: int  # units where at least one coder used it


@dataclass
class Agreement:
    coders: tuple[str, ...]
    units: int
    percent: float  # exact set agreement (mean over coder pairs)
    kappa: float | None  # two coders: kappa on the exact set as one nominal label
    alpha: float  # nominal, pooled over per-theme present/absent decisions
    alpha_sets: float  # nominal, the exact set as one label
    themes: list[ThemeAgreement] = field(default_factory=list)
    disagreements: list[tuple[Hashable, dict[str, frozenset[str]]]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "coders": list(self.coders),
            "units": self.units,
            "percent_agreement": self.percent,
            "cohen_kappa": self.kappa,
            "krippendorff_alpha": self.alpha,
            "krippendorff_alpha_sets": self.alpha_sets,
            "themes": [t.__dict__ for t in self.themes],
            "disagreements": [
                {"unit": unit, "codes": {c: sorted(v) for c, v in codes.items()}} for unit, codes in self.disagreements
            ],
        }


def agreement(units: Units, coders: Sequence[str] | None = None, theme_order: Sequence[str] = ()) -> Agreement:
    """Agreement among `coders` (default: everyone) over units coded by at least two of them."""
    if coders is None:
        coders = sorted({c for codes in units.values() for c in codes})
    coders = tuple(coders)
    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    shared = [u for u, codes in units.items() if sum(1 for c in coders if c in codes) >= 2]
    order = {t: i for i, t in enumerate(theme_order)}
    themes = sorted({t for u in shared for c in coders for t in units[u].get(c, ())},
                    key=lambda t: (order.get(t, len(order)), t))

    pair_scores = []
    for a, b in combinations(coders, 2):
        both = [u for u in shared if a in units[u] and b in units[u]]
        if both:
            pair_scores.append(sum(1 for u in both if units[u][a] == units[u][b]) / len(both))
    percent = sum(pair_scores) / len(pair_scores) if pair_scores else float("nan")

    kappa = None
    if len(coders) == 2:
        both = [u for u in shared if coders[0] in units[u] and coders[1] in units[u]]
        kappa = cohen_kappa([units[u][coders[0]] for u in both], [units[u][coders[1]] for u in both])

    def value(u, c, theme=None):
        if c not in units[u]:
            return None
        return units[u][c] if theme is None else theme in units[u][c]

    alpha_sets = krippendorff_alpha_nominal([[value(u, c) for u in shared] for c in coders])
    pooled = [[value(u, c, t) for t in themes for u in shared] for c in coders]
    alpha = krippendorff_alpha_nominal(pooled) if themes else float("nan")

    per_theme = []
    for t in themes:
        rows = [[value(u, c, t) for u in shared] for c in coders]
        used = sum(1 for u in shared if any(t in units[u].get(c, ()) for c in coders))
        agree = [
            sum(1 for u in shared if a in units[u] and b in units[u] and (t in units[u][a]) == (t in units[u][b]))
            / max(1, sum(1 for u in shared if a in units[u] and b in units[u]))
            for a, b in combinations(coders, 2)
        ]
        theme_kappa = None
        if len(coders) == 2:
            both = [u for u in shared if coders[0] in units[u] and coders[1] in units[u]]
            theme_kappa = cohen_kappa([t in units[u][coders[0]] for u in both], [t in units[u][coders[1]] for u in both])
        per_theme.append(ThemeAgreement(t, sum(agree) / len(agree), theme_kappa, krippendorff_alpha_nominal(rows), used))

    disagreements = [
        (u, {c: units[u][c] for c in coders if c in units[u]})
        for u in shared
        if len({units[u][c] for c in coders if c in units[u]}) > 1
    ]
    return Agreement(coders, len(shared), percent, kappa, alpha, alpha_sets, per_theme, disagreements)
