"""The Textual app: it opens a coding session and shows the coding screen."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from coder.coding.history import backup
from coder.coding.session import CodingSession
from coder.store import open_db
from coder.tui.screens import CodingScreen, NameScreen


class CoderApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "coder"

    def __init__(
        self,
        db_path: str | Path,
        question: str,
        coder: str | None,
        *,
        retrain: bool = True,
        adjudicate: bool = False,
        take_backup: bool = True,
    ) -> None:
        """Without a coder the app asks for one first (a browser session of `coder serve`)."""
        super().__init__()
        self.db_path = Path(db_path)
        self.question = question
        self.adjudicate = adjudicate
        self.retrain = retrain
        # A copy of weeks of coding before anything is changed in this session. `coder serve` takes
        # it once when it starts: each browser session taking its own would overwrite that copy.
        self.backup_path = autobackup_path(self.db_path)
        if take_backup:
            backup(self.db_path, self.backup_path)
        self.session: CodingSession | None = None if coder is None else self._open_session(coder)

    def _open_session(self, coder: str) -> CodingSession:
        db = open_db(self.db_path, create=False)
        try:
            return CodingSession(db, self.question, coder, adjudicate=self.adjudicate)
        except BaseException:
            db.close()
            raise

    def on_mount(self) -> None:
        if self.session is None:
            self.push_screen(NameScreen(self.start, self.db_path.name))
        else:
            self.push_screen(CodingScreen(self.session, self.db_path, retrain=self.retrain))

    def start(self, coder: str) -> None:
        """Open the session under the name the coder typed; a CoderError says why not."""
        self.session = self._open_session(coder)
        self.switch_screen(CodingScreen(self.session, self.db_path, retrain=self.retrain))


def autobackup_path(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".autobackup")


make_app = CoderApp  # the one factory the CLI and the tests use (no second copy of its signature to keep in step)
