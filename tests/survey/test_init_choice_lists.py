"""`coder init` reads a multiple-choice question whose ticked options share one cell as closed, not as free text.

Google Forms joins checkboxes with ", ", SurveyMonkey and Microsoft Forms with ";": the cells
are long and varied (every combination of options), so by length and variety alone they read
as answers to code.
"""

from __future__ import annotations

import csv
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from coder.survey.init import Column, plan_survey
from coder.survey.spec import load_spec
from tests.conftest import CORPUS, write_csv
from tests.invoke import run
from tests.survey.test_init import COMMENTS

TOOLS = [
    "Microsoft Teams chat",
    "Google Workspace documents",
    "Confluence wiki pages",
    "Jira issue tracker",
    "Slack workspace channels",
    "Notion shared notes",
    "Trello kanban boards",
]


def _ticked(rng: random.Random, separator: str) -> str:
    return separator.join(rng.sample(TOOLS, rng.randint(1, 4)))


def test_google_forms_checkboxes_are_an_attribute_and_the_comment_a_question(tmp_path):
    rng = random.Random(3)
    header = ["Respondent", "Which tools does your team use?", "What would most improve the service?"]
    rows = [[f"P{i}", _ticked(rng, ", "), COMMENTS[i % len(COMMENTS)] + f" ({i})"] for i in range(60)]
    rows[7][1] += ", a wiki we built ourselves"  # "Other:" written in among the ticked options
    out = run("init", write_csv(tmp_path / "export.csv", [header, *rows]), "--output", tmp_path / "spec").output
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert [q.columns for q in spec.questions] == [("What would most improve the service?",)]
    assert spec.attributes == ("Which tools does your team use?",)
    assert "a multiple-choice list: 7 options joined by ','" in out


def test_semicolon_checkboxes_before_an_other_box_are_one_question(tmp_path):
    """As a closed question of few choices: the ticked options and the "Other (please specify)" text together."""
    rng = random.Random(4)
    header = ["id", "Tools used", "Other (please specify)"]
    rows = [[str(i), _ticked(rng, ";"), "Our own intranet forum" if i % 5 == 0 else ""] for i in range(60)]
    export = write_csv(tmp_path / "export.csv", [header, *rows])
    out = run("init", export, "--output", tmp_path / "spec").output
    spec = load_spec(tmp_path / "spec" / "survey.yaml")
    assert [q.columns for q in spec.questions] == [("Tools used", "Other (please specify)")]
    assert "a closed question (7 options)" in out


def test_a_yes_no_question_with_commas_is_still_a_few_values(tmp_path):
    header = ["id", "Would you use it?", "Why?"]
    rows = [[str(i), ["Yes, often", "Yes, sometimes", "No"][i % 3], COMMENTS[i % 6] + f" ({i})"] for i in range(30)]
    out = run("init", write_csv(tmp_path / "export.csv", [header, *rows]), "--output", tmp_path / "spec").output
    assert "a few values repeated (30 filled, 3 different" in out


def test_the_corpus_free_text_is_never_a_choice_list():
    """Real answers with commas and semicolons (q16 comments, the q5-q7 "other" boxes) stay free text."""
    plan = plan_survey(CORPUS / "responses.csv")
    assert [q.id for q in plan.questions] == ["q5", "q6", "q7", "q13", "q14", "q16"]
    assert not any("multiple-choice" in d.reason for d in plan.decisions)


def _column(cells: list[str]) -> Column:
    column = Column(0, "q")
    for cell in cells:
        column.add(cell, non_answer=False)
    return column


with open(CORPUS / "responses.csv", newline="", encoding="utf-8") as _handle:
    _ANSWERS = [r["q16_comments"] for r in csv.DictReader(_handle) if r["q16_comments"].strip()]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(_ANSWERS), min_size=10, max_size=80, unique=True))
def test_distinct_real_comments_are_never_a_choice_list(cells):
    assert _column(cells).choice_list() is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from(TOOLS), min_size=1, max_size=4, unique=True), min_size=40, max_size=120))
def test_ticked_options_are_a_choice_list_whenever_enough_are_joined(ticks):
    uses = {tool: sum(tool in t for t in ticks) for tool in TOOLS}
    used = [tool for tool, n in uses.items() if n]
    if sum(len(t) > 1 for t in ticks) >= 0.2 * len(ticks) and len(used) >= 2 and min(uses[t] for t in used) >= 3:
        assert _column(["; ".join(t) for t in ticks]).choice_list() == (";", len(used))


def test_a_long_export_counts_the_same_parts_as_a_short_one():
    """Repeated cells are split once (`CELLS_KEPT` at a time): the counts match splitting every cell."""
    from coder.survey.init import CELLS_KEPT

    rng = random.Random(5)
    options = [f"{tool} {n}" for tool in TOOLS for n in range(5)]  # 35 options: thousands of combinations
    cells = [", ".join(rng.sample(options, rng.randint(1, 4))) for _ in range(4 * CELLS_KEPT)]
    cells += ["a long written-in answer " * 40]  # longer than a cell kept for later
    column = _column(cells)
    assert column.choice_list() == (",", 35)
    seen = column.parts[","]
    assert sum(seen.values()) == sum(len(c.split(",")) for c in cells[:-1]) + 1
    assert column.joined[","] == sum("," in c for c in cells)
