"""Discovery: group answers that no existing theme fits into proposed new themes.

Answers are lemmatised (text.py), deduplicated by their lemmas and weighted by
how often each occurs, embedded as TF-IDF word 1-2 grams plus character 3-5
grams (so "chatbot", "chat bot" and "webchat" meet), reduced with truncated SVD
when the vocabulary is large, and clustered by average-linkage agglomerative
clustering on cosine distance with a fixed distance threshold: the threshold,
not a target count, decides how many themes there are, and weighted sizes let
one answer given by many respondents still form a theme. Above `SAMPLE` distinct
answers a weighted sample is clustered and the rest join the nearest cluster
when they would pass the same threshold.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .text import lemmatise, noun_chunks

# Words every kind of answer in a local-government survey uses: they would pull
# unrelated answers together, so clustering ignores them (labels never show them).
CLUSTER_STOP = frozenset(
    """
    get getting more better need needs would could should will can make making us our we
    council councils organisation organisations local service services way ways new
    improve improving improved
    """.split()
)

DISTANCE = 0.9  # average cosine distance at which two groups stop merging
SAMPLE = 3000  # distinct answers clustered directly; O(n^2) memory beyond this
SVD_DIMS = 150  # used only when the vocabulary is larger than this
CHAR_WEIGHT = 0.6  # share of the vector given to character n-grams


@dataclass(frozen=True)
class Proposal:
    """A candidate new theme: a cluster of answers and what it seems to be about."""

    label: str
    terms: tuple[str, ...]
    size: int  # answers, counting duplicates
    examples: tuple[str, ...]  # up to three distinct answers nearest the centroid
    member_ids: tuple[int, ...]
    cohesion: float  # mean cosine similarity of members to the centroid, 0..1


def discover(
    texts: list[str],
    ids: list[int] | None = None,
    *,
    min_size: int = 3,
    max_themes: int = 12,
    random_state: int = 0,
    exclude_terms: Iterable[str] = (),
) -> list[Proposal]:
    """Proposed themes among `texts`, largest first; clusters under `min_size` are noise."""
    texts = list(texts)
    ids = list(range(len(texts))) if ids is None else list(ids)
    if len(ids) != len(texts):
        raise ValueError("texts and ids differ in length")
    if len(texts) < max(min_size, 1):
        return []
    groups = _group(texts, ids)
    if not groups or sum(len(g.ids) for g in groups) < min_size:
        return []
    keys = [g.key for g in groups]
    weights = np.array([len(g.ids) for g in groups], dtype=float)
    words, vocab, X = _embed(keys, random_state)
    labels = _cluster(X, weights, random_state)

    excluded = _excluded(exclude_terms)
    chunks = None
    found = []
    for cluster in np.unique(labels[labels >= 0]):
        rows = np.flatnonzero(labels == cluster)
        if weights[rows].sum() >= min_size:
            found.append(rows)
    found.sort(key=lambda rows: -weights[rows].sum())
    found = found[: max_themes * 2]  # generous: ties are broken on cohesion below
    if found:
        members = sorted({i for rows in found for i in rows})
        phrases = noun_chunks([groups[i].text for i in members])
        if phrases is not None:
            chunks = dict(zip(members, phrases))

    proposals = []
    for rows in found:
        centroid = (weights[rows, None] * X[rows]).sum(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sims = X[rows] @ centroid
        cohesion = float(np.clip((weights[rows] * sims).sum() / weights[rows].sum(), 0.0, 1.0))
        order = rows[np.argsort(-sims, kind="stable")]
        terms = _terms(words, vocab, weights, rows, excluded)
        label = _label(terms, chunks, weights, rows, excluded)
        proposals.append(
            Proposal(
                label=label,
                terms=terms,
                size=int(weights[rows].sum()),
                examples=tuple(groups[i].text for i in order[:3]),
                member_ids=tuple(sorted(m for i in rows for m in groups[i].ids)),
                cohesion=round(cohesion, 4),
            )
        )
    proposals.sort(key=lambda p: (-p.size, -p.cohesion, p.label))
    return proposals[:max_themes]


@dataclass
class _Group:
    key: str  # the lemmas shared by every answer in the group
    text: str  # the commonest original wording
    ids: list[int]


def _group(texts: list[str], ids: list[int]) -> list[_Group]:
    # "Chat bot!" and "chat bots" are one answer for clustering; "n/a" and "???" have no lemmas.
    by_key: dict[str, tuple[Counter, list[int]]] = {}
    keys = [" ".join(w for w in k.split() if w not in CLUSTER_STOP) for k in lemmatise(t or "" for t in texts)]
    for text, key, id_ in zip(texts, keys, ids):
        if key:
            wordings, members = by_key.setdefault(key, (Counter(), []))
            wordings[text.strip()] += 1
            members.append(id_)
    return [_Group(key, wordings.most_common(1)[0][0], members) for key, (wordings, members) in by_key.items()]


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
    X = words if chars is None else hstack(
        [math.sqrt(1 - CHAR_WEIGHT) * words, math.sqrt(CHAR_WEIGHT) * normalize(chars)]
    ).tocsr()
    if X.shape[1] > SVD_DIMS and X.shape[0] > SVD_DIMS:
        X = TruncatedSVD(SVD_DIMS, algorithm="randomized", random_state=random_state).fit_transform(X)
    else:
        X = X.toarray()
    return words.tocsr(), word_vec.get_feature_names_out(), normalize(X).astype(np.float64)


def _cluster(X: np.ndarray, weights: np.ndarray, random_state: int) -> np.ndarray:
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
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=DISTANCE, metric="cosine", linkage="average"
    )
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
            ok = sims[np.arange(len(part)), best] >= 1 - DISTANCE
            labels[part[ok]] = best[ok]
    return labels


def _excluded(exclude_terms: Iterable[str]) -> frozenset[str]:
    words = set()
    for lemmas in lemmatise(list(exclude_terms)):
        words.update(lemmas.split())
    return frozenset(words)


def _distinctive(presence, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
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


def _label(terms, chunks, weights, rows, excluded) -> str:
    """Two or three distinctive terms, noun phrases first when a parser is available."""
    from spacy.lang.en.stop_words import STOP_WORDS

    picked: list[str] = []
    if chunks is not None:
        counts: Counter = Counter()
        for i in rows:
            for phrase in set(chunks.get(i, ())):
                kept = [w for w in phrase.split() if w not in STOP_WORDS and w.isalpha()]
                if kept and not excluded.intersection(kept):
                    counts[" ".join(kept)] += weights[i]
        total = weights[rows].sum()
        picked = [p for p, c in counts.most_common() if c >= max(2, 0.25 * total)][:2]
    used = {w for lemmas in lemmatise(picked) for w in lemmas.split()}  # "recycling" covers "recycle"
    for term in terms:
        if len(picked) >= (2 if any(" " in p for p in picked) else 3):
            break
        if not used.intersection(term.split()):
            picked.append(term)
            used.update(term.split())
    if not picked:
        return "Unlabelled"
    return " / ".join(p[0].upper() + p[1:] for p in picked)
