"""README's second walkthrough, from a raw export to a table, with commands alone."""

from __future__ import annotations

import re
import sqlite3

from tests.conftest import CORPUS, ROOT
from tests.invoke import run


def walkthrough() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## From your own export, with no codebook yet", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [re.sub(r"\s+#.*", "", line).split() for line in block.splitlines() if line.strip()]


def test_the_readme_walkthrough_runs_on_the_bundled_export(tmp_path):
    steps = walkthrough()
    assert [s[1] for s in steps] == ["init", "import", "discover", "discover", "code", "table"]
    paths = {
        "export.csv": CORPUS / "responses.csv",
        "my-survey": tmp_path / "my-survey",
        "my-survey/survey.yaml": tmp_path / "my-survey" / "survey.yaml",
        "survey.db": tmp_path / "survey.db",
    }
    outputs = {}
    for step in steps:
        if step[1] == "code":  # the app: confirm what discover proposed, as a coder would
            continue
        result = run(*(paths.get(word, word) for word in step[1:]))
        assert result.exit_code == 0, (step, result.output)
        outputs.setdefault(step[1], []).append(result.output)
    db = sqlite3.connect(tmp_path / "survey.db")
    themes = db.execute(
        "SELECT count(*) FROM themes t JOIN questions q ON q.codebook_id = t.codebook_id WHERE q.id = 'q14'"
    ).fetchone()[0]
    assert themes >= 5  # the starter codebook, accepted in one go
    assert db.execute("SELECT count(*) FROM audit WHERE action = 'theme.add'").fetchone()[0] == themes
    # Each accepted theme keeps the answers it was found in, for the app's first suggestions to learn from.
    assert db.execute("SELECT count(DISTINCT theme_pk) FROM theme_seeds").fetchone()[0] == themes
    assert "q14" in outputs["table"][0] and "148" in outputs["table"][0]  # every answer counted in the base note
