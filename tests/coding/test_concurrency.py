"""Two real processes coding the same database at once: nothing lost, nothing duplicated, no lock errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from coder.store import open_db
from coder.suggest.engine import suggest
from coder.survey.load import import_responses
from coder.survey.spec import load_spec
from tests.conftest import CORPUS, ROOT

CODER = """
import sys; sys.path.insert(0, {root!r})
from coder.errors import CoderError
from coder.coding.session import CodingSession
from coder.store import open_db
session = CodingSession(open_db({db!r}), "q14", {coder!r})
for _ in range({steps}):
    try:
        session.toggle_suggestion(1)
        session.toggle_suggestion(2)
        session.toggle_suggestion(2)
        if not session.accept_top():
            session.skip()
    except CoderError as exc:  # another coder confirmed this answer meanwhile: the app shows it, the coder moves on
        assert "coded this answer while it was open here" in str(exc), exc
        session.skip()
print("ok")
"""


def test_parallel_coders_never_lose_or_duplicate_codes(tmp_path):
    db_path = tmp_path / "shared.db"
    db = open_db(db_path)
    import_responses(db, load_spec(CORPUS / "survey.yaml"), CORPUS / "responses.csv")
    suggest(db, "q14")
    db.close()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(CODER.format(root=str(ROOT), db=str(db_path), coder=name, steps=150)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ann", "bob", "cat")
    ]
    results = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, results):
        assert process.returncode == 0 and out.strip() == "ok", err[-2000:]
    db = open_db(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # One coding per (answer, theme), and every confirmation in the audit log is reflected.
    assert (
        db.execute(
            "SELECT count(*) FROM (SELECT answer_id, theme_pk FROM codings GROUP BY 1, 2 HAVING count(*) > 1)"
        ).fetchone()[0]
        == 0
    )
    confirmed = {r[0] for r in db.execute("SELECT DISTINCT answer_id FROM codings WHERE status = 'confirmed'")}
    accepted = {int(r[0].split(":")[1]) for r in db.execute("SELECT target FROM audit WHERE action = 'coding.accept'")}
    assert accepted and confirmed == accepted
