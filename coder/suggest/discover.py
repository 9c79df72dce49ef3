"""Discovery: group answers into proposed themes (the unfit ones, or all of them to start a codebook).

Answers are lemmatised (text.py), deduplicated by their lemmas and weighted by
how often each occurs, and placed in a space: sentence vectors when the caller
has them (meaning, for short answers that share few words), else TF-IDF word
1-2 grams plus character 3-5 grams (so "chatbot", "chat bot" and "webchat"
meet), reduced with truncated SVD when the vocabulary is large. They are
clustered by average-linkage agglomerative clustering on cosine distance (sentence
vectors less their mean, the question's shared topic) with a fixed distance
threshold per space: the threshold, not a target count, decides how many themes
there are, answers near no other stay alone and are left out, and weighted sizes
let one answer given by many respondents still form a theme.
Above `SAMPLE` distinct answers a weighted sample is clustered and the rest join
the nearest cluster when they would pass the same threshold. A cluster whose
answers are no closer to each other than the question's answers in general is a
heap of leftovers and is dropped; proposals whose centroids nearly coincide are
merged. A label phrase names one proposal only (the next takes its next best
phrase); two still named alike, or in TF-IDF space led by the same word, are merged.
Answers often carry two themes, which a partition cannot show: key phrases seed
candidates too (their users and the answers as close to them), and clusters and
seeds are chosen largest first when alike and no near-copy of one chosen (a chosen
theme's answers are new to a candidate that fits them better), so an answer may be in
several proposals; at most `theme_limit` of them, which grows with the answers. In meaning space
each proposal then takes in the answers that sit among its own (one of several points through its
closest clause), and on a small question (`SMALL`) the bar is lower.
Labels are phrases of the answers as written (see `_Phrases`); a weak one (hanging on an adverb, a
bare verb) only when no other phrase names the proposal. With an encoder (meaning space) a proposal is
named by the clause of its members' nearest its centroid (`_clause_label`): a stance needs its verb.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
from sqlite_utils import Database

from coder.codebook.db import read_codebook
from coder.coding.codings import question_codebook
from coder.errors import CoderError
from coder.safe_input import shorten
from coder.store import write
from coder.suggest.embeddings import embedder_for
from coder.suggest.engine import load_answers, unfit_answers
from coder.suggest.model import Answer
from coder.suggest.text import lemmatise, noun_chunks
from coder.suggest.wordclass import PARTICLES, only

# Words every kind of answer in a local-government survey uses: they would pull
# unrelated answers together, so clustering ignores them (labels never show them).
CLUSTER_STOP = frozenset(
    [
        "get",
        "getting",
        "more",
        "better",
        "need",
        "needs",
        "would",
        "could",
        "should",
        "will",
        "can",
        "make",
        "making",
        "us",
        "our",
        "we",
        "council",
        "councils",
        "organisation",
        "organisations",
        "local",
        "service",
        "services",
        "way",
        "ways",
        "new",
        "improve",
        "improving",
        "improved",
    ]
)

DISTANCE = 0.9  # average cosine distance at which two groups stop merging (TF-IDF space)
MEANING_DISTANCE = 0.9  # the same for sentence vectors, once centred
CENTRE_MIN = 20  # distinct answers needed for their mean to stand for what they share; fewer: TF-IDF
MERGE = 0.9  # proposals whose centroids are this similar are one theme worded two ways
SAMPLE = 3000  # distinct answers clustered directly; O(n^2) memory beyond this
SVD_DIMS = 150  # used only when the vocabulary is larger than this
CHAR_WEIGHT = 0.6  # share of the vector given to character n-grams
MAX_PHRASE = 4  # words in a label phrase
# A label never ends on a word that promises more ("education including"), nor before a determiner
# that starts its object ("Atheism fosters [a]").
CONTINUED = frozenset(
    [
        "including",
        "include",
        "includes",
        "involving",
        "especially",
        "particularly",
        "like",
        "versus",
        "vs",
        "plus",
        "except",
        "excluding",
        "concerning",
        "despite",
        "unlike",
        "namely",
        "given",
    ]
)
PREFIXES = frozenset(["self", "non"])  # "online self [help]" ends on half a word
LEADS = CONTINUED - {"like", "given", "plus"}  # "Especially elected members" begins mid-thought too
ADVERBS = frozenset(["online", "early", "today", "instead", "later", "earlier", "soon", "first", "fast"])
DETERMINERS = frozenset(
    ["a", "an", "the", "this", "these", "those", "my", "your", "his", "her", "its", "our", "their", "every"]
)
LABEL_CHARS = 80  # a label longer than this is no label (a run of long "words", a pasted URL)
PHRASE_CHARS = 1000  # of an answer searched for label phrases: long answers say it early or not at all
PHRASE_SHARE = 0.25  # of a cluster's answers that must use a phrase for it to be the label
# Overlapping themes (chosen on the corpus and ANES samples, bench_discover.py --dev):
MAX_SEEDS = 300  # phrases used by the most answers that seed a candidate theme
SEED_MAX_SHARE = 0.5  # of the answers, above which a phrase is the question's topic
SEED_JOIN = 0.75  # quantile of its users' similarity to their centroid a non-user must reach to join
SEED_BAR = 1.5  # a candidate's mean cosine must be this times the clustering's own bar (1 - distance)
WORD_SEED_BAR = 1.0  # the same in TF-IDF space, where the phrase itself already makes its users alike
NEW_SHARE = 0.5  # of a candidate's answers that must be new to each theme already chosen (see `_select`)
SAME_CENTRE = 0.7  # centroid cosine at which a candidate is a chosen theme worded another way
THEME_LIMITS = (16, 30)  # proposals at most: the square root of the answers, within these bounds
SMALL = 150  # answers up to which a question is small: a theme there is a handful of answers
SMALL_SEED_BAR = 0.75  # `SEED_BAR` on a small question, in meaning space
# Where an answer of several points divides: sentence ends and the connectives that start a new point
# (not a plain "and", which mostly joins two nouns of one point).
CLAUSE_SPLIT = re.compile(r"(?<=[.!?])\s+|;|\bbut\b|\bbecause\b|\band also\b", re.IGNORECASE)
CLAUSE_WORDS = 3  # a shorter piece ("Yes", "but why") says too little to place on its own
# Labels in meaning space (round 8): a clause of a member's, where a label phrase of a few nouns ("Companies")
# cannot say a stance. Split also at commas, colons, brackets and a spaced dash: a label has none.
LABEL_SPLIT = re.compile(r"(?<=[.!?])\s+|[;,:()]|\s-\s|\bbut\b|\bbecause\b|\band also\b", re.IGNORECASE)
LABEL_WORDS = 10  # a clause longer than this is a sentence to read, not a label
CLAUSE_MEMBERS = 10  # members nearest the centroid whose clauses are label candidates
ARTICLES = frozenset(["a", "an", "the", "every"])  # stop words a label may begin with
SPELLING = 90  # rapidfuzz ratio at which two clauses are one spelt two ways (a typo, a dropped letter)
WORD_SPELLING = 75  # the same for each word of the two (see `_spelt_alike`)
NEGATIONS = frozenset(["no", "not", "never", "none", "nor", "nothing", "nobody", "cannot"])
# What a contraction's first part stands for when it is no word of its own: "won't", "can't", "shan't", "ain't".
SHORTENED = {"wo": "will", "ca": "can", "sha": "shall", "ai": "is"}
GROW_QUANTILE = 0.1  # a proposal takes in every answer as close to it as this quantile of its own (meaning space)


@dataclass(frozen=True)
class Proposal:
    """A candidate new theme: a cluster of answers and what it seems to be about."""

    label: str
    terms: tuple[str, ...]
    size: int  # answers, counting duplicates
    examples: tuple[str, ...]  # up to three distinct answers nearest the centroid
    member_ids: tuple[int, ...]
    cohesion: float  # mean cosine similarity of members to the centroid, 0..1
    description: str = ""


def discover(
    texts: list[str],
    ids: list[int] | None = None,
    *,
    vectors: np.ndarray | None = None,
    min_size: int = 3,
    max_themes: int | None = None,
    random_state: int = 0,
    exclude_terms: Iterable[str] = (),
    encode: Callable[[list[str]], np.ndarray] | None = None,
) -> list[Proposal]:
    """Proposed themes among `texts`, largest first; clusters under `min_size` are noise.

    `vectors` (one unit row per text, e.g. sentence embeddings) replace TF-IDF as the
    space answers are clustered in, given `CENTRE_MIN` distinct answers; terms and labels
    always come from the answers' words. `max_themes` defaults to `theme_limit(len(texts))`.
    `encode` (the function that made `vectors`) places an answer's clauses too, so that it joins a
    proposal through any of them (see `_grown`).
    """
    texts = list(texts)
    max_themes = max_themes or theme_limit(len(texts))
    ids = list(range(len(texts))) if ids is None else list(ids)
    if len(ids) != len(texts) or (vectors is not None and len(vectors) != len(texts)):
        raise ValueError("texts, ids and vectors differ in length")
    if len(texts) < max(min_size, 1):
        return []
    groups = _group(texts, ids)
    if not groups or sum(len(g.ids) for g in groups) < min_size:
        return []
    keys = [g.key for g in groups]
    weights = np.array([len(g.ids) for g in groups], dtype=float)
    words, vocab, X = _embed(keys, random_state)
    raw, distance = X, DISTANCE
    units = None  # clause vectors, in meaning space
    # Every answer to one question is about its topic: sentence vectors less their mean measure
    # what answers say about it (chosen on the bundled corpus). Too few answers give no stable mean.
    meaning = vectors is not None and enough_for_vectors(texts)
    if meaning:
        from sklearn.preprocessing import normalize

        vectors = np.asarray(vectors, dtype=np.float64)
        raw = normalize(np.stack([vectors[g.rows].mean(axis=0) for g in groups]))
        centre = weights @ raw / weights.sum()
        X = normalize(raw - centre)
        units = _clauses([g.text for g in groups], encode, centre)
        distance = MEANING_DISTANCE
    labels = _merge(X, weights, _cluster(X, weights, random_state, distance))

    excluded = _excluded(exclude_terms)
    found = []
    overall = _mean_cosine(raw, np.arange(len(raw)))
    for cluster in np.unique(labels[labels >= 0]):
        rows = np.flatnonzero(labels == cluster)
        # Answers no closer to each other than answers in general are leftovers, not a theme
        # (unless they are all the answers there are).
        if weights[rows].sum() >= min_size and (len(rows) in (1, len(raw)) or _mean_cosine(raw, rows) > overall):
            found.append(rows)
    found.sort(key=lambda rows: -weights[rows].sum())
    found = found[: max_themes * 2]  # generous: ties are broken on cohesion below
    phrases = _Phrases([g.text for g in groups], weights, excluded)
    # Answers carry about two themes each (ThemeFinder's, ANES's): a partition caps recall, so
    # phrase-seeded candidates compete with the clusters and an answer may join several.
    # On a small question (ThemeFinder's 100 answers; chosen on the dev sets cut to that size) a theme
    # is a handful of answers, whose likeness a looser bar lets through.
    small = len(texts) <= SMALL
    bar = ((SMALL_SEED_BAR if small else SEED_BAR) if meaning else WORD_SEED_BAR) * (1 - distance)
    found = _select(found + _seeded(phrases, X, weights, min_size), X, weights, max_themes, bar, nearer=meaning)
    # Members carry about two themes each: a proposal takes in the answers that sit among its own.
    if meaning:
        found = [_grown(rows, X, weights, units) for rows in found]

    merged: list[Proposal] = []
    taken: set[int] = set()  # label phrases in use
    used: set[str] = set()  # clause labels in use
    by_name: dict[str, int] = {}  # labels and first terms, to the proposal that has them
    spellings: _Spellings | None = None  # made at the first clause label
    for rows in found:
        centroid = (weights[rows, None] * X[rows]).sum(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sims = X[rows] @ centroid
        cohesion = float(np.clip((weights[rows] * sims).sum() / weights[rows].sum(), 0.0, 1.0))
        order = rows[np.argsort(-sims, kind="stable")]
        terms = _terms(words, vocab, weights, rows, excluded)
        label = phrases.label(order, taken) or _label(terms, phrases.cut)
        if meaning and encode is not None:  # a clause of its own says what a stance's answers share
            clause = _clause_label([groups[i].text for i in order[:CLAUSE_MEMBERS]], centroid, encode, centre, used)
            if clause is not None:
                spellings = spellings or _Spellings([g.text for g in groups], weights)
                label = spellings.usual(clause)
        size = int(weights[rows].sum())
        proposal = Proposal(
            label=label,
            terms=terms,
            size=size,
            examples=tuple(groups[i].text for i in order[:3]),
            member_ids=tuple(sorted(m for i in rows for m in groups[i].ids)),
            cohesion=round(cohesion, 4),
            description=_describe(size, terms),
        )
        # Two proposals named alike are one theme the clustering split; in TF-IDF space, where
        # clusters are made of words, so are two led by the same word (in meaning space they need not be).
        names = [label.casefold(), *(() if meaning else terms[:1])]
        at = next((by_name[n] for n in names if n in by_name), None)
        if at is None:
            at = len(merged)
            merged.append(proposal)
        else:  # the larger one (seen first) keeps its label, examples and terms
            twin = merged[at]
            members = tuple(sorted(set(twin.member_ids) | set(proposal.member_ids)))  # they may overlap
            merged[at] = replace(
                twin, size=len(members), member_ids=members, description=_describe(len(members), twin.terms)
            )
        by_name.update((n, at) for n in names)
    proposals = sorted(merged, key=lambda p: (-p.size, -p.cohesion, p.label))
    return proposals[:max_themes]


def theme_limit(answers: int) -> int:
    """Most proposals for this many answers: more answers hold more themes worth a proposal, but a
    starter codebook past a few dozen is more than a researcher reviews (ArgKP's 200-280 arguments a
    motion hold 7-8 themes and 12 slots lost some to the limit). At least 16, a list read at a glance:
    on 100 answers (ThemeFinder's size) 12 slots lost themes to the limit too."""
    low, high = THEME_LIMITS
    return int(min(max(round(math.sqrt(answers)), low), high))


def _grown(rows: np.ndarray, X: np.ndarray, weights: np.ndarray, units=None) -> np.ndarray:
    """A proposal's answers and every other at least as close to its centroid as all but its farthest
    `GROW_QUANTILE`: an answer that makes this point beside another sits among its members, though the
    phrase or cluster that made the proposal missed it (on a small question each such answer counts).
    With `units` (clause vectors and the row each is of) an answer is as close as its closest clause:
    a whole-answer vector blurs two points, either of which may be this one."""
    centroid = (weights[rows, None] * X[rows]).sum(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    sims = X @ centroid
    cut = np.quantile(sims[rows], GROW_QUANTILE)
    if units is not None:
        vectors, owners = units
        sims = sims.copy()
        np.maximum.at(sims, owners, vectors @ centroid)
    return np.union1d(rows, np.flatnonzero(sims >= cut))


def _clause_label(texts: list[str], centroid: np.ndarray, encode, mean: np.ndarray, used: set[str]) -> str | None:
    """The clause of the nearest members' (`texts`) nearest the centroid, of `LABEL_WORDS` words at most,
    that begins with a content word or an article (a contraction is the word it shortens: not "It's ...")
    and ends on a content word ("Private military companies are dangerous", not "Dangerous"; not
    "Therefore it should be abandoned"), and names no larger proposal (`used`, added to). None when no
    clause qualifies."""
    grammar, pieces = _grammar(), []
    for text in texts:
        for piece in LABEL_SPLIT.split(text[:PHRASE_CHARS]):
            words = _unquoted(piece.strip()).split()
            if not 2 <= len(words) <= LABEL_WORDS:
                continue
            first, last = _uncontracted(words[0]), words[-1].casefold().strip(".!?'\"-")
            if (first in grammar and first not in ARTICLES) or last in grammar or not last.isalpha():
                continue
            piece = " ".join(words).strip(" .!?-")
            if len(piece) <= LABEL_CHARS and piece.casefold() not in used:
                pieces.append(piece)
    pieces = list(dict.fromkeys(pieces))
    if not pieces:
        return None
    best = pieces[int(np.argmax(_centred(encode, pieces, mean) @ centroid))]
    used.add(best.casefold())
    return best[0].upper() + best[1:]


class _Spellings:
    """How often the question's answers (`texts`, `weights` answers each) write each clause, to spell a
    label as most of them do: the clause nearest a centre may carry a typo ("Ocmmissioned by the council",
    "The economny") that most who wrote it did not make. A label spelt as another proposal's is that
    proposal found twice, and merged with it."""

    def __init__(self, texts: list[str], weights: np.ndarray):
        self.counts: Counter[str] = Counter()
        self.spelt: dict[str, str] = {}
        for text, weight in zip(texts, weights):
            for piece in LABEL_SPLIT.split(text[:PHRASE_CHARS]):
                piece = _unquoted(" ".join(piece.split()).strip(" .!?-"))
                if piece and len(piece) <= 2 * LABEL_CHARS:
                    self.counts[piece.casefold()] += int(weight)
                    self.spelt.setdefault(piece.casefold(), piece)
        self.by_length: dict[int, list[str]] = defaultdict(list)
        for key in self.counts:
            self.by_length[len(key)].append(key)

    def usual(self, label: str) -> str:
        from rapidfuzz import fuzz, process, utils

        own = label.casefold()
        slack = max(3, len(label) // 10)
        candidates = [k for n in range(len(own) - slack, len(own) + slack + 1) for k in self.by_length.get(n, ())]
        near = process.extract(
            label, candidates, scorer=fuzz.ratio, processor=utils.default_process, score_cutoff=SPELLING, limit=None
        )
        spellings = [match[0] for match in near if _spelt_alike(match[0], own)]
        best = max(spellings, key=lambda key: (self.counts[key], key == own), default=own)
        if self.counts.get(best, 0) <= self.counts.get(own, 0):
            return label
        return self.spelt[best][0].upper() + self.spelt[best][1:]


def _unquoted(piece: str) -> str:
    """`piece` without a quote mark at either end whose partner is not in it: a clause cut from a quoted
    sentence ('"have someone that is not so close minded') is no label with a quote left open."""
    for opening, closing in (('"', '"'), ("\u201c", "\u201d"), ("'", "'"), ("\u2018", "\u2019")):
        if piece.startswith(opening) and closing not in piece[1:]:
            piece = piece[1:].lstrip()
        if piece.endswith(closing) and opening not in piece[:-1]:
            piece = piece[:-1].rstrip()
    return piece


def _spelt_alike(a: str, b: str) -> bool:
    """Word for word the same clause, but for typos inside words: "should not be" is not "should be"
    misspelt, though only one short word tells them apart."""
    from rapidfuzz import fuzz

    def negated(word: str) -> bool:
        return word in NEGATIONS or word.endswith(("n't", "n’t"))

    def alike(x: str, y: str) -> bool:
        if x == y:
            return True
        # "can" / "can't" / "cant", "should" / "shouldnt": one letter or two, the opposite meaning
        short, long = sorted((x, y), key=len)
        if negated(x) != negated(y) or (long.startswith(short) and long.endswith("nt")):
            return False
        return fuzz.ratio(x, y) >= WORD_SPELLING

    left, right = a.split(), b.split()
    return len(left) == len(right) and all(alike(x, y) for x, y in zip(left, right))


def _uncontracted(word: str) -> str:
    """A word as the stop-word test reads it: a contraction as the word it shortens ("it's" is "it",
    "don't" is "do", "won't" is "will"), so that a label does not begin "It's not just about ..."."""
    word = word.casefold().replace("\u2019", "'")
    if "'" not in word:
        return word
    if word.endswith("n't"):
        base = word[:-3]
        return SHORTENED.get(base, base)
    return word.split("'")[0] or word


def _clauses(texts: list[str], encode, mean: np.ndarray):
    """(clause vectors centred like the answers', the row each is of) for answers of several clauses,
    or None (no encoder, or no answer of several clauses)."""
    if encode is None:
        return None
    pieces, owners = [], []
    for row, text in enumerate(texts):
        parts = [p.strip() for p in CLAUSE_SPLIT.split(text[:PHRASE_CHARS])]
        parts = [p for p in parts if len(p.split()) >= CLAUSE_WORDS]
        if len(parts) > 1:
            pieces += parts
            owners += [row] * len(parts)
    if not pieces:
        return None
    return _centred(encode, pieces, mean), np.array(owners, dtype=int)


def _centred(encode, pieces: list[str], mean: np.ndarray) -> np.ndarray:
    """Pieces of answers encoded and centred as the answers are (less their mean), unit rows."""
    from sklearn.preprocessing import normalize

    return normalize(np.asarray(encode(pieces), dtype=np.float64) - mean)


def _seeded(phrases: _Phrases, X: np.ndarray, weights: np.ndarray, min_size: int) -> list[np.ndarray]:
    """A candidate theme per key phrase: the answers that use it, and those as close to its users' centroid
    as most users are (the same point made in other words)."""
    from scipy.sparse import csr_matrix

    total = weights.sum()
    presence = phrases.presence.tocsc()
    support = np.asarray(presence.T @ weights).ravel()
    # A phrase most answers use is the question's topic, not a theme.
    usable = np.flatnonzero(
        (support >= min_size) & (support <= SEED_MAX_SHARE * total) & (np.diff(presence.indptr) >= 2)
    )
    seeds = presence[:, usable[np.argsort(-support[usable], kind="stable")][:MAX_SEEDS]]
    if not seeds.shape[1]:
        return []
    centroids = np.asarray(seeds.T @ (weights[:, None] * X))
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    sims = X @ centroids.T
    cuts = [
        np.quantile(sims[seeds.indices[seeds.indptr[j] : seeds.indptr[j + 1]], j], SEED_JOIN)
        for j in range(seeds.shape[1])
    ]
    members = (csr_matrix(sims >= np.array(cuts)) + seeds.astype(bool)).T.tocsr()
    members.sort_indices()
    return [members.indices[members.indptr[j] : members.indptr[j + 1]] for j in range(members.shape[0])]


def _select(
    candidates: list[np.ndarray],
    X: np.ndarray,
    weights: np.ndarray,
    max_themes: int,
    bar: float,
    nearer: bool = True,
) -> list[np.ndarray]:
    """Largest first, the candidates whose answers are alike (mean cosine at least `bar`) and that are
    no copy of one chosen: not centred near it, nor mostly made of its answers that it fits as well.
    An answer of a chosen theme is new to a candidate that fits it better (is nearer its centroid):
    a large theme that restates the question fits its answers loosely, and the arguments inside it
    are themes too. Only with `nearer` (meaning space): in TF-IDF space a narrower phrase always fits
    its users better, and every rewording of a theme would become one. Answers may be in several."""
    rows_of = [np.asarray(r) for r in candidates]
    members = _membership(rows_of, len(weights))
    sizes = np.asarray(members @ weights).ravel()
    sums = np.asarray(members @ X)  # rows of X are unit vectors: the mean cosine follows from the sum
    counts = np.diff(members.indptr)
    # One answer given by many, or every answer alike (as the clustering keeps them), needs no bar.
    alike = np.where(
        (counts > 1) & (counts < len(weights)),
        ((sums**2).sum(axis=1) - counts) / np.maximum(counts * (counts - 1), 1),
        1.0,
    )
    centres = np.asarray(members @ (weights[:, None] * X))
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
    chosen: list[int] = []
    inside = np.zeros((max_themes, len(weights)), dtype=bool)  # the chosen themes' answers
    fits = np.zeros((max_themes, len(weights)))  # every answer's cosine to each chosen centroid
    for i in np.argsort(-sizes, kind="stable"):
        k = len(chosen)
        if k >= max_themes:
            break
        rows = rows_of[i]
        if alike[i] < bar or (k and (centres[chosen] @ centres[i]).max() >= SAME_CENTRE):
            continue
        served = (inside[:k, rows] & (fits[:k, rows] >= (X[rows] @ centres[i] if nearer else -np.inf))) @ weights[rows]
        if k and (sizes[i] - served).min() < NEW_SHARE * sizes[i]:
            continue
        inside[k, rows] = True
        fits[k] = X @ centres[i]
        chosen.append(int(i))
    return [rows_of[i] for i in chosen]


def _membership(rows_of: list[np.ndarray], n: int):
    from scipy.sparse import csr_matrix

    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows_of])])
    indices = np.concatenate(rows_of) if rows_of else np.zeros(0, dtype=int)
    return csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows_of), n))


def enough_for_vectors(texts: list[str]) -> bool:
    """Whether `discover` clusters these answers by their vectors (if given) rather than TF-IDF."""
    return len({t.strip().casefold() for t in texts if t and t.strip()}) >= CENTRE_MIN


def _mean_cosine(X: np.ndarray, rows: np.ndarray) -> float:
    """Mean cosine over pairs of distinct rows (unit vectors), from their sum: no n x n matrix."""
    n = len(rows)
    if n < 2:
        return 1.0
    total = X[rows].sum(axis=0)
    return float((total @ total - (X[rows] ** 2).sum()) / (n * (n - 1)))


def _describe(size: int, terms: tuple[str, ...]) -> str:
    """One sentence a researcher can edit: what the answers share, in their own words."""
    if not terms:
        return f"{size} answers worded alike."
    shown = [f'"{shorten(t, 40)}"' for t in terms[:3]]  # a term is one "word" at most, which may be long
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return f"{size} answers that mention {listed}."


@dataclass
class _Group:
    key: str  # the lemmas shared by every answer in the group
    text: str  # the commonest original wording
    ids: list[int]
    rows: list[int]  # positions of its answers in the input


def _group(texts: list[str], ids: list[int]) -> list[_Group]:
    # "Chat bot!" and "chat bots" are one answer for clustering; "n/a" and "???" have no lemmas.
    by_key: dict[str, tuple[Counter, list[int], list[int]]] = {}
    keys = [" ".join(w for w in k.split() if w not in CLUSTER_STOP) for k in lemmatise(t or "" for t in texts)]
    for row, (text, key, id_) in enumerate(zip(texts, keys, ids)):
        if key:
            wordings, members, rows = by_key.setdefault(key, (Counter(), [], []))
            wordings[text.strip()] += 1
            members.append(id_)
            rows.append(row)
    return [
        _Group(key, wordings.most_common(1)[0][0], members, rows) for key, (wordings, members, rows) in by_key.items()
    ]


def _embed(keys: list[str], random_state: int):
    """Unit vectors per distinct answer, plus the word TF-IDF used for labels."""
    from scipy.sparse import hstack
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    word_vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+", dtype=np.float32)
    words = word_vec.fit_transform(keys)
    char_vec = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2 if len(keys) > 50 else 1, dtype=np.float32
    )
    try:
        chars = char_vec.fit_transform(keys)
    except ValueError:  # no n-gram occurs twice
        chars = None
    X = (
        words
        if chars is None
        else hstack([math.sqrt(1 - CHAR_WEIGHT) * words, math.sqrt(CHAR_WEIGHT) * normalize(chars)]).tocsr()
    )
    if X.shape[1] > SVD_DIMS and X.shape[0] > SVD_DIMS:
        X = TruncatedSVD(SVD_DIMS, algorithm="randomized", random_state=random_state).fit_transform(X)
    else:
        X = X.toarray()
    return words.tocsr(), word_vec.get_feature_names_out(), normalize(X).astype(np.float64)


def _cluster(X: np.ndarray, weights: np.ndarray, random_state: int, distance: float) -> np.ndarray:
    """Cluster label per row, -1 for rows left unclustered."""
    from sklearn.cluster import AgglomerativeClustering

    n = X.shape[0]
    labels = np.full(n, -1)
    if n == 1:
        labels[0] = 0
        return labels
    if n > SAMPLE:
        rng = np.random.default_rng(random_state)
        sample = np.sort(rng.choice(n, SAMPLE, replace=False, p=weights / weights.sum()))
    else:
        sample = np.arange(n)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average")
    labels[sample] = model.fit_predict(X[sample])
    if n > SAMPLE:
        # Average linkage merges when the mean distance is under the threshold; the mean
        # distance of a point to a cluster is 1 - x . (unnormalised mean of its members).
        rest = np.setdiff1d(np.arange(n), sample)
        k = labels[sample].max() + 1
        sums = np.zeros((k, X.shape[1]))
        np.add.at(sums, labels[sample], X[sample])
        means = sums / np.bincount(labels[sample], minlength=k)[:, None]
        for start in range(0, len(rest), 4096):
            part = rest[start : start + 4096]
            sims = X[part] @ means.T
            best = sims.argmax(axis=1)
            ok = sims[np.arange(len(part)), best] >= 1 - distance
            labels[part[ok]] = best[ok]
    return labels


def _excluded(exclude_terms: Iterable[str]) -> frozenset[str]:
    words = set()
    for lemmas in lemmatise(list(exclude_terms)):
        words.update(lemmas.split())
    return frozenset(words)


def _distinctive(presence, weights: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score per column: share of the cluster using it times its lift over the rest."""
    inside = np.zeros(len(weights), dtype=bool)
    inside[rows] = True
    w_in, w_out = weights[inside], weights[~inside]
    p_in = np.asarray(presence[inside].T @ w_in).ravel() / w_in.sum()
    p_out = np.asarray(presence[~inside].T @ w_out).ravel() / max(w_out.sum(), 1.0)
    return p_in * np.log((p_in + 0.01) / (p_out + 0.01)), p_in


def _terms(words, vocab, weights, rows, excluded, n: int = 8) -> tuple[str, ...]:
    presence = (words > 0).astype(np.float64)
    score, p_in = _distinctive(presence, weights, rows)
    # A term from one answer in a cluster of several describes that answer, not the cluster.
    support = 2 if len(rows) > 1 else 1
    enough = p_in * weights[rows].sum() >= support - 1e-9
    out: list[str] = []
    order = np.argsort(-score, kind="stable")
    if not enough[order[score[order] > 0]].any():
        enough[:] = True  # every answer words it differently: the best single-answer terms will do
    for j in order:
        if len(out) == n or score[j] <= 0:
            break
        parts = vocab[j].split()
        if not enough[j] or excluded.intersection(parts) or len(set(parts)) < len(parts):
            continue
        # The stronger of a bigram and its words is kept, never both.
        if any(set(parts) & set(kept.split()) for kept in out):
            continue
        out.append(vocab[j])
    return tuple(out)


def _label(terms: tuple[str, ...], cut=lambda term: False) -> str:
    """The best term short enough and not cut from a longer phrase, when no phrase of the answers' own
    can name the cluster."""
    term = next((t for t in terms if len(t) <= LABEL_CHARS and not cut(t)), None)
    return term[0].upper() + term[1:] if term else "Unlabelled"


class _Phrases:
    """Label candidates: runs of up to MAX_PHRASE words of the answers as written, that begin and end
    with a content word ("ban gambling adverts", "advertising on kids' channels"), matched on lemmas.
    With a trained parser installed only its noun chunks are candidates."""

    def __init__(self, texts: list[str], weights: np.ndarray, excluded: frozenset[str]):
        from scipy.sparse import csr_matrix

        self.weights = weights
        self.surfaces: dict[tuple[str, ...], Counter] = {}
        self.central: list[set[int]] = []
        index: dict[tuple[str, ...], int] = {}
        rows, cols = [], []
        uses: dict[tuple[str, ...], float] = {}
        neighbours: defaultdict[tuple[str, ...], Counter] = defaultdict(Counter)
        particles: defaultdict[tuple[str, ...], Counter] = defaultdict(Counter)
        chunks = noun_chunks(texts)
        allowed = None if chunks is None else [set(_lemma_keys(c)) for c in chunks]
        for row, doc in enumerate(_docs(texts)):
            seen = set()
            for key, surface, cut, around, particle in _ngrams(doc, excluded):
                if allowed is not None and key not in allowed[row]:
                    continue
                if particle:
                    particles[key][particle] += weights[row]
                if not cut:
                    self.surfaces.setdefault(key, Counter())[surface] += weights[row]
                uses[key] = uses.get(key, 0.0) + weights[row]
                for side in around:
                    neighbours[key][side] += weights[row]
                col = index.setdefault(key, len(index))
                if col not in seen:
                    seen.add(col)
                    rows.append(row)
                    cols.append(col)
            self.central.append(seen)
        self.keys = list(index)
        self.index = index
        self.presence = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(index)))
        stop = _stop()
        self.content = np.array([sum(1 for w in k if w not in stop) for k in self.keys], dtype=float)

        # A label is a phrase as written, not cut from a longer one: a phrase of several words that most of
        # its uses continue with the same word ("[ban would hurt gender] equality", "[atheism fosters] a")
        # is part of a longer phrase, and so is one that most uses continue from the same word ("customer
        # [relationship management]"), though a single use may well follow its verb ("get [citizens ...]").
        # Heads that vary are no cut: "recycling centre [hours | opening | booking]".
        def whole(k) -> bool:
            if k not in self.surfaces or len(k) == 1:
                return k in self.surfaces
            several = uses[k] >= 2 - 1e-9
            most = max((n for w, n in neighbours[k].items() if w[0] == ">" or several), default=0)
            return most <= 0.5 * uses[k] + 1e-9

        self.whole = np.array([whole(k) for k in self.keys], dtype=bool)

        # Weak labels a researcher would not keep, used only when no other phrase names the proposal: one
        # ending on a word that can only be an adverb ("Bens system is [nearly] 20 yrs old"; stop words never
        # end one), a bare verb ("Improve"), or a word most of whose uses go on into one particle ("Buy" of
        # "buy-in", "buy in").
        # A lone adverb ("Honestly") is left alone: it names a heap of answers that open alike, which
        # another proposal's phrase would only hide (and, named alike, merge into it).
        def weak(k) -> bool:
            if len(k) > 1:
                return only(k[-1], "adv")
            return only(k[0], "verb") or max(particles[k].values(), default=0) > 0.5 * uses[k] + 1e-9

        self.weak = np.array([weak(k) for k in self.keys], dtype=bool)

    def label(self, rows: np.ndarray, taken: set[int]) -> str | None:
        """A phrase several members share, else the nearest members' phrase around the best shared word.

        `rows` come nearest the centroid first. Phrases in `taken` name larger proposals already, and the
        one chosen is added to them: the next best phrase tells two proposals apart, where a merge of
        the two named alike made one large theme of a stance's several arguments ("Affirmative action").
        """
        if not self.keys:
            return None
        score, p_in = _distinctive(self.presence, self.weights, rows)
        useful = (score > 0) & self.whole
        useful[list(taken)] = False
        best = self._pick(rows, score, p_in, useful, useful & ~self.weak)
        if best is None:
            best = self._pick(rows, score, p_in, useful, useful)
        if best is None:
            return None
        taken.add(best)
        surface = self.surfaces[self.keys[best]].most_common(1)[0][0]
        return surface[0].upper() + surface[1:]

    def _pick(self, rows, score: np.ndarray, p_in: np.ndarray, useful: np.ndarray, allowed: np.ndarray) -> int | None:
        """The label among `allowed`; the word it is built around may be any `useful` one ("outsource")."""
        shared = useful & (p_in * self.weights[rows].sum() >= 2 - 1e-9)
        phrase = self.content >= 2
        # A phrase names the cluster when a fair share of it uses it; else the best word does.
        common = p_in >= PHRASE_SHARE
        best = self._best(score, shared & phrase & common & allowed)
        if best is None:
            near = np.zeros(len(self.keys), dtype=bool)
            near[[c for i in rows[:3] for c in self.central[i]]] = True
            # The best shared word, or when it is weak and no phrase holds it, the best strong one.
            words = [self._best(score, shared), self._best(score, shared & allowed)]
            for word in dict.fromkeys(w for w in words if w is not None):
                around = np.zeros(len(self.keys), dtype=bool)
                around[[j for j, k in enumerate(self.keys) if set(self.keys[word]) <= set(k)]] = True
                best = self._best(score, near & phrase & allowed & around)
                if best is None and allowed[word]:
                    best = word
                if best is not None:
                    return best
            if words[0] is None:
                best = self._best(score, near & allowed)
        return best

    def cut(self, term: str) -> bool:
        """Whether a term of lemmas ("customer self") is a phrase of the answers that is cut from a longer one."""
        key = tuple(term.split())
        return key in self.index and not self.whole[self.index[key]]

    def _best(self, score: np.ndarray, allowed: np.ndarray) -> int | None:
        # Longer phrases say more: each extra content word is worth a little, not a lot.
        candidates = np.flatnonzero(allowed)
        if not len(candidates):
            return None
        boosted = score[candidates] * (1 + 0.5 * (self.content[candidates] - 1))
        return int(candidates[np.argmax(boosted)])


@lru_cache(maxsize=1)
def _grammar() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    from coder.suggest.text import SURVEY_STOP

    return frozenset(STOP_WORDS | SURVEY_STOP)


@lru_cache(maxsize=1)
def _stop() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    from coder.suggest.text import SURVEY_STOP

    return frozenset(STOP_WORDS | SURVEY_STOP | CLUSTER_STOP)


def _docs(texts: list[str]):
    from coder.suggest.text import get_nlp

    # The lookup lemmatizer is keyed by lower-case forms; offsets map back to the answer as written.
    texts = [t[:PHRASE_CHARS] for t in texts]
    return list(zip(texts, get_nlp().pipe(t.lower() for t in texts)))


def _ngrams(item, excluded: frozenset[str]):
    """(lemma key, surface form, cut, around, particle) of each candidate phrase in one answer. `cut`: the phrase is
    a piece of a word ("customer self" of "self-service", "kids" of "kids' channels") or promises more
    ("education including", "especially elected members"); `around`: the words it reads on from and into,
    "<" + the content word before it and ">" + the content word, possessive or determiner ("a") after it;
    `particle`: the particle it goes on into, spaced or hyphened ("in" of "buy in", "buy-in"), else ""."""
    text, doc = item
    stop = _stop()
    same_length = len(text) == len(doc.text)
    tokens = list(doc)

    for i, first in enumerate(tokens):
        before = tokens[i - 1] if i else None
        hyphened = before is not None and before.text == "-" and not before.whitespace_  # "service" of "self-service"
        led = before is not None and _reads_on(before)
        for j in range(i, min(i + MAX_PHRASE, len(tokens))):
            token = tokens[j]
            # No phrase runs across punctuation, but "self-serve" and "kids'" are words.
            joined = token.text == "-" and j > i and not tokens[j - 1].whitespace_ and not token.whitespace_
            if not (token.is_alpha or token.text.startswith("'") or joined):
                break
            glued = j + 1 < len(tokens) and not token.whitespace_ and not tokens[j + 1].is_punct
            if glued:  # "wo" of "won't" is no word to end on
                continue
            ends = (first, token)
            if any(t.is_stop or t.lower_ in stop or (t.lemma_ or t.lower_) in stop or not t.is_alpha for t in ends):
                continue
            key = tuple((t.lemma_ or t.lower_) for t in tokens[i : j + 1])
            if excluded.intersection(key) or len(set(key)) < len(key):  # "savings savings"
                continue
            start, end = first.idx, token.idx + len(token)
            surface = " ".join((text if same_length else doc.text)[start:end].split())  # one line
            if len(surface) <= LABEL_CHARS:
                after = tokens[j + 1] if j + 1 < len(tokens) else None
                glued_on = (
                    after is not None
                    and not token.whitespace_
                    and (after.text == "-" or (after.text in ("'", "\u2019") and token.lower_.endswith("s")))
                )
                cut = glued_on or hyphened or token.lower_ in CONTINUED | PREFIXES or first.lower_ in LEADS
                behind = tokens[i - 2] if hyphened and i >= 2 else before  # "self" of "self-service"
                around = []
                if behind is not None and (hyphened or led):
                    around.append("<" + (behind.lemma_ or behind.lower_))
                if after is not None:
                    if glued_on and after.text == "-":  # "self-serve" and "self serve" read on alike
                        ahead = tokens[j + 2] if j + 2 < len(tokens) else after
                        around.append(">" + (ahead.lemma_ or ahead.lower_))
                    elif glued_on:
                        around.append(">'")  # a possessive
                    elif after.lower_ in DETERMINERS:
                        around.append(">a")  # the start of an object: "atheism fosters [a sense]"
                    elif _reads_on(after):
                        around.append(">" + (after.lemma_ or after.lower_))
                    elif after.lower_ in ("of", "to") and any(t.lower_ in DETERMINERS for t in tokens[i:j]):
                        around.append(">" + after.lower_)  # "abandon the use [of uniforms]", "the right [to choose]"
                ahead = tokens[j + 2] if after is not None and after.text == "-" and j + 2 < len(tokens) else after
                particle = ahead.lower_ if ahead is not None and ahead.lower_ in PARTICLES else ""
                yield key, surface, cut, around, particle


def _reads_on(token) -> bool:
    """Whether a word beside a phrase continues it: a content word ("self service": the words clustering
    ignores count), but not an adverb that ends the clause ("test with real users early") nor a word
    that begins a list ("education including budgeting")."""
    word, grammar = token.lower_, _grammar()
    if not token.is_alpha or word in grammar or (token.lemma_ or word) in grammar:
        return False
    return word not in ADVERBS and word not in CONTINUED and not (len(word) > 4 and word.endswith("ly"))


def _lemma_keys(chunks: list[str]):
    """Lemma keys of noun chunks, with leading and trailing stop words dropped ("the recycling centre")."""
    stop = _stop()
    for doc in _docs(chunks):
        words = [(t.lemma_ or t.lower_) for t in doc[1] if t.is_alpha]
        while words and words[0] in stop:
            words.pop(0)
        while words and words[-1] in stop:
            words.pop()
        if words:
            yield tuple(words)


def _merge(X: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One cluster for clusters whose weighted centroids are more similar than MERGE."""
    clusters = list(np.unique(labels[labels >= 0]))
    if len(clusters) < 2:
        return labels
    centroids = np.stack([(weights[labels == c, None] * X[labels == c]).sum(axis=0) for c in clusters])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    sims = centroids @ centroids.T
    parent = list(range(len(clusters)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b in zip(*np.nonzero(np.triu(sims, 1) > MERGE)):
        parent[root(b)] = root(a)
    out = labels.copy()
    for i, c in enumerate(clusters):
        out[labels == c] = clusters[root(i)]
    return out


# --- a question's discovery: its answers in, accepted proposals back into its codebook ---------------

REPEAT_SHARE = 0.5  # of a proposal's answers already coded with one theme: that theme found again


@dataclass
class Discovery:
    """What `coder discover` proposes, and from which answers and in which space."""

    question: str
    answers: list[Answer]  # the answers clustered
    proposals: list
    scratch: bool  # all answers clustered (a starter codebook), not only those no theme fits
    embeddings: str | None  # the sentence model used, or None for TF-IDF
    repeats: list = field(default_factory=list)  # Repeat: proposals left out as existing themes found again


@dataclass(frozen=True)
class Repeat:
    """A proposal left out because the codebook has it already."""

    proposal: object
    theme_id: str
    reason: str  # "same label" or "60% of its answers are coded with it"


def discover_themes(
    db: Database,
    question: str,
    *,
    max_score: float = 0.3,
    min_size: int = 3,
    max_themes: int | None = None,
    seed: int = 0,
    all_answers: bool = False,
    embeddings: bool = True,
    cache: bool = False,
    encode_progress: Callable[[int, int], None] | None = None,
) -> Discovery:
    """Cluster answers into proposed new themes (see discover.py).

    With no themes yet, or `all_answers`, every answer is clustered (discovery from scratch);
    otherwise only those no theme fits. Sentence vectors are used when a model is installed:
    those `coder suggest` stored are read, and new ones stored only with `cache` (the database
    must then be writable). `encode_progress(done, total)` follows the encoding of answers not
    stored yet (minutes on a large question).
    """
    codebook = read_codebook(db, question_codebook(db, question))
    scratch = all_answers or not codebook.themes
    if scratch:
        answers = [Answer(a.id, a.text, []) for a in load_answers(db, question)]
    else:
        answers = unfit_answers(db, question, max_score)
    texts = [a.text for a in answers]
    wanted = embeddings and codebook.kind == "text" and enough_for_vectors(texts)
    embedder = embedder_for(texts, db, store=cache) if wanted else None
    vectors = None
    if embedder is not None and texts:
        embedder.progress = encode_progress
        vectors = embedder.vectors(texts)
        embedder.progress = None  # clauses are encoded later, a few at a time
    # Proposals for what no theme fits should not be named after a theme; a fresh start may be.
    label_words = [] if scratch else [w for t in codebook.themes for w in t.label.split()]
    proposals = discover(
        texts,
        [a.id for a in answers],
        vectors=vectors,
        min_size=min_size,
        max_themes=max_themes,
        random_state=seed,
        exclude_terms=label_words,
        encode=embedder.vectors if embedder is not None and vectors is not None else None,
    )
    repeats = _repeats(db, codebook, proposals) if codebook.themes else []
    left_out = {id(r.proposal) for r in repeats}
    return Discovery(
        question,
        answers,
        [p for p in proposals if id(p) not in left_out],
        scratch,
        embedder.name if embedder is not None else None,
        repeats,
    )


def _repeats(db: Database, codebook, proposals) -> list[Repeat]:
    """Proposals an existing theme already covers: by its label or alias, or by most of their answers."""
    names = {n.casefold(): t.id for t in codebook.themes for n in (t.label, *t.aliases)}
    coded: dict[int, set[str]] = {}
    for answer, theme in db.execute(
        "SELECT c.answer_id, t.id FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE t.codebook_id = ?",
        [codebook.id],
    ):
        coded.setdefault(answer, set()).add(theme)
    out = []
    for proposal in proposals:
        if proposal.label.casefold() in names:
            out.append(Repeat(proposal, names[proposal.label.casefold()], "same label"))
            continue
        counts = Counter(t for m in proposal.member_ids for t in coded.get(m, ()))
        if counts:
            theme, count = counts.most_common(1)[0]
            share = count / len(proposal.member_ids)
            if share >= REPEAT_SHARE:
                out.append(Repeat(proposal, theme, f"{share:.0%} of its answers are coded with it"))
    return out


def proposal_members(db: Database, proposal) -> list[dict]:
    """A proposal's answers as the survey names them: respondent id and rank, in survey order."""
    ids = list(proposal.member_ids)
    rows = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        rows += db.execute(
            f"""SELECT a.respondent_id, a.rank, r.position FROM answers a JOIN respondents r ON r.id = a.respondent_id
                WHERE a.id IN ({",".join("?" * len(part))})""",
            part,
        ).fetchall()
    return [{"respondent_id": r[0], "rank": r[1]} for r in sorted(rows, key=lambda r: (r[2], r[1]))]


def accept_proposal(db: Database, question: str, proposal, *, label: str | None = None, coder: str | None = None):
    """Add a proposed theme to the question's codebook; its top terms become keywords and its answers
    seeds, which suggestions learn from until coders confirm enough of its answers (see seeds.py)."""
    from coder.codebook.db import add_theme, theme_pks
    from coder.suggest.seeds import store_seeds

    codebook_id = question_codebook(db, question)
    # Examples are answers, which may be long: the description quotes the start of each.
    examples = "; ".join(f'"{shorten(e, 200)}"' for e in proposal.examples)
    said = getattr(proposal, "description", "") or f"Proposed by discovery from {proposal.size} answers."
    with write(db):
        theme = add_theme(
            db,
            codebook_id,
            label or proposal.label,
            description=f"{said} Proposed by discovery, e.g. {examples}",
            keywords=tuple(proposal.terms),
            coder=coder,
        )
        store_seeds(db, theme_pks(db, codebook_id)[theme.id], proposal.member_ids)
    return theme


def accept_proposals(db: Database, question: str, proposals, *, coder: str | None = None):
    """Add several proposals in one transaction: all of them, or (on any error) none."""
    with write(db):
        return [accept_proposal(db, question, p, coder=coder) for p in proposals]


def name_candidates(db: Database, question: str):
    """For a names question: spellings no alias or fuzzy match claims, grouped, with the nearest theme."""
    from coder.suggest.names import NameMatcher

    codebook = read_codebook(db, question_codebook(db, question))
    if codebook.kind != "names":
        raise CoderError(f"question {question!r} is not a names question (its codebook is kind {codebook.kind!r})")
    matcher = NameMatcher(codebook)
    texts = [a.text for a in load_answers(db, question) if not a.confirmed]
    # Only cells that named nothing known: leftover words beside a match ("DWP - for UC") are not names.
    unknown = [t for t, found in zip(texts, matcher.match_many(texts)) if all(s.method == "fallback" for s in found)]
    return matcher.unmatched(unknown)


def accept_names(
    db: Database,
    question: str,
    candidate,
    *,
    alias_of: str | None = None,
    label: str | None = None,
    coder: str | None = None,
):
    """Teach the codebook a group of spellings: as aliases of a theme, or as a new theme."""
    from coder.codebook.db import add_alias, add_theme

    codebook_id = question_codebook(db, question)
    if alias_of:
        with write(db):
            for spelling in candidate.spellings:
                theme = add_alias(db, codebook_id, alias_of, spelling, coder=coder)
        return theme
    name = label or candidate.spellings[0]
    aliases = tuple(s for s in candidate.spellings if s.casefold() != name.casefold())
    return add_theme(
        db,
        codebook_id,
        name,
        aliases=aliases,
        description=f"Added from {candidate.count} answers naming it",
        coder=coder,
    )
