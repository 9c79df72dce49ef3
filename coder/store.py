"""The one SQLite schema, how a database is opened, and the audit log.

A coding database holds weeks of human work: WAL mode and foreign keys are on,
every change runs in `db.atomic()` and is committed when the block ends, and
every change to a coding or a theme writes an audit row in the same transaction.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .errors import CoderError  # the one module of ours store may import: it imports nothing

migrations = Migrations("coder")


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE codebooks (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('text', 'names')),
            description TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE themes (
            pk INTEGER PRIMARY KEY,
            codebook_id TEXT NOT NULL REFERENCES codebooks(id),
            id TEXT NOT NULL,
            label TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            keywords TEXT NOT NULL DEFAULT '[]',
            aliases TEXT NOT NULL DEFAULT '[]',
            parent_pk INTEGER REFERENCES themes(pk),
            position INTEGER NOT NULL,
            UNIQUE (codebook_id, id)
        );
        CREATE TABLE questions (
            id TEXT PRIMARY KEY,
            text TEXT NOT NULL DEFAULT '',
            codebook_id TEXT NOT NULL REFERENCES codebooks(id),
            columns TEXT NOT NULL,
            base TEXT NOT NULL CHECK (base IN ('mentions', 'respondents')),
            fold TEXT,
            non_answers TEXT NOT NULL DEFAULT '[]',
            table_title TEXT NOT NULL DEFAULT '',
            table_header TEXT NOT NULL DEFAULT 'Theme',
            position INTEGER NOT NULL
        );
        CREATE TABLE respondents (
            id TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE respondent_attributes (
            respondent_id TEXT NOT NULL REFERENCES respondents(id),
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (respondent_id, name)
        );
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            respondent_id TEXT NOT NULL REFERENCES respondents(id),
            question_id TEXT NOT NULL REFERENCES questions(id),
            rank INTEGER NOT NULL,
            text TEXT NOT NULL,
            -- 0 for a non-answer ("n/a", "-"): kept, but in no base
            is_answer INTEGER NOT NULL,
            -- 1 when a re-import changed the text of an answer that had codings
            changed INTEGER NOT NULL DEFAULT 0,
            previous_text TEXT,
            imported_at TEXT NOT NULL,
            UNIQUE (respondent_id, question_id, rank)
        );
        CREATE INDEX answers_question ON answers (question_id, respondent_id, rank);
        CREATE TABLE codings (
            id INTEGER PRIMARY KEY,
            answer_id INTEGER NOT NULL REFERENCES answers(id),
            theme_pk INTEGER NOT NULL REFERENCES themes(pk),
            status TEXT NOT NULL CHECK (status IN ('auto', 'confirmed')),
            coder TEXT,
            score REAL,
            method TEXT,
            evidence TEXT,
            coded_at TEXT NOT NULL,
            UNIQUE (answer_id, theme_pk)
        );
        CREATE INDEX codings_theme ON codings (theme_pk);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            coder TEXT,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        """
    )


@migrations()
def m002_suggestions(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE suggestions (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            theme_pk INTEGER NOT NULL REFERENCES themes(pk) ON DELETE CASCADE,
            rank INTEGER NOT NULL,
            score REAL NOT NULL,
            method TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '',
            -- 1 when the question's calibrated rule picks this theme for the answer
            selected INTEGER NOT NULL DEFAULT 0,
            version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (answer_id, theme_pk)
        ) WITHOUT ROWID;
        -- Answers a suggestion run looked at and found nothing for ("£££"): not pending again.
        CREATE TABLE suggested (
            answer_id INTEGER PRIMARY KEY REFERENCES answers(id) ON DELETE CASCADE,
            version TEXT NOT NULL
        );
        CREATE TABLE suggestion_runs (
            question_id TEXT PRIMARY KEY REFERENCES questions(id),
            version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        """
    )


@migrations()
def m003_quote_flags(db: Database) -> None:
    db.executescript(
        """
        -- A coder's mark that an answer would make a good quote for a theme.
        CREATE TABLE quote_flags (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            theme_pk INTEGER NOT NULL REFERENCES themes(pk) ON DELETE CASCADE,
            coder TEXT,
            flagged_at TEXT NOT NULL,
            PRIMARY KEY (answer_id, theme_pk)
        );
        """
    )


@migrations()
def m004_theme_colours(db: Database) -> None:
    # NULL means "no colour": themes of databases made before colours keep none.
    db.execute("ALTER TABLE themes ADD COLUMN colour TEXT")


@migrations()
def m005_team_coding(db: Database) -> None:
    db.executescript(
        """
        -- Who codes which answer; answers in the overlap sample go to several coders, blind.
        CREATE TABLE assignments (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            coder TEXT NOT NULL,
            overlap INTEGER NOT NULL DEFAULT 0,
            assigned_at TEXT NOT NULL,
            PRIMARY KEY (answer_id, coder)
        );
        CREATE INDEX assignments_coder ON assignments (coder, answer_id);
        -- Each coder's own codes on overlap answers, kept after adjudication decides the final ones.
        CREATE TABLE coder_codings (
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            theme_pk INTEGER NOT NULL REFERENCES themes(pk),
            coder TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('auto', 'confirmed')),
            coded_at TEXT NOT NULL,
            PRIMARY KEY (answer_id, coder, theme_pk)
        );
        CREATE INDEX coder_codings_theme ON coder_codings (theme_pk);
        """
    )


@migrations()
def m006_embeddings(db: Database) -> None:
    db.executescript(
        """
        -- Sentence embeddings of answer texts, a cache keyed by model and text: derived data,
        -- safe to delete, so re-running suggestions (every few confirmations) never re-encodes.
        CREATE TABLE embeddings (
            model TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, text_hash)
        ) WITHOUT ROWID;
        """
    )


def now() -> str:
    """UTC timestamps, second precision, sortable as text."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def open_db(path: str | Path, *, create: bool = True) -> Database:
    """Open (and if needed create and migrate) a coding database."""
    path = Path(path)
    if not create and not path.exists():
        raise CoderError("no such database; create it with `coder import`", where=str(path))
    conn = sqlite3.connect(str(path), timeout=30)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    migrations.apply(db)
    return db


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction that takes the write lock when it begins (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes fails at once with
    "database is locked" if another process committed in between (WAL cannot
    wait its way out of that); taking the lock first makes it wait its turn
    (the busy timeout) instead. Nested inside a transaction it is a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def audit(db: Database, *, coder: str | None, action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Record one change; call inside the transaction that makes the change."""
    db.execute(
        "INSERT INTO audit (at, coder, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
        [
            now(),
            coder,
            action,
            target,
            None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
            None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
        ],
    )


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
