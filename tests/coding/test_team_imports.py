"""Two coders' files imported one after the other: neither rewrites the other, agreement runs at once."""

from __future__ import annotations

import csv
import json

from coder.coding.session import CodingSession
from coder.coding.team import disputed_answers, originals
from tests.conftest import CORPUS, fingerprint
from tests.invoke import run

Q = "q14"


def gold_sets() -> dict[tuple, list[str]]:
    sets: dict[tuple, list[str]] = {}
    with open(CORPUS / "codings.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["question"] == Q:
                sets.setdefault((row["respondent_id"], row["rank"]), []).append(row["theme"])
    return sets


def write_file(path, sets):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["respondent_id", "question", "rank", "theme"])
        for (respondent, rank), themes in sets.items():
            for theme in themes:
                w.writerow([respondent, Q, rank, theme])


def split(tmp_path):
    """Coder A has the first two thirds, B the last two thirds; on the shared third B drops a theme now and then."""
    gold = gold_sets()
    keys = list(gold)
    third = len(keys) // 3
    a = {k: gold[k] for k in keys[: 2 * third]}
    b = {k: list(gold[k]) for k in keys[third:]}
    shared = keys[third : 2 * third]
    changed = [k for k in shared if len(b[k]) >= 2][::2]
    for k in changed:
        b[k] = b[k][:-1]
    write_file(tmp_path / "a.csv", a)
    write_file(tmp_path / "b.csv", b)
    return a, b, shared, set(changed)


def answer_ids(db):
    return {
        (r, str(k)): i
        for i, r, k in db.execute("SELECT id, respondent_id, rank FROM answers WHERE question_id = ?", [Q])
    }


def final(db, answer_id):
    return sorted(
        db.execute(
            """SELECT t.label, c.coder FROM codings c JOIN themes t ON t.pk = c.theme_pk
           WHERE c.answer_id = ? AND c.status = 'confirmed'""",
            [answer_id],
        ).fetchall()
    )


def imported(tmp_path, corpus_db):
    a, b, shared, changed = split(tmp_path)
    db_path = str(tmp_path / "corpus.db")
    first = run("codings", "import", db_path, str(tmp_path / "a.csv"), "--coder", "primary")
    assert first.exit_code == 0, first.output
    before = {i: final(corpus_db, i) for i in answer_ids(corpus_db).values()}
    second = run("codings", "import", db_path, str(tmp_path / "b.csv"), "--coder", "secondary")
    assert second.exit_code == 0, second.output
    return a, b, shared, changed, before, second


def test_second_coder_never_rewrites_the_first(tmp_path, corpus_db):
    a, b, shared, changed, before, second = imported(tmp_path, corpus_db)
    assert f"Warning: {len(shared)} answer cells" in second.output
    ids = answer_ids(corpus_db)
    for key in a:
        assert final(corpus_db, ids[key]) == before[ids[key]]
        assert {c for _, c in final(corpus_db, ids[key])} == {"primary"}
    only_b = [k for k in b if k not in a]
    assert only_b and all({c for _, c in final(corpus_db, ids[k])} == {"secondary"} for k in only_b)
    for key in shared:
        mine = originals(corpus_db, ids[key])
        assert set(mine) == {"primary", "secondary"}


def test_disagreements_wait_for_adjudication(tmp_path, corpus_db):
    a, b, shared, changed, before, second = imported(tmp_path, corpus_db)
    ids = answer_ids(corpus_db)
    assert changed and set(disputed_answers(corpus_db, Q)) == {ids[k] for k in changed}
    judge = CodingSession(corpus_db, Q, "judge", adjudicate=True)
    assert set(judge.queue) == {ids[k] for k in changed}
    first = judge.current_id
    judge.confirm()  # the judge keeps the first coder's codes: a decision all the same
    assert first not in disputed_answers(corpus_db, Q)
    assert len(disputed_answers(corpus_db, Q)) == len(changed) - 1


def test_agreement_runs_and_matches_a_count(tmp_path, corpus_db):
    a, b, shared, changed, before, second = imported(tmp_path, corpus_db)
    result = run("agreement", str(tmp_path / "corpus.db"), "--question", Q, "--coders", "primary,secondary", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    agree = sum(1 for k in shared if set(a[k]) == set(b[k]))
    assert stats["units"] == len(shared)
    assert abs(stats["percent_agreement"] - agree / len(shared)) < 1e-9
    assert agree == len(shared) - len(changed)


def test_agreement_without_two_coders_names_the_command(tmp_path, corpus_db):
    a, b, shared, changed = split(tmp_path)
    db_path = str(tmp_path / "corpus.db")
    run("codings", "import", db_path, str(tmp_path / "a.csv"), "--coder", "primary", ok=None)
    result = run("agreement", db_path, "--question", Q, ok=False)
    assert result.exit_code == 1
    assert "coder codings import" in result.output and "--independent" in result.output


def test_replace_still_overwrites(tmp_path, corpus_db):
    a, b, shared, changed = split(tmp_path)
    db_path = str(tmp_path / "corpus.db")
    run("codings", "import", db_path, str(tmp_path / "a.csv"), "--coder", "primary", ok=None)
    result = run("codings", "import", db_path, str(tmp_path / "b.csv"), "--coder", "secondary", "--replace")
    assert result.exit_code == 0 and "Warning" not in result.output
    ids = answer_ids(corpus_db)
    for key in shared:
        assert sorted(label for label, _ in final(corpus_db, ids[key])) == sorted(set(b[key]))
        assert {c for _, c in final(corpus_db, ids[key])} == {"secondary"}
    assert disputed_answers(corpus_db, Q) == []


def test_independent_first_import_then_agreement(tmp_path, corpus_db):
    a, b, shared, changed = split(tmp_path)
    db_path = str(tmp_path / "corpus.db")
    for name, coder in (("a.csv", "primary"), ("b.csv", "secondary")):
        result = run("codings", "import", db_path, str(tmp_path / name), "--coder", coder, "--independent")
        assert result.exit_code == 0, result.output
    stats = json.loads(run("agreement", db_path, "--question", Q, "--json", ok=None).output)
    assert stats["units"] == len(shared)
    assert set(disputed_answers(corpus_db, Q)) == {answer_ids(corpus_db)[k] for k in changed}


def test_a_bad_row_imports_nothing(tmp_path, corpus_db):
    a, b, shared, changed = split(tmp_path)
    db_path = str(tmp_path / "corpus.db")
    run("codings", "import", db_path, str(tmp_path / "a.csv"), "--coder", "primary", ok=None)
    with open(tmp_path / "b.csv", "a", encoding="utf-8") as f:
        f.write(f"R002,{Q},1,No such theme at all\n")
    corpus_db.close()
    was = fingerprint(tmp_path / "corpus.db")
    result = run("codings", "import", db_path, str(tmp_path / "b.csv"), "--coder", "secondary", ok=False)
    assert result.exit_code == 1 and "unknown theme" in result.output
    assert fingerprint(tmp_path / "corpus.db") == was
