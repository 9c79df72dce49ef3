"""The default non-answers cover what survey tools and interviewers write for a skipped question."""

from __future__ import annotations

import pytest

from coder.survey.spec import DEFAULT_NON_ANSWERS, NonAnswers

DEFAULT = NonAnswers.parse(DEFAULT_NON_ANSWERS, "the default non_answers")


@pytest.mark.parametrize("cell", ["DK", "dk.", "Refused", "Prefer not to say", "Don't know", "N/A"])
def test_skipped_answers_are_non_answers(cell):
    assert DEFAULT.matches(cell)


@pytest.mark.parametrize("cell", ["DWP", "Dickens", "referred to the council", "no idea why they left"])
def test_real_answers_are_not(cell):
    assert not DEFAULT.matches(cell)
