"""The coding screen: read an answer, press a key, see the table fill in.

A thin shell over `coder.coding.session.CodingSession`: every key calls one session
method (one committed transaction) and redraws. Slow work (the live table,
progress counts, retraining suggestions) runs in thread workers with their
own database connections, so a keystroke never waits for it; if it fails, the
coder is told and coding goes on. The bindings
live on this screen, so the codebook screen and the prompts above it never
see them.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState, get_current_worker

from coder.coding.session import ORDER_NAMES, CodingSession, Progress, question_progress
from coder.errors import CoderError
from coder.printable import one_line, printable
from coder.report.tables import Table, build_table
from coder.store import open_db
from coder.suggest.engine import ran_without_embeddings
from coder.tui.screens.codebook_screen import CodebookScreen
from coder.tui.screens.help_screen import HelpScreen
from coder.tui.screens.message_screen import MessageScreen
from coder.tui.screens.text_prompt import TextPrompt
from coder.tui.screens.theme_search import ThemeSearch
from coder.tui.widgets import AnswerHeader, AnswerPanel, CodingProgress, FrequencyTable, SuggestionList
from coder.tui.widgets.suggestion_list import NO_THEMES

T = TypeVar("T")

RETRAIN_EVERY = 10  # confirmations between background retrains
STATS_DELAY = 0.25  # seconds of quiet before the table and progress are recounted
WORK_FAILED = {"stats": "Table and progress not updated", "retrain": "Suggestions not updated"}
MESSAGE_MAX = 300  # characters of an error shown in a notification


class AnswerScroll(VerticalScroll, can_focus=False):
    """Scrolls a long answer; never takes focus, so every key reaches the screen's bindings."""


class CodingScreen(Screen[None]):
    BINDINGS = [
        *[
            Binding(str(n), f"toggle_suggestion({n})", f"Toggle {n}", show=False, id=f"code.toggle{n}")
            for n in range(1, 10)
        ],
        Binding("enter", "confirm", "Confirm", id="code.confirm"),
        Binding("space", "accept", "Accept top", id="code.accept"),
        Binding("backspace", "clear", "Clear", id="code.clear"),
        Binding("slash", "search", "Search", id="code.search"),
        Binding("n", "new_theme", "New theme", id="code.new"),
        Binding("s", "skip", "Skip", id="code.skip"),
        Binding("u", "undo", "Undo", id="code.undo"),
        Binding("f", "flag", "Quote", id="code.flag"),
        Binding("j,down", "move(1)", "Next", show=False, id="code.next"),
        Binding("k,up", "move(-1)", "Previous", show=False, id="code.previous"),
        Binding("tab", "cycle_order", "Order", id="code.order"),
        Binding("o", "others", "Other answers", show=False, id="code.others"),
        Binding("c", "codebook", "Codebook", id="code.codebook"),
        Binding("question_mark", "help", "Help", id="code.help"),
        Binding("q", "app.quit", "Quit", id="code.quit"),
    ]

    def __init__(self, session: CodingSession, db_path: Path, *, retrain: bool = True) -> None:
        super().__init__()
        self.db_path = db_path
        self.session = session
        self.retrain_enabled = retrain
        self.last_table: Table | None = None
        self.last_progress: Progress | None = None
        self.stats_timer: Timer | None = None
        self.retraining = False  # a `coder suggest` child is running
        self.retrain_wanted = False  # asked for while one ran: run once more after it

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="main"):
            yield AnswerHeader(id="answer-header")
            with AnswerScroll(id="answer-scroll"):
                yield AnswerPanel(id="answer")
            with Horizontal(id="lower"):
                yield SuggestionList(id="suggestions")
                yield FrequencyTable(id="frequencies")
            yield CodingProgress(id="progress")
        yield Footer()

    def on_mount(self) -> None:
        question = self.session.question_text()
        self.app.title = f"coder · {self.session.question}"
        self.app.sub_title = one_line(question)[:100]
        self.query_one("#frequencies").border_title = "table"
        self.query_one("#suggestions").border_title = "suggestions"
        self.redraw()
        self.refresh_stats()
        if not self.session.labels:
            # Nothing to suggest from until the first theme exists.
            self.app.notify(NO_THEMES, timeout=8)
            return
        if not self.session.has_suggestions() and self.retrain_enabled:
            self.app.notify("Computing suggestions in the background…", timeout=3)
            self.retrain()

    # -- drawing -----------------------------------------------------------------------------

    def redraw(self) -> None:
        """Redraw the current answer: a handful of indexed queries, nothing proportional to the survey."""
        session = self.session
        view = session.view()
        left = self.last_progress.total - self.last_progress.confirmed if self.last_progress else len(session.queue)
        order = ORDER_NAMES[session.order] if session.order is not None else ""  # set once the session opened
        self.query_one(AnswerHeader).show(view, session.position, len(session.queue), left, order)
        self.query_one(AnswerPanel).show(view)
        self.query_one(SuggestionList).show(view, session.labels)
        self.query_one(AnswerScroll).scroll_home(animate=False)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def refresh_stats(self) -> None:
        """Table and progress over the whole question, off the UI thread, with its own connection."""
        db = open_db(self.db_path, create=False, readonly=True)
        try:
            table = build_table(db, self.session.question)
            progress = question_progress(db, self.session.question)
        finally:
            db.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_stats, table, progress)

    def show_stats(self, table: Table, progress: Progress) -> None:
        self.last_table, self.last_progress = table, progress
        self.query_one(FrequencyTable).show(table)
        self.query_one(CodingProgress).show(progress)
        self.redraw()

    def retrain(self) -> None:
        """Recompute suggestions with what has been confirmed so far (the learning step).

        One child at a time: asked again while one runs, it runs once more
        when that one ends (two children would write the same rows at once,
        and a cancelled worker cannot stop its child anyway).
        """
        if self.retraining:
            self.retrain_wanted = True
            return
        self.retraining = True
        self.run_retrain()

    @work(thread=True, group="retrain", exit_on_error=False)
    def run_retrain(self) -> None:
        """Run `coder suggest` in a child process.

        In a thread, its Python work would hold the interpreter lock and stall
        every keystroke for as long as it runs (a second or more at 100k answers).
        """
        command = [
            sys.executable,
            "-c",
            "from coder.cli.main import main; main()",
            "suggest",
            str(self.db_path),
            "--question",
            self.session.question,
        ]
        db = open_db(self.db_path, create=False, readonly=True)  # this thread's own connection
        try:
            if ran_without_embeddings(db, self.session.question):
                command.append("--no-embeddings")  # as the researcher last ran `coder suggest`
        finally:
            db.close()
        result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if get_current_worker().is_cancelled:
            return
        if result.returncode != 0:
            # Its one-line error ("Error: ..."), or a traceback's last line; shown by on_worker_state_changed.
            raise CoderError(
                (result.stderr.strip().splitlines() or [f"coder suggest exited with {result.returncode}"])[-1]
            )
        self.app.call_from_thread(self.after_retrain)

    def after_retrain(self) -> None:
        self.session.requeue()
        self.redraw()
        self.app.notify("Suggestions updated from your confirmations", timeout=2)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A background failure is shown, never dropped; the coding goes on."""
        if event.worker.group == "retrain" and event.worker.is_finished:
            self.retraining = False
            # Cancelled only when the app closes: then no new child.
            if self.retrain_wanted and event.state != WorkerState.CANCELLED:
                self.retrain_wanted = False
                self.retrain()
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            what = WORK_FAILED.get(event.worker.group, "Background work failed")
            detail = str(error) if isinstance(error, CoderError) else f"{type(error).__name__}: {error}"
            self.app.notify(one_line(f"{what}: {detail}")[:MESSAGE_MAX], severity="error", timeout=10, markup=False)

    def changed(self, *, confirmed: bool = False) -> None:
        self.redraw()
        if confirmed and self.session.finished:
            self.app.notify(f"Every answer to {self.session.question} is confirmed. Press q to quit.", timeout=5)
        # Recount once the coder pauses: a burst of keys costs one recount, not one each.
        if self.stats_timer is not None:
            self.stats_timer.stop()
        self.stats_timer = self.set_timer(STATS_DELAY, self.refresh_stats)
        if confirmed and self.retrain_enabled and self.session.confirmations % RETRAIN_EVERY == 0:
            self.retrain()

    def attempt(self, action: Callable[[], T]) -> T | None:
        try:
            return action()
        except CoderError as exc:
            self.redraw()  # what the refusal is about (another coder's codes, say) shows behind it
            self.app.push_screen(MessageScreen("Not done", str(exc)))
        except sqlite3.Error as exc:
            # One transaction per key, rolled back: say so rather than close the app with a traceback.
            self.app.push_screen(
                MessageScreen("Not done", f"the database refused the change ({exc}); nothing was changed")
            )
        return None

    # -- actions -----------------------------------------------------------------------------

    def on_suggestion_list_clicked(self, message: SuggestionList.Clicked) -> None:
        self.action_toggle_suggestion(message.number)

    def action_toggle_suggestion(self, number: int) -> None:
        if self.attempt(lambda: self.session.toggle_suggestion(number)):
            self.changed()

    def action_confirm(self) -> None:
        if self.attempt(self.session.confirm):
            self.changed(confirmed=True)
        elif (view := self.session.view()) is not None and not view.codes:
            self.app.notify(
                NO_THEMES
                if not self.session.labels
                else "No codes yet: toggle a suggestion (1-9), search (/) or accept the top one (space)",
                timeout=3,
            )

    def action_accept(self) -> None:
        if self.attempt(self.session.accept_top):
            self.changed(confirmed=True)

    def action_clear(self) -> None:
        if self.session.current_id is not None:
            self.attempt(self.session.clear)
            self.changed()

    def action_skip(self) -> None:
        self.session.skip()
        self.redraw()

    def action_undo(self) -> None:
        if self.attempt(self.session.undo):
            self.changed()
        else:
            self.app.notify("Nothing to undo", timeout=2)

    def action_flag(self) -> None:
        themes = self.attempt(self.session.flag)
        self.redraw()
        if themes:
            labels = one_line(", ".join(self.session.labels[t] for t in themes))
            self.app.notify(f"Quote candidate for {labels}", timeout=2, markup=False)

    def action_move(self, step: int) -> None:
        self.session.move(step)
        self.redraw()

    def action_cycle_order(self) -> None:
        order = self.session.cycle_order()
        self.redraw()
        self.app.notify(f"Queue: {ORDER_NAMES[order]}", timeout=2)

    def action_search(self) -> None:
        def picked(theme_id: str | None) -> None:
            if theme_id and self.session.current_id is not None:
                self.attempt(lambda: self.session.toggle(theme_id))
                self.changed()

        self.app.push_screen(ThemeSearch(self.session.search_themes), picked)

    def action_new_theme(self) -> None:
        def created(label: str | None) -> None:
            if label:
                self.attempt(lambda: self.session.new_theme(label))
                self.changed()

        self.app.push_screen(TextPrompt("New theme label (it goes on this answer)"), created)

    def action_others(self) -> None:
        if self.session.current_id is None:
            return
        body = Text()
        for question, text in self.session.other_answers():
            body.append(f"{question}: ", style="bold")
            body.append(f"{printable(text)}\n")
        self.app.push_screen(MessageScreen("Other answers of this respondent", body if body else "none"))

    def action_codebook(self) -> None:
        def closed(_: None) -> None:
            self.session.reload_codebook()
            self.changed()

        self.app.push_screen(CodebookScreen(self.session), closed)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())
