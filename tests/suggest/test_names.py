"""Name matching for the departments codebook, on real spellings from the corpus."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import replace

import pytest

from coder.codebook.model import load_codebook
from coder.suggest import METHODS
from coder.suggest.names import NameCandidate, NameMatcher, normalise_name
from tests.conftest import CODEBOOKS, CORPUS


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(CODEBOOKS / "departments.yaml")


@pytest.fixture(scope="module")
def matcher(codebook):
    return NameMatcher(codebook)


def ids(suggestions):
    return [s.theme_id for s in suggestions]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("D.W.P.", "dwp"),
        ("D. W. P.", "dwp"),
        ("GOV.UK", "govuk"),
        ("www.gov.uk", "govuk"),
        ("H M Revenue & Customs", "hm revenue and customs"),
        ("Dept. for Transport", "department for transport"),
        ("Gov\u2019t Digital Service", "government digital service"),
        ("Govt + DWP", "government and dwp"),
        ("The Treasury", "treasury"),
        ("  HMRc  ", "hmrc"),
        ("Cabinet Office/GDS/GOV.UK", "cabinet office gds govuk"),
        ("Attorney General\u2019s Office", "attorney generals office"),
    ],
    ids=[
        "dots",
        "spaced-dots",
        "gov-uk",
        "www",
        "letters-joined",
        "dept",
        "gov-apostrophe",
        "plus",
        "leading-the",
        "case-spaces",
        "slashes",
        "curly-apostrophe",
    ],
)
def test_normalise_name(text, expected):
    assert normalise_name(text) == expected


def test_normalise_is_idempotent(codebook):
    for theme in codebook.themes:
        for name in (theme.label, *theme.aliases):
            assert normalise_name(normalise_name(name)) == normalise_name(name), name


@pytest.mark.parametrize(
    "text, expected, method",
    [
        ("DWP", ["dwp"], "alias"),
        ("Jobcentre Plus", ["dwp"], "alias"),
        ("Valuation Office Agency", ["hmrc"], "alias"),
        ("D.W.P.", ["dwp"], "alias"),
        ("G.D.S.", ["cabinet-office"], "alias"),
        ("HMRc", ["hmrc"], "alias"),
        ("dclg", ["dclg"], "alias"),
        ("Directgov", ["cabinet-office"], "alias"),
        ("ODPM", ["dclg"], "alias"),
        ("Inland Revenue", ["hmrc"], "alias"),
        ("Cabinet Offic", ["cabinet-office"], "fuzzy"),
        ("Goverment Digital Servise", ["cabinet-office"], "fuzzy"),
        ("Communites & Local Gov", ["dclg"], "alias"),
        ("Comunities and Local Govt", ["dclg"], "fuzzy"),
        ("Depatment of Helth", ["health"], "fuzzy"),
        ("HM Revnue & Customs", ["hmrc"], "fuzzy"),
        ("Highways Agncy", ["transport"], "fuzzy"),
        ("DWP and HMRC", ["dwp", "hmrc"], "alias"),
        ("DWP & HMRC", ["dwp", "hmrc"], "alias"),
        ("DCLG / DWP", ["dclg", "dwp"], "alias"),
        ("DCLG\nDWP", ["dclg", "dwp"], "alias"),
        ("DWP, HMRC and the Home Office", ["dwp", "hmrc", "home-office"], "alias"),
        ("Ministry of Justice or DfE", ["moj", "dfe"], "alias"),
        ("Cabinet Office/GDS/GOV.UK", ["cabinet-office"], "alias"),
        ("Cabinet Office / GDS", ["cabinet-office"], "alias"),
        ("Dept for Transport/Highways Agency", ["transport"], "alias"),
        ("HM Treasury/Crown Commercial Service", ["treasury"], "alias"),
        ("Work and Pensions", ["dwp"], "alias"),
        ("Communities and Local Government", ["dclg"], "alias"),
        ("Revenue & Customs", ["hmrc"], "alias"),
        ("DWP - because of UC", ["dwp"], "alias"),
        ("GDS (for Verify)", ["cabinet-office"], "alias"),
        ("DCLG (funding!)", ["dclg"], "alias"),
        ("DCLG obviously", ["dclg"], "alias"),
        ("Home Office (immigration checks)", ["home-office"], "alias"),
        ("DWP - HB data sharing", ["dwp"], "alias"),
        ("DWP would be nice", ["dwp"], "alias"),
        ("Cabinett Ofice / DWP", ["dwp", "cabinet-office"], "alias"),
        ("DfE", ["dfe"], "alias"),
        ("DfT", ["transport"], "alias"),
        ("central government generally", ["other-unknown"], "alias"),
        ("all of them", ["other-unknown"], "alias"),
        ("whoever owns the citizen data", ["other-unknown"], "fallback"),
        ("Ministry of Magic", ["other-unknown"], "fallback"),
        # A vague alias ("the government") matches whole answers, never a word inside a name:
        # an unknown name stays unmatched, so `coder discover` offers it to the researcher.
        ("the government", ["other-unknown"], "alias"),
        ("The Goverment", ["other-unknown"], "fuzzy"),
        ("Government Gateway", ["other-unknown"], "fallback"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_match(matcher, text, expected, method):
    suggestions = matcher.match(text)
    assert ids(suggestions) == expected
    assert suggestions[0].method == method
    for s in suggestions:
        assert s.method in METHODS and s.evidence and 0 < s.score <= 1


@pytest.mark.parametrize("text", ["", "n/a", "Not sure.", "-", "dont know", "?"])
def test_non_answers_get_nothing(matcher, text):
    assert matcher.match(text) == []


def test_exact_alias_evidence_is_the_alias_as_written(matcher, codebook):
    (s,) = matcher.match("the pension  service")
    assert (s.theme_id, s.score, s.method, s.evidence) == ("dwp", 1.0, "alias", "Pension Service")
    (s,) = matcher.match("d.v.l.a")
    assert (s.theme_id, s.method) == ("dvla", "alias")
    assert s.evidence in codebook.theme("dvla").aliases


def test_fuzzy_evidence_names_alias_and_spelling(matcher):
    (s,) = matcher.match("Cabinet Offic")
    assert s.method == "fuzzy" and 0.85 <= s.score < 1.0
    assert "Cabinet Office" in s.evidence and "Cabinet Offic" in s.evidence


def test_fallback_is_low_and_only_when_nothing_else(matcher):
    (s,) = matcher.match("central funding pots")
    assert s.method == "fallback" and s.score <= 0.3
    assert ids(matcher.match("DWP and central government")) == ["dwp"]


def test_abbreviations_one_letter_apart_stay_apart(matcher):
    assert ids(matcher.match("DfEE")) == ["dfe"]
    assert ids(matcher.match("DFX")) == ["other-unknown"]


def test_exact_beats_fuzzy_in_order(matcher):
    suggestions = matcher.match("Cabinett Ofice / DWP")
    assert [s.method for s in suggestions] == ["alias", "fuzzy"]


def test_match_many_caches_by_normalised_text(codebook):
    matcher = NameMatcher(codebook)
    results = matcher.match_many(["DWP", "D.W.P.", "dwp", "DWP and HMRC", "n/a"])
    assert [ids(r) for r in results] == [["dwp"], ["dwp"], ["dwp"], ["dwp", "hmrc"], []]
    assert len(matcher._cache) == 2


def test_learnt_alias_matches_exactly_after_rebuild(codebook):
    spelling = "Dept of Wizardry & Pensions"
    assert matcher_method(NameMatcher(codebook), spelling) != ("dwp", "alias")
    themes = tuple(replace(t, aliases=t.aliases + (spelling,)) if t.id == "dwp" else t for t in codebook.themes)
    rebuilt = NameMatcher(replace(codebook, themes=themes))
    assert matcher_method(rebuilt, spelling) == ("dwp", "alias")
    assert matcher_method(rebuilt, "dept. of wizardry and pensions") == ("dwp", "alias")


def matcher_method(matcher, text):
    s = matcher.match(text)[0]
    return s.theme_id, s.method


def test_unmatched_groups_spellings(matcher):
    texts = [
        "Ministry of Magic",
        "Ministy of Magic",
        "min of magic",
        "Ministry of Magic",
        "DWP and the Ministry of Magic",
        "DWP",
        "Goblin Bank",
        "n/a",
    ]
    groups = matcher.unmatched(texts)
    assert all(isinstance(g, NameCandidate) for g in groups)
    magic, goblins = groups
    assert set(magic.spellings) == {"Ministry of Magic", "Ministy of Magic", "min of magic"}
    assert magic.spellings[0] == "Ministry of Magic" and magic.count == 5
    assert goblins.spellings == ("Goblin Bank",) and goblins.count == 1
    assert magic.nearest_theme in {t.id for t in matcher.codebook.themes}
    assert 0 <= magic.nearest_score < 0.85


def gold_cells(corpus_dir, codebook):
    """(answer, gold theme ids) for every q13 cell the gold coding codes."""
    gold = defaultdict(set)
    with open(corpus_dir / "codings.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["question"] == "q13":
                gold[(row["respondent_id"], row["rank"])].add(codebook.find(row["theme"]).id)
    with open(corpus_dir / "responses.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        (row[f"q13_dept_{rank}"], gold[(row["respondent_id"], rank)])
        for row in rows
        for rank in "123"
        if (row["respondent_id"], rank) in gold
    ]


def test_accuracy_on_main_corpus(matcher, codebook):
    cells = gold_cells(CORPUS, codebook)
    assert len(cells) > 100
    results = matcher.match_many(text for text, _ in cells)
    top1 = sum(bool(r) and r[0].theme_id in g for r, (_, g) in zip(results, cells)) / len(cells)
    every = sum({s.theme_id for s in r} == g for r, (_, g) in zip(results, cells)) / len(cells)
    assert top1 >= 0.97
    assert every >= 0.95
