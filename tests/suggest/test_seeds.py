"""Seeds: an accepted discovery keeps its answers, and suggestions learn from them until coders take over."""

from __future__ import annotations

from dataclasses import replace

import pytest

import coder.codebook.db as theme_ops
from coder.coding.codings import Code, apply_codes, question_codebook
from coder.report.tables import build_table
from coder.store import open_db
from coder.suggest.discover import accept_proposals, discover_themes
from coder.suggest.engine import autocode, load_answers, suggest
from coder.suggest.seeds import SEED_UNTIL, with_seeds
from tests.suggest.test_discover_scratch import town_survey


@pytest.fixture
def q14_scratch(gold_db, tmp_path):
    """The corpus's q14 answers under a question with an empty codebook, as `coder init` leaves it."""
    texts = [r[0] for r in gold_db.execute("SELECT text FROM answers WHERE question_id = 'q14' AND is_answer = 1")]
    db = open_db(town_survey(tmp_path, texts))
    yield db
    db.close()


def seeds_of(db) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for theme, answer in db.execute("SELECT t.id, s.answer_id FROM theme_seeds s JOIN themes t ON t.pk = s.theme_pk"):
        out.setdefault(theme, set()).add(answer)
    return out


def auto_codes(db) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for theme, answer in db.execute(
        "SELECT t.id, c.answer_id FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE c.status = 'auto'"
    ):
        out.setdefault(theme, set()).add(answer)
    return out


def kept_share(db) -> float:
    """Of the seeded (answer, theme) pairs, the share autocode gives that theme."""
    seeds, coded = seeds_of(db), auto_codes(db)
    pairs = sum(len(s) for s in seeds.values())
    return sum(len(s & coded.get(t, set())) for t, s in seeds.items()) / pairs


def test_accept_keeps_each_proposal_s_answers_as_its_seeds(q14_scratch):
    found = discover_themes(q14_scratch, "q1")
    themes = accept_proposals(q14_scratch, "q1", found.proposals)
    seeds = seeds_of(q14_scratch)
    assert {t.id: seeds[t.id] for t in themes} == {t.id: set(p.member_ids) for t, p in zip(themes, found.proposals)}
    # Seeds are not codes: the table still counts every answer as uncoded.
    assert q14_scratch.execute("SELECT count(*) FROM codings").fetchone()[0] == 0


def test_suggestions_after_accept_keep_what_discovery_found(q14_scratch):
    found = discover_themes(q14_scratch, "q1")
    accept_proposals(q14_scratch, "q1", found.proposals)
    suggest(q14_scratch, "q1")
    autocode(q14_scratch, "q1")
    seeded = kept_share(q14_scratch)
    # The same codebook with its seeds dropped: zero-shot from labels and terms alone.
    saved = q14_scratch.execute("SELECT theme_pk, answer_id FROM theme_seeds").fetchall()
    q14_scratch.execute("DELETE FROM theme_seeds")
    suggest(q14_scratch, "q1")
    autocode(q14_scratch, "q1")
    q14_scratch.conn.executemany("INSERT INTO theme_seeds VALUES (?, ?)", saved)
    unseeded = kept_share(q14_scratch)
    assert seeded >= 0.95 and seeded > unseeded + 0.05, (seeded, unseeded)


def test_confirmed_codes_win_and_enough_of_them_retire_a_theme_s_seeds(q14_scratch):
    found = discover_themes(q14_scratch, "q1")
    first = accept_proposals(q14_scratch, "q1", found.proposals)[0]
    pks = theme_ops.theme_pks(q14_scratch, question_codebook(q14_scratch, "q1"))
    members = sorted(found.proposals[0].member_ids)
    other = next(t for t in theme_ops.read_codebook(q14_scratch, "town").themes if t.id != first.id)
    # One member confirmed with another theme: its seed no longer teaches.
    apply_codes(q14_scratch, members[0], [Code(pks[other.id], "confirmed", "ann")], coder="ann", replace=True)
    learnt = {a.id: a.confirmed for a in with_seeds(q14_scratch, "q1", load_answers(q14_scratch, "q1"))}
    assert learnt[members[0]] == [other.id] and first.id in learnt[members[1]]
    # SEED_UNTIL confirmed answers of the theme: the rest of its seeds are left out.
    answers = [a.id for a in load_answers(q14_scratch, "q1") if a.id not in members]
    for answer in answers[:SEED_UNTIL]:
        apply_codes(q14_scratch, answer, [Code(pks[first.id], "confirmed", "ann")], coder="ann", replace=True)
    learnt = {a.id: a.confirmed for a in with_seeds(q14_scratch, "q1", load_answers(q14_scratch, "q1"))}
    assert all(first.id not in learnt[m] for m in members[1:])


def test_merge_moves_seeds_and_delete_drops_them(q14_scratch):
    found = discover_themes(q14_scratch, "q1")
    a, b = accept_proposals(q14_scratch, "q1", found.proposals[:2])
    union = set(found.proposals[0].member_ids) | set(found.proposals[1].member_ids)
    theme_ops.merge_themes(q14_scratch, "town", a.id, b.id)
    assert seeds_of(q14_scratch) == {b.id: union}
    codebook = theme_ops.read_codebook(q14_scratch, "town")
    theme_ops.replace_codebook(q14_scratch, replace(codebook, themes=tuple(t for t in codebook.themes if t.id != b.id)))
    assert seeds_of(q14_scratch) == {}


def test_tables_count_no_seeds(q14_scratch):
    found = discover_themes(q14_scratch, "q1")
    accept_proposals(q14_scratch, "q1", found.proposals)
    table = build_table(q14_scratch, "q1", include_empty=True)
    assert table.base_n == 0 and table.uncoded == len(load_answers(q14_scratch, "q1"))
    assert table.rows and all(row.count == 0 for row in table.rows)


def test_the_cli_says_what_accept_kept_and_suggest_learns_from_it(tmp_path):
    from tests.invoke import run
    from tests.suggest.test_discover_scratch import planted

    texts, _, _ = planted()
    path = town_survey(tmp_path, texts)
    result = run("discover", path, "-q", "q1", "--accept", "all")
    assert result.exit_code == 0, result.output
    assert "answers kept as its seeds" in result.output and f"Next: coder suggest {path}" in result.output
    result = run("suggest", path, "-q", "q1")
    assert result.exit_code == 0 and ", 0 confirmed answers and " in result.output
    assert " discovery seeds used)" in result.output
    assert run("autocode", path, "-q", "q1").exit_code == 0
    db = open_db(path)
    try:
        assert kept_share(db) == 1.0
    finally:
        db.close()


def test_bench_discover_measures_what_autocode_keeps_after_accept(tmp_path, capsys):
    """`bench_discover.py --after-accept` on the corpus questions: seeds keep what discovery recovered."""
    import json
    import sys

    from tests.conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_discover

    assert bench_discover.main(["--dev", str(tmp_path), "--datasets", "", "--after-accept", "--json"]) == 0
    output = capsys.readouterr().out
    rows = json.loads(output[output.index("[\n") :])
    assert [r["set"] for r in rows] == ["corpus q5", "corpus q6", "corpus q14", "corpus q16"]
    assert sum(r["seeded"] for r in rows) >= sum(r["members"] for r in rows) - 1
    assert sum(r["seeded_f1"] for r in rows) > sum(r["unseeded_f1"] for r in rows)


def test_discovery_reports_its_encoding_progress(q14_scratch, model_on):
    """Encoding a large question's answers takes minutes: the callback sees every answer not stored yet, once."""
    calls: list[tuple[int, int]] = []
    found = discover_themes(q14_scratch, "q1", encode_progress=lambda done, total: calls.append((done, total)))
    distinct = len({a.text for a in load_answers(q14_scratch, "q1")})
    assert found.embeddings and calls and calls[-1] == (distinct, distinct)
    assert {total for _, total in calls} == {distinct}  # the clauses encoded after are not counted in it
