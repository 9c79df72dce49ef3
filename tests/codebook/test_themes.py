from __future__ import annotations

import pytest
import yaml

from coder.codebook.db import (
    add_alias,
    add_theme,
    merge_themes,
    move_theme,
    nest_theme,
    read_codebook,
    rename_theme,
    replace_codebook,
)
from coder.codebook.model import codebook_from_dict, dump_codebook
from coder.errors import CoderError
from coder.report.tables import build_table


def test_add_theme_appends_and_is_audited(gold_db):
    theme = add_theme(gold_db, "priorities-2014", "Waste and recycling", description="Bins.", coder="ann")
    cb = read_codebook(gold_db, "priorities-2014")
    assert cb.themes[-1] == theme and theme.id == "waste-and-recycling"
    assert gold_db.execute("SELECT coder FROM audit WHERE action = 'theme.add'").fetchall() == [("ann",)]
    with pytest.raises(CoderError, match="already has a theme labelled"):
        add_theme(gold_db, "priorities-2014", "waste and RECYCLING")


def test_rename_keeps_codings(gold_db):
    rename_theme(gold_db, "priorities-2014", "crm", "CRM systems", coder="ann")
    rows = {r.label: r.count for r in build_table(gold_db, "q14").rows}
    assert rows["CRM systems"] == 6 and "CRM" not in rows
    assert gold_db.execute("SELECT count(*) FROM audit WHERE action = 'theme.rename'").fetchone()[0] == 1


def test_merge_moves_codings_and_counts_each_respondent_once(gold_db):
    before = {r.theme_id: r.count for r in build_table(gold_db, "q14").rows}
    both = gold_db.execute(
        """SELECT count(*) FROM (SELECT a.respondent_id FROM codings c JOIN answers a ON a.id = c.answer_id
           JOIN themes t ON t.pk = c.theme_pk WHERE a.question_id = 'q14' AND t.id IN ('customer-account', 'customer-access')
           GROUP BY a.respondent_id HAVING count(DISTINCT t.id) = 2)"""
    ).fetchone()[0]
    moved = merge_themes(gold_db, "priorities-2014", "customer-account", "customer-access", coder="ann")
    assert moved == before["customer-account"]
    after = {r.theme_id: r.count for r in build_table(gold_db, "q14").rows}
    assert "customer-account" not in after
    assert after["customer-access"] == before["customer-access"] + before["customer-account"] - both
    assert "customer-account" not in read_codebook(gold_db, "priorities-2014").ids
    assert (
        gold_db.execute(
            "SELECT count(*) FROM codings c LEFT JOIN themes t ON t.pk = c.theme_pk WHERE t.pk IS NULL"
        ).fetchone()[0]
        == 0
    )


def test_merging_names_keeps_the_old_name_as_an_alias(gold_db):
    merge_themes(gold_db, "departments", "moj", "other-unknown", coder="ann")
    other = read_codebook(gold_db, "departments").theme("other-unknown")
    assert "Ministry of Justice" in other.aliases
    # The fold row is unchanged by moving codings between folded themes.
    assert [r.count for r in build_table(gold_db, "q13").rows][-1] == 16


def test_nest_and_cycles(gold_db):
    add_theme(gold_db, "priorities-2014", "Customer", theme_id="customer-net", coder="ann")
    nest_theme(gold_db, "priorities-2014", "customer-access", "customer-net", coder="ann")
    nest_theme(gold_db, "priorities-2014", "customer-account", "customer-net", coder="ann")
    cb = read_codebook(gold_db, "priorities-2014")
    assert cb.theme("customer-access").parent == "customer-net"
    with pytest.raises(CoderError, match="nesting cycle"):
        nest_theme(gold_db, "priorities-2014", "customer-net", "customer-access")
    nest_theme(gold_db, "priorities-2014", "customer-access", None)
    assert read_codebook(gold_db, "priorities-2014").theme("customer-access").parent is None


def test_alias_learning_is_idempotent_and_unique(gold_db):
    add_alias(gold_db, "departments", "dwp", "Dept Work Pensions", coder="ann")
    add_alias(gold_db, "departments", "dwp", "dept work pensions", coder="ann")
    assert read_codebook(gold_db, "departments").theme("dwp").aliases.count("Dept Work Pensions") == 1
    with pytest.raises(CoderError, match="also an alias"):
        add_alias(gold_db, "departments", "hmrc", "Dept Work Pensions")


def test_reorder_changes_tie_order(gold_db):
    # Business transformation and Health and social care integration tie at 16.
    move_theme(gold_db, "priorities-2014", "health-social-care", 0, coder="ann")
    labels = [r.label for r in build_table(gold_db, "q14").rows]
    assert labels.index("Health and social care integration") < labels.index("Business transformation")


def test_codebook_import_updates_by_id_and_protects_coded_themes(gold_db):
    cb = read_codebook(gold_db, "priorities-2014")
    data = yaml.safe_load(dump_codebook(cb))
    data["themes"][0]["label"] = "Savings"
    data["themes"].append({"id": "new-one", "label": "Something new", "description": "x"})
    result = replace_codebook(gold_db, codebook_from_dict(data), coder="ann")
    assert result == {"added": 1, "updated": 1, "removed": 0}
    assert build_table(gold_db, "q14").rows[0].label == "Savings"
    data["themes"] = [t for t in data["themes"] if t["id"] != "crm"]
    with pytest.raises(CoderError, match="drops theme.*crm.*codings"):
        replace_codebook(gold_db, codebook_from_dict(data))
    data["themes"] = [t for t in data["themes"] if t["id"] != "new-one"] + [
        t for t in yaml.safe_load(dump_codebook(cb))["themes"] if t["id"] == "crm"
    ]
    result = replace_codebook(gold_db, codebook_from_dict(data))
    assert result["removed"] == 1
