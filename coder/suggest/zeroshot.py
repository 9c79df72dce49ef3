"""Zero-shot theme scores: TF-IDF similarity between answers and what the codebook says.

Each theme is a handful of short prototypes (its label, each keyword, its
description, and once coded, its confirmed examples) rather
than one long document: a short answer usually echoes one phrase, so the
best-matching prototype decides, with the mean as a tie-breaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from coder.codebook.model import Codebook

WORD_WEIGHT = 0.7  # share of the word space in the combined similarity; chars get the rest
MAX_WEIGHT = 0.7  # best prototype vs mean of a theme's prototypes
EXAMPLE_MIN = 0.75  # a confirmed example decides only when the answer nearly repeats it
EXAMPLE_HALF = 2.0  # confirmed examples of a theme at which their centroid gets half the meaning score
MEANING_WEIGHT = 0.3  # share of sentence-embedding similarity in zero-shot, when a model is installed
FIT_SAMPLE = 50_000  # texts used to learn the vocabulary and IDF; transform sees all


@dataclass
class TextSpace:
    """Word (lemma 1-2 gram) and character (2-5 gram) TF-IDF spaces, stacked.

    Rows are scaled so a dot product is WORD_WEIGHT x word cosine plus the rest
    x char cosine: typos and compounds ("selfservice", "H&SC") still meet.
    """

    word: TfidfVectorizer
    char: TfidfVectorizer
    # Rows of the texts the space was fitted on: scoring them again costs a lookup, not an analysis.
    known: dict[str, int] = field(default_factory=dict)
    matrix: sp.csr_matrix | None = None

    @classmethod
    def fit(cls, lemmas: list[str], seed: int = 0) -> TextSpace:
        unique = list(dict.fromkeys(t for t in lemmas if t))
        if len(unique) > FIT_SAMPLE:
            rng = np.random.default_rng(seed)
            unique = [unique[i] for i in sorted(rng.choice(len(unique), FIT_SAMPLE, replace=False))]
        if not unique:
            unique = ["empty"]
        word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w[\w'&+-]*\b")
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, max_features=200_000
        )
        matrix = cls._stack(word.fit_transform(unique), char.fit_transform(unique))
        return cls(word, char, {t: i for i, t in enumerate(unique)}, matrix)

    @staticmethod
    def _stack(word: sp.csr_matrix, char: sp.csr_matrix) -> sp.csr_matrix:
        return sp.hstack([word * np.sqrt(WORD_WEIGHT), char * np.sqrt(1 - WORD_WEIGHT)], format="csr")

    def _analyse(self, lemmas: list[str]) -> sp.csr_matrix:
        return self._stack(self.word.transform(lemmas), self.char.transform(lemmas))

    def transform(self, lemmas: list[str]) -> sp.csr_matrix:
        if self.matrix is None:
            return self._analyse(lemmas)
        rows = np.array([self.known.get(t, -1) for t in lemmas], dtype=np.int64)
        missing = np.flatnonzero(rows < 0)
        if missing.size == 0:
            return self.matrix[rows]
        fresh = self._analyse([lemmas[i] for i in missing])
        # Known rows first, then the fresh ones, then put every row back in its place.
        present = np.flatnonzero(rows >= 0)
        stacked = sp.vstack([self.matrix[rows[present]], fresh], format="csr")
        order = np.empty(len(lemmas), dtype=np.int64)
        order[present] = np.arange(present.size)
        order[missing] = present.size + np.arange(missing.size)
        return stacked[order]


@dataclass(frozen=True)
class Prototype:
    theme: int  # index into codebook.themes
    kind: str  # label | keyword | description | example
    text: str


def prototypes(codebook: Codebook, examples: dict[str, list[str]] | None = None) -> list[Prototype]:
    protos = []
    for index, theme in enumerate(codebook.themes):
        protos.append(Prototype(index, "label", theme.label))
        protos += [Prototype(index, "keyword", k) for k in theme.keywords]
        if theme.description:
            protos.append(Prototype(index, "description", theme.description))
        for example in (examples or {}).get(theme.id, []):
            protos.append(Prototype(index, "example", example))
    return protos


@dataclass
class ZeroShotScores:
    scores: np.ndarray  # (answers, themes) in 0..1
    best: np.ndarray  # (answers, themes): index of the deciding prototype


class ZeroShot:
    """Scores answers against a codebook's prototypes in a question's TF-IDF space."""

    def __init__(self, codebook: Codebook, space: TextSpace, proto_lemmas: list[str], protos: list[Prototype]):
        self.codebook = codebook
        self.space = space
        self.protos = protos
        self.proto_lemmas = proto_lemmas
        self.matrix = space.transform(proto_lemmas)
        self.proto_sets = [frozenset(lemma.split()) for lemma in proto_lemmas]
        self._evidence: dict[tuple[str, int], str] = {}
        self.owner = np.array([p.theme for p in protos])
        self.is_example = np.array([p.kind == "example" for p in protos])

    def score(self, answer_matrix: sp.csr_matrix, chunk: int = 20_000) -> ZeroShotScores:
        n, k = answer_matrix.shape[0], len(self.codebook.themes)
        scores = np.zeros((n, k), dtype=np.float32)
        best = np.zeros((n, k), dtype=np.int32)
        proto_t = self.matrix.T.tocsc()
        for start in range(0, n, chunk):
            sims = (answer_matrix[start : start + chunk] @ proto_t).toarray()
            for j in range(k):
                own = np.flatnonzero((self.owner == j) & ~self.is_example)
                ex = np.flatnonzero((self.owner == j) & self.is_example)
                block = sims[:, own]
                arg = block.argmax(axis=1)
                top = block[np.arange(block.shape[0]), arg]
                value = MAX_WEIGHT * top + (1 - MAX_WEIGHT) * block.mean(axis=1)
                chosen = own[arg]
                if ex.size:
                    # A confirmed example that this answer nearly repeats is the strongest evidence
                    # there is; a loose resemblance to one example is weaker than the codebook's words.
                    ex_block = sims[:, ex]
                    ex_arg = ex_block.argmax(axis=1)
                    ex_top = ex_block[np.arange(ex_block.shape[0]), ex_arg]
                    better = (ex_top > value) & (ex_top >= EXAMPLE_MIN)
                    value = np.where(better, ex_top, value)
                    chosen = np.where(better, ex[ex_arg], chosen)
                scores[start : start + chunk, j] = value
                best[start : start + chunk, j] = chosen
        return ZeroShotScores(np.clip(scores, 0, 1), best)

    def evidence(self, answer_lemmas: str, proto_index: int) -> str:
        """Why: the prototype that matched and the words it shares with the answer."""
        key = (answer_lemmas, proto_index)
        cached = self._evidence.get(key)
        if cached is None:
            proto, words = self.protos[proto_index], self.proto_sets[proto_index]
            shared = [w for w in dict.fromkeys(answer_lemmas.split()) if w in words]
            text = proto.text if len(proto.text) <= 60 else proto.text[:57] + "..."
            terms = f" [{', '.join(shared[:6])}]" if shared else ""
            cached = self._evidence[key] = f"{proto.kind} '{text}'{terms}"
        return cached


class MeaningZeroShot:
    """Zero-shot by meaning: answer embeddings against the codebook's prototypes and confirmed examples.

    The codebook's prototypes combine as in `ZeroShot`; a theme's confirmed
    examples add the cosine to their centroid, with a say that grows with
    their number (half at EXAMPLE_HALF). Measured on the bundled corpus and
    ThemeFinder at 20% and 50% confirmed, the blend with the classifier did
    better with the centroids than without them.
    """

    def __init__(
        self,
        codebook: Codebook,
        protos: list[Prototype],
        vectors: np.ndarray,
        examples: dict[int, np.ndarray] | None = None,
    ):
        keep = [i for i, p in enumerate(protos) if p.kind != "example"]
        self.owner = np.array([protos[i].theme for i in keep])
        self.matrix = vectors[keep]
        self.n_themes = len(codebook.themes)
        self.centroids: dict[int, tuple[np.ndarray, float]] = {}
        for theme, rows in (examples or {}).items():
            if len(rows):
                centroid = rows.mean(axis=0)
                norm = float(np.linalg.norm(centroid))
                if norm > 0:
                    self.centroids[theme] = (centroid / norm, len(rows) / (len(rows) + EXAMPLE_HALF))

    def score(self, vectors: np.ndarray) -> np.ndarray:
        sims = vectors @ self.matrix.T
        out = np.zeros((vectors.shape[0], self.n_themes), dtype=np.float32)
        for j in range(self.n_themes):
            block = sims[:, self.owner == j]
            out[:, j] = MAX_WEIGHT * block.max(axis=1) + (1 - MAX_WEIGHT) * block.mean(axis=1)
            if j in self.centroids:
                centroid, say = self.centroids[j]
                out[:, j] = (1 - say) * out[:, j] + say * np.clip(vectors @ centroid, 0, 1)
        return np.clip(out, 0, 1)


def with_meaning(lexical: np.ndarray, meaning: np.ndarray | None) -> np.ndarray:
    return lexical if meaning is None else (1 - MEANING_WEIGHT) * lexical + MEANING_WEIGHT * meaning
