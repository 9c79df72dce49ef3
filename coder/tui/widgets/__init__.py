"""The coding screen's widgets, one per module."""

from .answer_header import AnswerHeader
from .answer_panel import AnswerPanel
from .coding_progress import CodingProgress
from .frequency_table import FrequencyTable
from .suggestion_list import SuggestionList

__all__ = ["AnswerHeader", "AnswerPanel", "CodingProgress", "FrequencyTable", "SuggestionList"]
