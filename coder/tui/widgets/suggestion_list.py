"""Numbered suggestions with score bars, and the themes already on the answer."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

from coder.coding.session import AnswerView
from coder.printable import one_line

BAR = 6
NO_THEMES = "No themes yet: press n to add one, or run coder discover"


def bar(score: float) -> str:
    filled = max(0, min(BAR, round(score * BAR)))
    return "█" * filled + "░" * (BAR - filled)


def render(view: AnswerView, labels: dict[str, str]) -> tuple[Text, dict[int, int]]:
    """The list, one screen line per text line, and which line holds which numbered suggestion.

    Every name in it is put on one line: a label with a newline would shift
    the lines a click maps to suggestions.
    """
    out = Text(no_wrap=True, overflow="ellipsis")
    lines: dict[int, int] = {}
    for coder, themes in view.others.items():
        # Adjudication: every coder's blind codes, side by side.
        out.append(f"{one_line(coder)}: ", style="bold magenta")
        order = {t: i for i, t in enumerate(labels)}
        out.append(
            ", ".join(one_line(labels.get(t, t)) for t in sorted(themes, key=lambda t: order.get(t, len(order)))) or "-"
        )
        out.append("\n")
    if view.blind:
        out.append("blind: your own codes; other coders' are hidden\n", style="dim italic")
    if not labels:
        out.append(f"{NO_THEMES}.\n", style="bold yellow")
    elif not view.suggestions:
        out.append("No suggestions: press / to search the codebook or n for a new theme.\n", style="dim")
    for number, s in enumerate(view.suggestions, start=1):
        lines[out.plain.count("\n")] = number
        applied = s.theme_id in view.codes
        mark = "✓" if applied else " "
        style = "bold green" if applied else ""
        out.append(f"{number} {mark} ", style=style)
        out.append(bar(s.score), style="cyan")
        out.append(f" {s.score:4.2f} ", style="dim")
        out.append(one_line(s.label) + "\n", style=style)
    extra = [t for t in view.codes if t not in {s.theme_id for s in view.suggestions}]
    if extra:
        out.append("also coded: ", style="dim")
        out.append(", ".join(one_line(labels.get(t, t)) for t in extra), style="bold green")
        out.append("\n")
    if view.suggestions:
        top = view.suggestions[0]
        out.append(one_line(f"why 1: {top.method}, {top.evidence}") + "\n", style="dim")
    if view.codes:
        state = "confirmed" if view.confirmed else "not confirmed yet (enter)"
        out.append(f"codes {state}", style="green" if view.confirmed else "yellow")
        if view.flagged:
            out.append("  ★ quote candidate", style="magenta")
    return out, lines


class SuggestionList(Static):
    """Keys 1-9 toggle a suggestion; so does a click on its line."""

    @dataclass
    class Clicked(Message):
        number: int

    lines: dict[int, int] = {}

    def show(self, view: AnswerView | None, labels: dict[str, str]) -> None:
        if view is None:
            self.lines = {}
            self.update(Text(""))
            return
        text, self.lines = render(view, labels)
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y in self.lines:
            self.post_message(self.Clicked(self.lines[offset.y]))
