"""Confirmed / auto / uncoded, as a bar and in numbers."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from coder.coding.session import Progress

WIDTH = 30


class CodingProgress(Static):
    def show(self, progress: Progress) -> None:
        total = max(progress.total, 1)
        confirmed = round(WIDTH * progress.confirmed / total)
        auto = round(WIDTH * progress.auto / total)
        line = Text()
        line.append("█" * confirmed, style="green")
        line.append("█" * auto, style="yellow")
        line.append("░" * max(0, WIDTH - confirmed - auto), style="dim")
        line.append(f" {progress.confirmed} confirmed", style="green")
        line.append(f" · {progress.auto} auto", style="yellow")
        line.append(f" · {progress.uncoded} uncoded", style="dim")
        self.update(line)
