"""The coding screen's widgets, one per module."""

from coder.tui.widgets.answer_header import AnswerHeader
from coder.tui.widgets.answer_panel import AnswerPanel
from coder.tui.widgets.coding_progress import CodingProgress
from coder.tui.widgets.frequency_table import FrequencyTable
from coder.tui.widgets.suggestion_list import SuggestionList

__all__ = ["AnswerHeader", "AnswerPanel", "CodingProgress", "FrequencyTable", "SuggestionList"]
