"""`codings import --add-themes`: coders' files can be the only codebook a team kept."""

from __future__ import annotations

import csv
import sqlite3

from tests.conftest import CORPUS, fingerprint
from tests.invoke import run


def fresh(tmp_path):
    """The corpus export as a new user has it: `coder init`, then `coder import`, every codebook empty."""
    run("init", CORPUS / "responses.csv", "--output", tmp_path / "spec")
    db = tmp_path / "s.db"
    run("import", db, "--survey", tmp_path / "spec" / "survey.yaml", "--responses", CORPUS / "responses.csv")
    return db


def themes(db, question):
    connection = sqlite3.connect(db)
    try:
        return connection.execute(
            """SELECT t.id, t.label, p.id FROM themes t JOIN questions q ON q.codebook_id = t.codebook_id
               LEFT JOIN themes p ON p.pk = t.parent_pk WHERE q.id = ? ORDER BY t.position""",
            [question],
        ).fetchall()
    finally:
        connection.close()


def test_the_coders_file_builds_the_codebook_and_its_codes_land(tmp_path):
    db = fresh(tmp_path)
    q14 = tmp_path / "q14.csv"
    with (
        open(CORPUS / "codings.csv", newline="", encoding="utf-8") as f,
        open(q14, "w", newline="", encoding="utf-8") as out,
    ):
        rows = [r for r in csv.DictReader(f) if r["question"] == "q14"]
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = fingerprint(db)
    refused = run("codings", "import", db, q14, "--coder", "ann", ok=False)
    assert "no themes yet" in refused.output and fingerprint(db) == before
    result = run("codings", "import", db, q14, "--coder", "ann", "--add-themes")
    labels = {r["theme"] for r in rows}
    assert f"Added {len(labels)} theme(s) to codebook" in result.output
    assert {label for _, label, _ in themes(db, "q14")} == labels
    table = run("table", db, "--question", "q14").output
    assert "Cost and efficiency savings / staff reduction | 38.2%" in table  # table 2.11, as published


def test_paths_add_their_nets_and_a_failed_import_adds_nothing(tmp_path):
    db = fresh(tmp_path)
    good = tmp_path / "good.csv"
    good.write_text(
        "respondent_id,question,rank,theme\n"
        "R006,q16,1,Money > Savings\n"
        "R008,q16,1,Money > Budget cuts\n"
        "R008,q16,1,Staff\n",
        encoding="utf-8",
    )
    run("codings", "import", db, good, "--coder", "ann", "--add-themes")
    added = themes(db, "q16")
    ids = {label: theme_id for theme_id, label, _ in added}
    assert {(label, parent) for _, label, parent in added} == {
        ("Money", None),
        ("Savings", ids["Money"]),
        ("Budget cuts", ids["Money"]),
        ("Staff", None),
    }
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "respondent_id,question,rank,theme\nR006,q16,1,Brand new theme\nR999,q16,1,Another\n", encoding="utf-8"
    )
    before = fingerprint(db)
    result = run("codings", "import", db, bad, "--coder", "bob", "--add-themes", ok=False)
    assert "R999" in result.output and fingerprint(db) == before  # no theme added, no code recorded
