"""Representative, anonymised quotes per theme, for report sidebars.

A good sidebar quote is typical of its theme, says something the other quotes
do not, reads in a breath and identifies nobody. So: answers coded with the
theme are scored by TF-IDF cosine to the theme's centroid (confirmed codes
weigh more than auto ones), damped for poor lengths, and picked by maximal
marginal relevance; answers a coder flagged as quotes go first. Text is
made printable (no escape sequences or controls: a quote is for reading, in
any format), anonymised, then trimmed at a sentence boundary; the attribution
is a role and a kind of organisation, never a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from coder.codebook.db import read_codebook
from coder.coding.codings import question_codebook
from coder.errors import CoderError
from coder.printable import one_line, printable
from coder.report.anonymise import Anonymiser, attribution, ner_available
from coder.suggest.text import lemmatise
from coder.suggest.zeroshot import TextSpace

MMR_LAMBDA = 0.7  # relevance vs novelty
MIN_WORDS, MAX_WORDS = 8, 60  # the readable range; longer answers are trimmed
AUTO_WEIGHT = 0.5  # an auto code's pull on the centroid, against 1 for a confirmed one
AUTO_DAMPING = 0.85  # a confirmed answer beats an equally central auto-coded one
FLAG_MIN_WORDS = 3  # a flagged fragment ("Chatbots") is not put first
DUPLICATE = 0.9  # MMR similarity at which two answers say the same thing

NAME_ATTRIBUTES = ("name", "full_name", "first_name", "last_name", "surname", "forename")
ORGANISATION_ATTRIBUTES = ("organisation", "organization", "org", "council", "employer")
ROLE_ATTRIBUTES = ("role",)


@dataclass(frozen=True)
class Quote:
    answer_id: int
    theme_id: str
    theme_label: str
    text: str  # anonymised and trimmed
    attribution: str
    score: float  # cosine to the theme's centroid
    flagged: bool


def word_count(text: str) -> int:
    return len(text.split())


def length_factor(words: int) -> float:
    """1 inside 8-60 words; one-word answers are poor quotes, short ones middling."""
    if words <= 1:
        return 0.2
    if words < MIN_WORDS:
        return 0.55 + 0.45 * (words - 2) / (MIN_WORDS - 2)
    return 1.0


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+")
_CLAUSE_END = re.compile(r"[,;:–—]\s|\s[-–—]\s")


def trim(text: str, max_words: int = MAX_WORDS) -> str:
    """Cut a long answer after its last whole sentence within `max_words`, and add "…".

    If the first sentence alone is too long, cut at its last clause break (a comma,
    semicolon or dash) inside the limit, else after the last whole word.
    """
    text = " ".join(text.split())
    if word_count(text) <= max_words:
        return text
    kept = ""
    for match in _SENTENCE_END.finditer(text):
        head = text[: match.end()].rstrip()
        if word_count(head) > max_words:
            break
        kept = head
    if word_count(kept) >= MIN_WORDS:
        return _ellipsis(kept)
    words = text.split()[:max_words]
    head = " ".join(words)
    clauses = list(_CLAUSE_END.finditer(head))
    if clauses and word_count(head[: clauses[-1].start()]) >= MIN_WORDS:
        head = head[: clauses[-1].start()]
    return _ellipsis(head.rstrip(" ,;:-–—"))


def _ellipsis(text: str) -> str:
    # A sentence that already trails off ("at the moment...") gets one ellipsis, not two.
    return re.sub(r"\s*(?:\.{2,}|…)$", "", text) + " …"


@dataclass
class _Candidate:
    row: int  # index into the question's vectors
    answer_id: int
    respondent_id: str
    text: str  # as answered
    confirmed: bool
    flagged: bool


class _QuestionSpace:
    """One question's answers in the TF-IDF space the suggestion engine uses."""

    def __init__(self, db: Database, question: str):
        rows = db.execute(
            "SELECT id, respondent_id, text FROM answers WHERE question_id = ? AND is_answer = 1 ORDER BY id",
            [question],
        ).fetchall()
        self.index = {r[0]: i for i, r in enumerate(rows)}
        self.texts = {r[0]: r[2] for r in rows}
        self.respondent = {r[0]: r[1] for r in rows}
        lemmas = lemmatise([r[2] for r in rows])
        space = TextSpace.fit(lemmas)
        self.vectors = space.transform(lemmas) if rows else None


def _attributes(db: Database) -> dict[str, dict[str, str]]:
    people: dict[str, dict[str, str]] = {}
    for respondent, name, value in db.execute("SELECT respondent_id, name, value FROM respondent_attributes"):
        # Printable, as the answers are: a name split by an escape code would slip past the anonymiser.
        people.setdefault(respondent, {})[name.casefold()] = one_line(value)
    return people


def _values(people: dict[str, dict[str, str]], keys: tuple[str, ...]) -> list[str]:
    found = {v.strip() for attrs in people.values() for k in keys if (v := attrs.get(k)) and v.strip()}
    return sorted(found)


def _first(attrs: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((attrs[k] for k in keys if attrs.get(k)), "")


def theme_order(db: Database, question: str, codebook_id: str) -> list[tuple[str, str, int]]:
    """(theme id, label, count) of coded themes as `coder table` orders them, unfolded."""
    base = db.execute("SELECT base FROM questions WHERE id = ?", [question]).fetchone()[0]
    counted = "count(*)" if base == "mentions" else "count(DISTINCT a.respondent_id)"
    rows = db.execute(
        f"""SELECT t.id, t.label, {counted}, t.position, t.pk FROM codings c
            JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
            WHERE a.question_id = ? AND a.is_answer = 1 AND t.codebook_id = ?
            GROUP BY t.pk""",
        [question, codebook_id],
    ).fetchall()
    rows.sort(key=lambda r: (-r[2], r[3], r[4]))
    return [(r[0], r[1], r[2]) for r in rows]


def representative_quotes(db: Database, question: str, theme: str | None = None, n: int = 3) -> list[Quote]:
    """Up to `n` quotes for one theme (id or label), or for every coded theme in table order.

    Over every theme, an answer already quoted for an earlier theme is used
    again only when the theme has nothing else to offer.
    """
    if n < 1:
        raise CoderError("the number of quotes must be at least 1")
    codebook_id = question_codebook(db, question)
    ordered = theme_order(db, question, codebook_id)
    if theme is not None:
        codebook = read_codebook(db, codebook_id)
        found = codebook.find(theme)
        if found is None:
            known = "; ".join(f"{t.id} ({t.label})" for t in codebook.themes)
            raise CoderError(
                f"no theme {theme!r} in the codebook of {question}; "
                + (f"it has: {known}" if known else "it has no themes yet")
            )
        ordered = [t for t in ordered if t[0] == found.id]
    if not ordered:
        return []
    space = _QuestionSpace(db, question)
    people = _attributes(db)
    anonymiser = Anonymiser(_values(people, NAME_ATTRIBUTES), _values(people, ORGANISATION_ATTRIBUTES))
    ner = ner_available()
    quotes: list[Quote] = []
    used: set[int] = set()
    for theme_id, label, _count in ordered:
        candidates = _candidates(db, question, codebook_id, theme_id, space)
        for cand, text, score in _pick(candidates, space, n, anonymiser, ner, used):
            used.add(cand.answer_id)
            attrs = people.get(cand.respondent_id, {})
            credit = anonymiser(attribution(_first(attrs, ROLE_ATTRIBUTES), _first(attrs, ORGANISATION_ATTRIBUTES)))
            quotes.append(Quote(cand.answer_id, theme_id, one_line(label), text, credit, round(score, 4), cand.flagged))
    return quotes


def _candidates(
    db: Database, question: str, codebook_id: str, theme_id: str, space: _QuestionSpace
) -> list[_Candidate]:
    rows = db.execute(
        """SELECT a.id, max(c.status = 'confirmed'),
                  EXISTS (SELECT 1 FROM quote_flags f WHERE f.answer_id = a.id AND f.theme_pk = t.pk)
           FROM codings c JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
           WHERE a.question_id = ? AND a.is_answer = 1 AND t.codebook_id = ? AND t.id = ?
           GROUP BY a.id ORDER BY a.id""",
        [question, codebook_id, theme_id],
    ).fetchall()
    return [
        _Candidate(space.index[aid], aid, space.respondent[aid], space.texts[aid], bool(conf), bool(flag))
        for aid, conf, flag in rows
    ]


def _pick(
    candidates: list[_Candidate], space: _QuestionSpace, n: int, anonymiser: Anonymiser, ner: bool, used: set[int]
):
    """The n quotes: flagged ones first if they read well, the rest by maximal marginal relevance.

    Answers already quoted for an earlier theme come last, so one answer coded
    with two themes does not fill both sidebars.
    """
    if space.vectors is None:  # the question has no answers: nothing to quote
        return []
    vectors = space.vectors[[c.row for c in candidates]]
    weights = np.array([1.0 if c.confirmed else AUTO_WEIGHT for c in candidates])
    centroid = np.asarray(vectors.T @ weights).ravel()
    norm = np.linalg.norm(centroid)
    cosine = np.asarray(vectors @ centroid).ravel() / norm if norm else np.zeros(len(candidates))
    # Made printable before anonymising: "Jo<ESC>[0mhn" must not hide a name that prints as "John".
    texts = [trim(anonymiser(printable(c.text), ner=ner)) for c in candidates]
    quality = np.array(
        [
            cos * length_factor(word_count(t)) * (1.0 if c.confirmed else AUTO_DAMPING)
            for c, t, cos in zip(candidates, texts, cosine)
        ]
    )
    top = quality.max() if len(quality) else 0.0
    relevance = quality / top if top > 0 else quality
    similarity = (vectors @ vectors.T).toarray()

    # The same words from several respondents ("Channel shift") make one candidate:
    # the flagged, then confirmed, then earliest answer stands for them all.
    seen: dict[str, int] = {}
    for i in sorted(range(len(candidates)), key=lambda i: (not candidates[i].flagged, not candidates[i].confirmed, i)):
        seen.setdefault(re.sub(r"\W+", " ", texts[i].casefold()).strip(), i)
    pool = sorted(seen.values())

    chosen: list[int] = []

    def best(options: list[int]) -> int | None:
        scored = []
        for i in options:
            overlap = max((similarity[i, j] for j in chosen), default=0.0)
            if overlap >= DUPLICATE:
                continue
            scored.append((MMR_LAMBDA * relevance[i] - (1 - MMR_LAMBDA) * overlap, -i))
        return -max(scored)[1] if scored else None

    for group in (
        [i for i in pool if candidates[i].flagged and word_count(texts[i]) >= FLAG_MIN_WORDS],
        [i for i in pool if candidates[i].answer_id not in used],
        pool,
    ):
        while len(chosen) < n:
            pick = best([i for i in group if i not in chosen])
            if pick is None:
                break
            chosen.append(pick)
    return [(candidates[i], texts[i], float(cosine[i])) for i in chosen]
