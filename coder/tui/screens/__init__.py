"""Screens of the coding app, one per module."""

from .codebook_screen import CodebookScreen
from .coding_screen import CodingScreen
from .help_screen import HelpScreen
from .message_screen import MessageScreen
from .name_screen import NameScreen
from .text_prompt import TextPrompt
from .theme_search import ThemeSearch

__all__ = ["CodebookScreen", "CodingScreen", "HelpScreen", "MessageScreen", "NameScreen", "TextPrompt", "ThemeSearch"]
