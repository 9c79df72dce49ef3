"""Codings: which themes an answer cell carries, who said so, and how sure.

`apply_codes` is the one way codes change; it writes the audit log in the same
transaction, so every change has a who, when, before and after.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from coder.codebook.db import add_theme, read_codebook
from coder.codebook.model import Codebook, Theme
from coder.errors import CoderError, location
from coder.safe_input import SHORT_TEXT, excerpt
from coder.spreadsheet import sheet_name, unneutralise
from coder.store import audit, now, write
from coder.survey.readers import Export, open_export, require_columns, xlsx_sheet_names

STATUSES = ("auto", "confirmed")
EXPORT_COLUMNS = ["respondent_id", "question", "rank", "answer", "theme", "status", "coder", "score", "coded_at"]


@dataclass(frozen=True)
class Code:
    """One theme to put on an answer cell."""

    theme_pk: int
    status: str = "confirmed"
    coder: str | None = None
    score: float | None = None
    method: str | None = None
    evidence: str | None = None


def question_ids(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM questions ORDER BY position")]


@dataclass(frozen=True)
class QuestionSummary:
    """One line of `coder questions`: what a question is coded against, and how far it has got."""

    id: str
    codebook_id: str
    base: str
    answers: int  # real answers, the base of every table
    coded: int  # real answers with at least one code (auto or confirmed)
    non_answers: int  # cells the spec's non_answers list kept out of every base


def question_summaries(db: Database) -> list[QuestionSummary]:
    return [
        QuestionSummary(*row)
        for row in db.execute(
            """SELECT q.id, q.codebook_id, q.base,
                  (SELECT count(*) FROM answers a WHERE a.question_id = q.id AND a.is_answer = 1),
                  (SELECT count(*) FROM answers a WHERE a.question_id = q.id AND a.is_answer = 1
                     AND EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)),
                  (SELECT count(*) FROM answers a WHERE a.question_id = q.id AND a.is_answer = 0 AND a.text != '')
           FROM questions q ORDER BY q.position"""
        )
    ]


def question_text(db: Database, question_id: str) -> str:
    row = db.execute("SELECT text FROM questions WHERE id = ?", [question_id]).fetchone()
    return row[0] if row else ""


def question_codebook(db: Database, question_id: str) -> str:
    row = db.execute("SELECT codebook_id FROM questions WHERE id = ?", [question_id]).fetchone()
    if row is None:
        known = ", ".join(question_ids(db)) or "none (import a survey first)"
        raise CoderError(
            f"unknown question {excerpt(question_id)}{_named_by(db, question_id)}; the database has {known}"
        )
    return row[0]


def _named_by(db: Database, value: str) -> str:
    """A hint when `value` is a question's column header or wording, as a colleague's spreadsheet may name it."""
    folded = " ".join(value.split()).casefold()
    for qid, text, columns in db.execute("SELECT id, text, columns FROM questions ORDER BY position"):
        if folded in {" ".join(str(name).split()).casefold() for name in [text, *json.loads(columns)]}:
            return f" (that is the column or wording of question {qid}: write its id)"
    return ""


def _state(db: Database, answer_id: int) -> dict[str, dict]:
    return {
        theme_id: {"status": status, "coder": coder, "score": score, "method": method}
        for theme_id, status, coder, score, method in db.execute(
            """SELECT t.id, c.status, c.coder, c.score, c.method FROM codings c
               JOIN themes t ON t.pk = c.theme_pk WHERE c.answer_id = ? ORDER BY t.position""",
            [answer_id],
        )
    }


def apply_codes(
    db: Database,
    answer_id: int,
    add: Iterable[Code] = (),
    remove: Iterable[int] = (),
    *,
    coder: str | None,
    action: str = "coding.set",
    replace: bool = False,
    exact: bool = False,
) -> None:
    """Add and remove codes on one answer, audited; the caller may wrap several in one transaction.

    A confirmed code is never downgraded to auto, unless `exact` (an undo
    restoring an earlier state as it was). With `replace`, every code not in
    `add` is removed (a coder confirming the full set for an answer).
    """
    add = list(add)
    # When an existing coding keeps its status, coder and time instead of taking the new ones.
    keep_old = "0" if exact else "(codings.status = 'confirmed' AND excluded.status = 'auto')"
    with write(db):
        before = _state(db, answer_id)
        stamp = now()
        if replace:
            keep = [c.theme_pk for c in add]
            marks = ",".join("?" * len(keep))
            # "NOT IN ()" is not SQL, and "NOT IN (NULL)" matches nothing: no keep list means delete all.
            condition = f"AND theme_pk NOT IN ({marks})" if keep else ""
            db.execute(f"DELETE FROM codings WHERE answer_id = ? {condition}", [answer_id, *keep])
        for theme_pk in remove:
            db.execute("DELETE FROM codings WHERE answer_id = ? AND theme_pk = ?", [answer_id, theme_pk])
        for code in add:
            if code.status not in STATUSES:
                raise CoderError(f"status must be one of {', '.join(STATUSES)}, not {code.status!r}")
            db.execute(
                f"""INSERT INTO codings (answer_id, theme_pk, status, coder, score, method, evidence, coded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (answer_id, theme_pk) DO UPDATE SET
                      status = CASE WHEN {keep_old} THEN codings.status ELSE excluded.status END,
                      coder = CASE WHEN {keep_old} THEN codings.coder ELSE excluded.coder END,
                      score = coalesce(excluded.score, codings.score),
                      method = coalesce(excluded.method, codings.method),
                      evidence = coalesce(excluded.evidence, codings.evidence),
                      coded_at = CASE WHEN {keep_old} THEN codings.coded_at ELSE excluded.coded_at END""",
                [answer_id, code.theme_pk, code.status, code.coder, code.score, code.method, code.evidence, stamp],
            )
        if not any(c.status == "auto" for c in add):
            # A human has looked at this answer's codes: its change flag is resolved.
            db.execute("UPDATE answers SET changed = 0 WHERE id = ? AND changed = 1", [answer_id])
        after = _state(db, answer_id)
        if after != before:
            audit(db, coder=coder, action=action, target=f"answer:{answer_id}", before=before, after=after)


@dataclass(frozen=True)
class CodingRow:
    """One row of a codings file, resolved against the database."""

    place: str  # the file, and the sheet of a workbook of several
    number: int  # row number as a spreadsheet shows it
    question: str
    answer_id: int
    is_answer: bool
    codebook_id: str
    theme_id: str


# "Code 1", "code_1", "code1", "codes-2", "Theme 3": the wide layout's code columns.
_CODE_COLUMN = re.compile(r"(?:code|theme)s?[\s_-]*(\d+)", re.IGNORECASE)
_FUZZY_CUTOFF = 75


def _fold(text: str) -> str:
    """How a typed label is compared with a theme's label (the same as Codebook.find)."""
    return text.strip().casefold()


def theme_path(codebook: Codebook, theme: Theme) -> str:
    """`Net > Sub > Theme`, by label, from the top of the codebook."""
    labels = [theme.label]
    while theme.parent is not None:
        theme = codebook.theme(theme.parent)
        labels.append(theme.label)
    return " > ".join(reversed(labels))


def _names(theme: Theme, part: str) -> bool:
    return part == theme.id or _fold(part) == _fold(theme.label)


def _under(codebook: Codebook, theme: Theme, ancestors: list[str]) -> bool:
    """Whether `ancestors` (outermost first) name the nets right above `theme`, its parent last."""
    for part in reversed(ancestors):
        if theme.parent is None:
            return False
        theme = codebook.theme(theme.parent)
        if not _names(theme, part):
            return False
    return True


def _path_readings(codebook: Codebook, value: str) -> list[list[str]]:
    """The ways `value` reads as a path: `A > B` (ids or labels), and `a/b` when every part is an id."""
    readings = []
    if ">" in value:
        readings.append([part.strip() for part in value.split(">")])
    if "/" in value:
        parts = [part.strip() for part in value.split("/")]
        if all(part in codebook.ids for part in parts):
            readings.append(parts)
    return readings


def resolve_theme(codebook: Codebook, value: str) -> Theme:
    """The one theme a codings file's cell names: an id, a label, or a path to it (`Net > Theme`).

    A label is compared as `Codebook.find` compares it; a path lists the nets
    above the theme, its parent last, each by id or label. A cell that could
    name two themes is refused rather than guessed.
    """
    for theme in codebook.themes:
        if theme.id == value:
            return theme
    found = {t.id: t for t in codebook.themes if _fold(t.label) == _fold(value)}
    named: dict[str, Theme] = {}
    broken = False
    for parts in _path_readings(codebook, value):
        if not all(parts):
            broken = True
            continue
        leaves = [t for t in codebook.themes if _names(t, parts[-1])]
        named.update((t.id, t) for t in leaves)
        found.update((t.id, t) for t in leaves if _under(codebook, t, parts[:-1]))
    if len(found) == 1:
        return next(iter(found.values()))
    if found:
        paths = ", ".join(f"{_shown_path(codebook, t)} (id {t.id})" for t in found.values())
        raise CoderError(
            f"{excerpt(value)} names {len(found)} themes in codebook {codebook.id!r}: {paths}; "
            "give the theme as one of these paths, or by id"
        )
    if named:
        real = "; ".join(
            f"{excerpt(t.label)} is a top-level theme"
            if t.parent is None
            else f"{excerpt(t.label)} is at {_shown_path(codebook, t)}"
            for t in named.values()
        )
        raise CoderError(f"theme path {excerpt(value)} does not match codebook {codebook.id!r}: {real}")
    if broken:
        raise CoderError(f"theme path {excerpt(value)} has an empty part (write it as 'Net > Theme')")
    raise CoderError(f"unknown theme {excerpt(value)} in codebook {codebook.id!r}{_closest(codebook, value)}")


def _shown_path(codebook: Codebook, theme: Theme) -> str:
    return excerpt(theme_path(codebook, theme), SHORT_TEXT)


def _closest(codebook: Codebook, value: str) -> str:
    """' (did you mean id: path?)' for the theme whose label or id is nearest, or ''."""
    from rapidfuzz import fuzz, process  # only when a file has a typo

    if not codebook.themes:
        return (
            ": it has no themes yet (`coder codings import --add-themes` adds the themes the file names, "
            "or import the codebook it was coded with: `coder codebook import DB CODEBOOK.yaml --question Q`)"
        )
    last = value.split(">")[-1].strip().casefold()
    if not last or len(last) > SHORT_TEXT:
        return ""
    choices = [(t, text) for t in codebook.themes for text in (t.id, t.label.casefold())]
    best = process.extractOne(
        last, [text for _, text in choices], scorer=fuzz.WRatio, processor=None, score_cutoff=_FUZZY_CUTOFF
    )
    if best is None:
        return ""
    theme = choices[best[2]][0]
    return f" (did you mean {theme.id!r}: {_shown_path(codebook, theme)}?)"


def code_columns(header: list[str]) -> list[str]:
    """The wide layout's code columns, in number order."""
    numbered = [(int(m.group(1)), i, name) for i, name in enumerate(header) if (m := _CODE_COLUMN.fullmatch(name))]
    return [name for _, _, name in sorted(numbered)]


@dataclass(frozen=True)
class _Line:
    """One row of a codings file as read, before it is checked against the database."""

    number: int
    respondent: str
    question: str
    rank: str | None  # None: the file has no rank column
    codes: list[tuple[str, str]]  # (column, cell) pairs, in column order


JOINED = "themes"  # the column of the one-row-per-answer layout that `codings export --format xlsx` writes


_KNOWN_COLUMNS = {"respondent_id", "question", "rank", "theme", JOINED, "answer"}


def _open(path: Path, sheet: str | None = None) -> Export:
    """A codings file, its known columns found whatever their case and spacing ("Respondent ID", "Theme")."""
    export = open_export(path, sheet=sheet)
    header = []
    for name in export.header:
        folded = re.sub(r"[\s_-]+", "_", name.strip().casefold())
        header.append(folded if folded in _KNOWN_COLUMNS else "respondent_id" if folded == "respondentid" else name)
    return Export(export.path, header, export.rows, export.encoding)


def _sources(db: Database, path: Path, question: str | None) -> Iterator[tuple[str, Export, str | None]]:
    """(place, export, question) for each table of a codings file: one, or a sheet per question.

    A workbook without a question column whose sheets are named by question ids
    (as `codings export --format xlsx` writes it) is read sheet by sheet.
    """
    export = _open(path)
    if question is not None or "question" in export.header or path.suffix.casefold() not in (".xlsx", ".xlsm"):
        yield str(path), export, question
        return
    taken: set[str] = set()
    by_sheet = {sheet_name(qid, taken).casefold(): qid for qid in question_ids(db)}
    names = xlsx_sheet_names(path)
    if not any(name.casefold() in by_sheet for name in names):
        yield str(path), export, question  # no sheet names a question: the missing column is the error
        return
    for name in names:
        qid = by_sheet.get(name.casefold())
        if qid is None:
            raise CoderError(
                f"sheet {excerpt(name)} names no question (this workbook's other sheets do; the database's "
                f"questions are {', '.join(question_ids(db))}): rename it, or read one sheet's file with --question",
                where=str(path),
            )
        yield f"{path}, sheet {name!r}", _open(path, sheet=name), qid


def _file_lines(
    db: Database, path: Path, wide: bool, question: str | None, only: str | None = None
) -> Iterator[tuple[str, _Line]]:
    """Every line of a codings file, with the place (file, and sheet) it came from.

    With `only`, just that question's lines: a file without a question column is read as that question's.
    """
    for place, export, sheet_question in _sources(db, path, question):
        if only is not None and sheet_question is None and "question" not in export.header:
            sheet_question = only
        for line in _lines(export, place, wide, sheet_question):
            if only is None or line.question == only:
                yield place, line


def _joined_themes(codebook: Codebook, cell: str) -> list[str]:
    """A `themes` cell ("Label A; Label B") split into its themes; a label with ';' of its own stays whole."""
    parts = [p.strip() for p in cell.split(";")]
    if len(parts) == 1 or not _semicolon_themes(codebook):
        return [part for part in parts if part]
    out, i = [], 0
    while i < len(parts):
        j = next((j for j in range(len(parts), i + 1, -1) if _names_a_theme(codebook, "; ".join(parts[i:j]))), i + 1)
        out.append("; ".join(parts[i:j]))
        i = j
    return [part for part in out if part]


def _semicolon_themes(codebook: Codebook) -> bool:
    """Whether any theme's label or id holds ';' (else a joined cell simply splits)."""
    return any(";" in t.label or ";" in t.id for t in codebook.themes)


def _names_a_theme(codebook: Codebook, value: str) -> bool:
    try:
        resolve_theme(codebook, value)
    except CoderError:
        return False
    return True


_NOT_THEMES = {"respondent_id", "question", "rank", "answer"}
_MARKS = {"1": True, "1.0": True, "0": False, "0.0": False, "": False}


def _lines(export: Export, path: str | Path, wide: bool, question: str | None) -> Iterator[_Line]:
    """The rows of each layout, cells cleaned, with where each code came from."""
    header = export.header
    codes = code_columns(header)
    joined = not wide and "theme" not in header and JOINED in header
    if not wide and "theme" not in header and codes:
        raise CoderError(
            f"the file has code columns ({', '.join(map(repr, codes[:3]))}{' ...' if len(codes) > 3 else ''}) "
            "and no theme column: that is the wide layout, one row per answer; read it with --wide",
            where=location(path, 1),
        )
    # Without code_N columns, --wide reads one column per theme marked 1 where it applies (SPSS's dichotomies).
    marked = [h for h in header if h and " ".join(h.split()) not in _NOT_THEMES] if wide and not codes else []
    if wide and not codes and ("theme" in header or not marked):
        hint = " (it has a theme column: without --wide it reads as the long layout)" if "theme" in header else ""
        raise CoderError(
            "--wide needs code columns named code_1, code_2, ... (or 'Code 1', 'theme_1'), or one column per theme "
            "holding 1 where it applies" + hint,
            where=location(path, 1),
        )
    if question is not None and "question" in header:
        raise CoderError(
            "the file has a question column; --question is for a file without one", where=location(path, 1)
        )
    if question is None and "question" not in header:
        raise CoderError(
            "the file has no question column (`coder codings import --question Q` reads a file of one question)",
            where=location(path, 1),
        )
    cells_of = (codes or marked) if wide else [JOINED] if joined else ["theme"]
    # rank may be left out in every layout: a question of one answer column has only rank 1 (checked per row).
    needed = ["respondent_id"] + ([] if question else ["question"]) + cells_of
    index = require_columns(export, needed)
    if "rank" in header:
        index["rank"] = header.index("rank")
    for number, cells in export.rows:
        # A cell written formula-safe by our exports ("'=..." for "=...") reads back as it was.
        row = {name: unneutralise(cells[i].strip()).strip() if i < len(cells) else "" for name, i in index.items()}
        for name in marked:
            if row[name] not in _MARKS:
                raise CoderError(
                    f"column {excerpt(name)} holds {excerpt(row[name])}: with --wide and no code_1 ... columns, "
                    "every column but respondent_id, question, rank and answer is a theme, marked 1 or 0 (or blank)",
                    where=location(path, number, name),
                )
            row[name] = name if _MARKS[row[name]] else ""
        yield _Line(
            number,
            row["respondent_id"],
            question or row["question"],
            row.get("rank"),
            [(name, row[name]) for name in cells_of],
        )


def _zeros_lost(respondent: str, respondents: set[str]) -> str:
    """A hint when a spreadsheet dropped an id's leading zeros ('0012' stored as the number 12)."""
    if not respondent.isdigit():
        return ""
    padded = next((r for r in sorted(respondents) if r.isdigit() and r.lstrip("0") == respondent.lstrip("0")), None)
    if padded is None:
        return ""
    return (
        f" (the database has {excerpt(padded)}: a spreadsheet drops leading zeros from an id it reads as a number; "
        "format the column as text)"
    )


def read_coding_file(
    db: Database, path: str | Path, *, wide: bool = False, question: str | None = None, only: str | None = None
) -> list[CodingRow]:
    """Resolve every code in a codings file, or say which row and column is wrong.

    The long layout has a row per code (respondent_id, question, rank, theme);
    the wide layout (`wide`) a row per answer cell with its codes spread over
    code_1 ... code_N, blank cells skipped; the joined layout a row per answer
    cell with its themes in one `themes` cell, separated by ';' (what
    `codings export --format xlsx` writes, a sheet per question). `question`
    names the question of a file with no question column; `only` reads just
    one question's codes from any file (a whole survey's gold file, evaluated
    one question at a time). Shared by `import_codings` and the gold file of
    `evaluate`.
    """
    path = Path(path)
    for named in (question, only):
        if named is not None:
            question_codebook(db, named)  # raises for an unknown question
    answers = {
        (r[1], r[2], r[3]): (r[0], bool(r[4]))
        for r in db.execute("SELECT id, respondent_id, question_id, rank, is_answer FROM answers")
    }
    respondents = {r[0] for r in db.execute("SELECT id FROM respondents")}
    ranked = {r[0]: len(json.loads(r[1])) > 1 for r in db.execute("SELECT id, columns FROM questions")}
    codebooks: dict = {}
    resolved: dict[tuple[str, str], Theme | CoderError] = {}
    out = []
    for place, line in _file_lines(db, path, wide, question, only):
        number = line.number
        codes = [(column, cell) for column, cell in line.codes if cell or not (wide or column == JOINED)]
        if not codes:
            continue
        if line.question not in codebooks:
            try:
                codebooks[line.question] = read_codebook(db, question_codebook(db, line.question))
            except CoderError as exc:
                raise CoderError(exc.message, where=location(place, number, "question")) from None
        codebook = codebooks[line.question]
        if any(column == JOINED for column, _ in codes):
            codes = [(column, part) for column, cell in codes for part in _joined_themes(codebook, cell)]
            if not codes:
                continue
        if line.rank is None and ranked[line.question]:
            raise CoderError(
                f"question {line.question!r} has several answer columns: "
                "add a rank column saying which one each row codes",
                where=location(place, number),
            )
        try:
            rank = int(line.rank or "1")
        except ValueError:
            raise CoderError(
                f"rank must be a whole number, not {excerpt(line.rank)}", where=location(place, number, "rank")
            ) from None
        if not line.respondent:
            raise CoderError("respondent_id is empty", where=location(place, number, "respondent_id"))
        key = (line.respondent, line.question, rank)
        if key not in answers:
            known = line.respondent in respondents
            raise CoderError(
                f"no answer cell for respondent {excerpt(line.respondent)}, question {excerpt(line.question)}, "
                f"rank {rank}: "
                + ("the respondent left it blank" if known else "no such respondent in the database")
                + ("" if known else _zeros_lost(line.respondent, respondents)),
                where=location(place, number, None if known else "respondent_id"),
            )
        answer_id, is_answer = answers[key]
        seen = set()
        for column, cell in codes:
            if not cell:
                raise CoderError("theme is empty", where=location(place, number, column))
            cache = (codebook.id, cell)
            if cache not in resolved:
                try:
                    resolved[cache] = resolve_theme(codebook, cell)
                except CoderError as exc:
                    resolved[cache] = exc
            theme = resolved[cache]
            if isinstance(theme, CoderError):
                raise CoderError(theme.message, where=location(place, number, column))
            if theme.id not in seen:  # the same code twice in one row counts once
                seen.add(theme.id)
                out.append(CodingRow(place, number, line.question, answer_id, is_answer, codebook.id, theme.id))
    return out


def import_codings(
    db: Database,
    path: str | Path,
    *,
    coder: str,
    replace: bool = False,
    independent: bool = False,
    wide: bool = False,
    question: str | None = None,
    add_themes: bool = False,
) -> dict:
    """Record a codings file (either layout, see `read_coding_file`) as confirmed codes by `coder`; all or none.

    Every row is checked before anything is written. On answers another coder
    has confirmed, the file's codes become `coder`'s own blind codes (see
    `team.code_independently`): one coder's import never rewrites another's
    work. With `independent`, the codes are also kept as blind codes on the
    answers no one else coded, so later comparisons see exactly this file.
    With `replace`, answer cells named in the file get exactly the file's
    codes as their final coding, whoever coded them before. With `add_themes`,
    a theme the codebook lacks is added first (a path's missing nets too), in the
    same transaction: coders' files can be the only codebook a team kept.
    """
    if not coder or not coder.strip():
        raise CoderError("a coder name is required (--coder)")
    if replace and independent:
        raise CoderError("--replace overwrites the final codings and --independent keeps them: choose one")
    path = Path(path)
    with write(db):  # the themes it adds and the codes it records: one transaction
        added = _add_missing_themes(db, path, wide, question, coder) if add_themes else {}
        result = _import_rows(db, path, coder, replace, independent, wide, question)
    return {**result, "themes_added": added}


def _missing_path(codebook: Codebook, value: str) -> list[tuple[str | None, str]]:
    """The (parent id, label) pairs to add so that `value` (a label or a `Net > Theme` path) names a theme."""
    parts = [p.strip() for p in value.split(">")] if ">" in value else [value.strip()]
    if not all(parts):
        return []  # an empty part: resolve_theme says what is wrong
    parent: str | None = None
    for depth, part in enumerate(parts):
        here = [t for t in codebook.themes if t.parent == parent and _names(t, part)]
        if depth == 0 and not here:
            here = [t for t in codebook.themes if _names(t, part)]  # outer nets may be left out, as in resolve_theme
        if len(here) != 1:
            if here:
                return []  # ambiguous: resolve_theme says so
            return [(parent, part)] + [(None, p) for p in parts[depth + 1 :]]
        parent = here[0].id
    return []


def _add_missing_themes(db: Database, path: Path, wide: bool, question: str | None, coder: str) -> dict[str, list]:
    """Add the themes the file names that its questions' codebooks lack; {codebook id: labels added}."""
    added: dict[str, list] = {}
    codebooks: dict[str, str] = {}
    read: dict[str, Codebook] = {}  # each codebook as it stands, read again only after a theme is added
    for place, line in _file_lines(db, path, wide, question):
        if line.question not in codebooks:
            try:
                codebooks[line.question] = question_codebook(db, line.question)
            except CoderError as exc:
                raise CoderError(exc.message, where=location(place, line.number, "question")) from None
        codebook_id = codebooks[line.question]
        for column, whole in line.codes:
            if codebook_id not in read:
                read[codebook_id] = read_codebook(db, codebook_id)
            cells = _joined_themes(read[codebook_id], whole) if column == JOINED else [whole] if whole else []
            for cell in cells:
                _add_path(db, read, codebook_id, cell, coder, added, where=location(place, line.number, column))
    return added


def _add_path(db: Database, read: dict, codebook_id: str, cell: str, coder: str, added: dict, *, where: str) -> None:
    """Add the themes (and nets) that `cell` names and the codebook lacks; `read` caches codebooks as they stand."""
    if codebook_id not in read:
        read[codebook_id] = read_codebook(db, codebook_id)
    parent: str | None = None
    for step, (known, label) in enumerate(_missing_path(read[codebook_id], cell)):
        parent = known if step == 0 else parent
        try:
            theme = add_theme(db, codebook_id, label, parent=parent, coder=coder)
        except CoderError as exc:
            raise CoderError(f"cannot add theme {excerpt(label)}: {exc.message}", where=where) from None
        added.setdefault(codebook_id, []).append(theme.label)
        parent = theme.id
        read.pop(codebook_id, None)


def _import_rows(
    db: Database, path: Path, coder: str, replace: bool, independent: bool, wide: bool, question: str | None
) -> dict[str, int]:
    from coder.coding.team import code_independently, others_codes, set_own_codes  # team builds on this module

    rows = read_coding_file(db, path, wide=wide, question=question)
    if not rows:
        raise CoderError("the codings file has no codes", where=str(path))
    pks = {(cb_id, theme_id): pk for cb_id, theme_id, pk in db.execute("SELECT codebook_id, id, pk FROM themes")}
    planned: dict[int, list[int]] = {}
    for row in rows:
        if not row.is_answer:
            text = db.execute("SELECT text FROM answers WHERE id = ?", [row.answer_id]).fetchone()[0]
            raise CoderError(
                f"the answer to {row.question!r} in this row, {excerpt(text)}, is a non-answer (on the survey "
                "spec's `non_answers` list, or the default list when the spec sets none) and cannot be coded; to code "
                f"it, set `non_answers: []` (or a list without it) in the spec, for the survey or under question "
                f"{row.question}, then import the export again",
                where=location(row.place, row.number),
            )
        pk = pks[(row.codebook_id, row.theme_id)]
        if pk not in planned.setdefault(row.answer_id, []):
            planned[row.answer_id].append(pk)
    coded = 0
    settled = {"shared": 0, "agreed": 0, "disputed": 0}
    ids = {pk: theme_id for (_, theme_id), pk in pks.items()}
    with write(db):
        for answer_id, theme_pks in planned.items():
            coded += len(theme_pks)
            if not replace and others_codes(db, answer_id, coder):
                status = code_independently(db, answer_id, coder, theme_pks, "coding.import.blind")
                settled["shared"] += 1
                settled[status] = settled.get(status, 0) + 1
                continue
            # The file is the cell's coding: suggestions accepted as auto (autocode, the app's toggles) it left out go.
            stale = [
                pk
                for (pk,) in db.execute(
                    "SELECT theme_pk FROM codings WHERE answer_id = ? AND status = 'auto'", [answer_id]
                )
                if pk not in theme_pks
            ]
            apply_codes(
                db,
                answer_id,
                [Code(pk, "confirmed", coder) for pk in theme_pks],
                stale,
                coder=coder,
                action="coding.import",
                replace=replace,
            )
            if independent:
                set_own_codes(
                    db,
                    answer_id,
                    coder,
                    {ids[pk]: pk for pk in theme_pks},
                    {ids[pk]: "confirmed" for pk in theme_pks},
                    "coding.import.blind",
                )
    return {"answers": len(planned), "codings": coded, **settled}


def export_codings(db: Database, question: str | None = None, *, changed_only: bool = False) -> Iterator[dict]:
    """Rows for `coder codings export`, in question, respondent and rank order."""
    if question is not None:
        question_codebook(db, question)  # raises for an unknown question
    sql = """
        SELECT a.respondent_id, a.question_id, a.rank, a.text, t.label, c.status, c.coder, c.score, c.coded_at
        FROM codings c
        JOIN answers a ON a.id = c.answer_id
        JOIN themes t ON t.pk = c.theme_pk
        JOIN questions q ON q.id = a.question_id
        JOIN respondents r ON r.id = a.respondent_id
        WHERE (:question IS NULL OR a.question_id = :question) AND (:changed = 0 OR a.changed = 1)
        ORDER BY q.position, r.position, a.rank, t.position
    """
    for row in db.execute(sql, {"question": question, "changed": int(changed_only)}):
        yield dict(zip(EXPORT_COLUMNS, row))


def write_codings_csv(rows: Iterable[dict], out) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        count += 1
    return count
