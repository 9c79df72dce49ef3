"""Who wrote the current answer and where it sits in the queue."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from coder.coding.session import AnswerView
from coder.printable import one_line


class AnswerHeader(Static):
    def show(self, view: AnswerView | None, position: int, total: int, left: int, order: str) -> None:
        if view is None:
            self.update("")
            return
        # Role and organisation give context; the respondent's name never helps coding.
        context = " · ".join(one_line(v) for k, v in view.attributes.items() if k != "name" and v)
        line = Text()
        line.append(f"{position + 1} of {total}, {left} left", style="bold")
        line.append(f" ({order})  ", style="dim")
        line.append(f"{one_line(view.respondent_id)} #{view.rank}", style="bold")
        if context:
            line.append(f"  {context}", style="dim")
        if view.changed:
            line.append("  text changed since coded", style="bold red")
        self.update(line)
