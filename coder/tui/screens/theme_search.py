"""Fuzzy search over the whole codebook: type, pick a theme with enter."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from coder.printable import one_line

Search = Callable[[str], list[tuple[str, str, float]]]


class ThemeSearch(ModalScreen[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="search.cancel"),
        Binding("down", "focus_results", "Results", show=False, id="search.down"),
    ]

    def __init__(self, search: Search) -> None:
        super().__init__()
        self.search = search

    def compose(self) -> ComposeResult:
        with Vertical(id="search-body"):
            yield Input(placeholder="search themes (labels, aliases, keywords)", id="search-input")
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        self.refresh_results("")

    def refresh_results(self, query: str) -> None:
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(Option(Text(one_line(label)), id=theme_id) for theme_id, label, _ in self.search(query))
        if results.option_count:
            results.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_results(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        results = self.query_one(OptionList)
        if results.option_count and results.highlighted is not None:
            self.dismiss(results.get_option_at_index(results.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_focus_results(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
