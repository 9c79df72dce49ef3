"""The audit log read back: show it, undo a coder's last coding change, back the database up.

Every change to codes already writes its before and after state to `audit`
(see store.audit), so undo restores the before state exactly, and is itself
audited, so it can be undone in turn.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from coder.coding.codings import Code, apply_codes
from coder.errors import CoderError
from coder.outputs import atomic_output
from coder.store import audit, damaged, database_error, open_db, write


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: str
    coder: str | None
    action: str
    target: str
    before: Any  # the audit row's JSON, decoded: its shape depends on the action
    after: Any


def read_log(db: Database, *, coder: str | None = None, action: str | None = None, limit: int = 50) -> list[LogEntry]:
    """Newest first."""
    rows = db.execute(
        """SELECT id, at, coder, action, target, before, after FROM audit
           WHERE (:coder IS NULL OR coder = :coder) AND (:action IS NULL OR action LIKE :action || '%')
           ORDER BY id DESC LIMIT :limit""",
        {"coder": coder, "action": action, "limit": limit},
    ).fetchall()
    return [
        LogEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else None, json.loads(r[6]) if r[6] else None)
        for r in rows
    ]


def undo_last(db: Database, coder: str) -> LogEntry:
    """Restore the codes of the answer `coder` last changed to what they were before that change."""
    row = db.execute(
        """SELECT id FROM audit WHERE coder = ? AND action LIKE 'coding.%' AND action != 'coding.undo'
           AND target LIKE 'answer:%' AND id NOT IN (SELECT CAST(after AS INTEGER) FROM audit WHERE action = 'undo.mark')
           ORDER BY id DESC LIMIT 1""",
        [coder],
    ).fetchone()
    if row is None:
        raise CoderError(f"nothing to undo: no coding change by {coder!r} in the log")
    entry = next(e for e in read_log(db, coder=coder, limit=10_000) if e.id == row[0])
    answer_id = int(entry.target.split(":", 1)[1])
    before = entry.before or {}
    with write(db):
        pks = dict(
            db.execute(
                """SELECT t.id, t.pk FROM themes t JOIN questions q ON q.codebook_id = t.codebook_id
               JOIN answers a ON a.question_id = q.id WHERE a.id = ?""",
                [answer_id],
            ).fetchall()
        )
        missing = [t for t in before if t not in pks]
        if missing:
            raise CoderError(f"cannot undo: theme(s) {', '.join(missing)} no longer exist (merged or deleted)")
        codes = [
            Code(pks[t], state["status"], state.get("coder"), state.get("score"), state.get("method"))
            for t, state in before.items()
        ]
        apply_codes(db, answer_id, codes, coder=coder, action="coding.undo", replace=True, exact=True)
        # Marks the entry as undone, so the next undo goes one step further back.
        audit(db, coder=coder, action="undo.mark", target=entry.target, after=entry.id)
    return entry


def backup(db_path: str | Path, destination: str | Path) -> Path:
    """A checked, consistent copy with SQLite's online backup, safe while others are coding.

    The copy is made beside the destination under a temporary name and checked
    (`PRAGMA quick_check`) before it replaces the destination, so a damaged database
    never overwrites a good backup, and nothing but a database is ever replaced.
    """
    source_path, destination = Path(db_path), Path(destination)
    source = open_db(source_path, create=False, readonly=True, migrate=False)
    try:
        with atomic_output(destination, inputs=(source_path,), backup=True) as partial:
            target = sqlite3.connect(str(partial))
            try:
                source.conn.backup(target)
                check = target.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                target.close()
            if check != "ok":
                raise CoderError(damaged(source_path) + "; no backup was written", where=str(source_path))
    except sqlite3.Error as exc:
        if "malformed" in str(exc) or "not a database" in str(exc):
            raise CoderError(damaged(source_path) + "; no backup was written", where=str(source_path)) from None
        raise database_error(exc, destination) from None
    except OSError as exc:
        raise CoderError(f"cannot write the backup: {exc.strerror or exc}", where=str(destination)) from None
    finally:
        source.close()
    return destination
