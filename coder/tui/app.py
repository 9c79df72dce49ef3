"""The Textual app: it opens a coding session and shows the coding screen."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from ..history import backup
from ..session import CodingSession
from ..store import open_db
from .screens import CodingScreen


class CoderApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "coder"

    def __init__(self, db_path: str | Path, question: str, coder: str, *, retrain: bool = True,
                 adjudicate: bool = False) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        # A copy of weeks of coding before anything is changed in this session.
        self.backup_path = backup(self.db_path, self.db_path.with_name(self.db_path.name + ".autobackup"))
        self.session = CodingSession(open_db(self.db_path, create=False), question, coder, adjudicate=adjudicate)
        self.retrain = retrain

    def on_mount(self) -> None:
        self.push_screen(CodingScreen(self.session, self.db_path, retrain=self.retrain))


def make_app(db_path: str | Path, question: str, coder: str, *, retrain: bool = True,
             adjudicate: bool = False) -> CoderApp:
    """The one factory the CLI and the tests use."""
    return CoderApp(db_path, question, coder, retrain=retrain, adjudicate=adjudicate)
