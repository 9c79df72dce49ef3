"""The one SQLite schema, how a database is opened, and the audit log.

A coding database holds weeks of human work: WAL mode and foreign keys are on,
every change runs in `db.atomic()` and is committed when the block ends, and
every change to a coding or a theme writes an audit row in the same transaction.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from coder.errors import CoderError  # the one module of ours store may import: it imports nothing

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


@migrations()
def m007_theme_seeds(db: Database) -> None:
    db.executescript(
        """
        -- The answers a discovered theme was found in, kept when it is accepted: until coders
        -- confirm enough examples of it, suggestions learn from these (they are not codes).
        CREATE TABLE theme_seeds (
            theme_pk INTEGER NOT NULL REFERENCES themes(pk) ON DELETE CASCADE,
            answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
            PRIMARY KEY (theme_pk, answer_id)
        ) WITHOUT ROWID;
        CREATE INDEX theme_seeds_answer ON theme_seeds (answer_id);
        """
    )


def now() -> str:
    """UTC timestamps, second precision, sortable as text."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def damaged(path: str | Path) -> str:
    return f"is damaged: run PRAGMA integrity_check (or restore {Path(path).name}.autobackup)"


NOT_CODER = "is not a coder database"


def database_error(exc: sqlite3.Error, path: str | Path | None) -> CoderError:
    """The researcher's one line for an SQLite error on the database at `path`."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    text = str(exc)
    where = None if path is None else str(path)
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return CoderError(damaged(where or "DB"), where=where)
    if name == "SQLITE_NOTADB" or "not a database" in text:
        return CoderError(NOT_CODER, where=where)
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return CoderError(
            "disk full while writing the database; the unfinished change was undone "
            "(free some space, then run it again)",
            where=where,
        )
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return CoderError(
            "is read-only (the file or its folder cannot be written) and this command changes it; "
            "commands that only read it still work",
            where=where,
        )
    if name.startswith("SQLITE_BUSY") or "locked" in text:
        return CoderError(
            "is locked: another program has been writing to it for over 30 seconds; try again when it has finished",
            where=where,
        )
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return CoderError("cannot be opened: check that its folder exists and you may read (and write) it", where=where)
    if name.startswith("SQLITE_IOERR") or "I/O error" in text:
        return CoderError(f"could not be read or written ({text}); the unfinished change was undone", where=where)
    return CoderError(f"database error: {text}", where=where)


_HEADER_SIZE = 100  # every SQLite database file starts with a header of this many bytes


def _check_file(path: Path, *, create: bool) -> None:
    """Refuse a folder or an empty file before SQLite touches it (a 0-byte file stays 0 bytes).

    Only `stat`, never open(): closing any handle on a database file drops every SQLite
    lock this process holds on it, and another connection may then delete the live -wal.
    """
    shown = str(path)
    if path.is_dir():
        raise CoderError("is a folder, not a database file", where=shown)
    size = path.stat().st_size
    if size == 0 and not create:  # for create, nothing to lose: SQLite makes one in it
        raise CoderError(f"{NOT_CODER} (the file is empty); create one with `coder import`", where=shown)
    if 0 < size < _HEADER_SIZE:  # SQLite would take it for an empty database and write over it
        raise CoderError(f"{NOT_CODER} (a {size}-byte file, too short to be a SQLite database)", where=shown)


def _check_schema(db: Database, path: Path, *, create: bool) -> None:
    """It holds coder's tables, of a version this coder knows, and their first pages read.

    Reading one row of each table costs under a millisecond at 100k answers (a full
    `PRAGMA quick_check` costs 60 ms and more); deeper damage is reported when met.
    """
    shown = str(path)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    # A file shorter than its pages was cut off (a copy interrupted): SQLite would only say so
    # when a command reaches the missing pages. In WAL mode recent pages may live in the -wal.
    size = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    wal = Path(f"{path}-wal")
    if path.stat().st_size < size and not (wal.exists() and wal.stat().st_size):
        raise CoderError(damaged(path), where=shown)
    if not tables:
        if create:
            return
        raise CoderError(f"{NOT_CODER} (an empty SQLite database); create one with `coder import`", where=shown)
    applied = {m.name for m in migrations.applied(db)} if migrations.migrations_table in tables else set()
    if not applied:
        raise CoderError(f"{NOT_CODER} (a SQLite database of another program)", where=shown)
    if applied - {m.name for m in migrations._migrations}:
        raise CoderError("was made by a newer version of coder: upgrade coder to open it", where=shown)
    for table in tables:
        db.execute(f'SELECT * FROM "{table}" LIMIT 1').fetchall()


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.absolute().parent, os.W_OK)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that cannot write, also to a WAL database in a folder it may not write.

    SQLite reads a WAL database through its -shm file and creates it if missing; where it
    cannot (a read-only folder) and there is no -wal with changes to read, it may treat the
    file as immutable: no one can be writing to it, since a writer would have made the -wal.
    """
    uri = path.absolute().as_uri() + "?mode=ro"
    conn = None
    try:  # SQLite opens the files at the first read
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if conn is not None:
            conn.close()
        wal = Path(f"{path}-wal")
        if "unable to open" not in str(exc) or (wal.exists() and wal.stat().st_size):
            raise
    return sqlite3.connect(uri + "&immutable=1", uri=True, timeout=30)


def open_db(path: str | Path, *, create: bool = True, readonly: bool = False, migrate: bool = True) -> Database:
    """Open (and if needed create and migrate) a coding database, or say clearly why not.

    `readonly` opens a connection that cannot write, for commands that only read: they work
    on a database shared read-only. An older database is upgraded first where it can be
    written; `migrate=False` skips that (a backup copies it as it is).
    """
    path = Path(path)
    shown = str(path)
    exists = path.exists()
    if not exists and (readonly or not create):
        raise CoderError("no such database; create it with `coder import`", where=shown)
    if exists:
        _check_file(path, create=create and not readonly)
        if not readonly and not _writable(path):
            raise database_error(sqlite3.OperationalError("attempt to write a readonly database"), path)
    elif not path.absolute().parent.is_dir():
        raise CoderError(f"cannot create the database: no such folder {path.absolute().parent}", where=shown)
    try:
        if readonly:
            db = Database(_connect_readonly(path))
            try:
                _check_schema(db, path, create=False)
                if not migrate or not migrations.pending(db):
                    return db
            except BaseException:
                db.close()
                raise
            db.close()
            if not _writable(path):
                raise CoderError(
                    "was made by an older coder and needs an upgrade, which writes to it, but it is "
                    "read-only: run coder on it once where it can be written, or on a copy",
                    where=shown,
                )
            open_db(path, create=False).close()
            return open_db(path, readonly=True)
        db = Database(sqlite3.connect(str(path), timeout=30))
        try:
            _check_schema(db, path, create=create)
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            migrations.apply(db)
        except BaseException:
            db.close()
            raise
        return db
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None


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
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def holds_rows(database: Database) -> bool:
    """Whether anything was written to the database beyond its empty schema."""
    tables = [t for (t,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return any(
        database.execute(f"SELECT 1 FROM [{table}] LIMIT 1").fetchone()
        for table in tables
        if table != "_sqlite_migrations"  # the schema's own record, written on creation
    )
