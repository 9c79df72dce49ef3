"""Opening a database safely: a damaged, foreign, read-only or full one gives one clear line and stays as it was."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import coder.cli.common
import coder.cli.main
import coder.cli.newdb
import coder.store
from coder.cli.common import friendly
from coder.coding.history import backup
from coder.errors import CoderError
from coder.store import migrations, open_db
from tests.conftest import CORPUS, ROOT
from tests.invoke import run

# The commands that only read DB, as argument lists around it.
READERS = [
    ("questions", "{db}"),
    ("table", "{db}", "-q", "q14"),
    ("codings", "export", "{db}"),
    ("codebook", "show", "{db}", "-q", "q14"),
    ("codebook", "export", "{db}", "-q", "q14"),
    ("log", "{db}"),
    ("discover", "{db}", "-q", "q16"),
]
WRITERS = [
    ("suggest", "{db}", "-q", "q14"),
    ("autocode", "{db}", "-q", "q14"),
    ("undo", "{db}", "--coder", "gold"),
    ("codebook", "add", "{db}", "New theme", "-q", "q14"),
    ("codings", "import", "{db}", str(CORPUS / "codings.csv"), "--coder", "x"),
]


def on(args: tuple[str, ...], db: Path) -> list[str]:
    return [str(db) if a == "{db}" else a for a in args]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(result, *needles: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    message = result.output.strip().splitlines()[-1]
    for needle in needles:
        assert needle in message, message
    return message


@pytest.fixture
def gold_path(gold_db_path, tmp_path) -> Path:
    path = tmp_path / "gold.db"
    shutil.copy(gold_db_path, path)
    return path


def test_a_file_that_is_not_sqlite_is_refused_by_every_command_and_left_as_it_was(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("respondent,answer\n1,hello\n", encoding="utf-8")
    before = digest(notes)
    for args in READERS + WRITERS:
        one_line_error(run(*on(args, notes), ok=False), "notes.db", "is not a coder database")
    result = run("import", notes, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv", ok=False)
    one_line_error(result, "notes.db", "is not a coder database")
    assert digest(notes) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_an_empty_file_stays_empty(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    one_line_error(run("table", empty, "-q", "q14", ok=False), "empty.db", "is not a coder database")
    one_line_error(run("questions", empty, ok=False), "is not a coder database")
    one_line_error(run("suggest", empty, ok=False), "is not a coder database")
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_an_empty_sqlite_database_or_one_of_another_program_is_not_a_coder_database(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = digest(other)
    one_line_error(run("table", other, "-q", "q14", ok=False), "is not a coder database", "another program")
    # Importing into it would have added coder's tables to someone else's database.
    result = run("import", other, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv", ok=False)
    one_line_error(result, "is not a coder database")
    assert digest(other) == before
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).execute("VACUUM")
    one_line_error(run("questions", blank, ok=False), "is not a coder database")


def test_a_truncated_database_is_damaged_and_untouched(gold_path):
    os.truncate(gold_path, gold_path.stat().st_size // 2)
    before = digest(gold_path)
    one_line_error(
        run("table", gold_path, "-q", "q14", ok=False), "gold.db", "is damaged", "integrity_check", "gold.db.autobackup"
    )
    one_line_error(run("suggest", gold_path, ok=False), "is damaged")
    result = run("codings", "import", gold_path, CORPUS / "codings.csv", "--coder", "x", ok=False)
    one_line_error(result, "is damaged")
    assert digest(gold_path) == before


def scramble_after_first_page(path: Path) -> None:
    """Garbage over every page but the first (the schema): damage SQLite meets only when it reads a table."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for i in range(page, len(data)):
        data[i] = (i * 7 + 13) % 251
    path.write_bytes(bytes(data))


def test_damage_inside_the_tables_is_a_clear_error_and_backup_writes_nothing(gold_path, tmp_path):
    scramble_after_first_page(gold_path)
    before = digest(gold_path)
    one_line_error(run("table", gold_path, "-q", "q14", ok=False), "is damaged")
    one_line_error(run("codings", "export", gold_path, ok=False), "is damaged")
    copy = tmp_path / "copy.db"
    one_line_error(run("backup", gold_path, copy, ok=False), "is damaged")
    assert not copy.exists()
    assert digest(gold_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def scramble_last_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[-page + 8 :] = bytes((i * 7 + 13) % 251 for i in range(page - 8))
    path.write_bytes(bytes(data))


def test_backup_of_a_damaged_database_keeps_the_previous_backup(gold_path, tmp_path):
    previous = tmp_path / "gold.db.autobackup"
    backup(gold_path, previous)
    good = digest(previous)
    for truncate in (True, False):
        shutil.copy(previous, gold_path)
        if truncate:
            os.truncate(gold_path, gold_path.stat().st_size - 4096)
        else:
            scramble_last_page(gold_path)  # damage that only a full check of the copy finds
        with pytest.raises(CoderError, match="is damaged"):
            backup(gold_path, previous)
    assert digest(previous) == good


def test_backup_refuses_the_database_its_sidecars_a_folder_and_files_that_are_not_databases(gold_path, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me", encoding="utf-8")
    for target, needle in [
        (gold_path, "different file"),
        (tmp_path / "gold.db-wal", "belongs to the database"),
        (notes, "not a database"),
    ]:
        one_line_error(run("backup", gold_path, target, ok=False), needle)
    with pytest.raises(CoderError, match="is a folder"):
        backup(gold_path, tmp_path)
    assert notes.read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "gold.db-wal").exists() or (tmp_path / "gold.db-wal").stat().st_size == 0
    # An older backup is replaced, and the copy is complete.
    copy = tmp_path / "copy.db"
    assert run("backup", gold_path, copy).exit_code == 0
    assert run("backup", gold_path, copy).exit_code == 0
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM codings").fetchone()[0] > 0


def test_a_folder_or_a_missing_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "survey.db"
    folder.mkdir()
    with pytest.raises(CoderError, match="is a folder"):
        open_db(folder)
    with pytest.raises(CoderError, match="no such folder"):
        open_db(tmp_path / "nowhere" / "survey.db")
    with pytest.raises(CoderError, match="no such database"):
        open_db(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def make_unwritable(monkeypatch):
    """The OS says no file may be written (as for a colleague's read-only share): root ignores chmod."""
    real = os.access
    monkeypatch.setattr(coder.store.os, "access", lambda path, mode: False if mode & os.W_OK else real(path, mode))


def test_read_only_database_can_be_read_by_every_reading_command(gold_path, tmp_path, monkeypatch):
    make_unwritable(monkeypatch)
    before = digest(gold_path)
    for args in READERS:
        result = run(*on(args, gold_path))
        assert result.exit_code == 0, (args, result.output)
    assert run("chart", gold_path, "-q", "q14", "-o", tmp_path / "q14.png").exit_code == 0
    # Quotes and reports load spaCy (seconds): here they only show that they get a connection that cannot write.
    import coder.export.folder
    import coder.report.quotes

    def cannot_write(db, *args, **kwargs):
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("CREATE TABLE scratch (x)")
        return types.SimpleNamespace(files=[], questions=[], quotes_note=None)

    monkeypatch.setattr(coder.report.quotes, "representative_quotes", lambda *a, **k: cannot_write(*a) and [])
    monkeypatch.setattr(coder.export.folder, "write_report", cannot_write)
    assert run("quotes", gold_path, "-q", "q14", "--format", "json").exit_code == 0
    assert run("report", gold_path, "-o", tmp_path / "report").exit_code == 0
    one_line_error(
        run("agreement", gold_path, "-q", "q14", ok=False), "agreement needs two coders", "coder assign"
    )  # read, found none
    assert digest(gold_path) == before


def test_read_only_database_refuses_writing_commands_before_anything_starts(gold_path, monkeypatch):
    import coder.tui

    make_unwritable(monkeypatch)
    monkeypatch.setattr(coder.tui, "make_app", lambda *a, **k: pytest.fail("the app started"))
    before = digest(gold_path)
    for args in WRITERS + [("code", "{db}", "-q", "q14"), ("discover", "{db}", "-q", "q16", "--accept", "1")]:
        one_line_error(
            run(*on(args, gold_path), ok=False), "gold.db", "is read-only", "commands that only read it still work"
        )
    assert digest(gold_path) == before


def test_code_on_a_damaged_database_fails_before_the_app_starts(gold_path, monkeypatch):
    import coder.tui

    monkeypatch.setattr(coder.tui, "make_app", lambda *a, **k: pytest.fail("the app started"))
    os.truncate(gold_path, gold_path.stat().st_size // 2)
    one_line_error(run("code", gold_path, "-q", "q14", ok=False), "is damaged")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_and_folder_for_real(gold_path, tmp_path):
    gold_path.chmod(0o444)
    one_line_error(run("suggest", gold_path, ok=False), "is read-only")
    assert run("table", gold_path, "-q", "q14").exit_code == 0
    tmp_path.chmod(0o555)
    try:
        assert run("table", gold_path, "-q", "q14").exit_code == 0
    finally:
        tmp_path.chmod(0o755)


def test_read_only_open_cannot_write_and_takes_any_file_name(gold_db_path, tmp_path):
    odd = tmp_path / "wave 2?draft#1%20.db"
    shutil.copy(gold_db_path, odd)
    db = open_db(odd, create=False, readonly=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM codings")
    assert db.execute("SELECT count(*) FROM codings").fetchone()[0] > 0
    db.close()
    assert run("table", odd, "-q", "q14").exit_code == 0


def test_read_only_folder_falls_back_to_an_immutable_open(gold_path, monkeypatch):
    """In a folder it may not write SQLite cannot make the -shm of a WAL database; with no -wal it reads it immutable."""
    real = sqlite3.connect
    uris = []

    def connect(target, *args, **kwargs):
        uris.append(target)
        if "immutable" not in target:
            raise sqlite3.OperationalError("unable to open database file")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(coder.store.sqlite3, "connect", connect)
    db = open_db(gold_path, create=False, readonly=True)
    assert db.execute("SELECT count(*) FROM codings").fetchone()[0] > 0
    assert uris[-1].endswith("?mode=ro&immutable=1")


def old_database(path: Path) -> Path:
    db = open_db(path)
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_embeddings'")
    db.execute("DROP TABLE embeddings")
    db.conn.commit()
    db.close()
    return path


def test_read_only_open_of_an_older_database_upgrades_it_where_it_can_and_says_why_not_where_it_cannot(
    tmp_path, monkeypatch
):
    path = old_database(tmp_path / "old.db")
    db = open_db(path, create=False, readonly=True)
    assert not migrations.pending(db)
    db.close()
    old_database(tmp_path / "shared.db")
    monkeypatch.setattr(coder.store.os, "access", lambda path, mode: not mode & os.W_OK)
    with pytest.raises(CoderError, match="needs an upgrade.*read-only"):
        open_db(tmp_path / "shared.db", create=False, readonly=True)
    # A backup copies it as it is.
    backup(tmp_path / "shared.db", tmp_path / "copy.db")


def test_a_database_of_a_newer_coder_is_named_as_such(gold_path):
    conn = sqlite3.connect(gold_path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('coder', 'm099_future', 'x')"
    )
    conn.commit()
    conn.close()
    one_line_error(run("questions", gold_path, ok=False), "newer version of coder")


def fill_disk(monkeypatch):
    """Make every database the commands open full at its current size: the next new page fails."""
    real = coder.store.open_db

    def full(*args, **kwargs):
        db = real(*args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(coder.cli.newdb, "open_db", full)
    monkeypatch.setattr(coder.cli.common, "open_db", full)


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("respondents", "answers", "codings", "suggestions", "suggestion_runs", "audit")
        }
    finally:
        conn.close()


def test_disk_full_during_import_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "new.db"
    open_db(path).close()
    before = counts(path)
    fill_disk(monkeypatch)
    result = run("import", path, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv", ok=False)
    one_line_error(result, "new.db", "disk full while writing", "undone")
    assert counts(path) == before


def test_disk_full_during_codings_import_and_suggest_changes_nothing(corpus_db, monkeypatch):
    path = Path(corpus_db.execute("PRAGMA database_list").fetchone()[2])
    corpus_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = counts(path)
    fill_disk(monkeypatch)
    one_line_error(
        run("codings", "import", path, CORPUS / "codings.csv", "--coder", "gold", ok=False), "disk full while writing"
    )
    one_line_error(
        run("suggest", path, "-q", "q16", "--no-embeddings", ok=False), "corpus.db", "disk full while writing"
    )
    assert counts(path) == before


def test_friendly_turns_os_and_sqlite_errors_and_interrupts_into_one_line(tmp_path):
    def command(error):
        @click.command()
        @click.argument("db")
        @friendly
        def failing(db):
            raise error

        return failing

    runner = CliRunner()
    cases = [
        (OSError(errno.ENOSPC, "No space left on device", "out.csv"), "out.csv: disk full while writing"),
        (PermissionError(errno.EACCES, "Permission denied", "q14.xlsx"), "q14.xlsx: Permission denied"),
        (sqlite3.OperationalError("database is locked"), "x.db: is locked"),
        (sqlite3.DatabaseError("database disk image is malformed"), "x.db: is damaged"),
        (sqlite3.OperationalError("database or disk is full"), "x.db: disk full while writing"),
        (CoderError("no such theme", where="x.db"), "x.db: no such theme"),
    ]
    for error, expected in cases:
        result = runner.invoke(command(error), ["x.db"])
        assert result.exit_code == 1 and expected in result.output and "Traceback" not in result.output
    result = runner.invoke(command(KeyboardInterrupt()), ["x.db"])
    assert result.exit_code == 130 and "Interrupted" in result.output


def test_a_database_locked_by_another_writer_is_named_as_locked(gold_path):
    holder = sqlite3.connect(gold_path)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(gold_path, timeout=0)
    with pytest.raises(sqlite3.OperationalError) as caught:
        waiter.execute("BEGIN IMMEDIATE")
    holder.rollback()
    message = str(coder.store.database_error(caught.value, gold_path))
    assert message.startswith(str(gold_path)) and "is locked" in message


def _can_mount_read_only() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and mount namespaces for a read-only mount")
def test_a_database_on_a_read_only_mount_can_be_read_and_is_not_written(gold_path, tmp_path):
    """What chmod cannot show as root: a folder the OS will not let anyone write (a read-only share)."""
    share = tmp_path / "share"
    share.mkdir()
    shutil.move(gold_path, share / "gold.db")
    script = textwrap.dedent(f"""
        import subprocess, sys
        from click.testing import CliRunner
        from coder.cli.main import cli
        share = {str(share)!r}
        subprocess.run(["mount", "--bind", share, share], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", share], check=True)
        db = share + "/gold.db"
        for args in (["table", db, "-q", "q14"], ["codings", "export", db], ["backup", db, {str(tmp_path / "copy.db")!r}],
                     ["undo", db, "--coder", "gold"]):
            result = CliRunner().invoke(cli, args)
            print(result.exit_code, (result.output.strip().splitlines() or [""])[-1])
    """)
    before = digest(share / "gold.db")
    result = subprocess.run(
        ["unshare", "-m", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 4, result.stderr
    assert [line.split()[0] for line in lines] == ["0", "0", "0", "1"], lines
    assert "is read-only" in lines[3]
    assert digest(share / "gold.db") == before and sorted(p.name for p in share.iterdir()) == ["gold.db"]
    assert sqlite3.connect(tmp_path / "copy.db").execute("SELECT count(*) FROM codings").fetchone()[0] > 0


def test_opening_never_drops_the_locks_of_connections_already_open(gold_path):
    """Closing any handle on a database file drops this process's SQLite locks on it; another
    process closing its connection then thinks it is the last and deletes the live -wal and -shm
    (the coding app's background `coder suggest` did: disk I/O errors followed)."""
    first = open_db(gold_path)
    first.execute("UPDATE codings SET coder = 'ann' WHERE id = 1")
    first.conn.commit()
    open_db(gold_path, create=False, readonly=True).close()
    open_db(gold_path, create=False).close()
    other = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM codings').fetchone(); c.close()"
    subprocess.run([sys.executable, "-c", other, str(gold_path)], check=True)
    assert (gold_path.parent / "gold.db-wal").exists() and (gold_path.parent / "gold.db-shm").exists()
    assert first.execute("SELECT coder FROM codings WHERE id = 1").fetchone()[0] == "ann"
    first.close()
    assert sqlite3.connect(gold_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("size", [1, 7, 99])
def test_a_file_too_short_to_be_a_database_is_never_written_over(tmp_path, size):
    """SQLite takes a few bytes for an empty database: `import` once wrote its schema over them."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"x" * size)
    result = run("import", path, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv", ok=False)
    one_line_error(result, "notes.txt", "is not a coder database", "too short")
    assert path.read_bytes() == b"x" * size
    one_line_error(run("questions", path, ok=False), "too short")
