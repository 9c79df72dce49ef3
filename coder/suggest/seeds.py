"""Seeds: the answers a discovered theme was found in, which teach suggestions until coders take over.

A theme accepted from `coder discover` has no confirmed answers, only its label, terms and three
examples, and zero-shot from those alone spreads its answers elsewhere: on the development sets
(`bench_discover.py --after-accept`: corpus, three ANES samples, 24 ArgKP motions) the proposals
recover 147 of 271 gold themes, suggest + autocode from labels, terms and examples alone 120, and
learning from the members as seeds 149. Seeds are not codes: tables never count them, and a theme
stops learning from them once it has `SEED_UNTIL` confirmed answers of its own (an answer's
confirmed codes always replace its seeds).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from coder.suggest.model import Answer

SEED_UNTIL = 10  # confirmed answers of a theme from which its seeds no longer teach (few-shot ends here)


def store_seeds(db: Database, theme_pk: int, answer_ids: Iterable[int]) -> int:
    """Keep a theme's discovered answers; caller holds the transaction."""
    rows = [(theme_pk, a) for a in dict.fromkeys(answer_ids)]
    db.conn.executemany("INSERT OR IGNORE INTO theme_seeds (theme_pk, answer_id) VALUES (?, ?)", rows)
    return len(rows)


def with_seeds(db: Database, question: str, answers: list[Answer]) -> list[Answer]:
    """The answers as the learner should see them: unconfirmed ones carry their themes' seeds.

    Only themes with fewer than `SEED_UNTIL` confirmed answers lend seeds; `answers` keep
    their confirmed codes, which always win.
    """
    seeds: dict[int, list[str]] = {}
    for answer_id, theme in db.execute(
        """SELECT s.answer_id, t.id FROM theme_seeds s JOIN themes t ON t.pk = s.theme_pk
           JOIN answers a ON a.id = s.answer_id
           WHERE a.question_id = ? ORDER BY s.answer_id, t.position""",
        [question],
    ):
        seeds.setdefault(answer_id, []).append(theme)
    if not seeds:
        return answers
    counts: dict[str, int] = {}
    for answer in answers:
        for theme in answer.confirmed:
            counts[theme] = counts.get(theme, 0) + 1
    out = []
    for answer in answers:
        lent = [t for t in seeds.get(answer.id, ()) if counts.get(t, 0) < SEED_UNTIL]
        out.append(answer if answer.confirmed or not lent else Answer(answer.id, answer.text, lent))
    return out
