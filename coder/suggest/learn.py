"""Learning from confirmed codes: one decision per theme, calibrated on the confirmed answers only.

Each theme has its own linear model (one vs rest), so themes never compete
and an answer with two themes gets both. Out-of-fold scores on the confirmed
answers turn margins into probabilities, set how much zero-shot still says
(nothing once a theme has ZERO_SHOT_GONE examples) and choose each theme's
threshold. The model is retrained from scratch on every call, so it never
drifts from what the coders confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from coder.suggest.svm_fits import fit_svms

RIDGE_ALPHA = 1.0  # penalty of the ridge per theme on sentence vectors (unit vectors, few features)
ZERO_SHOT_GONE = 30  # confirmed examples of a theme at which zero-shot has no say left
OWN_THRESHOLD = 3  # confirmed examples of a theme (in the calibration sample) for a threshold of its own
THRESHOLD_PRIOR = 20.0  # examples a theme's own threshold is weighed against the global one (few examples overfit it)
# How far a retrain's thresholds stay at the stored run's (times that run's share of the answers).
THRESHOLD_STEADY = 0.5
PLATT_SAMPLE = 50_000  # (answer, theme) scores a probability scale is fitted on


@dataclass
class ThemeLearner:
    """One-vs-rest linear models: an SVM per theme on TF-IDF, plus a ridge per theme on sentence vectors.

    Their margins add up (both are about +1 on a theme's answers and -1 off
    it). Identical rows with identical themes are merged into one weighted
    row, so repeated answers cost nothing. A theme without confirmed examples
    (or with nothing but) gets no model: its margin is -inf (or +inf).
    """

    coef: np.ndarray  # (features, themes)
    intercept: np.ndarray
    dense_coef: np.ndarray | None
    counts: np.ndarray  # confirmed examples per theme

    @classmethod
    def fit(
        cls, X: sp.csr_matrix, Y: np.ndarray, dense: np.ndarray | None = None, *, second_process: bool | None = None
    ) -> ThemeLearner:
        X, Yd, weights, dense = _merge(X, Y, dense)
        n, k = Yd.shape
        counts = (Yd * weights[:, None]).sum(axis=0)
        coef = np.zeros((X.shape[1], k), dtype=np.float32)
        # The SVMs see only the columns these answers use: the space is built on every answer, and a
        # column no confirmed answer has keeps a zero weight anyway, so this is the same fit, cheaper.
        used = np.flatnonzero(X.getnnz(axis=0))
        X = X[:, used]
        intercept = np.zeros(k, dtype=np.float32)
        targets = np.where(Yd > 0, 1.0, -1.0)
        positives = Yd.sum(axis=0) > 0
        everywhere = (Yd > 0).all(axis=0)
        intercept[everywhere] = np.inf
        intercept[~positives] = -np.inf
        trained = np.flatnonzero(positives & ~everywhere)
        if trained.size:
            fitted, intercept[trained] = fit_svms(X, Yd[:, trained], weights, second_process=second_process)
            coef[np.ix_(used, trained)] = fitted
        dense_coef = None
        if dense is not None:
            # Ridge on +-1 targets, all themes in one solve: a few hundred features make it cheap.
            V = np.hstack([dense, np.ones((n, 1), dtype=dense.dtype)]) * np.sqrt(weights)[:, None]
            gram = V.T @ V + RIDGE_ALPHA * np.eye(V.shape[1])
            dense_coef = np.linalg.solve(gram, V.T @ (targets * np.sqrt(weights)[:, None])).astype(np.float32)
        return cls(coef, intercept, dense_coef, counts.astype(np.float32))

    @property
    def dense(self) -> bool:
        """Whether it learnt from sentence vectors too."""
        return self.dense_coef is not None

    def margins(self, X: sp.csr_matrix, dense: np.ndarray | None = None) -> np.ndarray:
        out = np.asarray(X @ self.coef, dtype=np.float32)
        finite = np.isfinite(self.intercept)
        out[:, finite] += self.intercept[finite]
        if self.dense_coef is not None and dense is not None:
            out[:, finite] += (np.hstack([dense, np.ones((dense.shape[0], 1), dtype=dense.dtype)]) @ self.dense_coef)[
                :, finite
            ]
        out[:, ~finite] = self.intercept[~finite]
        return out


def _merge(X: sp.csr_matrix, Y: np.ndarray, dense: np.ndarray | None):
    """Identical (features, themes) rows merged into one, weighted by how many there were."""
    X = sp.csr_matrix(X)
    keys: dict[tuple, int] = {}
    first: list[int] = []
    weights: list[float] = []
    for i in range(X.shape[0]):
        start, end = X.indptr[i], X.indptr[i + 1]
        key = (
            X.indices[start:end].tobytes(),
            X.data[start:end].tobytes(),
            Y[i].tobytes(),
            dense[i].tobytes() if dense is not None else b"",
        )
        row = keys.get(key)
        if row is None:
            keys[key] = len(first)
            first.append(i)
            weights.append(1.0)
        else:
            weights[row] += 1.0
    rows = np.array(first, dtype=np.int64)
    return X[rows], Y[rows], np.array(weights), None if dense is None else dense[rows]


@dataclass(frozen=True)
class Platt:
    """Scores (margins, or zero-shot similarities) as probabilities: one logistic for every theme.

    It reads a score and its distance below the answer's top score: zero-shot
    ranks the themes of one answer far better than its raw similarity says
    across answers, and a scale of the raw score alone flattens that ranking.
    """

    a: float = 1.0
    b: float = 0.0
    c: float = 0.0  # weight of the distance below the answer's top score

    @classmethod
    def fit(cls, scores: np.ndarray, Y: np.ndarray) -> Platt:
        from sklearn.linear_model import LogisticRegression

        below = _below_top(scores)
        keep = np.flatnonzero(np.isfinite(scores).reshape(-1))
        if keep.size > PLATT_SAMPLE:
            keep = np.random.default_rng(0).choice(keep, PLATT_SAMPLE, replace=False)
        y = Y.reshape(-1)[keep]
        if keep.size == 0 or y.min() == y.max():
            return cls()
        x = np.column_stack([scores.reshape(-1)[keep], below.reshape(-1)[keep]])
        model = LogisticRegression(C=100.0).fit(x, y)
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]), float(model.coef_[0, 1]))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        finite = np.isfinite(scores)
        z = self.a * np.where(finite, scores, 0) + self.c * _below_top(scores) + self.b
        with np.errstate(over="ignore"):
            p = 1.0 / (1.0 + np.exp(-z))
        return np.where(finite, p, scores > 0).astype(np.float32)


def _below_top(scores: np.ndarray) -> np.ndarray:
    """How far each finite score is below its answer's best finite score (0 where not finite)."""
    finite = np.isfinite(scores)
    if not scores.size:
        return np.zeros_like(scores)
    top = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
    return np.where(finite & np.isfinite(top), scores - top, 0.0)


def zero_shot_say(counts: np.ndarray) -> np.ndarray:
    """Per theme: all of the say with no confirmed example, falling linearly to none at ZERO_SHOT_GONE."""
    return np.clip(1.0 - counts / ZERO_SHOT_GONE, 0.0, 1.0).astype(np.float32)


def blend_learned(zero_shot: np.ndarray, learned: np.ndarray, say: np.ndarray) -> np.ndarray:
    return say * zero_shot + (1 - say) * learned


@dataclass(frozen=True)
class Thresholds:
    """Per-theme decisions: every theme at or above its threshold, and the top theme when none is."""

    values: np.ndarray
    calibrated_on: int = 0

    def choose(self, scores: np.ndarray) -> list[int]:
        order = np.argsort(-scores, kind="stable")
        if scores.size == 0 or scores[order[0]] <= 0:
            return []
        return [int(j) for j in order if j == order[0] or scores[j] >= self.values[j]]

    def picked(self, scores: np.ndarray) -> np.ndarray:
        """`choose` for every row at once, as a boolean matrix."""
        return _with_top(scores, scores >= self.values)

    @classmethod
    def fit(cls, scores: np.ndarray, Y: np.ndarray) -> Thresholds:
        """The best global threshold (best sample F1); then each theme with OWN_THRESHOLD examples in the
        sample, in turn, moves towards the threshold that gives the best sample F1 with every other theme's
        as it stands, by n / (n + THRESHOLD_PRIOR), so eight examples do not overfit it. Sample F1 rather
        than the theme's own F1: it is what is judged, and it weighs a second theme against the answer's
        other themes (ANES --dev: dataset 6, 72 codes, 0.932 -> 0.941)."""
        grid = np.linspace(0.05, 0.95, 19)
        positive = Y > 0
        best_global, best_f1 = 0.5, -1.0
        for t in grid:
            f1 = picked_f1(_with_top(scores, scores >= t), positive)
            if f1 > best_f1 + 1e-9:
                best_global, best_f1 = float(t), f1
        values = np.full(Y.shape[1], best_global, dtype=np.float32)
        picked = _with_top(scores, scores >= values)
        forced = _with_top(scores, np.zeros_like(picked))  # the top theme: chosen whatever its threshold
        alive = picked.any(axis=1)
        n_gold = positive.sum(axis=1)
        for j in np.flatnonzero(Y.sum(axis=0) >= OWN_THRESHOLD):
            # Each answer's F1 with theme j decided by threshold t, every other theme as picked now.
            rest = np.delete(picked, j, axis=1)
            both = (rest & np.delete(positive, j, axis=1)).sum(axis=1)
            size = rest.sum(axis=1) + n_gold
            best, best_theme = values[j], -1.0
            for t in grid:
                pick = alive & ((scores[:, j] >= t) | forced[:, j])
                b, total = both + (pick & positive[:, j]), size + pick
                f1 = np.where(total > 0, 2 * b / np.maximum(1, total), 1.0).mean()
                if f1 > best_theme + 1e-9:
                    best, best_theme = float(t), f1
            n_j = positive[:, j].sum()
            values[j] = (n_j * best + THRESHOLD_PRIOR * best_global) / (n_j + THRESHOLD_PRIOR)
            picked[:, j] = alive & ((scores[:, j] >= values[j]) | forced[:, j])
        return cls(values, Y.shape[0])

    def shrunk(self, previous: np.ndarray, calibrated_before: int, strength: float) -> Thresholds:
        """Each threshold moved towards the previous run's (NaN: none) by strength x the share of the
        confirmed answers that run had already seen, so ten new answers do not flip what a hundred set."""
        if calibrated_before <= 0 or strength <= 0:
            return self
        new = max(0, self.calibrated_on - calibrated_before)
        w = strength * calibrated_before / (calibrated_before + new)
        values = np.where(np.isfinite(previous), w * previous + (1 - w) * self.values, self.values)
        return Thresholds(values.astype(np.float32), self.calibrated_on)


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

    def picked(self, scores: np.ndarray) -> np.ndarray:
        """`choose` for every row at once, as a boolean matrix."""
        top = scores.max(axis=1, keepdims=True) if scores.size else np.zeros((len(scores), 1))
        return _with_top(scores, (scores >= self.ratio * top) & (scores >= self.floor))


def _with_top(scores: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """Each row's top theme added to what a rule picked; nothing for a row whose best score is not positive."""
    if not scores.size:
        return picked
    top = scores.argmax(axis=1)
    rows = np.arange(len(top))
    picked = picked.copy()
    picked[rows, top] = True
    picked[scores[rows, top] <= 0] = False
    return picked


def picked_f1(picked: np.ndarray, positive: np.ndarray) -> float:
    """sample_f1 of boolean (answers, themes) matrices."""
    if not len(picked):
        return 0.0
    both, total = (picked & positive).sum(axis=1), picked.sum(axis=1) + positive.sum(axis=1)
    return float(np.where(total > 0, 2 * both / np.maximum(1, total), 1.0).mean())


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
    positive = np.zeros(scores.shape, dtype=bool)
    for i, themes in enumerate(gold):
        positive[i, list(themes)] = True
    best, best_f1 = Selection(), -1.0
    for ratio in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
        for floor in (0.0, 0.1, 0.2, 0.3, 0.4):
            rule = Selection(ratio, floor, len(gold))
            f1 = picked_f1(rule.picked(scores), positive)
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
