from __future__ import annotations

import csv
import io
import json

import pytest

from coder.coding.codings import EXPORT_COLUMNS, Code, apply_codes, export_codings, import_codings, write_codings_csv
from coder.errors import CoderError
from tests.conftest import CORPUS, read_csv_rows, write_csv


def test_gold_import_records_confirmed_codes_with_coder(gold_db):
    statuses = gold_db.execute("SELECT DISTINCT status, coder FROM codings").fetchall()
    assert statuses == [("confirmed", "gold")]
    gold_rows = read_csv_rows(CORPUS / "codings.csv")
    assert gold_db.execute("SELECT count(*) FROM codings").fetchone()[0] == len(gold_rows)
    # Every change is in the audit log with who, when, before and after.
    logged = gold_db.execute("SELECT coder, at, before, after FROM audit WHERE action = 'coding.import'").fetchall()
    assert logged and all(c == "gold" and at and json.loads(b) == {} and json.loads(a) for c, at, b, a in logged)


def test_export_round_trips_the_gold_file(gold_db):
    rows = list(export_codings(gold_db))
    assert list(rows[0]) == EXPORT_COLUMNS
    gold = {
        (r["respondent_id"], r["question"], int(r["rank"]), r["theme"]) for r in read_csv_rows(CORPUS / "codings.csv")
    }
    exported = {(r["respondent_id"], r["question"], r["rank"], r["theme"]) for r in rows}
    assert exported == gold
    out = io.StringIO()
    write_codings_csv(export_codings(gold_db, "q13"), out)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["question"] for r in parsed} == {"q13"}
    assert all(r["answer"] and r["status"] == "confirmed" for r in parsed)


def test_export_then_import_into_fresh_db_gives_same_codings(gold_db, corpus_db, tmp_path):
    out = tmp_path / "export.csv"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        write_codings_csv(export_codings(gold_db), handle)
    import_codings(corpus_db, out, coder="second")
    key = "SELECT a.respondent_id, a.question_id, a.rank, t.id FROM codings c JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk ORDER BY 1, 2, 3, 4"
    assert corpus_db.execute(key).fetchall() == gold_db.execute(key).fetchall()


@pytest.mark.parametrize(
    "row,message",
    [
        (["R001", "q13", "1", "Ministry of Magic"], "unknown theme 'Ministry of Magic'"),
        (["R999", "q13", "1", "DWP"], "no answer cell for respondent 'R999'"),
        (["R001", "q99", "1", "DWP"], "unknown question 'q99'"),
        (["R001", "q13", "first", "DWP"], "rank must be a whole number"),
    ],
    ids=["unknown-theme", "unknown-respondent", "unknown-question", "bad-rank"],
)
def test_bad_codings_file_imports_nothing(corpus_db, tmp_path, row, message):
    first = corpus_db.execute(
        "SELECT respondent_id, rank FROM answers WHERE question_id = 'q13' AND is_answer = 1 ORDER BY id LIMIT 1"
    ).fetchone()
    good = [first[0], "q13", str(first[1]), "DWP"]
    row = [first[0] if v == "R001" else v for v in row]
    path = write_csv(tmp_path / "c.csv", [["respondent_id", "question", "rank", "theme"], good, row])
    with pytest.raises(CoderError, match=message) as info:
        import_codings(corpus_db, path, coder="x")
    assert "row 3" in str(info.value)
    assert corpus_db.execute("SELECT count(*) FROM codings").fetchone()[0] == 0
    assert corpus_db.execute("SELECT count(*) FROM audit WHERE action LIKE 'coding.%'").fetchone()[0] == 0


def test_non_answer_cells_cannot_be_coded(corpus_db, tmp_path):
    respondent, question, rank = corpus_db.execute(
        "SELECT respondent_id, question_id, rank FROM answers WHERE is_answer = 0 AND question_id IN ('q13', 'q14') LIMIT 1"
    ).fetchone()
    theme = "DWP" if question == "q13" else "CRM"
    path = write_csv(
        tmp_path / "c.csv", [["respondent_id", "question", "rank", "theme"], [respondent, question, str(rank), theme]]
    )
    with pytest.raises(CoderError, match="non-answer"):
        import_codings(corpus_db, path, coder="x")


def test_confirmed_is_never_downgraded_by_auto(gold_db):
    answer_id, theme_pk = gold_db.execute("SELECT answer_id, theme_pk FROM codings LIMIT 1").fetchone()
    apply_codes(gold_db, answer_id, [Code(theme_pk, "auto", "machine", 0.4, "zero-shot")], coder="machine")
    status, coder = gold_db.execute(
        "SELECT status, coder FROM codings WHERE answer_id = ? AND theme_pk = ?", [answer_id, theme_pk]
    ).fetchone()
    assert (status, coder) == ("confirmed", "gold")


def test_replace_removes_codes_the_file_does_not_give(gold_db, tmp_path):
    respondent = gold_db.execute(
        """SELECT a.respondent_id FROM answers a JOIN codings c ON c.answer_id = a.id
           WHERE a.question_id = 'q14' AND a.rank = 1 LIMIT 1"""
    ).fetchone()[0]
    path = write_csv(
        tmp_path / "c.csv", [["respondent_id", "question", "rank", "theme"], [respondent, "q14", "1", "hr-payroll"]]
    )
    import_codings(gold_db, path, coder="fix", replace=True)
    themes = gold_db.execute(
        """SELECT t.label, c.coder FROM codings c JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
           WHERE a.respondent_id = ? AND a.question_id = 'q14' AND a.rank = 1""",
        [respondent],
    ).fetchall()
    assert themes == [("HR / payroll", "fix")]
