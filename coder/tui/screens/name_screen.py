"""Ask a browser session's coder for their name (`coder serve`), before the coding screen opens.

A terminal's `coder code` takes the name from --coder or $USER; a browser has
neither, and every code a session confirms is recorded under this name.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Label

from coder.errors import CoderError
from coder.printable import one_line
from coder.safe_input import SHORT_TEXT


class NameScreen(Screen[None]):
    CSS_PATH = "name_screen.tcss"
    BINDINGS = [Binding("escape", "app.quit", "Quit", id="name.quit")]

    def __init__(self, start: Callable[[str], None], database: str) -> None:
        """`start` opens the coding session under the name, or raises CoderError saying why it cannot."""
        super().__init__()
        self.start = start
        self.database = one_line(database)

    def compose(self) -> ComposeResult:
        with Vertical(id="name-body"):
            yield Label(f"coder · {self.database}", markup=False, id="name-title")
            yield Label("Your name, recorded on every code you confirm:", markup=False)
            yield Input(placeholder="e.g. ann", max_length=SHORT_TEXT, id="name-input")
            yield Label("", markup=False, id="name-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            self.start(event.value.strip())
        except CoderError as exc:
            self.query_one("#name-error", Label).update(one_line(str(exc)))
