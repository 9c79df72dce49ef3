"""Several coders: assignments, blind overlap coding, agreement, adjudication."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from coder.coding.agreement import agreement, krippendorff_alpha_nominal
from coder.coding.session import CodingSession
from coder.coding.team import assign, disputed_answers, originals, question_agreement
from coder.store import open_db
from coder.suggest.engine import suggest
from coder.tui import make_app
from tests.conftest import ROOT
from tests.invoke import run


@pytest.fixture
def team_db(corpus_db):
    suggest(corpus_db, "q14")
    result = assign(corpus_db, "q14", ["ann", "bob"], 0.2, seed=1)
    assert result.answers == 148 and result.overlap == 30
    assert result.per_coder == {"ann": 30 + 59, "bob": 30 + 59}
    return corpus_db


def final(db, answer_id):
    return db.execute(
        "SELECT t.id, c.status, c.coder FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE c.answer_id = ? ORDER BY t.id",
        [answer_id],
    ).fetchall()


def test_each_coder_sees_their_queue_and_codes_the_overlap_blind(team_db):
    ann, bob = CodingSession(team_db, "q14", "ann"), CodingSession(team_db, "q14", "bob")
    assert len(ann.queue) == len(bob.queue) == 89
    shared = sorted(set(ann.queue) & set(bob.queue))
    assert len(shared) == 30 and shared == sorted(ann.blind) == sorted(bob.blind)
    same, different = shared[0], shared[1]
    for session, theme in ((ann, "crm"), (bob, "crm")):
        session.position = session.queue.index(same)
        session.toggle(theme)
        assert session.view().blind
        session.confirm()
    # Identical blind codes become the final coding at once.
    assert final(team_db, same) == [("crm", "confirmed", "ann+bob")]
    ann.position = ann.queue.index(different)
    ann.toggle("cost-savings")
    bob.position = bob.queue.index(different)
    assert bob.view().codes == {}  # ann's codes are hidden from bob
    bob.toggle("crm")
    ann.confirm()
    bob.confirm()
    assert final(team_db, different) == [] and disputed_answers(team_db, "q14") == [different]
    assert originals(team_db, different) == {"ann": frozenset({"cost-savings"}), "bob": frozenset({"crm"})}


def dispute(db) -> int:
    """Ann and Bob code the first overlap answer differently; returns its id."""
    ann, bob = CodingSession(db, "q14", "ann"), CodingSession(db, "q14", "bob")
    answer = sorted(ann.blind)[0]
    for session, theme in ((ann, "cost-savings"), (bob, "crm")):
        session.position = session.queue.index(answer)
        session.toggle(theme)
        session.confirm()
    return answer


def test_undoing_a_blind_code_withdraws_the_agreement_it_made(team_db):
    ann, bob = CodingSession(team_db, "q14", "ann"), CodingSession(team_db, "q14", "bob")
    answer = sorted(ann.blind)[0]
    for session in (ann, bob):
        session.position = session.queue.index(answer)
        session.toggle("crm")
        session.confirm()
    assert final(team_db, answer) == [("crm", "confirmed", "ann+bob")]
    ann.position = ann.queue.index(answer)
    assert ann.undo()  # back to unconfirmed: the two coders no longer agree
    assert final(team_db, answer) == []
    assert team_db.execute("SELECT count(*) FROM audit WHERE action = 'coding.unagreed'").fetchone()[0] == 1
    ann.position = ann.queue.index(answer)
    assert ann.view().codes.keys() == {"crm"}  # her code is back as it was before she confirmed
    ann.toggle("crm")
    ann.toggle("cost-savings")
    ann.confirm()
    assert final(team_db, answer) == [] and disputed_answers(team_db, "q14") == [answer]
    # Both move to the same other theme: the agreement is made again, on it.
    bob.position = bob.queue.index(answer)
    bob.toggle("crm")
    bob.toggle("cost-savings")
    bob.confirm()
    assert final(team_db, answer) == [("cost-savings", "confirmed", "ann+bob")]


def test_an_adjudicated_coding_is_not_withdrawn_by_a_later_blind_change(team_db):
    answer = dispute(team_db)
    judge = CodingSession(team_db, "q14", "cat", adjudicate=True)
    judge.toggle("crm")
    judge.confirm()
    ann = CodingSession(team_db, "q14", "ann")
    ann.position = ann.queue.index(answer)
    ann.toggle("cost-savings")  # ann takes her code back
    ann.confirm()
    assert final(team_db, answer) == [("crm", "confirmed", "cat")]


def test_adjudication_decides_and_keeps_originals(team_db):
    answer = dispute(team_db)
    judge = CodingSession(team_db, "q14", "cat", adjudicate=True)
    assert judge.queue == [answer]
    view = judge.view()
    assert view.others == {"ann": frozenset({"cost-savings"}), "bob": frozenset({"crm"})} and not view.blind
    judge.toggle("crm")
    judge.toggle("cost-savings")
    judge.confirm()
    assert final(team_db, answer) == [("cost-savings", "confirmed", "cat"), ("crm", "confirmed", "cat")]
    assert originals(team_db, answer)["ann"] == frozenset({"cost-savings"})
    assert disputed_answers(team_db, "q14") == []


def test_agreement_matches_the_statistics_and_the_package(team_db):
    krippendorff = pytest.importorskip("krippendorff")
    ann, bob = CodingSession(team_db, "q14", "ann"), CodingSession(team_db, "q14", "bob")
    shared = sorted(ann.blind)
    for i, answer in enumerate(shared):
        for session in (ann, bob):
            session.position = session.queue.index(answer)
            # Everyone takes the top suggestion; bob disagrees on every third answer.
            top = session.view().suggestions[0].theme_id if session.view().suggestions else "crm"
            session.toggle("hr-payroll" if session is bob and i % 3 == 0 and top != "hr-payroll" else top)
            session.confirm()
    result = question_agreement(team_db, "q14").stats
    assert result.units == 30 and result.percent == pytest.approx(20 / 30)
    out = run("agreement", team_db.execute("PRAGMA database_list").fetchone()[2], "-q", "q14", "--json", ok=None)
    reported = json.loads(out.output)
    assert reported["cohen_kappa_sets"] == pytest.approx(result.kappa) and reported[
        "krippendorff_alpha_pooled"
    ] == pytest.approx(result.alpha)
    # The same pooled decisions through the krippendorff package.
    units = {u: codes for u, codes in _units(team_db).items()}
    themes = sorted({t for codes in units.values() for v in codes.values() for t in v})
    data = [[float(t in units[u][c]) for t in themes for u in sorted(units)] for c in ("ann", "bob")]
    assert result.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=np.array(data), level_of_measurement="nominal")
    )
    assert result.alpha == pytest.approx(krippendorff_alpha_nominal(data))
    assert agreement(units, ["ann", "bob"]).kappa == pytest.approx(result.kappa)
    text = run("agreement", team_db.execute("PRAGMA database_list").fetchone()[2], "-q", "q14", ok=None).output
    assert "Cohen's kappa" in text and "disagreements" in text


def _units(db):
    units = {}
    for answer, coder, theme in db.execute(
        "SELECT c.answer_id, c.coder, t.id FROM coder_codings c JOIN themes t ON t.pk = c.theme_pk WHERE c.status = 'confirmed'"
    ):
        units.setdefault(answer, {}).setdefault(coder, set()).add(theme)
    return {u: {c: frozenset(v) for c, v in codes.items()} for u, codes in units.items()}


def test_assign_and_agreement_errors(corpus_db, tmp_path):
    path = corpus_db.execute("PRAGMA database_list").fetchone()[2]
    assert run("assign", path, "-q", "q14", "--coders", "ann", "--overlap", "0.2", ok=False).exit_code == 1
    assert run("assign", path, "-q", "q14", "--coders", "ann,bob", "--overlap", "1.5", ok=False).exit_code == 1
    result = run("agreement", path, "-q", "q14", ok=False)
    assert result.exit_code == 1 and "coder assign" in result.output and "coder codings import" in result.output
    result = run("assign", path, "-q", "q14", "--coders", "ann,bob")
    assert result.exit_code == 0 and "30 in the blind overlap sample" in result.output


def test_two_coders_code_with_overlap_in_two_processes_at_once(team_db):
    path = team_db.execute("PRAGMA database_list").fetchone()[2]
    script = """
    import sys; sys.path.insert(0, {root!r})
    from coder.coding.session import CodingSession
    from coder.store import open_db
    session = CodingSession(open_db({db!r}), "q14", {coder!r})
    while True:
        if not session.view().suggestions:
            session.toggle("crm"); session.confirm()
        elif not session.accept_top():
            break
        if session.finished:
            break
    print("ok")
    """
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script.format(root=str(ROOT), db=path, coder=c))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in ("ann", "bob")
    ]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0 and out.strip() == "ok", err[-2000:]
    db = open_db(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every answer is now finally coded: agreed overlap ones at once, the rest by their coder...
    undecided = db.execute(
        """SELECT count(*) FROM answers a WHERE a.question_id = 'q14' AND a.is_answer = 1
           AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')"""
    ).fetchone()[0]
    # ...except the disputed overlap answers, which wait for adjudication.
    assert undecided == len(disputed_answers(db, "q14"))
    assert question_agreement(db, "q14").stats.units == 30


async def test_adjudicate_in_the_app(team_db):
    path = team_db.execute("PRAGMA database_list").fetchone()[2]
    answer = dispute(team_db)
    app = make_app(path, "q14", "cat", retrain=False, adjudicate=True)
    async with app.run_test(size=(100, 30)) as pilot:
        text = str(app.screen.query_one("#suggestions").render())
        assert "ann: Cost and efficiency savings" in text and "bob: CRM" in text
        await pilot.press("slash", *"CRM", "enter", "enter")
    assert final(open_db(path), answer) == [("crm", "confirmed", "cat")]
