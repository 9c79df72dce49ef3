"""Theme colours, and codebooks in and out as REFI-QDA `.qdc` files."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import pytest
import yaml
from sqlite_utils import Database

from coder.codebook.db import colour_theme, nest_theme, read_codebook, rename_theme, replace_codebook
from coder.codebook.model import Codebook, Theme, codebook_from_dict, dump_codebook, load_codebook, parse_colour
from coder.codebook.qdc import (
    NAMESPACE,
    codebook_from_qdc,
    dump_qdc,
    load_any_codebook,
    load_qdc,
    theme_guid,
    tree_order,
)
from coder.errors import CoderError
from coder.store import migrations, open_db
from tests.conftest import CODEBOOKS
from tests.invoke import run


def _nested_priorities(db) -> Codebook:
    """priorities-2014 with two nets and colours, made through the same edits the app makes."""
    nest_theme(db, "priorities-2014", "customer-account", "customer-access")
    nest_theme(db, "priorities-2014", "crm", "customer-access")
    nest_theme(db, "priorities-2014", "hr-payroll", "crm")  # two levels deep
    colour_theme(db, "priorities-2014", "customer-access", "#1f77b4")
    colour_theme(db, "priorities-2014", "crm", "#FF7F0E")
    return read_codebook(db, "priorities-2014")


def _shape(codebook: Codebook, themes=None) -> list[tuple]:
    by_id = {t.id: t for t in codebook.themes}
    return [
        (t.label, t.description, t.colour, by_id[t.parent].label if t.parent else None)
        for t in (themes if themes is not None else codebook.themes)
    ]


# Colours -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [("#1f77b4", "#1F77B4"), ("#ABCDEF", "#ABCDEF"), (" #00ff00 ", "#00FF00"), (None, None), ("", None)],
    ids=["lower", "upper", "spaces", "none", "empty"],
)
def test_colours_are_normalised(value, expected):
    assert parse_colour(value, "here") == expected


@pytest.mark.parametrize(
    "value",
    ["red", "#FFF", "#GGGGGG", "1F77B4", "#1F77B4FF", 123456, True],
    ids=["name", "short", "not-hex", "no-hash", "alpha", "number", "bool"],
)
def test_bad_colours_are_refused_with_the_place(value):
    data = {"id": "x", "themes": [{"id": "a", "label": "A", "colour": value}]}
    with pytest.raises(CoderError, match="must be a hex colour") as info:
        codebook_from_dict(data, "cb.yaml")
    assert "cb.yaml, theme 'a'" in str(info.value)


def test_yaml_colours_round_trip_and_accept_color():
    data = {
        "id": "x",
        "themes": [
            {"id": "a", "label": "A", "colour": "#1f77b4"},
            {"id": "b", "label": "B", "color": "#2CA02C", "parent": "a"},
            {"id": "c", "label": "C"},
        ],
    }
    codebook = codebook_from_dict(data)
    assert [t.colour for t in codebook.themes] == ["#1F77B4", "#2CA02C", None]
    dumped = yaml.safe_load(dump_codebook(codebook))
    assert [t.get("colour") for t in dumped["themes"]] == ["#1F77B4", "#2CA02C", None]
    assert "colour" not in dumped["themes"][2] and "color" not in dumped["themes"][1]
    assert codebook_from_dict(dumped) == codebook
    with pytest.raises(CoderError, match="not both"):
        codebook_from_dict({"id": "x", "themes": [{"id": "a", "label": "A", "colour": "#000000", "color": "#000000"}]})


def test_shipped_codebooks_dump_unchanged():
    # No colour, no new key: existing YAML files write back exactly as before.
    for path in CODEBOOKS.glob("*.yaml"):
        assert "colo" not in dump_codebook(load_codebook(path))


def test_unquoted_yaml_colour_is_an_error_not_a_silent_comment(tmp_path):
    path = tmp_path / "cb.yaml"
    path.write_text("id: x\nthemes:\n  - id: a\n    label: A\n    colour: #1F77B4\n", encoding="utf-8")
    with pytest.raises(CoderError, match="quote the colour") as info:
        load_codebook(path)
    assert "line 5" in str(info.value)
    path.write_text("id: x\nthemes:\n  - id: a\n    label: A\n    colour: '#1F77B4'  # blue\n", encoding="utf-8")
    assert load_codebook(path).themes[0].colour == "#1F77B4"
    path.write_text(
        "id: x\nthemes:\n  - id: a\n    label: A\n    description: |\n      colour: #fff is fine here\n",
        encoding="utf-8",
    )
    assert load_codebook(path).themes[0].colour is None


def test_colours_live_in_the_database_and_are_audited(gold_db):
    colour_theme(gold_db, "priorities-2014", "crm", "#d62728", coder="ann")
    assert read_codebook(gold_db, "priorities-2014").theme("crm").colour == "#D62728"
    assert gold_db.execute("SELECT coder FROM audit WHERE action = 'theme.colour'").fetchall() == [("ann",)]
    with pytest.raises(CoderError, match="hex colour"):
        colour_theme(gold_db, "priorities-2014", "crm", "crimson")
    data = yaml.safe_load(dump_codebook(read_codebook(gold_db, "priorities-2014")))
    data["themes"][0]["colour"] = "#2ca02c"
    assert replace_codebook(gold_db, codebook_from_dict(data)) == {"added": 0, "updated": 1, "removed": 0}
    assert read_codebook(gold_db, "priorities-2014").themes[0].colour == "#2CA02C"
    colour_theme(gold_db, "priorities-2014", "crm", None)
    assert read_codebook(gold_db, "priorities-2014").theme("crm").colour is None


def test_migration_adds_a_null_colour_to_existing_themes(tmp_path):
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(str(path)))
    migrations.apply(old, stop_before="m004_theme_colours")
    old.execute("INSERT INTO codebooks (id, title, kind) VALUES ('x', 'X', 'text')")
    old.execute("INSERT INTO themes (codebook_id, id, label, position) VALUES ('x', 'a', 'A', 0)")
    old.conn.commit()
    assert "colour" not in old["themes"].columns_dict
    old.close()
    db = open_db(path)
    assert db["themes"].columns_dict["colour"] is str
    assert db.execute("SELECT id, colour FROM themes").fetchall() == [("a", None)]
    assert read_codebook(db, "x").themes == (Theme("a", "A"),)
    db.close()


# QDC out and back --------------------------------------------------------------------------


def test_qdc_round_trip_keeps_hierarchy_labels_descriptions_colours_order(gold_db):
    cb = _nested_priorities(gold_db)
    text = dump_qdc(cb)
    back = codebook_from_qdc(text, "p.qdc", codebook_id="p")
    # A nested file lists each net before its children; siblings keep codebook order.
    assert _shape(back) == _shape(cb, tree_order(cb))
    assert back.theme("crm").parent == "customer-access-self-service" and back.theme("hr-payroll").parent == "crm"
    root = ET.fromstring(text)
    assert root.tag == f"{{{NAMESPACE}}}CodeBook" and root.get("origin").startswith("coder ")
    access = root.find(f"{{{NAMESPACE}}}Codes/{{{NAMESPACE}}}Code[@name='Customer access / self service']")
    assert access.get("color") == "#1F77B4" and access.get("isCodable") == "true"
    assert access.get("guid") == theme_guid("priorities-2014", "customer-access")
    assert [c.get("name") for c in access.findall(f"{{{NAMESPACE}}}Code")] == [
        "Single customer account / portal",
        "CRM",
    ]
    assert access.findtext(f"{{{NAMESPACE}}}Description") == cb.theme("customer-access").description


def test_qdc_export_is_stable_so_reexports_diff_cleanly(gold_db):
    first = dump_qdc(read_codebook(gold_db, "priorities-2014"))
    assert dump_qdc(read_codebook(gold_db, "priorities-2014")) == first
    rename_theme(gold_db, "priorities-2014", "crm", "CRM systems")
    second = dump_qdc(read_codebook(gold_db, "priorities-2014"))
    changed = [(a, b) for a, b in zip(first.splitlines(), second.splitlines()) if a != b]
    assert len(changed) == 1 and 'name="CRM systems"' in changed[0][1]
    assert "keywords" not in second and "alias" not in second.casefold()


@pytest.mark.parametrize("codebook_id", ["priorities-2014", "departments"])
def test_qdc_reimport_onto_the_database_changes_nothing(gold_db, codebook_id):
    if codebook_id == "priorities-2014":
        _nested_priorities(gold_db)
    cb = read_codebook(gold_db, codebook_id)
    merged = codebook_from_qdc(dump_qdc(cb), "x.qdc", codebook_id=codebook_id, known=cb)
    # Ids, keywords, aliases and the flat order come back from the database's copy.
    assert merged == cb
    assert replace_codebook(gold_db, merged) == {"added": 0, "updated": 0, "removed": 0}


def test_qdc_edited_elsewhere_updates_by_guid_and_label(gold_db):
    cb = _nested_priorities(gold_db)
    root = ET.fromstring(dump_qdc(cb))
    ns = {"q": NAMESPACE}
    crm = root.find(".//q:Code[@name='CRM']", ns)
    crm.set("name", "CRM and case management")  # renamed in the QDA tool: found again by guid
    crm.set("color", "#9467bd")
    crm.find("q:Description", ns).text = "Rewritten."
    new = ET.SubElement(
        crm,
        f"{{{NAMESPACE}}}Code",
        {"guid": "6f1c1a4e-0000-4000-8000-000000000001", "name": "Dynamics", "isCodable": "true"},
    )
    ET.SubElement(new, f"{{{NAMESPACE}}}Description").text = "Microsoft Dynamics."
    housing = root.find(".//q:Code[@name='Housing / housing benefits']", ns)
    housing.set("guid", "00000000-0000-4000-8000-000000000000")  # a tool that made new guids: found by label
    merged = codebook_from_qdc(ET.tostring(root), "edited.qdc", codebook_id="priorities-2014", known=cb)
    assert merged.theme("crm").label == "CRM and case management" and merged.theme("crm").colour == "#9467BD"
    assert merged.theme("crm").keywords == cb.theme("crm").keywords and merged.theme("crm").description == "Rewritten."
    assert merged.theme("housing").keywords == cb.theme("housing").keywords
    assert merged.themes[-1] == Theme("dynamics", "Dynamics", "Microsoft Dynamics.", parent="crm")
    assert merged.ids[:-1] == cb.ids
    assert replace_codebook(gold_db, merged) == {"added": 1, "updated": 1, "removed": 0}


SAMPLE = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="urn:QDA-XML:codebook:1.0 Codebook.xsd" origin="QualCoder 3.5">
  <Codes>
    <Code guid="{D1A1E8C2-6F0B-4C1E-9F2A-1B7A5E0C0001}" name="Barriers" isCodable="false" color="#e41a1c">
      <Description>Things that get in the way.</Description>
      <Code guid="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0002" name="Money" isCodable="true" color="#377EB8">
        <Description>Budgets,  cuts
and funding.</Description>
        <NoteRef targetGUID="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0099"/>
      </Code>
      <Code guid="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0003" name="Other" isCodable="true"/>
    </Code>
    <Code guid="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0004" name="Enablers" isCodable="true">
      <Code guid="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0005" name="  Senior   buy-in " isCodable="true"/>
      <Code guid="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0006" name="Other" isCodable="true"/>
    </Code>
  </Codes>
  <Sets>
    <Set guid="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0007" name="Money matters">
      <MemberCode targetGUID="d1a1e8c2-6f0b-4c1e-9f2a-1b7a5e0c0002"/>
    </Set>
  </Sets>
</CodeBook>
"""


def test_a_qdc_written_by_another_tool_imports(tmp_path):
    path = tmp_path / "Staff survey.qdc"
    path.write_text(SAMPLE, encoding="utf-8")
    cb = load_any_codebook(path)
    assert (cb.id, cb.title, cb.kind) == ("staff-survey", "Staff survey", "text")
    assert [(t.id, t.label, t.parent, t.colour) for t in cb.themes] == [
        ("barriers", "Barriers", None, "#E41A1C"),
        ("money", "Money", "barriers", "#377EB8"),
        ("other", "Other", "barriers", None),
        ("enablers", "Enablers", None, None),
        ("senior-buy-in", "Senior buy-in", "enablers", None),
        ("other-enablers", "Other (Enablers)", "enablers", None),  # labels must be unique here
    ]
    assert cb.theme("money").description == "Budgets,  cuts\nand funding."
    assert cb.theme("barriers").description == "Things that get in the way."
    # And it goes on into YAML unchanged.
    assert codebook_from_dict(yaml.safe_load(dump_codebook(cb))) == cb


BROKEN = {
    "not-xml": ("<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes>", "not valid XML"),
    "yaml": ("id: x\nthemes: []\n", "not valid XML"),
    "wrong-root": ("<Codes xmlns='urn:QDA-XML:codebook:1.0'/>", "root element is 'urn:QDA-XML:codebook:1.0 Codes'"),
    "no-namespace": (
        "<CodeBook><Codes><Code guid='a' name='A' isCodable='true'/></Codes></CodeBook>",
        "not 'CodeBook' in namespace",
    ),
    "project": ("<Project xmlns='urn:QDA-XML:project:1.0' name='p'/>", "a REFI-QDA project is not a codebook"),
    "no-codes": ("<CodeBook xmlns='urn:QDA-XML:codebook:1.0'/>", "no <Codes> element"),
    "no-name": (
        "<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes><Code guid='a' isCodable='true'/></Codes></CodeBook>",
        "code 1: a <Code> has no name",
    ),
    "bad-color": (
        "<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes><Code guid='a' name='A' isCodable='true' color='blue'/></Codes></CodeBook>",
        "code 'A': colour 'blue'",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_qdc_files_are_refused_naming_the_file(tmp_path, case):
    text, message = BROKEN[case]
    path = tmp_path / "broken.qdc"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CoderError, match=message) as info:
        load_qdc(path)
    assert str(path) in str(info.value)


def test_missing_qdc_file(tmp_path):
    with pytest.raises(CoderError, match="not found"):
        load_any_codebook(tmp_path / "nope.qdc")


# CLI ---------------------------------------------------------------------------------------


def test_cli_codebook_export_qdc_and_import_back(gold_db, tmp_path):
    _nested_priorities(gold_db)
    db_path = tmp_path / "gold.db"
    out = tmp_path / "priorities-2014.qdc"
    run("codebook", "export", db_path, "--question", "q14", "--output", out)
    assert out.read_text(encoding="utf-8") == dump_qdc(read_codebook(gold_db, "priorities-2014"))
    assert run("codebook", "export", db_path, "-q", "q14", "--format", "qdc").output == out.read_text(encoding="utf-8")
    # YAML stays the default, to stdout and to any other file name.
    assert run("codebook", "export", db_path, "-q", "q14").output == dump_codebook(
        read_codebook(gold_db, "priorities-2014")
    )
    run("codebook", "export", db_path, "-q", "q14", "-o", tmp_path / "p.yaml")
    assert load_codebook(tmp_path / "p.yaml") == read_codebook(gold_db, "priorities-2014")

    # Edited in a QDA tool: the file name picks the codebook.
    out.write_text(
        out.read_text(encoding="utf-8").replace(
            'name="CRM" isCodable="true" color="#FF7F0E"', 'name="CRM" isCodable="true" color="#000000"'
        ),
        encoding="utf-8",
    )
    assert "1 updated" in run("codebook", "import", db_path, out).output
    db = open_db(db_path)
    assert db.execute("SELECT colour FROM themes WHERE codebook_id = 'priorities-2014' AND id = 'crm'").fetchone() == (
        "#000000",
    )
    assert (
        db.execute("SELECT count(*) FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE t.id = 'crm'").fetchone()[0]
        == 6
    )
    db.close()


def test_cli_codebook_import_new_qdc_and_errors(tmp_path, gold_db):
    db_path = tmp_path / "gold.db"
    sample = tmp_path / "Staff survey.qdc"
    sample.write_text(SAMPLE, encoding="utf-8")
    assert "6 added" in run("codebook", "import", db_path, sample, "--coder", "ann").output
    assert read_codebook(open_db(db_path), "staff-survey").theme("money").colour == "#377EB8"
    run("codebook", "import", db_path, sample, "--codebook", "barriers")
    assert "barriers" in open_db(db_path).execute("SELECT group_concat(id) FROM codebooks").fetchone()[0]
    broken = tmp_path / "broken.qdc"
    broken.write_text("<nope", encoding="utf-8")
    result = run("codebook", "import", db_path, broken, ok=False)
    assert result.exit_code == 1 and "broken.qdc" in result.output and "not valid XML" in result.output
    result = run("codebook", "import", db_path, CODEBOOKS / "departments.yaml", "--question", "q14", ok=False)
    assert "holds codebook 'departments', not 'priorities-2014'" in result.output
