"""A message (an error from the domain layer, or the respondent's other answers).

A string is made printable here; a Text is the caller's, built from printable pieces.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from coder.printable import one_line, printable


class MessageScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="message.close")]

    def __init__(self, title: str, body: Text | str) -> None:
        super().__init__()
        self.title_text = one_line(title)
        self.body = body if isinstance(body, Text) else Text(printable(body))

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="message-body"):
            yield Label(self.title_text, markup=False, id="message-title")
            yield Static(self.body)

    def action_close(self) -> None:
        self.dismiss(None)
