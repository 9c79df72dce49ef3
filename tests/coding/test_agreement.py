from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.coding.agreement import agreement, cohen_kappa, krippendorff_alpha_nominal

# A worked example, computed by hand:
# observed agreement 7/10; expected (4*3 + 3*4 + 3*3)/100 = 0.33; kappa = 0.37/0.67.
# Coincidences: (a,b) 1+1, (a,c) 2+2 -> D_o = 6; n_a=7, n_b=7, n_c=6 -> sum n_c n_k = 266;
# alpha = 1 - 19 * 6 / 266 = 4/7.
A = list("aabbccabca")
B = list("abbbcaabcc")


def test_hand_computed_kappa_and_alpha():
    assert cohen_kappa(A, B) == pytest.approx(0.37 / 0.67)
    assert krippendorff_alpha_nominal([A, B]) == pytest.approx(4 / 7)


def test_alpha_matches_the_krippendorff_package_with_missing_values():
    krippendorff = pytest.importorskip("krippendorff")
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]  # Krippendorff's own example (2011), alpha nominal 0.743
    ours = krippendorff_alpha_nominal(data)
    theirs = krippendorff.alpha(reliability_data=np.array(data, dtype=float), level_of_measurement="nominal")
    assert ours == pytest.approx(theirs) and ours == pytest.approx(0.743, abs=0.001)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=8, max_size=8), min_size=2, max_size=4))
def test_alpha_agrees_with_the_package_on_random_data(data):
    krippendorff = pytest.importorskip("krippendorff")
    pairable = sum(1 for u in range(8) if sum(row[u] is not None for row in data) >= 2)
    values = {
        row[u] for row in data for u in range(8) if row[u] is not None and sum(r[u] is not None for r in data) >= 2
    }
    if pairable == 0 or len(values) < 2:
        return
    ours = krippendorff_alpha_nominal(data)
    theirs = krippendorff.alpha(
        reliability_data=np.array([[np.nan if v is None else v for v in row] for row in data]),
        level_of_measurement="nominal",
    )
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_multi_label_agreement_per_theme():
    units = {
        1: {"ann": frozenset({"cost"}), "bob": frozenset({"cost"})},
        2: {"ann": frozenset({"cost", "crm"}), "bob": frozenset({"crm"})},
        3: {"ann": frozenset({"hr"}), "bob": frozenset({"hr"})},
        4: {"ann": frozenset({"crm"}), "bob": frozenset({"hr"})},
        5: {"ann": frozenset({"cost"})},  # coded by one coder only: not a shared unit
    }
    result = agreement(units, ["ann", "bob"], theme_order=["cost", "crm", "hr"])
    assert result.units == 4 and result.percent == pytest.approx(0.5)
    assert [t.theme for t in result.themes] == ["cost", "crm", "hr"]
    cost = result.themes[0]
    assert cost.percent == pytest.approx(0.75) and cost.units_with_theme == 2
    assert [u for u, _ in result.disagreements] == [2, 4]
    # Pooled alpha equals alpha over the stacked per-theme present/absent decisions.
    stacked = [[t in units[u][c] for t in ["cost", "crm", "hr"] for u in [1, 2, 3, 4]] for c in ["ann", "bob"]]
    assert result.alpha == pytest.approx(krippendorff_alpha_nominal(stacked))
    assert -1 <= result.kappa <= 1 and not math.isnan(result.alpha_sets)
