"""A command that creates the database removes it again if it fails: a failed first import leaves no file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlite_utils import Database

from coder.outputs import SIDECARS
from coder.store import holds_rows, open_db


@contextlib.contextmanager
def open_or_create(path: str | Path) -> Iterator[Database]:
    """Open the database at `path`, creating it if missing; if it was missing and the block fails, remove it.

    Only files that did not exist before are removed, and only while the database holds no rows: if
    another process created the same database meanwhile and wrote to it, its work is kept.
    """
    path = Path(path)
    # Through a dangling symbolic link SQLite creates the file the link names (its sidecars beside it).
    real = Path(os.path.realpath(path))
    files = [real, *(Path(f"{real}{suffix}") for suffix in SIDECARS)]
    new = [f for f in files if not os.path.lexists(f)]
    if real not in new:
        existing = open_db(path)
        try:
            yield existing
        finally:
            existing.close()
        return
    database: Database | None = None
    try:
        database = open_db(path)
        yield database
    except BaseException:
        keep = False
        if database is not None:
            try:
                keep = holds_rows(database)
            except sqlite3.Error:
                keep = True  # cannot tell whose rows it holds: leave it
            with contextlib.suppress(sqlite3.Error):
                database.close()
        if not keep:
            for created in new:
                with contextlib.suppress(FileNotFoundError):
                    created.unlink()
        raise
    else:
        database.close()
