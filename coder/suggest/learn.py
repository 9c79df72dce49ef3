"""Learning from confirmed codes: a classifier, a blend with zero-shot, and calibration.

Logistic regression (SGD) on the question's TF-IDF space, retrained
from scratch on every call: it is cheap (well under a second for 10k coded
answers) and so never drifts from what the coders actually confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, SGDClassifier

BLEND_HALF = 5  # confirmed examples of a theme at which the classifier gets half its say
BLEND_CAP = 0.85
ALPHA = 1e-3  # L2 penalty of the classifier
EPOCHS = 15  # fixed passes: deterministic, and no convergence chatter
DENSE_C = 10.0  # inverse L2 penalty of the classifier on sentence embeddings (unit vectors, few features)
TEMPERATURE = 0.03  # turns zero-shot similarities into a distribution comparable with probabilities


@dataclass
class ThemeClassifier:
    """Logistic regression (SGD, one vs rest, normalised) over the confirmed answers' themes.

    An answer with two confirmed themes is two training rows. Measured on the
    bundled corpus (20% and 50% confirmed, codebook with and without keywords),
    blending it per theme with zero-shot as distributions beat a probability blend of
    balanced one-vs-rest models, which over-predict rare themes on few examples. SGD
    keeps retraining under a second at 10k coded answers.

    With sentence embeddings (`dense`), the features are the answers' vectors
    instead: a multinomial logistic regression (lbfgs; 0.5 s for 10k confirmed
    answers, benchmarks/bench_learn.py) learns meaning from a few examples per
    theme where words alone need many.
    """

    model: SGDClassifier | LogisticRegression | None
    counts: np.ndarray  # confirmed examples per theme
    n_trained: int
    dense: bool = False

    @classmethod
    def fit(cls, X: sp.csr_matrix | np.ndarray, Y: np.ndarray, dense: bool = False) -> "ThemeClassifier":
        rows, labels = np.nonzero(Y)
        counts = np.bincount(labels, minlength=Y.shape[1]).astype(np.float32)
        model = None
        if len(set(labels.tolist())) > 1:
            weights = None
            if dense:
                # Repeated answers share a vector: distinct rows, weighted by their count, give the same
                # fit at a cost that follows distinct answers (embedded only up to embeddings.MAX_TEXTS).
                rows, labels, weights = _distinct(X, rows, labels)
                model = LogisticRegression(C=DENSE_C, max_iter=300)
            else:
                model = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=0)
            model.fit(X[rows], labels, sample_weight=weights)
        return cls(model, counts, Y.shape[0], dense)

    def predict(self, X: sp.csr_matrix | np.ndarray, n_themes: int) -> np.ndarray:
        out = np.zeros((X.shape[0], n_themes), dtype=np.float32)
        if self.model is not None:
            out[:, self.model.classes_] = self.model.predict_proba(X)
        return out

    @property
    def weights(self) -> np.ndarray:
        """Per theme: a theme with few confirmed examples leans on zero-shot, a well-coded one on the classifier."""
        return np.minimum(BLEND_CAP, self.counts / (self.counts + BLEND_HALF))


def _distinct(X: np.ndarray, rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, label) pairs with identical vectors merged into one, weighted by how many there were."""
    first: dict[tuple[bytes, int], int] = {}
    count: dict[tuple[bytes, int], int] = {}
    for row, label in zip(rows.tolist(), labels.tolist()):
        key = (X[row].tobytes(), label)
        first.setdefault(key, row)
        count[key] = count.get(key, 0) + 1
    keys = list(first)
    return (np.array([first[k] for k in keys]), np.array([k[1] for k in keys]),
            np.array([count[k] for k in keys], dtype=np.float64))


def softmax(scores: np.ndarray, temperature: float = TEMPERATURE) -> np.ndarray:
    shifted = np.exp((scores - scores.max(axis=1, keepdims=True)) / temperature)
    return shifted / shifted.sum(axis=1, keepdims=True)


def blend(zero_shot: np.ndarray, learned: np.ndarray | None, weights: np.ndarray | float) -> np.ndarray:
    """Mix zero-shot and classifier theme by theme, both as distributions over themes."""
    if learned is None:
        return zero_shot
    return (1 - weights) * softmax(zero_shot) + weights * learned


@dataclass(frozen=True)
class Selection:
    """How many themes an answer gets: the top one, plus any within `ratio` of it and above `floor`."""

    ratio: float = 0.85
    floor: float = 0.0
    calibrated_on: int = 0

    def choose(self, scores: np.ndarray) -> list[int]:
        order = np.argsort(-scores, kind="stable")
        if scores.size == 0 or scores[order[0]] <= 0:
            return []
        top = scores[order[0]]
        return [int(j) for j in order if j == order[0] or (scores[j] >= self.ratio * top and scores[j] >= self.floor)]


def sample_f1(predicted: list[set], gold: list[set]) -> float:
    """ThemeFinder's metric: per answer 2|P&G|/(|P|+|G|), averaged."""
    total = 0.0
    for p, g in zip(predicted, gold):
        total += 1.0 if not p and not g else 2 * len(p & g) / (len(p) + len(g))
    return total / max(1, len(gold))


def calibrate(scores: np.ndarray, gold: list[set[int]]) -> Selection:
    """Pick the selection rule that best reproduces the confirmed codes (per question)."""
    if len(gold) < 10:
        return Selection()
    best, best_f1 = Selection(), -1.0
    for ratio in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
        for floor in (0.0, 0.1, 0.2, 0.3, 0.4):
            rule = Selection(ratio, floor, len(gold))
            f1 = sample_f1([set(rule.choose(row)) for row in scores], gold)
            if f1 > best_f1 + 1e-9:
                best, best_f1 = rule, f1
    return best


def uncertainty_order(scores: np.ndarray) -> np.ndarray:
    """Row indices, least confident first: small margin between the two best themes."""
    if scores.shape[1] < 2:
        return np.argsort(scores[:, 0] if scores.size else scores, kind="stable")
    top2 = -np.sort(-scores, axis=1)[:, :2]
    margin = top2[:, 0] - top2[:, 1]
    return np.lexsort((top2[:, 0], margin))
