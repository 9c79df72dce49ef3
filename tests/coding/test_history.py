from __future__ import annotations

import json
import sqlite3

from coder.coding.session import CodingSession
from coder.store import open_db
from coder.suggest.engine import suggest
from tests.invoke import run


def state(db, answer_id):
    return db.execute(
        "SELECT t.id, c.status, c.coder FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE c.answer_id = ? ORDER BY t.id",
        [answer_id],
    ).fetchall()


def test_log_undo_and_backup_from_the_cli(corpus_db, tmp_path):
    path = corpus_db.execute("PRAGMA database_list").fetchone()[2]
    suggest(corpus_db, "q14")
    session = CodingSession(corpus_db, "q14", "ann")
    first = session.current_id
    session.toggle("crm")
    session.confirm()
    second = session.current_id
    session.accept_top()
    out = run("log", path, "--coder", "ann", "--json", ok=None).output
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    assert actions[:3] == ["coding.accept", "coding.confirm", "coding.toggle"]
    # Undo twice: the accept on the second answer, then the confirmation of the first.
    result = run("undo", path, "--coder", "ann")
    assert result.exit_code == 0 and state(corpus_db, second) == []
    result = run("undo", path, "--coder", "ann")
    assert result.exit_code == 0 and state(corpus_db, first) == [("crm", "auto", "ann")]
    result = run("undo", path, "--coder", "bob", ok=False)
    assert result.exit_code == 1 and "nothing to undo" in result.output
    backup = tmp_path / "copy.db"
    result = run("backup", path, str(backup))
    assert result.exit_code == 0
    copy = sqlite3.connect(backup)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (
        copy.execute("SELECT count(*) FROM codings").fetchone()[0]
        == corpus_db.execute("SELECT count(*) FROM codings").fetchone()[0]
    )
    assert run("backup", path, path, ok=False).exit_code == 1
    text = run("log", path, "--limit", "3", ok=None).output
    assert "undo" in text
    open_db(backup).close()
