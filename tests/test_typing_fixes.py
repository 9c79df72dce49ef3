"""Faults that `mypy coder` pointed at (issue 14): each one used to end in a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from textual.dom import DOMNode

from coder.cli.main import cli
from coder.coding.session import CodingSession
from coder.errors import CoderError
from coder.survey.spec import load_spec
from coder.tui.screens import CodingScreen

CODEBOOK = """\
id: fruit
title: Fruit
themes:
  - id: apple
    label: Apple
  - id: dried
    label: Dried fruit
  - id: other
    label: Other fruit
"""

SPEC = """\
survey: mini
respondent_id: id
questions:
  - id: fav
    text: Favourite fruit?
    columns: fav
    codebook: fruit.yaml
    fold: {into: "Other   fruit", themes: ["Dried  fruit"]}
"""


def test_fold_names_themes_by_label_however_spaced(tmp_path):
    (tmp_path / "fruit.yaml").write_text(CODEBOOK, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    fold = load_spec(tmp_path / "spec.yaml").question("fav").fold
    assert fold.into == "other" and fold.themes == ("dried",)


def test_assign_with_empty_coders_names_no_coder(corpus_db):
    path = corpus_db.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(cli, ["assign", path, "-q", "q14", "--coders", ""])
    assert result.exit_code == 1 and "name at least one coder" in result.output
    assert corpus_db.execute("SELECT count(*) FROM assignments").fetchone()[0] == 0


def test_a_change_with_no_open_answer_is_refused(corpus_db):
    session = CodingSession(corpus_db, "q14", "ann")
    session.queue = []
    with pytest.raises(CoderError, match="no answer is open"):
        session.clear()
    assert corpus_db.execute("SELECT count(*) FROM codings").fetchone()[0] == 0


def test_coding_screen_keeps_textual_toggle_action():
    # Keys 1-9 run their own action; Textual's `toggle(attribute)` stays as Textual wrote it.
    assert CodingScreen.action_toggle is DOMNode.action_toggle
    keys = {b.key: b.action for b in CodingScreen.BINDINGS if hasattr(b, "key")}
    assert keys["1"] == "toggle_suggestion(1)" and keys["9"] == "toggle_suggestion(9)"
