"""Answers cannot drive the terminal (issue 10, item 15), and the coding app says when background work fails (item 12)."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.cli.main import cli, main
from coder.printable import PrintableStream, one_line, printable, terminal_stream
from coder.store import open_db
from coder.suggest.engine import suggest
from coder.survey.load import import_responses
from coder.survey.spec import load_spec
from tests.conftest import MINI_HEADER, ROOT, write_csv
from tests.invoke import run

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # all but \n and \t
ATTACK = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m\x9b2J\x9d0;t\x9c\u202eevil\u202c\rover\x08"

CLEANED = {
    "osc title, BEL": ("a\x1b]0;pwned\x07b", "ab"),
    "osc hyperlink, ST": ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
    "osc unterminated": ("\x1b]0;title", "0;title"),
    "csi clear": ("\x1b[2Jx\x1b[H", "x"),
    "csi colour": ("\x1b[1;31mred\x1b[0m", "red"),
    "csi private": ("\x1b[?1049hx\x1b[?25l", "x"),
    "csi incomplete": ("x\x1b[31", "x31"),
    "dcs": ("\x1bPq#0;2;0;0;0\x1b\\x", "x"),
    "apc pm sos": ("\x1b_a\x1b\\\x1b^b\x1b\\\x1bXc\x1b\\x", "x"),
    "8-bit csi": ("\x9b2Jx", "x"),
    "8-bit osc": ("\x9d0;t\x9cx\x9d0;u\x07y", "xy"),
    "8-bit dcs": ("\x90q\x9cx", "x"),
    "other C1": ("a\x84\x8d\x8e\x8fb", "ab"),
    "reset, charset, alignment test": ("\x1bc\x1b(0\x1b#8\x1b7x\x1b8", "x"),
    "lone escape": ("x\x1b", "x"),
    "C0 and DEL": ("a\x00\x07\x08\x7fb", "ab"),
    "carriage returns": ("a\rb\r\nc", "a\nb\nc"),
    "vertical tab, form feed, NEL": ("a\x0bb\x0cc\x85d", "a\nb\nc\nd"),
    "bidi overrides and isolates": ("\u202eevil\u202c \u2066x\u2069 \u202a\u202b\u202d", "evil x "),
}

UNCHANGED = [
    "[bold]not bold[/bold]",
    "a\tb\nc",
    "café £5 – “quoted” ½",
    "مرحبا بالعالم שלום",
    "emoji 🎉👍🏽 👩\u200d💻 ❤️",
    "zero\u200bwidth",
    "",
    "x" * 10_000,
]


@pytest.mark.parametrize("case", list(CLEANED), ids=list(CLEANED))
def test_printable_removes_control_sequences(case):
    text, shown = CLEANED[case]
    assert printable(text) == shown


@pytest.mark.parametrize("text", UNCHANGED)
def test_printable_keeps_plain_text(text):
    assert printable(text) == text


def test_one_line_puts_labels_on_one_line():
    assert one_line("HR /\npayroll\t\x1b[2J") == "HR / payroll "


HOSTILE = st.text(
    st.sampled_from("\x1b\x9b\x9d\x90\x9c\x07\\[]P^_X0;?2Jm\r\n\t \x00\x7f\u202e\u2069a") | st.characters(), max_size=60
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_printable_leaves_nothing_that_drives_a_terminal(text):
    shown = printable(text)
    assert not UNSAFE.search(shown)
    assert printable(shown) == shown


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        st.characters(
            blacklist_categories=("Cc",), blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        )
        | st.sampled_from("\n\t")
    )
)
def test_printable_text_passes_unchanged(text):
    assert printable(text) == text


class FakeTerminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_printable_stream_cleans_what_click_writes():
    terminal = FakeTerminal()
    stream = PrintableStream(terminal)
    click.echo(f"label {ATTACK}", file=stream, color=True)
    stream.writelines(["\x1b]0;x\x07y\n"])
    assert terminal.getvalue() == "label redevil\nover\ny\n"
    assert stream.isatty() and stream.encoding == "utf-8" and not hasattr(stream, "buffer")
    assert terminal_stream(stream) is terminal and terminal_stream(terminal) is terminal


def test_the_cli_cleans_only_a_terminal(monkeypatch):
    """The console script wraps a terminal's stdout and stderr for the command, and restores them after."""
    seen = {}

    @cli.command(name="echo-test")
    def echo_test():
        seen["stdout"], seen["stderr"] = sys.stdout, sys.stderr
        click.echo(ATTACK)
        click.echo(ATTACK, err=True)

    try:
        terminal, error = FakeTerminal(), FakeTerminal()
        monkeypatch.setattr(sys, "stdout", terminal)
        monkeypatch.setattr(sys, "stderr", error)
        monkeypatch.setattr(sys, "argv", ["coder", "echo-test"])
        with pytest.raises(SystemExit) as exit:
            main()
        assert exit.value.code == 0
        assert isinstance(seen["stdout"], PrintableStream) and isinstance(seen["stderr"], PrintableStream)
        assert terminal.getvalue() == error.getvalue() == "redevil\nover\n"
        assert sys.stdout is terminal and sys.stderr is error  # restored
        # Click's own usage errors quote what was typed: cleaned too.
        monkeypatch.setattr(sys, "argv", ["coder", "no-such" + ATTACK])
        with pytest.raises(SystemExit) as exit:
            main()
        assert exit.value.code == 2 and "No such command" in error.getvalue()
        assert not UNSAFE.search(error.getvalue())
        # Not a terminal (CliRunner, a pipe, a file): the text as stored, no escape code stripped.
        result = run("echo-test")
        assert result.exit_code == 0 and result.stdout == ATTACK + "\n"
    finally:
        cli.commands.pop("echo-test")


@pytest.fixture
def hostile_db(gold_db):
    """The gold corpus with an attack in every q14 answer, q14's theme labels and every role."""
    with gold_db.conn:
        gold_db.execute("UPDATE answers SET text = text || ? WHERE question_id = 'q14'", [" " + ATTACK])
        gold_db.execute(
            "UPDATE themes SET label = label || ? WHERE codebook_id = (SELECT codebook_id FROM questions WHERE id = 'q14')",
            [ATTACK],
        )
        gold_db.execute("UPDATE respondent_attributes SET value = value || ? WHERE name = 'role'", [ATTACK])
    gold_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return gold_db


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_quotes_are_printable_in_every_format(hostile_db, fmt):
    path = hostile_db.execute("PRAGMA database_list").fetchone()[2]
    result = run("quotes", path, "--question", "q14", "--theme", "customer-access", "--n", "2", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "evil" in result.output and "redevil" in result.output
    assert not UNSAFE.search(result.output) and "\\u001b" not in result.output
    if fmt == "json":
        assert all(
            not UNSAFE.search(q["text"] + q["theme_label"] + q["attribution"]) for q in json.loads(result.output)
        )


def test_an_escape_code_does_not_hide_a_name_from_the_anonymiser(gold_db):
    from coder.report.quotes import representative_quotes

    name = gold_db.execute(
        "SELECT value FROM respondent_attributes WHERE name = 'name' AND value LIKE '% %' LIMIT 1"
    ).fetchone()[0]
    first, last = name.split(" ", 1)
    hidden = f"{first[:2]}\x1b[0m{first[2:]} {last}"  # prints as the name
    with gold_db.conn:
        gold_db.execute(
            "UPDATE answers SET text = ? || ' told us the website and the contact centre work together well' "
            "WHERE question_id = 'q14'",
            [hidden],
        )
    found = representative_quotes(gold_db, "q14", n=1)
    assert found and all(first not in q.text and "\x1b" not in q.text and "[name]" in q.text for q in found)


def read_all(fd: int, process: subprocess.Popen) -> bytes:
    out = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_a_real_terminal_gets_printable_text_and_a_pipe_the_stored_text(hostile_db):
    path = hostile_db.execute("PRAGMA database_list").fetchone()[2]
    command = [
        sys.executable,
        "-c",
        "from coder.cli.main import main; main()",
        "codebook",
        "show",
        path,
        "--question",
        "q14",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, cwd=ROOT, env=env)
    os.close(terminal)
    try:
        shown = read_all(controller, process).decode("utf-8")
    finally:
        os.close(controller)
    assert process.returncode == 0, shown
    assert "redevil" in shown and not UNSAFE.search(shown.replace("\r\n", "\n"))  # the pty itself turns \n into \r\n
    piped = subprocess.run(command, capture_output=True, cwd=ROOT, env=env)
    assert piped.returncode == 0 and ATTACK in piped.stdout.decode("utf-8")  # as stored


# -- the coding app -------------------------------------------------------------------------


def app_db_carrying(mini, tmp_path, payload: str, label_separator: str):
    """The mini names question with `payload` in every answer, respondent id, role, label and description."""
    rows = [[f"r{i}{payload}", f"Officer{payload}", f"apple {payload}", "", "", f"why {payload}"] for i in range(3)]
    export = write_csv(tmp_path / "carrying.csv", [MINI_HEADER, *rows])
    db = open_db(mini["db"])
    import_responses(db, load_spec(mini["spec"]), export)
    with db.conn:
        db.execute(
            "UPDATE themes SET label = label || ?, description = ?", [label_separator + payload, "about " + payload]
        )
    suggest(db, "fav")
    db.close()
    return mini["db"]


@pytest.fixture
def hostile_app_db(mini, tmp_path):
    """Escape codes everywhere, and a newline inside each label."""
    return app_db_carrying(mini, tmp_path, ATTACK, "\n")


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_the_app_shows_no_control_sequence(hostile_app_db):
    from coder.tui import make_app
    from coder.tui.widgets import AnswerHeader, AnswerPanel, SuggestionList

    app = make_app(hostile_app_db, "fav", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screens = [screen_text(app)]
        rendered = [str(app.screen.query_one(w).render()) for w in (AnswerHeader, AnswerPanel, SuggestionList)]
        assert "redevil" in rendered[1] and "Officer" in rendered[0] and "Apple redevil" in rendered[2]
        # A label with a newline stays on its line: the line clicked is still the suggestion numbered there.
        widget = app.screen.query_one(SuggestionList)
        line = next(y for y, number in widget.lines.items() if number == 1)
        await pilot.click(SuggestionList, offset=(4, line + 1))
        await pilot.pause()
        assert app.session.view().suggestions[0].theme_id in app.session.view().codes
        for keys in (("o",), ("escape", "c"), ("escape", "slash", *"app")):
            await pilot.press(*keys)
            await pilot.pause()
            screens.append(screen_text(app))
        await pilot.press("escape", "c", "r")  # rename prompt, prefilled with the label as shown
        await pilot.pause()
        screens.append(screen_text(app))
        await pilot.press("enter")  # submitted unchanged: the stored label is not rewritten
        await pilot.pause()
        await pilot.press("escape")
    for text in screens:
        assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert "pwned" not in "".join(screens) and "why redevil" in screens[1] and "Apple redevil" in screens[3]
    db = open_db(hostile_app_db)
    assert db.execute("SELECT label FROM themes WHERE id = 'apple'").fetchone()[0] == "Apple\n" + ATTACK
    db.close()


async def test_a_failing_background_job_is_shown_and_coding_goes_on(hostile_app_db, monkeypatch):
    from coder.tui import make_app
    from coder.tui.screens import coding_screen

    def broken_table(db, question):
        raise RuntimeError("disk \x1b]0;pwned\x07on fire")

    monkeypatch.setattr(coding_screen, "build_table", broken_table)
    app = make_app(hostile_app_db, "fav", "ann", retrain=False)
    shown = "Table and progress not updated: RuntimeError: disk on fire"
    async with app.run_test() as pilot:
        # Not workers.wait_for_complete(): it raises WorkerFailed once the worker has failed.
        deadline = time.monotonic() + 30
        while shown not in [n.message for n in app._notifications] and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert shown in [n.message for n in app._notifications]
        await pilot.press("space")  # the app still codes
        await pilot.pause()
    db = open_db(hostile_app_db)
    assert db.execute("SELECT count(*) FROM codings WHERE status = 'confirmed'").fetchone()[0] == 1
    db.close()


async def test_a_failing_retrain_shows_the_childs_one_line_error(hostile_app_db, monkeypatch):
    from coder.tui import make_app
    from coder.tui.screens import coding_screen

    calls = []

    def failing_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(
            command, 1, "", "Traceback (most recent call last):\n  ...\nError: the database is \x1b[2Jlocked\n"
        )

    monkeypatch.setattr(coding_screen.subprocess, "run", failing_run)
    app = make_app(hostile_app_db, "fav", "ann")
    async with app.run_test() as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        screen.retrain()
        screen.retrain()  # asked again while one runs: once more after it, never two at once
        assert screen.retraining and screen.retrain_wanted
        deadline = time.monotonic() + 60  # a bound for a hang: the fake child returns at once
        while not (len(calls) == 2 and not screen.retraining):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        assert not screen.retrain_wanted
        messages = [n.message for n in app._notifications]
        assert messages.count("Suggestions not updated: Error: the database is locked") == 2
        await pilot.press("space")
        await pilot.pause()
    db = open_db(hostile_app_db)
    assert db.execute("SELECT count(*) FROM codings WHERE status = 'confirmed'").fetchone()[0] == 1
    db.close()


async def test_a_database_error_on_a_key_is_explained_not_a_crash(hostile_app_db, monkeypatch):
    import sqlite3

    from coder.tui import make_app
    from coder.tui.screens import MessageScreen

    app = make_app(hostile_app_db, "fav", "ann", retrain=False)
    async with app.run_test() as pilot:
        await pilot.pause()

        def locked():
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(app.session, "accept_top", locked)
        await pilot.press("space")
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen) and "database is locked" in str(app.screen.body)
        monkeypatch.undo()
        await pilot.press("escape", "space")  # closed, and the next key works
        await pilot.pause()
    db = open_db(hostile_app_db)
    assert db.execute("SELECT count(*) FROM codings WHERE status = 'confirmed'").fetchone()[0] == 1
    db.close()


MARKUP = "[@click=app.quit]q[/] [link=http://x.invalid]l[/link] [bold]b"


@pytest.fixture
def markup_app_db(mini, tmp_path):
    """Rich markup, action links too, everywhere."""
    return app_db_carrying(mini, tmp_path, MARKUP, " ")


async def test_the_app_shows_markup_in_data_literally(markup_app_db):
    """`[@click=app.quit]` in an answer or label is text on every screen: no style, no link, no action."""
    from coder.tui import make_app

    app = make_app(markup_app_db, "fav", "ann", retrain=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        screens = [screen_text(app)]
        for keys in (("o",), ("escape", "c"), ("escape", "slash", *"app")):
            await pilot.press(*keys)
            await pilot.pause()
            screens.append(screen_text(app))
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running  # no action link ran
    assert "[@click=app.quit]q[/]" in screens[0]  # the answer and the suggestion labels, as typed
    assert "why [@click=app.quit]q[/]" in screens[1]  # the respondent's other answers
    assert "[bold]b" in screens[2] and "[bold]b" in screens[3]  # the codebook and the search
