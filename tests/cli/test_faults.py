"""kill -9 at awkward moments: the database must stay consistent and lose no confirmed coding."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from coder.store import open_db
from coder.survey.load import import_responses
from coder.survey.spec import load_spec
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")


def big_export(path: Path, copies: int) -> Path:
    """The corpus repeated with new respondent ids: an import that takes a moment."""
    lines = (CORPUS / "responses.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    with open(path, "w", encoding="utf-8") as out:
        out.write(header)
        for copy in range(copies):
            for row in rows:
                out.write(f"C{copy:05d}-{row}")
    return path


def run_and_kill(code: str, wait_for: Path, *, after: float = 0.0, timeout: float = 60) -> None:
    """Start `code` in a fresh interpreter, wait until `wait_for` exists, then SIGKILL it."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT)
    deadline = time.monotonic() + timeout
    while not wait_for.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("the child finished or hung before it could be killed")
        time.sleep(0.01)
    time.sleep(after)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def run_to_death(code: str, timeout: float = 120) -> None:
    """Run `code` in a fresh interpreter that kills itself with SIGKILL at a point it chooses."""
    process = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, timeout=timeout)
    assert process.returncode == -signal.SIGKILL, "the child did not reach the point where it kills itself"


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_kill_during_import_leaves_all_or_nothing(tmp_path):
    export = big_export(tmp_path / "big.csv", 250)  # ~36k respondents
    db_path = tmp_path / "k.db"
    started = tmp_path / "started"
    run_and_kill(
        f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from coder.survey.load import import_responses
        from coder.survey.spec import load_spec
        from coder.store import open_db
        db = open_db({str(db_path)!r})
        Path({str(started)!r}).touch()
        import_responses(db, load_spec({str(CORPUS / "survey.yaml")!r}), {str(export)!r})
        Path({str(started)!r} + ".done").touch()
        """,
        started,
        after=0.5,
    )
    assert not Path(str(started) + ".done").exists(), "import finished before the kill: make the export bigger"
    assert integrity(db_path) == "ok"
    db = open_db(db_path)
    respondents = db.execute("SELECT count(*) FROM respondents").fetchone()[0]
    assert respondents in (0, 250 * 143)  # one transaction: nothing half-imported
    # The import can simply be run again.
    import_responses(db, load_spec(CORPUS / "survey.yaml"), export)
    assert db.execute("SELECT count(*) FROM respondents").fetchone()[0] == 250 * 143


def stored_suggestions(path: Path) -> dict[str, list]:
    """Everything a suggestion run stores, but the time it ran."""
    conn = sqlite3.connect(path)
    try:
        return {
            "suggestions": conn.execute("""SELECT answer_id, theme_pk, rank, score, method, evidence, selected, version
                                           FROM suggestions ORDER BY answer_id, theme_pk""").fetchall(),
            "suggested": conn.execute("SELECT answer_id, version FROM suggested ORDER BY answer_id").fetchall(),
            "runs": conn.execute("SELECT question_id, version, details FROM suggestion_runs ORDER BY 1").fetchall(),
        }
    finally:
        conn.close()


def looked_at(path: Path) -> int:
    """q14 answers with a stored suggestion or a mark that a run found none."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            """SELECT count(*) FROM answers a WHERE a.question_id = 'q14' AND a.is_answer = 1
               AND (EXISTS (SELECT 1 FROM suggestions s WHERE s.answer_id = a.id)
                    OR EXISTS (SELECT 1 FROM suggested s WHERE s.answer_id = a.id))"""
        ).fetchone()[0]
    finally:
        conn.close()


def db_answers(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM answers WHERE question_id = 'q14' AND is_answer = 1").fetchone()[0]
    finally:
        conn.close()


SUGGEST_CHUNK = 30  # the corpus's q14 answers in several chunks


@pytest.fixture
def unsuggested(corpus_db, tmp_path):
    """The corpus without suggestions, and what an uninterrupted `suggest` of q14 stores in a copy of it."""
    from coder.suggest import engine

    path = Path(corpus_db.execute("PRAGMA database_list").fetchone()[2])
    corpus_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    reference = tmp_path / "reference.db"
    shutil.copy(path, reference)
    db = open_db(reference)
    engine.suggest(db, "q14", embeddings=False)
    db.close()
    return path, stored_suggestions(reference)


def test_interrupted_first_suggest_then_rerun_matches_an_uninterrupted_run(unsuggested, monkeypatch):
    """Ctrl-C after two chunks of the first run: the next run works and stores the same suggestions."""
    from coder.suggest import engine

    path, reference = unsuggested
    monkeypatch.setattr(engine, "CHUNK", SUGGEST_CHUNK)

    def interrupt(done: int, total: int) -> None:
        if done == 2 * SUGGEST_CHUNK:
            raise KeyboardInterrupt

    db = open_db(path)
    with pytest.raises(KeyboardInterrupt):
        engine.suggest(db, "q14", embeddings=False, progress=interrupt)
    assert looked_at(path) == 2 * SUGGEST_CHUNK and not stored_suggestions(path)["runs"]
    engine.suggest(db, "q14", embeddings=False)  # it raised sqlite3.IntegrityError on the stored chunks
    db.close()
    assert stored_suggestions(path) == reference


def test_kill_inside_a_suggest_chunk_then_rerun_matches_an_uninterrupted_run(unsuggested):
    """kill -9 while the third chunk's rows are written but not committed."""
    path, reference = unsuggested
    run_to_death(
        f"""
        import os, signal, sys; sys.path.insert(0, {str(ROOT)!r})
        from coder.store import open_db
        import coder.suggest.engine as engine
        engine.CHUNK = {SUGGEST_CHUNK}
        store, chunks = engine._store, []

        def killed_on_third_commit(db, *args):
            chunks.append(1)
            if len(chunks) == 3:
                db.conn.set_trace_callback(lambda sql: sql == "COMMIT" and os.kill(os.getpid(), signal.SIGKILL))
            store(db, *args)

        engine._store = killed_on_third_commit
        engine.suggest(open_db({str(path)!r}), "q14", embeddings=False)
        """
    )
    assert integrity(path) == "ok"
    assert looked_at(path) == 2 * SUGGEST_CHUNK and not stored_suggestions(path)["runs"]
    from coder.suggest.engine import suggest

    db = open_db(path)
    report = suggest(db, "q14", embeddings=False)
    db.close()
    assert report.computed == db_answers(path)
    assert stored_suggestions(path) == reference


def test_kill_during_a_coding_session_loses_no_confirmed_code(tmp_path):
    db_path = tmp_path / "c.db"
    db = open_db(db_path)
    import_responses(db, load_spec(CORPUS / "survey.yaml"), CORPUS / "responses.csv")
    from coder.suggest.engine import suggest

    suggest(db, "q14")
    db.close()
    started = tmp_path / "started"
    run_and_kill(
        f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from coder.coding.session import CodingSession
        from coder.store import open_db
        session = CodingSession(open_db({str(db_path)!r}), "q14", "ann")
        Path({str(started)!r}).touch()
        while True:
            session.toggle_suggestion(1)
            session.toggle_suggestion(1)
            if not session.accept_top():
                session.skip()
        """,
        started,
        after=0.8,
    )
    assert integrity(db_path) == "ok"
    db = open_db(db_path)
    confirmed = db.execute("SELECT count(DISTINCT answer_id) FROM codings WHERE status = 'confirmed'").fetchone()[0]
    # Distinct answers: a fast loop that reaches the end of the queue goes round and accepts again.
    logged = db.execute("SELECT count(DISTINCT target) FROM audit WHERE action = 'coding.accept'").fetchone()[0]
    assert confirmed >= 1 and confirmed == logged  # every logged confirmation is there, and only those
