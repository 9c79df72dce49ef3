"""`coder evaluate --gold` reads every layout `codings import` reads, with the same scores."""

from __future__ import annotations

from coder.export.coded_data import export_xlsx
from coder.suggest.engine import suggest
from tests.conftest import CORPUS, read_csv_rows, write_csv
from tests.invoke import run


def test_wide_and_workbook_gold_files_score_as_the_long_one(gold_db, gold_db_path, corpus_db, tmp_path):
    cells: dict[tuple, list[str]] = {}
    for row in read_csv_rows(CORPUS / "codings.csv"):
        if row["question"] == "q14":
            cells.setdefault((row["respondent_id"], row["rank"]), []).append(row["theme"])
    width = max(map(len, cells.values()))
    wide = write_csv(
        tmp_path / "wide.csv",
        [["respondent_id", "question", "rank", *(f"code_{i + 1}" for i in range(width))]]
        + [[rid, "q14", rank, *codes, *[""] * (width - len(codes))] for (rid, rank), codes in cells.items()],
    )
    book = tmp_path / "gold.xlsx"
    export_xlsx(gold_db, book, "q14")
    suggest(corpus_db, "q14")
    corpus_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = corpus_db.conn.execute("PRAGMA database_list").fetchone()[2]
    long = run("evaluate", db, "--gold", CORPUS / "codings.csv", "--question", "q14", "--json").output
    assert run("evaluate", db, "--gold", wide, "--wide", "--question", "q14", "--json").output == long
    assert run("evaluate", db, "--gold", book, "--question", "q14", "--json").output == long
    refused = run("evaluate", db, "--gold", wide, "--question", "q14", ok=False).output
    assert "--wide" in refused
