from __future__ import annotations

import pytest

from coder.errors import CoderError
from coder.survey.spec import NonAnswers, load_spec
from tests.conftest import MINI_SPEC


def test_corpus_spec(corpus_spec):
    assert [q.id for q in corpus_spec.questions] == ["q5", "q6", "q7", "q13", "q14", "q16"]
    q13 = corpus_spec.question("q13")
    assert q13.columns == ("q13_dept_1", "q13_dept_2", "q13_dept_3") and q13.base == "mentions"
    assert q13.fold.into == "other-unknown"
    members = q13.fold.members(q13.codebook.ids)
    assert "moj" in members and "dwp" not in members
    assert corpus_spec.question("q14").base == "respondents"


@pytest.mark.parametrize(
    "text,is_non_answer",
    [
        ("n/a", True),
        ("N/A.", True),
        ("  none ", True),
        ("Nil", True),
        ("-", True),
        ("", True),
        ("Don’t know", True),
        ("No comment.", True),
        ("None of the above really", False),
        ("DWP", False),
        ("no idea what GDS does", False),
    ],
)
def test_default_non_answers(corpus_spec, text, is_non_answer):
    assert corpus_spec.question("q14").non_answers.matches(text) is is_non_answer


def test_regex_non_answers():
    patterns = NonAnswers.parse(["n/a", r"re:x+"], "spec")
    assert patterns.matches("xxx") and patterns.matches("N/A") and not patterns.matches("xy")


BAD_SPECS = {
    "unknown-codebook": (
        MINI_SPEC.replace("codebook: fruit.yaml\n    base: mentions", "codebook: nope.yaml\n    base: mentions"),
        "codebook file 'nope.yaml' not found",
    ),
    "duplicate-question": (MINI_SPEC.replace("id: why", "id: fav"), "question id 'fav' appears twice"),
    "bad-base": (MINI_SPEC.replace("base: mentions", "base: people"), "base must be 'mentions' or 'respondents'"),
    "fold-unknown-theme": (MINI_SPEC.replace("themes: [kiwi]", "themes: [mango]"), "fold names theme 'mango'"),
    "column-twice": (MINI_SPEC.replace("columns: why", "columns: fav_1"), "column 'fav_1' is used twice"),
    "no-questions": ("survey: x\nrespondent_id: id\nquestions: []\n", "non-empty list"),
    "no-id-column": ("survey: x\nquestions: []\n", "missing 'respondent_id'"),
    "not-yaml": ("survey: [x\n", "not valid YAML"),
    "header-rows-zero": (MINI_SPEC + "header_rows: 0\n", "header_rows must be a whole number from 1 to 10"),
    "header-rows-text": (MINI_SPEC + "header_rows: three\n", "header_rows must be a whole number"),
    "header-names": (MINI_SPEC + "header_names: merged\n", "header_names must be 'first'"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS), ids=list(BAD_SPECS))
def test_bad_specs(mini, case):
    text, message = BAD_SPECS[case]
    mini["spec"].write_text(text, encoding="utf-8")
    with pytest.raises(CoderError, match=message) as info:
        load_spec(mini["spec"])
    assert "spec.yaml" in str(info.value)


def test_unknown_question_in_spec_lookup(corpus_spec):
    with pytest.raises(CoderError, match="unknown question 'q99'"):
        corpus_spec.question("q99")


def test_header_rows_joined_as_surveymonkey_names_them():
    from coder.survey.readers import joined_header

    top = ["Respondent ID", "Q1 text", "Q2 text", "", "", "Q3"]
    second = ["", "Response", "Yes", "No", "Other (please specify)", "Open-Ended Response"]
    assert joined_header([top, second]) == [
        "Respondent ID",
        "Q1 text",
        "Q2 text - Yes",
        "Q2 text - No",
        "Q2 text - Other (please specify)",
        "Q3",
    ]
