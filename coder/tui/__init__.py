"""The Textual coding app; `make_app` is the factory the CLI and the tests share."""

from coder.tui.app import CoderApp, make_app

__all__ = ["CoderApp", "make_app"]
