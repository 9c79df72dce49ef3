"""The current answer, shown literally, with the words that drove the top suggestion highlighted."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

from coder.coding.session import AnswerView
from coder.printable import printable


def evidence_terms(view: AnswerView) -> list[str]:
    """Words named in the top suggestion's evidence ("keyword 'x' [a, b]" or an alias)."""
    if not view.suggestions:
        return []
    evidence = view.suggestions[0].evidence
    bracket = re.search(r"\[([^\]]*)\]", evidence)
    if bracket:
        return [w.strip() for w in bracket.group(1).split(",") if len(w.strip()) > 1]
    quoted = re.search(r"'([^']+)'", evidence)
    return [quoted.group(1)] if quoted else []


def answer_text(view: AnswerView) -> Text:
    """A Rich Text built from plain, printable strings: `[bold]` in an answer stays `[bold]`, `ESC [2J` goes."""
    shown = printable(view.text)
    text = Text(shown if shown else "(empty answer)", style="" if shown else "dim italic")
    for term in evidence_terms(view):
        # Lemmas match the start of inflected words: "integrate" highlights "integrating".
        stem = re.escape(term[:-1] if len(term) > 4 else term)
        text.highlight_regex(re.compile(rf"(?i)\b{stem}\w*"), style="bold reverse")
    return text


class AnswerPanel(Static):
    """Wrapped answer text; it scrolls inside its container when long."""

    def show(self, view: AnswerView | None) -> None:
        if view is None:
            self.update(Text("No answers to code for this question.", style="italic"))
            return
        self.update(answer_text(view))
