from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.codebook.model import Codebook, Theme, codebook_from_dict, dump_codebook, load_codebook, validate
from coder.errors import CoderError
from tests.conftest import CODEBOOKS
from tests.report.test_tables import TABLE_2_10, TABLE_2_11

SHIPPED = sorted(CODEBOOKS.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_codebooks_load_and_round_trip(path):
    codebook = load_codebook(path)
    assert len(codebook.themes) >= 8
    assert codebook_from_dict(yaml.safe_load(dump_codebook(codebook))) == codebook
    assert all(t.description for t in codebook.themes), "every theme says what belongs in it"


def test_departments_codebook_has_table_2_10_groups_first_in_order():
    departments = load_codebook(CODEBOOKS / "departments.yaml")
    assert departments.kind == "names"
    assert [t.label for t in departments.themes[:12]] == [label for label, _ in TABLE_2_10]
    # The other departments and agencies are themes of their own, folded by the 2014 spec.
    labels = {t.label for t in departments.themes}
    assert {"Ministry of Justice", "Department for Education", "Defra", "HM Land Registry"} <= labels
    aliases = {a.casefold(): t.id for t in departments.themes for a in t.aliases}
    for alias, theme in [
        ("GDS", "cabinet-office"),
        ("Jobcentre Plus", "dwp"),
        ("Government Digital Service", "cabinet-office"),
        ("Crown Commercial Service", "treasury"),
        ("Highways Agency", "transport"),
    ]:
        assert aliases.get(alias.casefold()) == theme, alias
    for theme in departments.themes[:11]:
        assert len(theme.aliases) >= 8, theme.id


def test_priorities_codebook_is_table_2_11():
    priorities = load_codebook(CODEBOOKS / "priorities-2014.yaml")
    assert [t.label for t in priorities.themes] == [label for label, _ in TABLE_2_11]
    assert all(len(t.keywords) >= 5 for t in priorities.themes)


BAD = {
    "duplicate-id": (
        {"id": "x", "themes": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]},
        "duplicate theme id 'a'",
    ),
    "empty-label": ({"id": "x", "themes": [{"id": "a", "label": "  "}]}, "label is empty"),
    "duplicate-label": (
        {"id": "x", "themes": [{"id": "a", "label": "A"}, {"id": "b", "label": "a"}]},
        "also the label of theme 'a'",
    ),
    "cycle": (
        {"id": "x", "themes": [{"id": "a", "label": "A", "parent": "b"}, {"id": "b", "label": "B", "parent": "a"}]},
        "nesting cycle",
    ),
    "unknown-parent": (
        {"id": "x", "themes": [{"id": "a", "label": "A", "parent": "zz"}]},
        "parent 'zz' is not a theme",
    ),
    "shared-alias": (
        {
            "id": "x",
            "kind": "names",
            "themes": [{"id": "a", "label": "A", "aliases": ["Q"]}, {"id": "b", "label": "B", "aliases": ["q"]}],
        },
        "also an alias of theme 'a'",
    ),
    "bad-kind": ({"id": "x", "kind": "pictures", "themes": [{"id": "a", "label": "A"}]}, "kind must be one of"),
    "themes-not-list": ({"id": "x", "themes": "a, b"}, "must be a list"),
    "not-mapping": (["a", "b"], "must be a mapping"),
    "unknown-field": ({"id": "x", "themes": [{"id": "a", "label": "A", "shape": "round"}]}, "unknown field"),
    "bad-id": ({"id": "x", "themes": [{"id": "Has Space", "label": "A"}]}, "must be lower-case"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_codebooks_are_refused_with_the_place(case):
    data, message = BAD[case]
    with pytest.raises(CoderError, match=message) as info:
        codebook_from_dict(data, "cb.yaml")
    assert "cb.yaml" in str(info.value)


def test_load_codebook_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nthemes: [\n", encoding="utf-8")
    with pytest.raises(CoderError, match="not valid YAML"):
        load_codebook(broken)
    with pytest.raises(CoderError, match="not found"):
        load_codebook(tmp_path / "nope.yaml")


labels = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip() and " ".join(s.split()) == s
)


@settings(max_examples=50, deadline=None)
@given(st.lists(labels, min_size=1, max_size=12, unique_by=str.casefold))
def test_any_valid_codebook_round_trips_through_yaml(theme_labels):
    codebook = Codebook("x", "X", "text", "", tuple(Theme(f"t{i}", label) for i, label in enumerate(theme_labels)))
    validate(codebook)
    assert codebook_from_dict(yaml.safe_load(dump_codebook(codebook))) == codebook


@pytest.mark.parametrize("data", [{"id": "x", "themes": []}, {"id": "x", "themes": None}, {"id": "x"}])
def test_an_empty_codebook_is_valid(data):
    """Inductive coding starts with no themes: the codebook grows while coding or from discover."""
    codebook = codebook_from_dict(data)
    assert codebook.themes == ()
