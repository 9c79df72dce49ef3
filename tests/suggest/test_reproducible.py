"""The same confirmations give the same suggestions and codes, run after run: tables must be reproducible."""

from __future__ import annotations

import csv
import shutil

from coder.coding.codings import import_codings
from coder.store import open_db
from coder.suggest.engine import autocode, suggest
from tests.conftest import CORPUS


def suggestions(path):
    db = open_db(path)
    suggest(db, "q14")
    autocode(db, "q14")
    rows = db.execute("SELECT answer_id, theme_pk, rank, score, selected FROM suggestions ORDER BY 1, 2").fetchall()
    codes = db.execute("SELECT answer_id, theme_pk, status FROM codings ORDER BY 1, 2").fetchall()
    db.close()
    return rows, codes


def test_suggest_and_autocode_are_reproducible(corpus_db, tmp_path):
    with open(CORPUS / "codings.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["question"] == "q14"]
    part = tmp_path / "part.csv"
    with open(part, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[:70])  # some themes well taught, some barely: the learner and zero-shot both speak
    import_codings(corpus_db, part, coder="gold")
    corpus_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for name in ("a.db", "b.db"):
        shutil.copy(tmp_path / "corpus.db", tmp_path / name)
    first, second = suggestions(tmp_path / "a.db"), suggestions(tmp_path / "b.db")
    assert first[0] and first == second
