"""Which answers teach most: the active-learning order of a question's unconfirmed answers.

Confirming an answer the suggestions are already sure of teaches the learner
nothing; confirming ten near-identical uncertain answers teaches it once. So
the order favours answers with the most decisions likely wrong (from the stored
suggestion rows only: scores and `selected` flags, whatever learner made
them), whose likely themes have few confirmed examples, that are like many
other answers (an outlier teaches about itself), and spreads each batch over
different wordings (greedy max-min in a character n-gram TF-IDF space of the
candidates), so a batch of ten is ten different lessons. Two of each batch
are drawn at random from the rest, so the confirmed answers are never only the
doubtful ones (see `mixed`).

Until the confirmed answers are a fair share of a large question (EXPLORE,
EXPLORE_SHARE), uncertainty is not asked: the order is typical and diverse
answers from a random pool. A learner taught a few dozen doubtful answers of a
question with thousands misjudges the common ones (ANES dataset 6: 0.70 against
random's 0.76 at 50); on a question of a hundred answers the doubtful ones are
soon a large part of it.
Measured in benchmarks/bench_learning.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlite_utils import Database

from coder.suggest.engine import has_suggestions

MIN_CONFIRMED = 20  # confirmed answers of a question before the queue teaches (the learner needs some first)
POOL = 400  # most uncertain candidates spread for diversity; the rest follow by priority
REFERENCE = 1000  # answers sampled to measure how typical a candidate is
NEIGHBOURS = 10
EXPLORE = 100  # confirmed answers before which a large question's order is typical and diverse only ...
EXPLORE_SHARE = 0.01  # ... while they are under this share of its answers
BATCH = 10  # answers confirmed between retrains in the app
AT_RANDOM = 2  # of every batch, drawn at random from beyond the first MIXED_BATCHES batches
MIXED_BATCHES = 10


def expected_errors(errors: np.ndarray) -> np.ndarray:
    """Per answer, how many of its stored decisions are likely wrong: for each suggestion, 1 - score if
    selected, else score (the learner's scores are probabilities), summed; NaN (no suggestion) counts 1.

    Unlike the margin between the top two themes, this counts every theme
    near its own threshold, so an answer with one sure theme and a doubtful
    second one is as worth asking as one whose top theme is in doubt.
    """
    return np.clip(np.nan_to_num(errors, nan=1.0), 0.0, None)


def rarity(counts: np.ndarray) -> np.ndarray:
    """1 for a theme nobody has confirmed yet, falling as its confirmed examples grow."""
    return 1.0 / np.sqrt(1.0 + counts)


def spread(texts: list[str], priority: np.ndarray, reference: list[str]) -> list[int]:
    """Indices of `texts`, greedily: each next pick the most valuable given those already picked.

    Value is priority, times density (how like the typical answers of the
    `reference` sample it is: mean cosine to its ten nearest there, so an
    outlier teaches little about the rest), times the distance to the nearest
    pick so far (see `max_min`). Character n-grams, so spelling variants count
    as alike.
    """
    n = len(texts)
    if n <= 1:
        return list(range(n))
    try:
        X = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True).fit_transform(texts + reference)
    except ValueError:  # nothing but blanks and punctuation
        return list(np.argsort(-priority, kind="stable"))
    head, rest = X[:n], X[n:]
    similarity = (head @ head.T).toarray()
    if rest.shape[0]:
        near = (head @ rest.T).toarray()
        k = min(NEIGHBOURS, near.shape[1])
        density = np.sort(near, axis=1)[:, -k:].mean(axis=1)
        priority = priority * density / max(float(density.max()), 1e-9)
    return max_min(priority, similarity)


def max_min(priority: np.ndarray, similarity: np.ndarray) -> list[int]:
    """Greedy order: each next pick has the most priority times distance (1 - cosine) to its nearest pick so far.

    A near-duplicate of a pick, however valuable, is worth almost nothing
    until everything different has been offered. The distance counts once,
    not squared, as measured together with `mixed` (alone it was no better;
    benchmarks/README.md, round 4).
    """
    n = len(priority)
    nearest = np.zeros(n)  # similarity to the nearest pick so far
    left = np.ones(n, dtype=bool)
    order = []
    for _ in range(n):
        value = np.where(left, priority * (1.0 - nearest) + 1e-9 * priority, -1.0)
        pick = int(np.argmax(value))
        order.append(pick)
        left[pick] = False
        np.maximum(nearest, similarity[pick], out=nearest)
    return order


def explores(confirmed: int, answers: int) -> bool:
    """Whether the order should still be typical and diverse only (see the module docstring)."""
    return confirmed < min(EXPLORE, EXPLORE_SHARE * answers)


def teaching_order(
    ids: list[int],
    texts: Callable[[list[int]], list[str]],
    *,
    errors,
    top_rarity,
    pool: int = POOL,
    explore: int | None = None,
) -> list[int]:
    """`ids` ordered so the first ones teach most: uncertain, of rarely confirmed themes, typical, and diverse.

    With `explore` (a seed: the number of confirmed answers, so each rebuild
    draws afresh), the pool is a random sample and only typicality and
    diversity rank it. `texts` gives the texts of some of the ids: only the
    pool's and the reference sample's are read, so a 100k-answer question
    costs 1,400 texts.
    """
    if not ids:
        return []
    if explore is not None:
        priority = np.ones(len(ids))
        ranked = np.random.default_rng(explore).permutation(len(ids))
    else:
        priority = expected_errors(np.asarray(errors, dtype=np.float64))
        priority = priority * (0.5 + 0.5 * np.asarray(top_rarity, dtype=np.float64))
        ranked = np.argsort(-priority, kind="stable")
    head, tail = ranked[:pool], ranked[pool:]
    sample = np.random.default_rng(0).choice(len(ids), min(REFERENCE, len(ids)), replace=False)
    both = texts([ids[i] for i in head] + [ids[i] for i in sample])
    spread_head = [int(head[i]) for i in spread(both[: len(head)], priority[head], both[len(head) :])]
    order = [ids[i] for i in spread_head] + [ids[i] for i in tail.tolist()]
    return order if explore is not None else mixed(order, np.random.default_rng(len(ids)))


def mixed(order: list[int], rng: np.random.Generator) -> list[int]:
    """`order` with AT_RANDOM of every BATCH of its first MIXED_BATCHES batches drawn at random from the rest.

    The doubtful answers alone are a biased sample: the learner's
    probability scale and thresholds are fitted on the confirmed answers, and
    a few answers like any other keep them honest (anes:3, seeds 0-3: F1 0.522
    at 120 confirmations against 0.509, reaching random's F1@200 at 140
    instead of 150; anes:6 at 90 instead of 120; benchmarks/README.md, round 4).
    """
    keep = BATCH - AT_RANDOM
    head, rest = order[: BATCH * MIXED_BATCHES], order[BATCH * MIXED_BATCHES :]
    drawn = [rest[i] for i in rng.permutation(len(rest))[: AT_RANDOM * MIXED_BATCHES]]
    out = []
    for b in range(MIXED_BATCHES):
        out += head[keep * b : keep * (b + 1)] + drawn[AT_RANDOM * b : AT_RANDOM * (b + 1)]
    taken = set(out)
    return out + [a for a in order if a not in taken]


def ready(db: Database, question: str) -> bool:
    """Whether the question has suggestions and MIN_CONFIRMED confirmed answers: enough to know what it does not know."""
    if not has_suggestions(db, question):
        return False
    return (
        db.execute(
            """SELECT count(DISTINCT c.answer_id) FROM codings c JOIN answers a ON a.id = c.answer_id
           WHERE a.question_id = ? AND c.status = 'confirmed'""",
            [question],
        ).fetchone()[0]
        >= MIN_CONFIRMED
    )


def teaching_queue(db: Database, question: str, among: Iterable[int] | None = None, pool: int = POOL) -> list[int]:
    """The question's unconfirmed answers (only those in `among`, if given) in the order that teaches most."""
    # One row per answer, aggregated in SQLite; NULL (no such suggestion) becomes NaN.
    rows = db.execute(
        """SELECT a.id,
                  sum(CASE WHEN s.selected THEN 1 - s.score ELSE s.score END),
                  max(CASE WHEN s.rank = 1 THEN s.theme_pk END), max(CASE WHEN s.rank = 2 THEN s.theme_pk END)
           FROM answers a LEFT JOIN suggestions s ON s.answer_id = a.id
           WHERE a.question_id = ? AND a.is_answer = 1 GROUP BY a.id ORDER BY a.id""",
        [question],
    ).fetchall()
    if not rows:
        return []
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    ids = table[:, 0].astype(np.int64)
    confirmed = np.array(
        [
            r[0]
            for r in db.execute(
                """SELECT DISTINCT c.answer_id FROM codings c JOIN answers a ON a.id = c.answer_id
           WHERE a.question_id = ? AND c.status = 'confirmed'""",
                [question],
            )
        ],
        dtype=np.int64,
    )
    keep = ~np.isin(ids, confirmed)
    explore = len(confirmed) if explores(len(confirmed), len(ids)) else None
    if among is not None:
        keep &= np.isin(ids, np.fromiter(among, dtype=np.int64))
    table, ids = table[keep], ids[keep]
    if not len(ids):
        return []
    counts = db.execute(
        """SELECT c.theme_pk, count(*) FROM codings c JOIN answers a ON a.id = c.answer_id
           WHERE a.question_id = ? AND c.status = 'confirmed' GROUP BY c.theme_pk""",
        [question],
    ).fetchall()
    # An answer's likely themes are as rare as the rarer of its top two; with no suggestion, as rare as can be.
    pks = np.nan_to_num(table[:, 2:4], nan=-1).astype(np.int64)
    pks[:, 1] = np.where(pks[:, 1] < 0, pks[:, 0], pks[:, 1])
    lookup = np.zeros(max(int(pks.max()), max((pk for pk, _ in counts), default=0)) + 2)
    for pk, n in counts:
        lookup[pk] = n
    seen = rarity(lookup[pks]).max(axis=1)  # pk -1 (no suggestion) reads the last cell, 0: unseen

    def texts(chosen: list[int]) -> list[str]:
        found: dict[int, str] = {}
        for start in range(0, len(chosen), 500):  # under SQLite's limit on parameters
            part = chosen[start : start + 500]
            found.update(
                db.execute(f"SELECT id, text FROM answers WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
            )
        return [found[a] for a in chosen]

    return teaching_order(ids.tolist(), texts, errors=table[:, 1], top_rarity=seen, pool=pool, explore=explore)
