"""`codings export --format xlsx` reads back with `codings import`: a sheet per question, themes joined by ';'."""

from __future__ import annotations

import openpyxl
import pytest

from coder.codebook.db import add_theme
from coder.coding.codings import export_codings, import_codings
from coder.errors import CoderError
from coder.export.coded_data import export_xlsx
from tests.conftest import CORPUS, write_csv
from tests.invoke import run


def _codes(db) -> set[tuple]:
    return {(r["respondent_id"], r["question"], r["rank"], r["theme"]) for r in export_codings(db)}


def test_the_workbook_coder_writes_reads_back_into_a_fresh_database(gold_db, corpus_db, tmp_path):
    book = tmp_path / "codings.xlsx"
    written = export_xlsx(gold_db, book)
    assert len(written) > 1  # several sheets, one per question
    import_codings(corpus_db, book, coder="ann")
    assert _codes(corpus_db) == _codes(gold_db)


def test_into_a_database_from_coder_init_with_add_themes(gold_db_path, tmp_path):
    """A colleague's workbook is the only codebook: `init`, `import`, then the workbook builds it."""
    book = tmp_path / "codings.xlsx"
    run("codings", "export", gold_db_path, "--question", "q14", "--format", "xlsx", "--output", book)
    run("init", CORPUS / "responses.csv", "--output", tmp_path / "setup")
    db = tmp_path / "fresh.db"
    run("import", db, "--survey", tmp_path / "setup" / "survey.yaml", "--responses", CORPUS / "responses.csv")
    out = run("codings", "import", db, book, "--coder", "ann", "--add-themes")
    assert "Imported 152 codings on 148 answer cells" in out.output
    labels = {row[3].value for row in openpyxl.load_workbook(book)["q14"].iter_rows(min_row=2)}
    themes = {part.strip() for cell in labels for part in cell.split(";")}
    table = run("table", db, "--question", "q14", "--format", "csv").output
    assert all(theme in table for theme in themes) and len(themes) == 16


def test_a_label_with_a_semicolon_stays_whole(corpus_db, tmp_path):
    codebook = corpus_db.execute("SELECT codebook_id FROM questions WHERE id = 'q14'").fetchone()[0]
    add_theme(corpus_db, codebook, "Staff; training", coder="test")
    path = write_csv(
        tmp_path / "joined.csv",
        [
            ["respondent_id", "question", "rank", "themes"],
            ["R002", "q14", "1", "Staff; training; Front and back office integration"],
        ],
    )
    import_codings(corpus_db, path, coder="ann")
    assert {theme for *_, theme in _codes(corpus_db)} == {"Staff; training", "Front and back office integration"}


def test_errors_name_the_sheet_and_row(gold_db, corpus_db, tmp_path):
    book = tmp_path / "codings.xlsx"
    export_xlsx(gold_db, book)
    workbook = openpyxl.load_workbook(book)
    workbook["q14"]["D3"] = "Front and back office integration; No such theme"
    workbook.save(book)
    with pytest.raises(CoderError) as caught:
        import_codings(corpus_db, book, coder="ann")
    assert "sheet 'q14', row 3, column 'themes'" in caught.value.where
    assert "No such theme" in caught.value.message
    assert _codes(corpus_db) == set()  # all or nothing


def test_a_sheet_that_names_no_question_is_refused(gold_db, corpus_db, tmp_path):
    book = tmp_path / "codings.xlsx"
    export_xlsx(gold_db, book)
    workbook = openpyxl.load_workbook(book)
    workbook.create_sheet("Notes").append(["respondent_id", "rank", "answer", "themes"])
    workbook.save(book)
    with pytest.raises(CoderError, match="sheet 'Notes' names no question"):
        import_codings(corpus_db, book, coder="ann")
