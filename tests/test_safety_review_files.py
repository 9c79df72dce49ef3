"""Issue 10, a second adversarial review of files and database state: what the first fixes missed."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from coder.cli import cli
from coder.errors import CoderError
from coder.spec import NonAnswers

from .conftest import MINI_HEADER, MINI_ROWS, write_csv


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert (result.exit_code == 0) == ok, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("pattern", ["re:(a+)+$", "re:(a|a)*$", "re:(?:x*)*y", "re:(a{1,9}){1,9}$", "re:a*a*a*a*a*b"])
def test_a_non_answer_pattern_that_backtracks_for_ever_is_refused(mini, pattern):
    spec = mini["spec"].read_text(encoding="utf-8").replace("    base: mentions\n", f"    base: mentions\n    non_answers: ['{pattern}']\n")
    mini["spec"].write_text(spec, encoding="utf-8")
    rows = [row[:] for row in MINI_ROWS]
    rows[0][-1] = "a" * 40 + "!"  # hours for (a+)+$
    write_csv(mini["export"], [MINI_HEADER, *rows])
    started = time.monotonic()
    result = run("import", mini["db"], "--survey", mini["spec"], "--responses", mini["export"], ok=False)
    assert time.monotonic() - started < 5
    assert "non-answer pattern" in result.output and "nesting" in result.output
    assert not mini["db"].exists()


def test_ordinary_non_answer_patterns_still_work():
    non = NonAnswers.parse([r"re:\s*(n/?a|none)\s*", r"re:^\s*(none|nil)\s*[.!]*\s*$", "re:x(?:y|z)?"], "spec")
    assert non.matches(" N/A ") and non.matches("none!") and non.matches("xz")
    assert not non.matches("an answer")


def test_a_pattern_is_tried_only_on_short_cells():
    """Even a polynomial pattern stays quick: a long cell is an answer, whatever the pattern."""
    non = NonAnswers.parse(["re:a*a*a*a*b"], "spec")
    started = time.monotonic()
    assert not non.matches("a" * 100_000)
    assert time.monotonic() - started < 1
    with pytest.raises(CoderError, match="bad non-answer pattern"):
        NonAnswers.parse(["re:(unclosed"], "spec")
