"""Writing output files: atomic, and never over a database or an input."""

from __future__ import annotations

import sqlite3

import pytest

from coder.errors import CoderError
from coder.outputs import atomic_output, write_output


def test_writes_atomically_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    write_output(target, "a,b\n")
    assert target.read_text() == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_refuses_an_input_its_sidecar_a_symlink_to_it_and_any_database(tmp_path):
    db = tmp_path / "survey.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    other = tmp_path / "other.bin"
    other.write_bytes(db.read_bytes())
    link = tmp_path / "link.csv"
    link.symlink_to(db)
    for target in (db, tmp_path / "survey.db-wal", link, other):
        with pytest.raises(CoderError):
            write_output(target, "x", inputs=(db,))
    assert db.read_bytes() == other.read_bytes()
    with pytest.raises(CoderError, match="folder"):
        write_output(tmp_path, "x")
