"""Several coders on one question: queues with a blind overlap sample, agreement, adjudication.

An answer in the overlap sample is coded by every coder it is assigned to,
each into `coder_codings` without seeing the others. When they have all
confirmed: identical sets become the final coding at once; different sets
wait for an adjudicator, whose decision becomes the final coding while the
originals stay.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from sqlite_utils import Database

from coder.codebook.db import read_codebook
from coder.coding.agreement import Agreement, agreement, depth, roll_up
from coder.coding.codings import Code, apply_codes, question_codebook
from coder.coding.queue import ready, teaching_queue
from coder.errors import CoderError
from coder.safe_input import excerpt, shorten
from coder.store import audit, now, write


@dataclass(frozen=True)
class Assignment:
    coders: tuple[str, ...]
    answers: int
    overlap: int  # answers every coder codes
    per_coder: dict[str, int]


def assign(db: Database, question: str, coders: list[str], overlap: float, *, seed: int = 0) -> Assignment:
    """Split the question's unconfirmed answers among `coders`, plus a random overlap sample for all.

    Replaces earlier assignments of those answers; confirmed answers are left out.
    Once the question has suggestions and 20 confirmed answers, the answers
    outside the overlap sample are dealt in the order that teaches most, so
    every coder's share holds an equal part of the most informative ones (and
    each coder's queue opens in that order); before, they are dealt at random.
    The overlap sample stays random: agreement is measured on a fair sample.
    """
    question_codebook(db, question)  # raises for an unknown question
    coders = list(dict.fromkeys(c.strip() for c in coders if c.strip()))
    if len(coders) < 1:
        raise CoderError("name at least one coder (--coders a,b)")
    if not 0 <= overlap <= 1:
        raise CoderError("--overlap is a fraction between 0 and 1")
    if overlap > 0 and len(coders) < 2:
        raise CoderError("an overlap sample needs at least two coders")
    answers = [
        r[0]
        for r in db.execute(
            """SELECT a.id FROM answers a JOIN respondents r ON r.id = a.respondent_id
           WHERE a.question_id = ? AND a.is_answer = 1
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')
           ORDER BY r.position, a.rank""",
            [question],
        )
    ]
    rng = random.Random(seed)
    shuffled = answers[:]
    rng.shuffle(shuffled)
    n_overlap = round(overlap * len(answers))
    shared, rest = set(shuffled[:n_overlap]), shuffled[n_overlap:]
    if ready(db, question):
        rest = teaching_queue(db, question, rest)
    stamp = now()
    rows = [(a, c, 1, stamp) for a in sorted(shared) for c in coders]
    rows += [(a, coders[i % len(coders)], 0, stamp) for i, a in enumerate(rest)]
    with write(db):
        db.conn.executemany("DELETE FROM assignments WHERE answer_id = ?", [(a,) for a in answers])
        db.conn.executemany(
            "INSERT INTO assignments (answer_id, coder, overlap, assigned_at) VALUES (?, ?, ?, ?)", rows
        )
        audit(
            db,
            coder=None,
            action="assign",
            target=f"question:{question}",
            after={"coders": coders, "overlap": overlap, "answers": len(answers), "shared": len(shared), "seed": seed},
        )
    per_coder = {c: sum(1 for r in rows if r[1] == c) for c in coders}
    return Assignment(tuple(coders), len(answers), len(shared), per_coder)


def blind_answers(db: Database, question: str, coder: str) -> set[int]:
    """Answers `coder` codes blind (overlap sample) in this question."""
    return {
        r[0]
        for r in db.execute(
            """SELECT s.answer_id FROM assignments s JOIN answers a ON a.id = s.answer_id
           WHERE a.question_id = ? AND s.coder = ? AND s.overlap = 1""",
            [question, coder],
        )
    }


def assigned_answers(db: Database, question: str, coder: str) -> list[int] | None:
    """The coder's queue when the question has assignments, else None (everyone codes everything)."""
    any_assignment = db.execute(
        "SELECT 1 FROM assignments s JOIN answers a ON a.id = s.answer_id WHERE a.question_id = ? LIMIT 1", [question]
    ).fetchone()
    if not any_assignment:
        return None
    return [
        r[0]
        for r in db.execute(
            """SELECT s.answer_id FROM assignments s JOIN answers a ON a.id = s.answer_id
           JOIN respondents r ON r.id = a.respondent_id
           WHERE a.question_id = ? AND s.coder = ? ORDER BY r.position, a.rank""",
            [question, coder],
        )
    ]


def own_codes(db: Database, answer_id: int, coder: str) -> dict[str, str]:
    return dict(
        db.execute(
            """SELECT t.id, c.status FROM coder_codings c JOIN themes t ON t.pk = c.theme_pk
           WHERE c.answer_id = ? AND c.coder = ? ORDER BY t.position""",
            [answer_id, coder],
        ).fetchall()
    )


def set_own_codes(
    db: Database, answer_id: int, coder: str, codes: dict[str, int], statuses: dict[str, str], action: str
) -> None:
    """Make one coder's blind codes on an answer exactly `codes` (theme id -> theme pk), audited."""
    with write(db):
        before = own_codes(db, answer_id, coder)
        db.execute("DELETE FROM coder_codings WHERE answer_id = ? AND coder = ?", [answer_id, coder])
        stamp = now()
        db.conn.executemany(
            "INSERT INTO coder_codings (answer_id, theme_pk, coder, status, coded_at) VALUES (?, ?, ?, ?, ?)",
            [(answer_id, pk, coder, statuses[t], stamp) for t, pk in codes.items()],
        )
        after = own_codes(db, answer_id, coder)
        if after != before:
            audit(db, coder=coder, action=action, target=f"answer:{answer_id}", before=before, after=after)
        settle(db, answer_id)


def others_codes(db: Database, answer_id: int, coder: str) -> dict[str, set[int]]:
    """Other coders' codes on an answer: their blind codes if any, else their confirmed final codes."""
    blind: dict[str, set[int]] = {}
    for who, pk in db.execute(
        "SELECT coder, theme_pk FROM coder_codings WHERE answer_id = ? AND coder != ? AND status = 'confirmed'",
        [answer_id, coder],
    ):
        blind.setdefault(who, set()).add(pk)
    if blind:
        return blind
    final: dict[str, set[int]] = {}
    for who, pk in db.execute(
        """SELECT coder, theme_pk FROM codings WHERE answer_id = ? AND status = 'confirmed'
               AND coder IS NOT NULL AND coder != ?""",
        [answer_id, coder],
    ):
        final.setdefault(who, set()).add(pk)
    return final


def code_independently(db: Database, answer_id: int, coder: str, theme_pks: list[int], action: str) -> str:
    """Record `coder`'s codes on an answer others confirmed as blind codes, never touching the final coding.

    Another coder's confirmed final codes become their blind codes too (so
    agreement can compare the two). Agreed answers settle; on a disagreement
    the final coding stays as it was, marked DISPUTED, until adjudicated.
    Returns the answer's settle status.
    """
    with write(db):
        stamp = now()
        for other, pks in others_codes(db, answer_id, coder).items():
            if not own_codes(db, answer_id, other):
                db.conn.executemany(
                    "INSERT INTO coder_codings (answer_id, theme_pk, coder, status, coded_at) VALUES (?, ?, ?, ?, ?)",
                    [(answer_id, pk, other, "confirmed", stamp) for pk in sorted(pks)],
                )
                audit(
                    db,
                    coder=other,
                    action=action + ".copied",
                    target=f"answer:{answer_id}",
                    before={},
                    after=own_codes(db, answer_id, other),
                )
        ids = dict(
            db.execute(
                f"SELECT pk, id FROM themes WHERE pk IN ({','.join('?' * len(theme_pks))})", theme_pks
            ).fetchall()
        )
        codes = {ids[pk]: pk for pk in theme_pks}
        set_own_codes(db, answer_id, coder, codes, {t: "confirmed" for t in codes}, action)
        status = settle_status(db, answer_id)
        if status == "disputed":
            marked = db.execute(
                "UPDATE codings SET method = ? WHERE answer_id = ? AND status = 'confirmed' AND method IS NOT ?",
                [DISPUTED, answer_id, DISPUTED],
            ).rowcount
            if marked:
                audit(
                    db,
                    coder=coder,
                    action="coding.disputed",
                    target=f"answer:{answer_id}",
                    before=None,
                    after={c: sorted(v) for c, v in originals(db, answer_id).items()},
                )
        return status


def settle(db: Database, answer_id: int) -> str:
    """When every assigned coder has confirmed: agreement becomes the final coding; else adjudication waits.

    A final coding that came from agreement follows the blind codes: if a coder
    later changes or undoes theirs, it is withdrawn (or, agreed again on other
    themes, replaced). A final coding an adjudicator or anyone else decided is
    never touched. Returns "open" (someone has not confirmed), "agreed" or "disputed".
    """
    status = settle_status(db, answer_id)
    final = db.execute(
        "SELECT theme_pk, method FROM codings WHERE answer_id = ? AND status = 'confirmed'", [answer_id]
    ).fetchall()
    from_agreement = bool(final) and all(method == "agreed" for _, method in final)
    coders = sorted(blind_coders(db, answer_id))
    together = "+".join(coders)
    if status == "agreed":
        pks = [
            r[0]
            for r in db.execute(
                "SELECT theme_pk FROM coder_codings WHERE answer_id = ? AND coder = ?", [answer_id, coders[0]]
            )
        ]
        if not final or (from_agreement and {pk for pk, _ in final} != set(pks)):
            apply_codes(
                db,
                answer_id,
                [Code(pk, "confirmed", together, method="agreed") for pk in pks],
                coder=together,
                action="coding.agreed",
                replace=True,
            )
    elif from_agreement:
        # The coders no longer agree: the agreed coding goes, back to adjudication or blind coding.
        apply_codes(db, answer_id, [], coder=together, action="coding.unagreed", replace=True)
    return status


DISPUTED = "disputed"  # codings.method of a final coding kept while independent coders' codes wait for a decision


def disputed_answers(db: Database, question: str) -> list[int]:
    """Answers all their coders confirmed, with different codes, and no final decision yet.

    Overlap answers of an assignment have no final coding until decided; answers
    coded independently (imported files) keep the first coder's final coding,
    marked DISPUTED, until an adjudicator's decision replaces it.
    """
    rows = db.execute(
        """SELECT a.id FROM answers a JOIN respondents r ON r.id = a.respondent_id
           WHERE a.question_id = ? AND (
             (EXISTS (SELECT 1 FROM assignments s WHERE s.answer_id = a.id AND s.overlap = 1)
              AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed'))
             OR (NOT EXISTS (SELECT 1 FROM assignments s WHERE s.answer_id = a.id AND s.overlap = 1)
              AND (SELECT count(DISTINCT k.coder) FROM coder_codings k WHERE k.answer_id = a.id) >= 2
              AND (EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.method = ?)
                   OR NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed'))))
           ORDER BY r.position, a.rank""",
        [question, DISPUTED],
    ).fetchall()
    return [r[0] for r in rows if settle_status(db, r[0]) == "disputed"]


def blind_coders(db: Database, answer_id: int) -> list[str]:
    """Who codes an answer blind: its overlap assignment, or else everyone with own codes on it (imports)."""
    assigned = [
        r[0] for r in db.execute("SELECT coder FROM assignments WHERE answer_id = ? AND overlap = 1", [answer_id])
    ]
    if assigned:
        return assigned
    return [
        r[0]
        for r in db.execute("SELECT DISTINCT coder FROM coder_codings WHERE answer_id = ? ORDER BY coder", [answer_id])
    ]


def settle_status(db: Database, answer_id: int) -> str:
    """ "open" until every blind coder of an answer (at least two) has confirmed it; then "agreed" or "disputed"."""
    coders = blind_coders(db, answer_id)
    if len(coders) < 2:
        return "open"
    sets = []
    for coder in coders:
        codes = own_codes(db, answer_id, coder)
        if not codes or any(s != "confirmed" for s in codes.values()):
            return "open"
        sets.append(frozenset(codes))
    return "agreed" if len(set(sets)) == 1 else "disputed"


def originals(db: Database, answer_id: int) -> dict[str, frozenset[str]]:
    """Each coder's confirmed blind codes on an answer (for adjudication, side by side)."""
    out: dict[str, set[str]] = {}
    for coder, theme in db.execute(
        """SELECT c.coder, t.id FROM coder_codings c JOIN themes t ON t.pk = c.theme_pk
           WHERE c.answer_id = ? ORDER BY c.coder, t.position""",
        [answer_id],
    ):
        out.setdefault(coder, set()).add(theme)
    return {c: frozenset(v) for c, v in out.items()}


@dataclass(frozen=True)
class AnswerRef:
    """Where an answer came from, as a researcher finds it in the export."""

    respondent_id: str
    column: str
    text: str


@dataclass
class QuestionAgreement:
    question: str
    level: int | None  # themes rolled up to their nets this deep (1 = top); None: as coded
    stats: Agreement
    answers: dict[int, AnswerRef]  # the disagreements' answers

    def to_dict(self) -> dict:
        out = {"question": self.question, "level": self.level, **self.stats.to_dict()}
        out["disagreements"] = [
            {"answer_id": unit, **self.answers[unit].__dict__, "codes": {c: sorted(v) for c, v in codes.items()}}
            for unit, codes in self.stats.disagreements
        ]
        return out


def parse_level(value: str | None, parents: dict[str, str | None], codebook_id: str) -> int | None:
    """`--level top` or `--level N` (1 = top) as a depth the codebook has; None for the themes as coded."""
    if value is None:
        return None
    text = value.strip().casefold()
    deepest = depth(parents)
    if text == "top":
        return 1
    if not text.isdigit() or int(text) < 1:
        raise CoderError(f"--level must be 'top' or a depth 1, 2, ... (1 = top), not {excerpt(value)}")
    if int(text) > deepest:
        raise CoderError(
            f"--level {int(text)}: codebook {codebook_id!r} has {deepest} level{'s' * (deepest > 1)} "
            f"(1 = top); its nets are set by each theme's parent"
        )
    return int(text)


def question_agreement(
    db: Database, question: str, coders: list[str] | None = None, level: str | None = None, shown_db: str = "DB"
) -> QuestionAgreement:
    """Agreement on the answers two or more coders coded blind, from each one's confirmed codes.

    `shown_db` is the database as the user named it, so an error can give the exact command to run.
    """
    codebook = read_codebook(db, question_codebook(db, question))
    parents = {t.id: t.parent for t in codebook.themes}
    depth_wanted = parse_level(level, parents, codebook.id)
    coded: dict[int, dict[str, set[str]]] = {}
    for answer_id, coder, theme in db.execute(
        """SELECT c.answer_id, c.coder, t.id FROM coder_codings c JOIN themes t ON t.pk = c.theme_pk
           JOIN answers a ON a.id = c.answer_id
           WHERE a.question_id = ? AND c.status = 'confirmed'""",
        [question],
    ):
        coded.setdefault(answer_id, {}).setdefault(coder, set()).add(theme)
    units: dict[int, dict[str, frozenset[str]]] = {
        u: {c: frozenset(t) for c, t in codes.items()} for u, codes in coded.items()
    }
    everyone = sorted({c for codes in units.values() for c in codes})
    chosen = list(dict.fromkeys(coders or everyone))
    unknown = [c for c in chosen if c not in everyone]
    known = shorten(", ".join(everyone) or "none", 200)
    importing = f"`coder codings import {shown_db} FILE --coder NAME --independent`"
    team = shorten(",".join(chosen), 200) if len(chosen) >= 2 else "a,b"
    assigning = f"`coder assign {shown_db} --question {question} --coders {team} --overlap 0.2`"
    if unknown:
        raise CoderError(
            f"no blind codes by {shorten(', '.join(unknown))} on {question!r} (coders with codes: {known}); "
            f"import each one's file with {importing}, or run {assigning} and code the overlap sample"
        )
    if len(chosen) < 2:
        raise CoderError(
            f"agreement needs two coders' codes on the same answers of {question!r} (coders with codes: {known}); "
            f"import each coder's file with {importing}, or run {assigning} and code the overlap sample"
        )
    if not any(sum(1 for c in chosen if c in codes) >= 2 for codes in units.values()):
        raise CoderError(
            f"{shorten(', '.join(chosen))} have coded no answer of {question!r} in common; agreement needs answers coded by "
            f"at least two of them: import files that share answers with {importing}, or run {assigning} "
            "and code the overlap sample"
        )
    if depth_wanted is not None:
        units = roll_up(units, parents, depth_wanted)
    stats = agreement(units, chosen, theme_order=codebook.ids)
    return QuestionAgreement(
        question, depth_wanted, stats, answer_refs(db, question, [u for u, _ in stats.disagreements])
    )


def answer_refs(db: Database, question: str, answer_ids: list[int]) -> dict[int, AnswerRef]:
    """Respondent id, export column and text of answers (rank n is the question's n-th column)."""
    wanted = set(answer_ids)
    columns = json.loads(db.execute("SELECT columns FROM questions WHERE id = ?", [question]).fetchone()[0])
    return {
        answer_id: AnswerRef(respondent, columns[rank - 1] if 0 < rank <= len(columns) else f"#{rank}", text)
        for answer_id, respondent, rank, text in db.execute(
            "SELECT id, respondent_id, rank, text FROM answers WHERE question_id = ?", [question]
        )
        if answer_id in wanted
    }
