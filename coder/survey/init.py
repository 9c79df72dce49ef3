"""A first survey spec and empty codebooks, guessed from a raw export (`coder init`).

A researcher starting from a survey tool's export has no spec and no codebook. This reads
the export once, decides what each column is (the respondent id, an open question, a
numbered group of answers to one question, a short attribute, or nothing worth keeping),
says why for each, and writes a commented spec that `coder import` accepts unedited.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from coder.codebook.model import ID_PATTERN
from coder.errors import CoderError, location
from coder.outputs import write_output
from coder.safe_input import COLUMN_TEXT, SHORT_TEXT, clean_text, excerpt, shorten
from coder.survey.readers import (
    MAX_ATTRIBUTE_CHARS,
    MAX_ID_CHARS,
    check_row_width,
    joined_header,
    open_export,
    xlsx_sheet_names,
)
from coder.survey.spec import DEFAULT_NON_ANSWERS, NonAnswers

OPEN_MIN_WORDS = 4.0  # mean words per answer: job titles and organisations stay below, comments above
OPEN_MIN_VARIETY = 0.5  # distinct answers / answers: a choice list repeats itself
CLOSED_MAX_CHOICES = 20  # the most options a closed question in front of "Other (please specify)" has
CODE_MAX_CHARS = 64
CHOICE_SEPARATORS = (";", ",", "|")  # how survey tools join a multiple-choice question's ticked options in one cell
CHOICE_MAX_OPTIONS = 40
CHOICE_MIN_USES = 3  # a part seen this often is an option; rarer ones are written-in "Other" text
CHOICE_MIN_JOINED = 0.2  # share of answers with two or more options ticked
CHOICE_COVERED = 0.9  # share of all parts that are options
CELLS_KEPT = 1_000  # distinct cells per column counted before they are split: a closed question has fewer
CELL_CHARS = 500  # a longer cell is split at once, not kept: ticked options are short
SLUG_MAX_CHARS = 40
KEPT_VALUES = 3  # values shown for an attribute
DISTINCT_CAP = 20_000  # distinct values counted per column, to bound memory
# Variety is measured on each column's first answers: over a whole large export even typed-in answers
# repeat ("HMRC"), and the same column should be judged alike in a pilot and in the full survey.
VARIETY_SAMPLE = 200
_ID_WORDS = {"id", "uuid", "guid", "respondent", "resp", "respid", "respno", "respondentid", "responseid"}
_ID_PREFIXES = ("respondent", "response", "resp", "record", "participant", "case", "user", "submission", "entry")
_OPEN_HINT = re.compile(r"comment|other|specify|why|reason|explain|describe|suggest|feedback|improve|\?", re.I)
_OTHER_SPECIFY = re.compile(r"specify|^other\b|[_ .-]text$", re.I)
# A numbered column: a stem, a separator, then 1-3 digits (q14_priority_1, Dept 1, Q5.1, Q5 (1), Q5[1]).
_NUMBERED = re.compile(r"^(?P<stem>.*?[^\s_.#-])(?:[\s_.#-]+\(?|\(|\[)(?P<n>\d{1,3})[)\]]?$")
# What a survey tool records about the respondent's device (Qualtrics' IPAddress, LocationLatitude; SurveyMonkey's
# "IP Address"): personal data that no table breaks down by.
_TRACKING = {"ipaddress", "locationlatitude", "locationlongitude"}
# When the survey was taken, as Qualtrics (StartDate, RecordedDate, "Duration (in seconds)") and SurveyMonkey
# ("Start Date") record it: a different value in almost every row, so as an attribute `--by` would print a
# column per respondent.
_TIMING = {"startdate", "enddate", "recordeddate", "duration", "duration(inseconds)"}
_GENERIC_STEMS = {"q", "qu", "question", "item", "column", "field", "var"}  # Question 1, Question 2: not one question
_QUESTION_NUMBER = re.compile(r"^(q\d{1,4}[a-z]?)(?![a-z0-9])")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")
# A date, maybe with a time of day and zone, as survey tools and spreadsheets write them: 2024-03-01T10:02:11Z,
# 2024/03/01 10:02:11 AM GMT (Google Forms), 01/03/2024 10:02, 3.1.2024.
_DATE_TIME = re.compile(
    r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?(?:\s?(?:Z|[A-Z]{2,5}|[+-]\d{2}:?\d{2}))?)?$"
)
# Characters YAML may not hold raw (PyYAML refuses them or reads them as line breaks): escaped in quotes.
_YAML_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Column:
    """What one column of the export holds, gathered in one pass."""

    index: int
    name: str
    filled: int = 0  # non-empty cells
    answers: int = 0  # non-empty cells that are not non-answers
    words: int = 0  # over answers
    longest: int = 0
    integers: bool = True
    numbers: bool = True
    codes: bool = True  # no whitespace, short
    dates: bool = True  # every value a date or a date and time
    values: Counter = field(default_factory=Counter)  # first values seen, for the reasons printed
    hashes: set = field(default_factory=set)  # distinct values: all while the column could be the id
    answer_hashes: set = field(default_factory=set)
    sample: set = field(default_factory=set)  # distinct values among the first VARIETY_SAMPLE answers
    unique: bool = True  # no value seen twice so far
    id_like: bool = False  # named like an id column
    # Per separator, how often each part of a cell split on it was seen (None once too many differ: not a list).
    parts: dict = field(default_factory=lambda: {s: Counter() for s in CHOICE_SEPARATORS})
    joined: Counter = field(default_factory=Counter)  # per separator, answers it splits into 2+ parts
    cells: Counter = field(default_factory=Counter)  # cells not yet split into parts, by text (see `_split`)

    def add(self, text: str, non_answer: bool) -> None:
        self.filled += 1
        self.longest = max(self.longest, len(text))
        shown = shorten(text, 40)
        if len(self.values) < 50 or shown in self.values:
            self.values[shown] += 1
        self.integers = self.integers and bool(_INTEGER.match(text))
        self.numbers = self.numbers and bool(_NUMBER.match(text))
        self.dates = self.dates and bool(_DATE_TIME.match(text))
        self.codes = self.codes and len(text) <= CODE_MAX_CHARS and not any(c.isspace() for c in text)
        # Every value of a column that could still be the id; a sample of the others, to bound memory.
        if (self.unique and (self.codes or self.id_like)) or len(self.hashes) < DISTINCT_CAP:
            self.hashes.add(hash(text))
        self.unique = self.unique and len(self.hashes) == self.filled
        if not non_answer:
            self.answers += 1
            self.words += len(text.split())
            if len(self.answer_hashes) < DISTINCT_CAP:
                self.answer_hashes.add(hash(text))
            if self.answers <= VARIETY_SAMPLE:
                self.sample.add(hash(text))
            self._split(text)

    def _split(self, text: str) -> None:
        """Count the parts of a cell per separator; a closed question's few repeated cells once each."""
        if all(seen is None for seen in self.parts.values()):
            return
        if len(text) > CELL_CHARS:
            self._count(text, 1)
            return
        if text not in self.cells and len(self.cells) >= CELLS_KEPT:
            self._count_parts()
        self.cells[text] += 1

    def _count_parts(self) -> None:
        """Split the cells kept so far, each once for all its repeats."""
        for text, n in self.cells.items():
            self._count(text, n)
        self.cells.clear()

    def _count(self, text: str, n: int) -> None:
        for separator, seen in self.parts.items():
            if seen is None:
                continue
            pieces = [p for p in (q.strip().casefold() for q in text.split(separator)) if p]
            if len(pieces) > 1:
                self.joined[separator] += n
            for piece in pieces:
                seen[piece] += n
            if len(seen) > 20 * CHOICE_MAX_OPTIONS:  # free text: stop counting, bound the memory
                self.parts[separator] = None

    def choice_list(self) -> tuple[str, int] | None:
        """(separator, options) when the cells are ticked options of a multiple-choice question joined in one
        cell, as Google Forms ("A, B"), SurveyMonkey and Microsoft Forms ("A;B") write checkboxes: a closed
        question, whatever its many combinations look like. Written-in "Other" text may sit among the options."""
        self._count_parts()
        for separator in sorted(CHOICE_SEPARATORS, key=lambda s: -self.joined[s]):
            seen = self.parts[separator]
            if seen is None or self.joined[separator] < max(5, CHOICE_MIN_JOINED * self.answers):
                continue
            options = [n for n in seen.values() if n >= CHOICE_MIN_USES]
            if 2 <= len(options) <= CHOICE_MAX_OPTIONS and sum(options) >= CHOICE_COVERED * sum(seen.values()):
                return separator, len(options)
        return None

    @property
    def distinct(self) -> int:
        return len(self.hashes)

    def shown_values(self) -> str:
        top = [excerpt(v, 20) for v, _ in self.values.most_common(KEPT_VALUES)]
        return ", ".join(top) + (", ..." if self.distinct > KEPT_VALUES else "")


@dataclass
class Decision:
    """One line of what init decided: the columns, what they became, and why."""

    index: int  # of the first column, to list decisions in header order
    columns: tuple[str, ...]
    role: str  # "respondent id", "question", "attribute", "left out"
    reason: str
    question_id: str = ""

    @property
    def shown(self) -> str:
        if len(self.columns) == 1:
            return shorten(self.columns[0], 40)
        return f"{shorten(self.columns[0], 30)} .. {shorten(self.columns[-1], 30)} ({len(self.columns)} columns)"


@dataclass
class PlannedQuestion:
    id: str
    text: str
    columns: tuple[str, ...]
    codebook_id: str
    codebook_title: str
    reason: str

    @property
    def base(self) -> str:
        # Several columns are one respondent's answers: count each respondent once per theme.
        return "respondents" if len(self.columns) > 1 else "mentions"


@dataclass
class Plan:
    """Everything init decided about an export; `files` renders it."""

    export: Path
    encoding: str
    rows: int
    survey: str
    respondent_id: str | None
    id_reason: str
    attributes: list[str]
    questions: list[PlannedQuestion]
    decisions: list[Decision]
    encoding_given: str | None = None
    sheet: str | None = None
    header_rows: int = 1
    header_names: str = "first"
    title_rows: int = 0  # rows above the header that hold a title (readers.title_rows; import skips them too)
    sheet_reason: str = ""  # why this sheet and not the first, when init chose it

    def files(self) -> dict[str, str]:
        """Relative path -> text of every file to write, or a CoderError saying why none can be."""
        if self.respondent_id is None:
            raise CoderError(f"no respondent id column: {self.id_reason}", where=str(self.export))
        if not self.questions:
            raise CoderError(
                "no open question found (a column of long, varied free-text answers); nothing to code. "
                "If a column printed as an attribute is one, list it under questions in a spec by hand (README: Survey spec)",
                where=str(self.export),
            )
        out = {"survey.yaml": self._spec_text()}
        for question in self.questions:
            out[f"codebooks/{question.codebook_id}.yaml"] = _codebook_text(question)
        return out

    def _spec_text(self) -> str:
        left_out = [d for d in self.decisions if d.role == "left out"]
        lines = [
            f"# Survey spec written by `coder init` from {_comment(self.export.name)} ({self.rows} rows).",
            "# Check it, then load the answers with:",
            f"#   coder import survey.db --survey <this file> --responses {_comment(self.export.name)}",
            "# Codebook paths resolve relative to this file.",
            f"survey: {_quote(self.survey)}  # a short name; one database holds one survey",
            f"title: {_quote(self.survey)}  # printed above every table",
            *([f"encoding: {_quote(self.encoding_given)}  # as given to coder init"] if self.encoding_given else []),
            *([f"sheet: {_quote(self.sheet)}  # the workbook sheet to read"] if self.sheet else []),
            *(
                [f"header_rows: {self.header_rows}  # Qualtrics: names, question wording, import ids; answers below"]
                if self.header_rows > 1 and self.header_names == "first"
                else []
            ),
            *(
                [
                    f"header_rows: {self.header_rows}  # SurveyMonkey: the question, then the option under it",
                    "header_names: joined  # a column is named 'question - option' (a blank question cell: the one on its left)",
                ]
                if self.header_names == "joined"
                else []
            ),
            f"# {_comment(self.id_reason)}",
            f"respondent_id: {_quote(self.respondent_id or '')}",
            "# Short, categorical columns kept with each respondent: `coder table --by NAME` breaks a table",
            "# down by one.",
            "# Remove the ones you do not need (names and emails are personal data).",
        ]
        lines.append("attributes:" + ("" if self.attributes else " []"))
        lines += [f"  - {_quote(name)}" for name in self.attributes]
        lines += [
            "# Answers that mean 'no answer' are kept out of every base and never coded. Delete a line to code",
            '# that answer (e.g. "don\'t know"), or write `non_answers: []` to code every answer. An entry',
            "# starting re: is a regular expression. A question may have its own non_answers list.",
            "non_answers:",
            *(f"  - {_quote(value)}" for value in DEFAULT_NON_ANSWERS),
            "# The open questions, each coded with its own codebook (codebooks/, empty to start: add themes",
            "# in `coder code` with n, or with `coder discover`). Edit `text` to the question as asked.",
            "# base: mentions counts answers; respondents counts each respondent once per theme (for a",
            "# question spread over several columns). Once a codebook has themes, a question can fold rare",
            "# ones into one row, e.g. fold: {into: other, all_except: [theme-a, theme-b]}, and set",
            "# table: {title: ..., header: ...} for its tables.",
            "questions:",
        ]
        for question in self.questions:
            lines += [
                f"  # {_comment(question.reason)}",
                f"  - id: {_scalar(question.id)}",
                f"    text: {_quote(question.text)}",
                f"    columns: [{', '.join(_quote(c) for c in question.columns)}]",
                f"    codebook: {_scalar(f'codebooks/{question.codebook_id}.yaml')}",
                f"    base: {question.base}",
            ]
        if left_out:
            lines.append("# Left out (add a column to attributes or questions to keep it):")
            lines += [f"#   {_comment(excerpt(d.columns[0], 80))}: {_comment(d.reason)}" for d in left_out]
        return "\n".join(lines) + "\n"


def _codebook_text(question: PlannedQuestion) -> str:
    return "\n".join(
        [
            f"# Codebook for question {question.id}, written by `coder init`: it starts with no themes.",
            "# Add them here (id, label, description, keywords), in `coder code` (press n), or with",
            f"# `coder discover DB --question {question.id}`.",
            f"id: {_scalar(question.codebook_id)}",
            f"title: {_quote(question.codebook_title)}",
            "kind: text",
            "themes: []",
            "",
        ]
    )


def _quote(text: str) -> str:
    """A YAML double-quoted scalar that reads back as `text`, whatever it holds."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _YAML_UNSAFE.sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) <= 0xFFFF else f"\\U{ord(m.group()):08x}", quoted
    )


def _scalar(text: str) -> str:
    """An id or path plain when YAML reads it back as the same text (not `0`, `no` or `null`), else quoted."""
    plain = ID_PATTERN.fullmatch(re.sub(r"[/.]", "-", text)) and yaml.safe_load(f"k: {text}") == {"k": text}
    return text if plain else _quote(text)


def _comment(text: str) -> str:
    """Text safe in a YAML comment: one line, printable."""
    return _YAML_UNSAFE.sub("?", " ".join(text.split()))


def _slug(text: str, separator: str = "-") -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()
    slug = re.sub(r"[^a-z0-9]+", separator, folded).strip(separator)
    if len(slug) > SLUG_MAX_CHARS:
        slug = (
            slug[:SLUG_MAX_CHARS].rsplit(separator, 1)[0]
            if separator in slug[:SLUG_MAX_CHARS]
            else slug[:SLUG_MAX_CHARS]
        )
    return slug


def _unique(wanted: str, taken: set[str]) -> str:
    chosen, n = wanted, 2
    while chosen in taken:
        chosen, n = f"{wanted}-{n}", n + 1
    taken.add(chosen)
    return chosen


def _id_like_name(name: str) -> bool:
    folded = name.casefold()
    compact = re.sub(r"[^a-z0-9]", "", folded)
    tokens = set(re.findall(r"[a-z0-9]+", folded))
    return (
        bool(tokens & {"id", "uuid", "guid"})
        or compact in _ID_WORDS
        or (compact.endswith("id") and compact[:-2] in _ID_PREFIXES)
    )


def _unusable_name(name: str, counts: Counter) -> str | None:
    """Why a spec cannot name this column (import would not find it), or None."""
    if not name:
        return "its header is blank, so a spec cannot name it: give it a name in the export"
    if counts[name] > 1:
        return f"{counts[name]} columns share this header, so a spec cannot tell them apart: rename them"
    try:
        clean_text(name, None, "column", COLUMN_TEXT)  # a spec names it folded; import matches it so
    except CoderError:
        return "its header holds a control character or is too long for a spec: rename it"
    return None


_IMPORT_ID = re.compile(r'^\{\s*"ImportId"\s*:')


def qualtrics_header(first_rows: list[list[str]]) -> tuple[int, list[str]]:
    """(header rows, each column's question wording): Qualtrics puts the wording in row 2 and
    `{"ImportId": ...}` in row 3 under the short names of row 1; other exports have one header row."""
    if len(first_rows) == 2:
        cells = [c.strip() for c in first_rows[1] if c.strip()]
        if cells and sum(1 for c in cells if _IMPORT_ID.match(c)) * 2 > len(cells):
            return 3, [" ".join(c.split()) for c in first_rows[0]]
    return 1, []


def surveymonkey_header(first_row: list[str]) -> bool:
    """SurveyMonkey's second header row: blank under the respondent's own columns, "Response" or
    "Open-Ended Response" (or an option) under each question."""
    plain = sum(1 for c in first_row if c.strip().casefold() in ("response", "open-ended response"))
    return bool(first_row) and not first_row[0].strip() and plain > 0


def profile(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> tuple:
    """Read the export once: (export, columns, data rows, header rows, question wording, names joined)."""
    export = open_export(path, encoding=encoding, sheet=sheet)
    non_answers = NonAnswers.parse(list(DEFAULT_NON_ANSWERS), "the default non_answers")
    data = iter(export.rows)
    first = list(itertools.islice(data, 2))
    header_rows, wording = qualtrics_header([row for _, row in first])
    names, joined = export.header, False
    if header_rows == 1 and first and surveymonkey_header(first[0][1]):
        header_rows, joined = 2, True
        names = joined_header([export.header, first[0][1]])
    columns = [Column(i, name, id_like=_id_like_name(name)) for i, name in enumerate(names)]
    width, rows = len(columns), 0
    for number, row in itertools.chain(first[header_rows - 1 :], data):
        check_row_width(export.path, number, row, width)
        rows += 1
        for column, cell in zip(columns, row):
            text = cell.replace("\r\n", "\n").strip()
            if not text:
                continue
            column.add(text, non_answers.matches(text))
    if not rows:
        raise CoderError("the file has a header but no data rows", where=str(export.path))
    return export, columns, rows, header_rows, wording, joined


def _group(columns: list[Column]) -> list[list[Column]]:
    """Adjacent columns numbered 1, 2, 3... under one stem (q14_priority_1..3, Dept 1/2/3), and singles."""
    groups: list[list[Column]] = []
    for column in columns:
        match = _NUMBERED.match(column.name)
        if groups and match and len(groups[-1]) and (last := _NUMBERED.match(groups[-1][-1].name)):
            same_stem = match["stem"].casefold() == last["stem"].casefold()
            if same_stem and int(match["n"]) == int(last["n"]) + 1 and last["stem"].casefold() not in _GENERIC_STEMS:
                groups[-1].append(column)
                continue
        groups.append([column])
    return groups


def _count(sets) -> str:
    """How many distinct values, '20,000+' once a column reached the cap."""
    sizes = [len(s) for s in sets]
    return f"{sum(sizes):,}" + ("+" if DISTINCT_CAP in sizes else "")


def _is_open(columns: list[Column]) -> tuple[bool, str]:
    """Whether these columns hold free text to code, and the facts that decided it."""
    answers = sum(c.answers for c in columns)
    mean_words = sum(c.words for c in columns) / answers if answers else 0.0
    sampled = sum(min(c.answers, VARIETY_SAMPLE) for c in columns)
    variety = sum(len(c.sample) for c in columns) / sampled if sampled else 0.0
    different = _count(c.answer_hashes for c in columns)
    facts = f"{answers:,} answers, {different} different, {mean_words:.1f} words on average"
    filled, different = sum(c.filled for c in columns), _count(c.hashes for c in columns)
    values = f"{filled:,} filled, {different} different: {columns[0].shown_values()}"
    if any(c.longest > MAX_ATTRIBUTE_CHARS for c in columns):
        return True, f"free text ({facts}; some answers are very long)"
    if all(c.numbers for c in columns):
        return False, f"numbers ({values})"
    # Few values are simply a closed question (below); a list's many combinations are not free text either.
    ticked = [t for t in (c.choice_list() for c in columns) if t]
    if sum(c.distinct for c in columns) > CLOSED_MAX_CHOICES and len(ticked) == len(columns):
        separator, options = ticked[0]
        return False, f"a multiple-choice list: {options} options joined by {separator!r} ({values})"
    if all(c.dates and c.filled for c in columns):
        return False, f"dates ({values})"
    if variety < OPEN_MIN_VARIETY:
        if sum(c.distinct for c in columns) <= CLOSED_MAX_CHOICES:
            return False, f"a few values repeated ({values})"
        if not all(any(ch.isalpha() for ch in v) for c in columns for v in c.values):  # dates, codes
            return False, f"values repeated ({values})"
        # Many spellings of a few answers (ANES's "vice president", "VP", "Vice-President"): maybe a names question.
        return False, (
            f"short answers that repeat ({values}; {variety:.0%} of the first {VARIETY_SAMPLE} different): "
            "to code it, move it to questions"
        )
    if len(columns) > 1 and mean_words >= 1:
        return True, f"varied text ({facts})"
    if mean_words >= OPEN_MIN_WORDS:
        return True, f"free text: long, varied answers ({facts})"
    if _OPEN_HINT.search(columns[0].name) and mean_words >= 2:
        return True, f"free text: varied answers, and its header asks for them ({facts})"
    return False, f"short answers ({values}; {mean_words:.1f} words on average)"


def _choose_id(columns: list[Column], rows: int, unusable: dict[int, str]) -> tuple[Column | None, str]:
    def usable(column: Column) -> bool:
        return (
            column.index not in unusable and column.filled == rows and column.unique and column.longest <= MAX_ID_CHARS
        )

    named = [c for c in columns if c.id_like]
    for column in named:
        if usable(column):
            return column, f"named like an id, filled and unique in all {rows:,} rows"
    for kind, test in (("whole numbers", lambda c: c.integers), ("short codes", lambda c: c.codes)):
        for column in columns:
            if usable(column) and test(column):
                return column, f"{kind}, filled and unique in all {rows:,} rows"
    problems = []
    repeated = False  # an id-like column filled in every row whose values repeat
    for column in named:
        if column.index in unusable:
            problems.append(f"{excerpt(column.name)} {unusable[column.index]}")
        elif column.filled < rows:
            empty = rows - column.filled
            problems.append(f"{excerpt(column.name)} is empty in {empty:,} row{'' if empty == 1 else 's'}")
        elif not column.unique:
            repeated = True
            problems.append(
                f"{excerpt(column.name)} repeats values ({_count([column.hashes])} different values in {rows:,} rows)"
            )
    found = ("; ".join(problems) + ". ") if problems else ""
    # An id that repeats is often a respondent with one row per answer (a "long" export), whose
    # answers a row-number id would split into as many respondents: say which way out keeps them.
    long_export = (
        "If the file has one row per answer, reshape it to one row per respondent, with that respondent's "
        "answers in numbered columns (e.g. answer_1, answer_2), which coder init groups as one question; "
        "a row-number id instead counts every row as a respondent. Or add"
        if repeated
        else "Add"
    )
    return None, (
        f"no column is filled and unique in every row with an id-like name, whole numbers or short codes. "
        f"{found}{long_export} a column with one unique id per row (e.g. the row number) to the export, then run "
        "coder init again"
    )


def _question_id(name: str, position: int, taken: set[str]) -> str:
    match = _QUESTION_NUMBER.match(name.strip().casefold())
    wanted = match.group(1) if match and match.group(1) not in taken else _slug(name, "_")
    if not wanted or not ID_PATTERN.fullmatch(wanted):
        wanted = f"q{position}"
    return _unique(wanted, taken)


def _survey_name(path: Path) -> str:
    generic = {"responses", "response", "export", "data", "results", "survey", "answers"}
    stem = _slug(path.stem)
    if stem in generic or not stem:
        stem = _slug(path.resolve().parent.name) or stem
    return stem or "survey"


def plan_survey(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> Plan:
    """Decide, and say why, what each column of the export is.

    A workbook whose first sheet holds nothing to code (a summary, a cover sheet) is read from the
    first sheet that does, and the plan says so; `sheet` names one and nothing else is tried.
    """
    if sheet is not None or Path(path).suffix.casefold() not in (".xlsx", ".xlsm"):
        return _plan_sheet(path, encoding=encoding, sheet=sheet)
    try:
        plan: Plan | None = _plan_sheet(path, encoding=encoding)
        failure: CoderError | None = None
    except CoderError as error:
        plan, failure = None, error
    if plan is not None and plan.questions and plan.respondent_id is not None:
        return plan
    names = xlsx_sheet_names(Path(path))
    for position, name in enumerate(names[1:], start=1):
        try:
            other = _plan_sheet(path, encoding=encoding, sheet=name)
        except CoderError:
            continue
        if other.questions and other.respondent_id is not None:
            passed = ", ".join(repr(n) for n in names[:position])
            other.sheet_reason = (
                f"{passed} {'holds' if position == 1 else 'hold'} no open question with a respondent id"
            )
            return other
    if plan is None:
        assert failure is not None
        raise failure
    return plan


def _plan_sheet(path: str | Path, *, encoding: str | None = None, sheet: str | None = None) -> Plan:
    export, columns, rows, header_rows, wording, joined = profile(path, encoding=encoding, sheet=sheet)
    named = [c.name for c in columns if c.name.strip()]
    if len(columns) >= 3 and len(named) * 2 < len(columns):
        # A title the readers could not tell from a header (two cells: "Survey results" | "2024"), read as one.
        raise CoderError(
            f"row {1 + export.title_rows} names only {len(named)} of {len(columns)} columns ({', '.join(excerpt(n, 30) for n in named[:3])}): "
            "the column names must be the first row; remove any title rows above them and run coder init again",
            where=location(export.path, 1 + export.title_rows),
        )
    counts = Counter(" ".join(c.name.split()) for c in columns)
    unusable = {c.index: why for c in columns if (why := _unusable_name(" ".join(c.name.split()), counts))}
    id_column, id_reason = _choose_id(columns, rows, unusable)
    decisions: list[Decision] = []
    attributes: list[str] = []
    questions: list[PlannedQuestion] = []
    question_ids: set[str] = set()
    codebook_ids: set[str] = set()
    if id_column is not None:
        decisions.append(Decision(id_column.index, (id_column.name,), "respondent id", id_reason))
        id_reason = f"{excerpt(id_column.name)}: {id_reason}"

    def add_question(members: list[Column], title: str, reason: str) -> None:
        qid = _question_id(title, members[0].index + 1, question_ids)
        codebook_id = _unique(
            _slug(title) if ID_PATTERN.fullmatch(_slug(title) or "-") else qid.replace("_", "-"), codebook_ids
        )
        names = tuple(c.name for c in members)
        # Qualtrics' row 2 holds the wording; a grid's columns add " - item" to the shared question.
        text = wording[members[0].index] if members[0].index < len(wording) else ""
        if len(members) > 1 and " - " in text:
            text = text.rsplit(" - ", 1)[0]
        text = text or title
        questions.append(
            PlannedQuestion(
                qid,
                text,
                names,
                codebook_id,
                text if len(text) <= SHORT_TEXT else shorten(text, SHORT_TEXT - 1),
                reason,
            )
        )
        decisions.append(Decision(members[0].index, names, "question", reason, qid))

    remaining = [c for c in columns if c is not id_column]
    for column in list(remaining):
        folded = re.sub(r"[\s_-]", "", column.name).casefold()
        if column.index in unusable:
            why = unusable[column.index]
        elif folded in _TRACKING:
            why = "an IP address or location a survey tool records (personal data; add it by hand if a table needs it)"
        elif column.filled and (
            (folded in _TIMING and column.distinct > CLOSED_MAX_CHOICES)
            or (column.dates and (column.distinct > CLOSED_MAX_CHOICES or 2 * column.distinct > column.filled))
        ):
            # Google Forms' "Timestamp" too: a time in every row, whatever the header says.
            why = f"when the survey was taken ({column.distinct:,} different values; no table breaks down by it)"
        elif column.filled == 0:
            why = "empty in every row"
        elif column.filled == rows and column.distinct == 1:
            why = f"the same value {excerpt(column.values.most_common(1)[0][0], 30)} in every row"
        else:
            continue
        # A blank header is always unusable, so only there does the column need naming by its place.
        decisions.append(Decision(column.index, (column.name or f"column #{column.index + 1}",), "left out", why))
        remaining.remove(column)
    groups = _group(remaining)
    done: set[int] = set()
    for position, group in enumerate(groups):
        if group[0].index in done:
            continue
        if len(group) > 1:
            is_open, why = _is_open(group)
            numbered = _NUMBERED.match(group[0].name)  # always: _group only joins numbered columns
            if is_open and numbered:
                add_question(group, numbered["stem"], f"{len(group)} numbered columns of one question, {why}")
                continue
        column = group[0] if len(group) == 1 else None
        nxt = groups[position + 1] if position + 1 < len(groups) else None
        ticked = column.choice_list() if column is not None else None
        if (
            column is not None
            and nxt
            and len(nxt) == 1
            and _OTHER_SPECIFY.search(nxt[0].name)
            and nxt[0].index == column.index + 1
            and not _is_open([column])[0]
            and (column.distinct <= CLOSED_MAX_CHOICES or ticked)
        ):
            choices = (
                f"{ticked[1]} options"
                if ticked and column.distinct > CLOSED_MAX_CHOICES
                else f"{column.distinct} choices"
            )
            add_question(
                [column, nxt[0]],
                column.name,
                f"a closed question ({choices}) and the {excerpt(nxt[0].name, 30)} "
                "written in after it: one question over 2 columns",
            )
            done.add(nxt[0].index)
            continue
        for member in group:
            is_open, why = _is_open([member])
            if is_open:
                # A JSONL answer nested under a container ("answers": {"Why?": ...}) is worded by its own key.
                add_question([member], export.nested.get(member.name, member.name), why)
            else:
                attributes.append(member.name)
                decisions.append(Decision(member.index, (member.name,), "attribute", why))
    decisions.sort(key=lambda d: d.index)
    return Plan(
        export.path,
        export.encoding,
        rows,
        _survey_name(export.path),
        id_column.name if id_column else None,
        id_reason,
        attributes,
        questions,
        decisions,
        encoding,
        sheet,
        header_rows,
        "joined" if joined else "first",
        export.title_rows,
    )


def write_plan(plan: Plan, directory: str | Path) -> list[Path]:
    """Write the spec and codebooks under `directory`, all or none; never over an existing file."""
    directory = Path(directory)
    files = plan.files()
    targets = [directory / relative for relative in files]
    existing = [str(t) for t in targets if t.exists() or t.is_symlink()]
    if existing:
        raise CoderError(
            f"{len(existing)} file(s) exist already and coder init never overwrites: "
            f"{', '.join(existing[:5])}{' ...' if len(existing) > 5 else ''}; "
            "move them away or give another --output folder"
        )
    made_dirs: list[Path] = []
    written: list[Path] = []
    try:
        for folder in (directory, directory / "codebooks"):
            missing = [p for p in (folder, *folder.parents) if not p.exists()]
            for parent in reversed(missing):
                parent.mkdir()
                made_dirs.append(parent)
        for target, text in zip(targets, files.values()):
            write_output(target, text, inputs=(plan.export,))
            written.append(target)
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        for folder in reversed(made_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return targets
