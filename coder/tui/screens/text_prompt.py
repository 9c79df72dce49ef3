"""Ask for one line of text (a theme label, a description, keywords).

The value to edit is shown printable; submitted unchanged, the stored value
comes back as it was, so looking at a label never rewrites it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from coder.printable import one_line


class TextPrompt(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = one_line(title)
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-body"):
            yield Label(self.title_text, markup=False)
            yield Input(value=one_line(self.value), placeholder=self.placeholder, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = self.value if event.value == one_line(self.value) else event.value
        self.dismiss(value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
