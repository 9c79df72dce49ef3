"""Survey specs: which columns of an export hold which open question, and how to table it.

Paths inside a spec resolve relative to the spec file, so a spec and its
codebooks travel together and work from any directory.
"""

from __future__ import annotations

import difflib
import re
import re._parser as _re_parser  # type: ignore[import-not-found]  # typeshed has no stub for it (only sre_parse)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder.codebook.model import ID_PATTERN, Codebook, load_codebook
from coder.errors import CoderError
from coder.safe_input import (
    COLUMN_TEXT,
    LONG_TEXT,
    SHORT_TEXT,
    check_encoding,
    check_items,
    clean_text,
    excerpt,
    load_yaml,
    shorten,
)

BASES = ("mentions", "respondents")

# What survey respondents type when they have nothing to say. Matched after
# folding case, outer spaces and final punctuation (see `normalise_nonanswer`).
DEFAULT_NON_ANSWERS = (
    "",
    "n/a",
    "na",
    "n.a",
    "-",
    "--",
    "---",
    ".",
    "none",
    "nil",
    "no",
    "nothing",
    "no comment",
    "no comments",
    "don't know",
    "dont know",
    "do not know",
    "dk",
    "not sure",
    "unsure",
    "refused",
    "prefer not to say",
    "?",
    "x",
)


def normalise_nonanswer(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").casefold()
    text = " ".join(text.split())
    # "N/A." and "none!" are the same non-answer as "n/a" and "none".
    stripped = text.rstrip(".!;:, ")
    return stripped if stripped else text.strip()


# A `re:` non-answer is tried only on cells this short: a non-answer is a few words, and
# even a pattern that backtracks polynomially stays quick on so little text.
PATTERN_TEXT_LIMIT = 100
_MAX_UNBOUNDED_REPEATS = 4
_REPEATS = (_re_parser.MAX_REPEAT, _re_parser.MIN_REPEAT)


def _backtracking_risk(pattern: str) -> str | None:
    """Why `pattern` could backtrack for ever on some answer (ReDoS), or None.

    Python's `re` backtracks: a repeat inside a repeat, or a repeat of alternatives,
    tries exponentially many ways to fail (`(a+)+$` on forty `a`s and a `!` runs for
    hours), and each further open-ended repeat raises the power of a polynomial.
    """
    unbounded = 0

    def walk(items, inside_repeat: bool) -> str | None:
        nonlocal unbounded
        for op, arg in items:
            if op in _REPEATS:
                low, high, body = arg
                if high > 1:
                    if inside_repeat:
                        return "a repeat inside a repeat"
                    unbounded += 1
                found = walk(body, inside_repeat or high > 1)
            elif op is _re_parser.BRANCH:
                if inside_repeat:
                    return "a repeat of alternatives"
                found = next((r for branch in arg[1] if (r := walk(branch, inside_repeat))), None)
            elif op is _re_parser.SUBPATTERN:
                found = walk(arg[3], inside_repeat)
            elif op in (_re_parser.ASSERT, _re_parser.ASSERT_NOT):
                found = walk(arg[1], inside_repeat)
            elif op is _re_parser.GROUPREF_EXISTS:
                found = next((r for branch in arg[1:] if branch and (r := walk(branch, inside_repeat))), None)
            else:
                found = None
            if found:
                return found
        return None

    found = walk(_re_parser.parse(pattern), False)
    if not found and unbounded > _MAX_UNBOUNDED_REPEATS:
        found = f"more than {_MAX_UNBOUNDED_REPEATS} repeats (*, +, {{m,n}})"
    return found


REPEATED_TEXT = 40  # answers up to this long repeat enough to remember their verdict


@dataclass(frozen=True)
class NonAnswers:
    """Literal patterns, or `re:` regular expressions, that mark a cell as no answer."""

    literals: frozenset[str]
    patterns: tuple[re.Pattern[str], ...] = ()
    # Short answers repeat ("n/a", "CRM", "Yes"): each is judged once per list, whoever asks.
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, values: list[str] | tuple[str, ...], where: str) -> NonAnswers:
        literals, patterns = set(), []
        for value in check_items(list(values), where, "non_answers"):
            # A bare `-` is the empty answer; a whole number reads back as typed.
            if value is None or (isinstance(value, int) and not isinstance(value, bool)):
                value = "" if value is None else str(value)
            value = clean_text(value, where, "each of the non_answers")
            if value.startswith("re:"):
                try:
                    compiled = re.compile(value[3:], re.IGNORECASE)
                    risk = _backtracking_risk(value[3:])
                except (re.error, RecursionError, OverflowError) as exc:
                    raise CoderError(f"bad non-answer pattern {excerpt(value)}: {exc}", where=where) from None
                if risk:
                    raise CoderError(
                        f"non-answer pattern {excerpt(value)} holds {risk}, which can take hours on some "
                        "answers; write it without nesting (e.g. re:a+ instead of re:(a+)+)",
                        where=where,
                    )
                patterns.append(compiled)
            else:
                literals.add(normalise_nonanswer(value))
        literals.add("")
        return cls(frozenset(literals), tuple(patterns))

    def matches(self, text: str) -> bool:
        if len(text) > REPEATED_TEXT:
            return self._judge(text)
        verdict = self._verdicts.get(text)
        if verdict is None:
            verdict = self._verdicts[text] = self._judge(text)
        return verdict

    def _judge(self, text: str) -> bool:
        if normalise_nonanswer(text) in self.literals:
            return True
        stripped = text.strip()
        return len(stripped) <= PATTERN_TEXT_LIMIT and any(p.fullmatch(stripped) for p in self.patterns)

    def to_list(self) -> list[str]:
        return sorted(self.literals) + ["re:" + p.pattern for p in self.patterns]


@dataclass(frozen=True)
class Fold:
    """Themes whose counts go into one row (the `into` theme's), printed last.

    Either a list of `themes`, or `all_except`: every theme not kept, so a theme
    added while coding is folded too.
    """

    into: str
    themes: tuple[str, ...] = ()
    all_except: tuple[str, ...] | None = None

    def members(self, theme_ids: list[str]) -> set[str]:
        if self.all_except is not None:
            return {t for t in theme_ids if t not in self.all_except} | {self.into}
        return {self.into, *self.themes}

    def to_json(self) -> dict:
        return {
            "into": self.into,
            "themes": list(self.themes),
            "all_except": None if self.all_except is None else list(self.all_except),
        }

    @classmethod
    def from_json(cls, data: dict) -> Fold:
        keep = data.get("all_except")
        return cls(data["into"], tuple(data.get("themes") or ()), None if keep is None else tuple(keep))


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    columns: tuple[str, ...]
    codebook: Codebook
    base: str
    non_answers: NonAnswers
    fold: Fold | None = None
    title: str = ""
    header: str = "Theme"


@dataclass(frozen=True)
class SurveySpec:
    path: Path
    survey: str
    title: str
    respondent_id: str
    attributes: tuple[str, ...]
    questions: tuple[Question, ...]
    sheet: str | None = None
    encoding: str | None = None
    header_rows: int = 1  # Qualtrics exports carry 3: the names, the question wording, import ids
    header_names: str = "first"  # or "joined": SurveyMonkey names a column by its question and option rows

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions)
        raise CoderError(f"unknown question {question_id!r}; the spec has {known}", where=str(self.path))

    @property
    def columns(self) -> list[str]:
        cols = [self.respondent_id, *self.attributes]
        for question in self.questions:
            cols.extend(question.columns)
        return cols


def _require(mapping: dict, key: str, where: str, limit: int = SHORT_TEXT) -> str:
    """A required text field, checked like every text a spec holds."""
    if key not in mapping or mapping[key] in (None, ""):
        raise CoderError(f"missing {key!r}", where=where)
    value = clean_text(mapping[key], where, key, limit)
    if not value:
        raise CoderError(f"missing {key!r}", where=where)
    return value


def _optional(mapping: dict, key: str, where: str, limit: int = SHORT_TEXT) -> str:
    value = mapping.get(key)
    return "" if value is None else clean_text(value, where, key, limit)


def _column_list(value: Any, where: str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise CoderError(f"{what} must be a column name or a list of column names", where=where)
    return tuple(clean_text(v, where, "each of the " + what, COLUMN_TEXT) for v in check_items(value, where, what))


def _encoding(value: Any, where: str) -> str | None:
    if value is None:
        return None
    return check_encoding(clean_text(value, where, "encoding"), where)


SPEC_KEYS = (
    "survey",
    "title",
    "respondent_id",
    "attributes",
    "questions",
    "non_answers",
    "sheet",
    "encoding",
    "header_rows",
    "header_names",
)
MAX_HEADER_ROWS = 10
QUESTION_KEYS = ("id", "text", "columns", "column", "codebook", "base", "fold", "non_answers", "table")
FOLD_KEYS = ("into", "themes", "all_except")
TABLE_KEYS = ("title", "header")


def _known_keys(mapping: dict, known: tuple[str, ...], where: str) -> None:
    """A misspelt key (`non_answer:`) would be ignored in silence and its default used: name it."""
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; the keys are {', '.join(known)}"
            raise CoderError(f"unknown key {excerpt(str(key))}{hint}", where=where)


def _parse_question(raw: Any, index: int, spec_dir: Path, source: str, default_na: list) -> Question:
    where = f"{source}, question {index}"
    if not isinstance(raw, dict):
        raise CoderError("each question must be a mapping", where=where)
    qid = _require(raw, "id", where)
    where = f"{source}, question {excerpt(qid)}"
    _known_keys(raw, QUESTION_KEYS, where)
    if not ID_PATTERN.fullmatch(qid):
        raise CoderError("question id must be lower-case letters, digits, '-' or '_'", where=where)
    columns = _column_list(raw.get("columns", raw.get("column")), where, "columns")
    codebook_ref = _require(raw, "codebook", where, COLUMN_TEXT)
    codebook_path = (spec_dir / codebook_ref).resolve()
    if not codebook_path.exists():
        raise CoderError(
            f"codebook file {excerpt(codebook_ref)} not found (looked in {shorten(str(codebook_path), 200)})",
            where=where,
        )
    codebook = load_codebook(codebook_path)
    base = _optional(raw, "base", where) or "mentions"
    if base not in BASES:
        raise CoderError(f"base must be 'mentions' or 'respondents', not {excerpt(base)}", where=where)
    fold = None
    if raw.get("fold") is not None:
        fold_raw = raw["fold"]
        if not isinstance(fold_raw, dict):
            raise CoderError("fold must be a mapping with 'into' and 'themes'", where=where)
        _known_keys(fold_raw, FOLD_KEYS, where + ", fold")
        into = _require(fold_raw, "into", where + ", fold")
        themes = fold_raw.get("themes") or []
        keep = fold_raw.get("all_except")
        if not isinstance(themes, list) or not isinstance(keep, (list, type(None))):
            raise CoderError("fold 'themes' and 'all_except' must be lists of theme ids", where=where)
        if themes and keep is not None:
            raise CoderError("fold takes 'themes' or 'all_except', not both", where=where)
        found: dict[str, str] = {}  # each name as written -> the id of the theme it names
        for theme_id in [
            into,
            *check_items(themes, where, "fold themes"),
            *check_items(keep or [], where, "all_except"),
        ]:
            theme = codebook.find(clean_text(theme_id, where + ", fold", "each theme"))
            if theme is None:
                raise CoderError(
                    f"fold names theme {excerpt(theme_id)}, which codebook {codebook.id!r} lacks", where=where
                )
            found[theme_id] = theme.id
        fold = Fold(
            found[into],
            tuple(found[t] for t in themes),
            None if keep is None else tuple(found[t] for t in keep),
        )
    non_answers = raw.get("non_answers", default_na)
    if not isinstance(non_answers, list):
        raise CoderError("non_answers must be a list", where=where)
    table = raw.get("table") or {}
    if not isinstance(table, dict):
        raise CoderError("table must be a mapping with 'title' and 'header'", where=where)
    _known_keys(table, TABLE_KEYS, where + ", table")
    text = _optional(raw, "text", where, LONG_TEXT)
    return Question(
        id=qid,
        text=text,
        columns=columns,
        codebook=codebook,
        base=base,
        non_answers=NonAnswers.parse(non_answers, where),
        fold=fold,
        title=_optional(table, "title", where + ", table") or text or qid,
        header=_optional(table, "header", where + ", table") or "Theme",
    )


def load_spec(path: str | Path) -> SurveySpec:
    path = Path(path)
    source = str(path)
    data, _ = load_yaml(path, "survey spec")
    if not isinstance(data, dict):
        raise CoderError("a survey spec must be a mapping (survey, respondent_id, questions)", where=source)
    _known_keys(data, SPEC_KEYS, source)
    survey = _require(data, "survey", source)
    respondent_id = _require(data, "respondent_id", source, COLUMN_TEXT)
    attributes = data.get("attributes") or []
    if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
        raise CoderError("attributes must be a list of column names", where=source)
    attributes = [
        clean_text(a, source, "each of the attributes", COLUMN_TEXT)
        for a in check_items(attributes, source, "attributes")
    ]
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise CoderError("'questions' must be a non-empty list", where=source)
    check_items(raw_questions, source, "questions")
    default_na = data.get("non_answers", list(DEFAULT_NON_ANSWERS))
    if not isinstance(default_na, list):
        raise CoderError("non_answers must be a list", where=source)
    questions = [_parse_question(raw, i, path.parent, source, default_na) for i, raw in enumerate(raw_questions, 1)]
    seen: set[str] = set()
    columns_seen: dict[str, str] = {}
    for question in questions:
        if question.id in seen:
            raise CoderError(f"question id {question.id!r} appears twice", where=source)
        seen.add(question.id)
        for column in question.columns:
            if column in columns_seen or column == respondent_id or column in attributes:
                raise CoderError(
                    f"column {excerpt(column)} is used twice in the spec", where=f"{source}, question {question.id!r}"
                )
            columns_seen[column] = question.id
    return SurveySpec(
        path=path,
        survey=survey,
        title=_optional(data, "title", source) or survey,
        respondent_id=respondent_id,
        attributes=tuple(attributes),
        questions=tuple(questions),
        sheet=_optional(data, "sheet", source) or None,
        encoding=_encoding(data.get("encoding"), source),
        header_rows=_header_rows(data.get("header_rows", 1), source),
        header_names=_header_names(data.get("header_names", "first"), source),
    )


def _header_names(value: Any, where: str) -> str:
    if value not in ("first", "joined"):
        raise CoderError(
            "header_names must be 'first' (the first header row names the columns) or 'joined' (every header "
            f"row, as SurveyMonkey writes them), not {excerpt(str(value))}",
            where=where,
        )
    return value


def _header_rows(value: Any, where: str) -> int:
    """Rows at the top of the export before the answers; the first names the columns."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HEADER_ROWS:
        raise CoderError(
            f"header_rows must be a whole number from 1 to {MAX_HEADER_ROWS} (rows before the answers; "
            f"the first names the columns), not {excerpt(str(value))}",
            where=where,
        )
    return value
