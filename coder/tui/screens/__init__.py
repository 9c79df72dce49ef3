"""Screens of the coding app, one per module."""

from coder.tui.screens.codebook_screen import CodebookScreen
from coder.tui.screens.coding_screen import CodingScreen
from coder.tui.screens.help_screen import HelpScreen
from coder.tui.screens.message_screen import MessageScreen
from coder.tui.screens.name_screen import NameScreen
from coder.tui.screens.text_prompt import TextPrompt
from coder.tui.screens.theme_search import ThemeSearch

__all__ = ["CodebookScreen", "CodingScreen", "HelpScreen", "MessageScreen", "NameScreen", "TextPrompt", "ThemeSearch"]
