"""Fixtures the app's tests share: the terminal app and the browser server code the same database."""

from __future__ import annotations

import pytest

from coder.store import open_db
from coder.suggest.engine import suggest
from coder.survey.load import import_responses
from tests.conftest import CORPUS


@pytest.fixture(scope="session")
def suggested_db_path(tmp_path_factory, corpus_spec):
    """The corpus with suggestions and no codes, built once."""
    path = tmp_path_factory.mktemp("tui") / "tui.db"
    db = open_db(path)
    import_responses(db, corpus_spec, CORPUS / "responses.csv")
    suggest(db, "q13")
    suggest(db, "q14")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path
