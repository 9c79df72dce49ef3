"""Learning from confirmed codes: a classifier, a blend with zero-shot, and calibration.

Logistic regression (one vs rest) on the question's TF-IDF space, retrained
from scratch on every call: it is cheap (well under a second for 10k coded
answers) and so never drifts from what the coders actually confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

BLEND_HALF = 40  # confirmed answers at which the classifier gets half the say


@dataclass
class ThemeClassifier:
    models: dict[int, LogisticRegression]
    prior: np.ndarray  # share of confirmed answers carrying each theme
    n_trained: int

    @classmethod
    def fit(cls, X: sp.csr_matrix, Y: np.ndarray, C: float = 8.0) -> "ThemeClassifier":
        """Y is (answers, themes) 0/1; themes with no positive (or no negative) example get no model."""
        models = {}
        for j in range(Y.shape[1]):
            positives = int(Y[:, j].sum())
            if positives == 0 or positives == Y.shape[0]:
                continue
            model = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", max_iter=200)
            model.fit(X, Y[:, j])
            models[j] = model
        return cls(models, Y.mean(axis=0), Y.shape[0])

    def predict(self, X: sp.csr_matrix, n_themes: int) -> np.ndarray:
        out = np.zeros((X.shape[0], n_themes), dtype=np.float32)
        for j, model in self.models.items():
            out[:, j] = model.predict_proba(X)[:, 1]
        return out

    @property
    def weight(self) -> float:
        return min(0.85, self.n_trained / (self.n_trained + BLEND_HALF))


def blend(zero_shot: np.ndarray, learned: np.ndarray | None, weight: float) -> np.ndarray:
    """Mix zero-shot similarity and classifier probability, both in 0..1."""
    if learned is None or weight <= 0:
        return zero_shot
    return (1 - weight) * zero_shot + weight * learned


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
