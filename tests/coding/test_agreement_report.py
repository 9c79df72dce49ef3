"""Agreement a paper can report: every statistic named, per theme and pooled, at any level of the nets."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.codebook.db import add_theme, nest_theme
from coder.codebook.model import load_codebook
from coder.coding.agreement import POOLED_KAPPA_NOTE, agreement, krippendorff_alpha_nominal, roll_up
from tests.coding.test_team_imports import gold_sets, write_file
from tests.conftest import CODEBOOKS
from tests.invoke import run

Q = "q14"

# Two coders, three themes, four answers; every value below is worked out by hand.
UNITS = {
    1: {"ann": frozenset({"cost"}), "bob": frozenset({"cost"})},
    2: {"ann": frozenset({"cost", "crm"}), "bob": frozenset({"crm"})},
    3: {"ann": frozenset({"hr"}), "bob": frozenset({"hr"})},
    4: {"ann": frozenset({"crm"}), "bob": frozenset({"hr"})},
}


def strict_json(text):
    def refuse(name):
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_pooled_kappa_and_alpha_by_hand():
    result = agreement(UNITS, ["ann", "bob"], theme_order=["cost", "crm", "hr"])
    # 12 present/absent decisions, 9 agree: po = 3/4; ann says yes 5 times, bob 4: pe = (5*4 + 7*8)/144.
    assert result.kappa_pooled == pytest.approx((3 / 4 - 76 / 144) / (1 - 76 / 144)) == pytest.approx(8 / 17)
    # Coincidences: 9 yes, 15 no, 3 disagreeing decisions: alpha = 1 - 23 * 6 / (2 * 9 * 15).
    assert result.alpha == pytest.approx(22 / 45)
    # Each theme: po 3/4, pe 1/2 -> kappa 1/2; their mean 1/2.
    assert [t.kappa for t in result.themes] == pytest.approx([0.5, 0.5, 0.5]) and result.kappa_mean == pytest.approx(
        0.5
    )
    # Whole sets: 2 of 4 identical, pe = 4/16 -> kappa 1/3.
    assert result.percent == pytest.approx(0.5) and result.kappa == pytest.approx(1 / 3)


def test_krippendorff_textbook_example():
    data = [  # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal data, 4 coders, 12 units
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    assert krippendorff_alpha_nominal(data) == pytest.approx(0.743, abs=0.0005)


def test_more_than_two_coders_kappa_per_pair_alpha_for_all():
    units = {u: {**codes, "cat": codes["bob"]} for u, codes in UNITS.items()}
    result = agreement(units, ["ann", "bob", "cat"], theme_order=["cost", "crm", "hr"])
    assert [p.coders for p in result.pairs] == [("ann", "bob"), ("ann", "cat"), ("bob", "cat")]
    assert result.pairs[0].kappa_pooled == pytest.approx(8 / 17) and result.pairs[2].kappa_pooled == 1.0
    assert result.kappa is None and "two coders" in result.notes["cohen_kappa_sets"]
    stacked = [[t in units[u][c] for t in ["cost", "crm", "hr"] for u in units] for c in ["ann", "bob", "cat"]]
    assert result.alpha == pytest.approx(krippendorff_alpha_nominal(stacked))


def test_undefined_kappa_is_na_with_a_reason():
    units = {
        1: {"ann": frozenset({"x"}), "bob": frozenset({"x"})},
        2: {"ann": frozenset({"x", "y"}), "bob": frozenset({"x"})},
    }
    result = agreement(units, ["ann", "bob"])
    x = result.themes[0]
    assert x.theme == "x" and x.kappa is None and "no variation" in x.notes["cohen_kappa"]
    assert x.alpha is None and "no variation" in x.notes["krippendorff_alpha"]
    assert result.kappa_mean == pytest.approx(0.0)  # y alone: ann 1 of 2, bob none -> kappa 0
    strict_json(json.dumps(result.to_dict()))


theme_sets = st.frozensets(st.sampled_from("abcd"), min_size=1)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(theme_sets, theme_sets), min_size=1, max_size=12))
def test_kappas_equal_sklearn_on_any_two_coders_data(pairs):
    from sklearn.metrics import cohen_kappa_score

    units = {i: {"ann": a, "bob": b} for i, (a, b) in enumerate(pairs)}
    result = agreement(units, ["ann", "bob"])
    for t in result.themes:
        x, y = [t.theme in a for a, _ in pairs], [t.theme in b for _, b in pairs]
        if len(set(x) | set(y)) == 1:
            assert t.kappa is None and "no variation" in t.notes["cohen_kappa"]
        else:
            assert t.kappa == pytest.approx(cohen_kappa_score(x, y), abs=1e-9)
    themes = [t.theme for t in result.themes]
    x = [t in a for t in themes for a, _ in pairs]
    y = [t in b for t in themes for _, b in pairs]
    if len(set(x) | set(y)) > 1:
        assert result.kappa_pooled == pytest.approx(cohen_kappa_score(x, y), abs=1e-9)
    else:
        assert result.kappa_pooled is None
    strict_json(json.dumps(result.to_dict()))


def test_roll_up_maps_to_the_net_at_each_depth():
    parents = {"top": None, "mid": "top", "leaf": "mid", "alone": None}
    units = {1: {"a": frozenset({"leaf", "alone"}), "b": frozenset({"mid"})}}
    assert roll_up(units, parents, 1)[1] == {"a": frozenset({"top", "alone"}), "b": frozenset({"top"})}
    assert roll_up(units, parents, 2)[1] == {"a": frozenset({"mid", "alone"}), "b": frozenset({"mid"})}
    assert roll_up(units, parents, 3)[1] == units[1]


# --- On the real corpus, through the CLI -------------------------------------------------------------


def perturbed(gold: dict[tuple, list[str]]) -> dict[tuple, list[str]]:
    """A second coder who drops a theme now and then, and swaps one for another theme now and then."""
    labels = [t.label for t in load_codebook(CODEBOOKS / "priorities-2014.yaml").themes]
    out = {}
    for i, (key, themes) in enumerate(gold.items()):
        themes = list(themes)
        if i % 4 == 0 and len(themes) >= 2:
            themes = themes[:-1]
        elif i % 6 == 1:
            themes = [labels[(labels.index(themes[0]) + 1) % len(labels)] if themes[0] in labels else labels[0]]
        out[key] = themes
    return out


@pytest.fixture
def two_coders(tmp_path, corpus_db):
    gold = gold_sets()
    second = perturbed(gold)
    write_file(tmp_path / "first.csv", gold)
    write_file(tmp_path / "second.csv", second)
    path = str(tmp_path / "corpus.db")
    for name, coder in (("first.csv", "first"), ("second.csv", "second")):
        result = run("codings", "import", path, str(tmp_path / name), "--coder", coder, "--independent")
        assert result.exit_code == 0, result.output
    codebook = load_codebook(CODEBOOKS / "priorities-2014.yaml")

    def ids(sets):
        return {k: {codebook.find(t).id for t in v} for k, v in sets.items()}

    return path, corpus_db, ids(gold), ids(second)


def run_json(*args):
    result = run("agreement", *args, "--json")
    assert result.exit_code == 0, result.output
    return strict_json(result.output)


def test_per_theme_kappa_equals_sklearn_on_the_corpus(two_coders):
    from sklearn.metrics import cohen_kappa_score

    path, db, first, second = two_coders
    stats = run_json(path, "-q", Q, "--coders", "first,second")
    keys = sorted(first)
    assert stats["units"] == len(keys) and stats["coders"] == ["first", "second"] and stats["level"] is None
    used = {t for k in keys for t in first[k] | second[k]}
    assert {t["theme"] for t in stats["themes"]} == used  # themes no coder used are left out
    checked = 0
    for row in stats["themes"]:
        t = row["theme"]
        a, b = [t in first[k] for k in keys], [t in second[k] for k in keys]
        if len(set(a) | set(b)) > 1:
            assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
            checked += 1
    assert checked >= 10
    kappas = [row["cohen_kappa"] for row in stats["themes"] if row["cohen_kappa"] is not None]
    assert stats["cohen_kappa_mean_per_theme"] == pytest.approx(sum(kappas) / len(kappas))
    themes = sorted(used)
    pooled_a = [t in first[k] for t in themes for k in keys]
    pooled_b = [t in second[k] for t in themes for k in keys]
    assert stats["cohen_kappa_pooled"] == pytest.approx(cohen_kappa_score(pooled_a, pooled_b))
    sets_a = ["|".join(sorted(first[k])) for k in keys]
    sets_b = ["|".join(sorted(second[k])) for k in keys]
    assert stats["cohen_kappa_sets"] == pytest.approx(cohen_kappa_score(sets_a, sets_b))
    assert stats["percent_agreement"] == pytest.approx(sum(x == y for x, y in zip(sets_a, sets_b)) / len(keys))
    assert stats["cohen_kappa_pooled_is"] == POOLED_KAPPA_NOTE


def test_json_disagreements_name_respondent_column_and_text(two_coders):
    path, db, first, second = two_coders
    stats = run_json(path, "-q", Q)
    differ = {k for k in first if first[k] != second[k]}
    assert len(stats["disagreements"]) == len(differ) > 5
    for d in stats["disagreements"]:
        key = (d["respondent_id"], d["column"].rsplit("_", 1)[1])  # columns q14_priority_1..3 are the ranks
        assert key in differ and d["column"] == f"q14_priority_{key[1]}"
        text = db.execute("SELECT text FROM answers WHERE id = ?", [d["answer_id"]]).fetchone()[0]
        assert d["text"] == text
        assert d["codes"] == {"first": sorted(first[key]), "second": sorted(second[key])}


def test_terminal_report_names_each_statistic_and_lists_respondents(two_coders):
    path, db, first, second = two_coders
    stats = run_json(path, "-q", Q)
    out = run("agreement", path, "-q", Q, ok=None).output
    lines = out.splitlines()

    def value(name):
        line = next(line for line in lines if line.strip().startswith(name))
        return float(line[len(line) - len(line.lstrip()) + len(name) :].split()[0])

    assert value("percent agreement") == pytest.approx(stats["percent_agreement"], abs=5e-4)
    assert value("Cohen's kappa") == pytest.approx(stats["cohen_kappa_sets"], abs=5e-4)
    assert value("pooled Cohen's kappa") == pytest.approx(stats["cohen_kappa_pooled"], abs=5e-4)
    assert value("mean of per-theme Cohen's kappas") == pytest.approx(stats["cohen_kappa_mean_per_theme"], abs=5e-4)
    assert value("pooled Krippendorff's alpha (nominal)") == pytest.approx(stats["krippendorff_alpha_pooled"], abs=5e-4)
    assert "De Vries et al. 2008" in out and "most papers report" in out
    d = stats["disagreements"][0]
    row = next(line for line in lines if line.strip().startswith(d["respondent_id"] + " "))
    assert d["column"] in row and f"first: {', '.join(d['codes']['first'])}" in row
    assert str(d["answer_id"]) + ":" not in out  # no internal answer ids


def test_level_top_on_a_codebook_with_nets(two_coders):
    path, db, first, second = two_coders
    add_theme(db, "priorities-2014", "Customers (net)", theme_id="customers")
    customer = [t for t in {t for v in first.values() for t in v} if t.startswith("customer")]
    for theme in customer:
        nest_theme(db, "priorities-2014", theme, "customers")
    parents = {t: ("customers" if t in customer else None) for k in first for t in first[k] | second[k]}
    top = roll_up({k: {"first": frozenset(first[k]), "second": frozenset(second[k])} for k in first}, parents, 1)
    expected = agreement(top, ["first", "second"])
    stats = run_json(path, "-q", Q, "--level", "top")
    assert stats["level"] == 1
    themes = {t["theme"] for t in stats["themes"]}
    assert "customers" in themes and not themes & set(customer)
    assert stats["cohen_kappa_pooled"] == pytest.approx(expected.kappa_pooled)
    assert stats["percent_agreement"] == pytest.approx(expected.percent)
    assert stats["krippendorff_alpha_pooled"] == pytest.approx(expected.alpha)
    assert run_json(path, "-q", Q, "--level", "2")["level"] == 2
    leaves = run_json(path, "-q", Q)
    assert run_json(path, "-q", Q, "--level", "2")["themes"] == leaves["themes"]
    for bad, words in (("3", "has 2 levels"), ("0", "'top' or a depth"), ("leaf", "'top' or a depth")):
        result = run("agreement", path, "-q", Q, "--level", bad, ok=False)
        assert result.exit_code == 1 and words in result.output and "Traceback" not in result.output


def test_table_aligns_with_a_long_theme_id(two_coders):
    path, db, first, second = two_coders
    long_id = "a-very-long-theme-identifier-that-goes-on-and-on-and-on-beyond-any-column"
    db.execute("UPDATE themes SET id = ? WHERE codebook_id = 'priorities-2014' AND id = 'cost-savings'", [long_id])
    db.conn.commit()
    out = run("agreement", path, "-q", Q, ok=None).output
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["theme", "agree"])
    rows = lines[header : header + 1 + len(run_json(path, "-q", Q)["themes"])]
    assert len({len(line) for line in rows}) == 1  # every row as wide as the header: columns line up
    assert any(line.strip().startswith(long_id[:30]) and "…" in line for line in rows)
    assert all(len(line) < 100 for line in rows)


def test_no_common_answers_names_the_commands(tmp_path, corpus_db):
    gold = gold_sets()
    keys = list(gold)
    write_file(tmp_path / "a.csv", {k: gold[k] for k in keys[:10]})
    write_file(tmp_path / "b.csv", {k: gold[k] for k in keys[10:20]})
    path = str(tmp_path / "corpus.db")
    for name, coder in (("a.csv", "ann"), ("b.csv", "bob")):
        run("codings", "import", path, str(tmp_path / name), "--coder", coder, "--independent", ok=None)
    result = run("agreement", path, "-q", Q, ok=False)
    assert result.exit_code == 1 and "no answer" in result.output and "in common" in result.output
    assert f"coder codings import {path} FILE --coder NAME --independent" in result.output
    assert f"coder assign {path} --question {Q} --coders ann,bob --overlap" in result.output
    result = run("agreement", path, "-q", Q, "--coders", "ann,zed", ok=False)
    assert (
        result.exit_code == 1 and "no blind codes by zed" in result.output and "coder codings import" in result.output
    )


def test_three_coders_kappa_per_named_pair(two_coders, tmp_path):
    from sklearn.metrics import cohen_kappa_score

    path, db, first, second = two_coders
    third = {k: v for i, (k, v) in enumerate(gold_sets().items()) if i % 2 == 0}  # half the answers, as gold
    write_file(tmp_path / "third.csv", third)
    result = run("codings", "import", path, str(tmp_path / "third.csv"), "--coder", "third", "--independent")
    assert result.exit_code == 0, result.output
    stats = run_json(path, "-q", Q)
    assert stats["coders"] == ["first", "second", "third"] and stats["cohen_kappa_pooled"] is None
    assert "two coders" in stats["n/a"]["cohen_kappa_pooled"]
    pairs = {tuple(p["coders"]): p for p in stats["pairs"]}
    assert set(pairs) == {("first", "second"), ("first", "third"), ("second", "third")}
    half = [k for k in sorted(first) if k in third]
    assert pairs[("first", "third")]["units"] == len(half) and pairs[("first", "third")]["cohen_kappa_pooled"] == 1.0
    themes = sorted({t["theme"] for t in stats["themes"]})
    x = [t in second[k] for t in themes for k in half]
    y = [t in first[k] for t in themes for k in half]  # third coded as first did
    assert pairs[("second", "third")]["cohen_kappa_pooled"] == pytest.approx(cohen_kappa_score(x, y))
    out = run("agreement", path, "-q", Q, ok=None).output
    assert "kappa first/second" in out and "kappa second/third" in out
    line = next(line for line in out.splitlines() if line.strip().startswith("second/third:"))
    assert f"pooled kappa {pairs[('second', 'third')]['cohen_kappa_pooled']:.3f}" in line
