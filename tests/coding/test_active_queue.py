"""The active-learning queue: which answers teach most, and when coder offers them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from coder.coding.queue import MIN_CONFIRMED, expected_errors, explores, teaching_order, teaching_queue
from coder.coding.session import ORDER_NAMES, CodingSession
from coder.coding.team import assign, assigned_answers
from coder.store import open_db
from coder.suggest.engine import suggest
from coder.tui import make_app

NAN = float("nan")


def confirm_first(db, n: int, question: str = "q14") -> None:
    """Confirm the top suggestion of the first `n` answers, as a coder pressing space, then retrain."""
    session = CodingSession(db, question, "gold")
    for _ in range(n):
        session.accept_top()
    suggest(db, question)


@pytest.fixture
def suggested(corpus_db):
    suggest(corpus_db, "q14")
    return corpus_db


@pytest.fixture
def taught(suggested):
    """q14 with MIN_CONFIRMED answers confirmed and suggestions retrained on them."""
    confirm_first(suggested, MIN_CONFIRMED)
    return suggested


def of(texts: dict[int, str]):
    return lambda ids: [texts[i] for i in ids]


def pending(session):
    return [a for a in session.queue if not session.view(a).confirmed]


def test_before_twenty_confirmations_the_queue_is_as_imported(suggested):
    confirm_first(suggested, MIN_CONFIRMED - 1)
    session = CodingSession(suggested, "q14", "ann")
    assert session.order == "imported"
    assert session.queue == CodingSession(suggested, "q14", "bob", order="imported").queue


def test_after_twenty_confirmations_the_queue_teaches_most(taught):
    session = CodingSession(taught, "q14", "ann")
    assert session.order == "teaches" and ORDER_NAMES["teaches"] == "teaches most"
    assert pending(session) == teaching_queue(taught, "q14")
    assert session.current_id == teaching_queue(taught, "q14")[0]


def test_the_default_turns_to_teaching_when_the_queue_is_rebuilt(suggested):
    confirm_first(suggested, MIN_CONFIRMED - 1)
    session = CodingSession(suggested, "q14", "ann")
    chosen = CodingSession(suggested, "q14", "bob")
    chosen.cycle_order()  # bob picks "least confident first" by hand
    session.accept_top()  # the twentieth confirmation
    suggest(suggested, "q14")  # the app's background retrain, then it rebuilds the queue
    session.requeue()
    chosen.requeue()
    assert session.order == "teaches" and chosen.order == "uncertain"
    # Confirming goes to the top of the rebuilt queue, wherever the answer in view sat in it.
    session.accept_top()
    assert session.current_id == pending(session)[0]


def test_uncertain_answers_rank_before_confident_ones():
    texts = {1: "crm system", 2: "budget cuts", 3: "staff training"}
    # Sure (selected 0.9, rejected 0.1: 0.2 expected errors), undecided (0.5 and 0.49: 1.01), in between (0.7).
    order = teaching_order([1, 2, 3], of(texts), errors=[0.2, 1.01, 0.7], top_rarity=[1, 1, 1])
    assert order == [2, 3, 1]
    assert expected_errors(np.array([0.1, NAN])).tolist() == [0.1, 1.0]  # no suggestion counts as one error


def test_rarely_confirmed_themes_come_first_among_equally_uncertain():
    order = teaching_order(
        [1, 2], of({1: "better websites", 2: "shared services"}), errors=[0.9, 0.9], top_rarity=[0.1, 1.0]
    )
    assert order == [2, 1]


def test_a_batch_is_not_near_duplicates():
    # The most uncertain, all alike: spellings of one answer (the spread's distance counts once, so an
    # answer merely like a pick, such as "Improve the CRM system!!!" at cosine 0.6, may still come early).
    copies = [
        f"{' ' * (i % 3)}{word} the {crm} system"
        for i, (word, crm) in enumerate(
            [("Improve", "CRM"), ("improve", "CRM"), ("IMPROVE", "crm"), ("Improve", "crm"), ("improve", "crm")] * 2
        )
    ]
    others = [
        "Channel shift to online services",
        "Better broadband in rural areas",
        "Staff digital skills",
        "Open data publishing",
        "Shared services with neighbours",
        "Cyber security",
        "Mobile apps for residents",
        "Reduce costs through automation",
        "Social media engagement",
    ]
    texts = copies + others
    n = len(texts)
    order = teaching_order(
        list(range(n)), of(dict(enumerate(texts))), errors=[1.0] * 10 + [0.9] * 9, top_rarity=[1.0] * n
    )
    batch = order[:10]
    assert sum(1 for i in batch if i < 10) == 1  # one of the copies, then every different answer
    assert sorted(order) == list(range(n))


def test_a_large_question_starts_with_typical_answers_whatever_the_uncertainty():
    assert explores(20, 10_000) and not explores(100, 10_000) and not explores(MIN_CONFIRMED, 148)
    texts = [
        "the economy",
        "economy",
        "The economy.",
        "the economy stupid",
        "economy and jobs",
        "jobs",
        "the war",
        "war in iraq",
        "zxq wibble plonk",
    ]  # the last: an outlier the learner knows nothing about
    n = len(texts)
    sure = dict(errors=[0.1] * (n - 1) + [NAN], top_rarity=[1.0] * n)
    assert teaching_order(list(range(n)), of(dict(enumerate(texts))), **sure)[0] == n - 1
    explored = teaching_order(list(range(n)), of(dict(enumerate(texts))), **sure, explore=20)
    assert explored[0] in (0, 1, 2, 3) and explored.index(n - 1) > 0 and sorted(explored) == list(range(n))


def test_the_real_queue_batch_is_diverse(taught):
    queue = teaching_queue(taught, "q14")
    texts = dict(taught.execute("SELECT id, text FROM answers WHERE question_id = 'q14'").fetchall())
    batch = [" ".join(texts[a].casefold().split()) for a in queue[:10]]
    assert len(set(batch)) == 10


def test_assign_deals_the_most_informative_answers_to_every_coder(taught):
    ranked = teaching_queue(taught, "q14")
    result = assign(taught, "q14", ["ann", "bob"], 0.0)
    assert result.answers == len(ranked)
    ann, bob = set(assigned_answers(taught, "q14", "ann")), set(assigned_answers(taught, "q14", "bob"))
    assert ranked[0] in ann and ranked[1] in bob and ranked[2] in ann
    assert abs(len(ann) - len(bob)) <= 1
    # Each coder's queue opens in that order, within their share.
    session = CodingSession(taught, "q14", "ann")
    assert session.order == "teaches" and pending(session) == teaching_queue(taught, "q14", ann)


async def test_tab_cycles_through_the_other_orders(taught, tmp_path):
    path = tmp_path / "app.db"
    taught.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(taught.execute("PRAGMA database_list").fetchone()[2], path)
    app = make_app(path, "q14", "ann", retrain=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        seen = [app.session.order]
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.session.order)
        header = app.screen.query_one("#answer-header").render()
    assert seen == ["teaches", "imported", "uncertain", "theme", "teaches"]
    assert "teaches most" in str(header)
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM codings WHERE status = 'confirmed'").fetchone()[0] == MIN_CONFIRMED
    db.close()


def test_bench_learning_runs(capsys):
    import sys

    from tests.conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_learning

    assert bench_learning.main(["--data", "q14", "--steps", "30", "--every", "10"]) == 0
    output = capsys.readouterr().out
    assert "queue F1" in output and "random F1" in output and "retrained every 10" in output
