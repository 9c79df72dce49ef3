"""A question's suggestion model, fitted and scored in memory: no database here.

Zero-shot TF-IDF (and sentence meaning) from the codebook's own words, blended with the
per-theme learner once coders have confirmed enough answers, and calibrated on those
confirmations; names questions go through the alias and fuzzy matcher.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from coder.codebook.model import Codebook
from coder.suggest import Suggestion
from coder.suggest.embeddings import Embedder
from coder.suggest.learn import (
    THRESHOLD_STEADY,
    Platt,
    Selection,
    ThemeLearner,
    Thresholds,
    blend_learned,
    calibrate,
    picked_f1,
    zero_shot_say,
)
from coder.suggest.text import lemmatise
from coder.suggest.zeroshot import MeaningZeroShot, Prototype, TextSpace, ZeroShot, prototypes, with_meaning

ENGINE_VERSION = "2"
TOP_K = 5
RELATIVE_FLOOR = 0.2  # a suggestion below this share of the top score is noise, not stored
KEEP_FLOOR = 0.02  # with a classifier blend, the first three are kept unless vanishingly small
MIN_CONFIRMED = 10  # confirmed answers before a classifier is trained
MAX_EXAMPLES = 40  # confirmed examples per theme used as prototypes
CALIBRATION_SAMPLE = 1500  # confirmed answers scored out of fold to calibrate (3,000 measured no better on ANES --dev, at twice the cost)
LEARNER_FEATURES = 200_000  # word and character n-grams each, most frequent first
FOLDS = 3

Progress = Callable[[int, int], None]


@dataclass
class Answer:
    id: int
    text: str
    confirmed: list[str]  # theme ids confirmed on it


@dataclass
class Scores:
    final: np.ndarray  # (answers, themes): what ranks and selects
    best: np.ndarray  # deciding TF-IDF prototype per answer and theme (the evidence)
    learned: np.ndarray | None  # the learner's probabilities, once trained
    meaning: np.ndarray | None  # sentence-embedding similarities, with a model installed
    zero_shot: np.ndarray | None = None  # zero-shot's part of the blend (as a probability), once trained


@dataclass
class Calibration:
    """What the confirmed answers' out-of-fold scores set: probability scales and per-theme thresholds."""

    margin: Platt = field(default_factory=Platt)
    zero_shot: Platt = field(default_factory=lambda: Platt(10.0, -5.0))
    rule: Thresholds | Selection | None = None


@dataclass
class TextModel:
    """A fitted model for one text question: score any of its answers."""

    codebook: Codebook
    space: TextSpace
    zero_shot: ZeroShot
    classifier: ThemeLearner | None
    selection: Selection | Thresholds
    meaning: MeaningZeroShot | None = None
    embedder: Embedder | None = None
    # An answer text for each lemma string: embeddings are of texts, scores are per lemma string.
    texts: dict[str, str] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    words: FeatureUnion | None = None  # the learner's features, once trained
    # Each normalised answer text of the question and its features, from the fit: scoring them again costs nothing.
    word_rows: dict[str, int] = field(default_factory=dict)
    word_matrix: sp.csr_matrix | None = None

    def vectors(self, lemmas: list[str], texts: list[str] | None = None) -> np.ndarray | None:
        if self.embedder is None:
            return None
        return self.embedder.vectors(texts if texts is not None else [self.texts.get(lemma, lemma) for lemma in lemmas])

    def scores(self, lemmas: list[str], texts: list[str] | None = None) -> Scores:
        """Scores per answer: zero-shot reads the lemmas; the learner (and the sentence encoder) the texts."""
        zs = self.zero_shot.score(self.space.transform(lemmas))
        vectors = self.vectors(lemmas, texts)
        meaning = self.meaning.score(vectors) if self.meaning is not None and vectors is not None else None
        zero = with_meaning(zs.scores, meaning)
        if not self.classifier:
            return Scores(zero, zs.best, None, meaning)
        words = self.features([normalise(t) for t in (texts if texts is not None else lemmas)])
        learned = self.calibration.margin(self.classifier.margins(words, vectors))
        zero = self.calibration.zero_shot(zero)
        return Scores(blend_learned(zero, learned, self.say), zs.best, learned, meaning, zero)

    def features(self, docs: list[str]) -> sp.csr_matrix:
        """The learner's features of normalised texts: looked up where the fit has them, else computed."""
        if self.word_matrix is not None and all(d in self.word_rows for d in docs):
            return self.word_matrix[[self.word_rows[d] for d in docs]]
        if self.words is None:
            raise ValueError("the learner's features exist only once the learner is trained")
        return sp.csr_matrix(self.words.transform(docs))

    @property
    def say(self) -> np.ndarray:
        if self.classifier is None:
            raise ValueError("zero-shot's say is set by the learner, which is not trained")
        return zero_shot_say(self.classifier.counts)


def normalise(text: str) -> str:
    """What the learner reads: the answer as written, stop words and all ("not", "no idea" decide
    themes), but case and spacing folded, so each distinct form is scored once."""
    return " ".join(text.casefold().split())


def word_space(texts: list[str]) -> tuple[FeatureUnion, dict[str, int], sp.csr_matrix]:
    """The learner's features, fitted on the normalised answers: word 1-2 grams (the standard
    text-classification space) and character 2-5 grams within words (misspellings, word forms;
    ANES --dev sample F1 0.820 -> 0.850). Also each distinct text's row, from the same pass."""
    docs = list(dict.fromkeys(normalise(t) for t in texts)) or ["empty"]
    # The learner keeps a weight per feature and theme: a cap bounds its memory on a question of
    # 100k distinct answers (about 160 MB at 100 themes); ANES' largest sets use a sixth of it.
    space = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=LEARNER_FEATURES)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=LEARNER_FEATURES
                ),
            ),
        ]
    )
    matrix = sp.csr_matrix(space.fit_transform(docs))
    return space, {d: i for i, d in enumerate(docs)}, matrix


def _confirmed_matrix(answers: list[Answer], ids: list[str]) -> np.ndarray:
    index = {t: j for j, t in enumerate(ids)}
    Y = np.zeros((len(answers), len(ids)), dtype=np.int8)
    for i, answer in enumerate(answers):
        for theme in answer.confirmed:
            if theme in index:
                Y[i, index[theme]] = 1
    return Y


@dataclass
class _ZeroShotParts:
    """What zero-shot is built from, so calibration folds rebuild it cheaply from their own examples."""

    codebook: Codebook
    space: TextSpace
    base: list  # the codebook's prototypes (label, keywords, description)
    base_lemmas: list[str]
    base_vectors: np.ndarray | None
    lemmas: dict[str, str]

    def build(self, confirmed: list[Answer], Y: np.ndarray, vectors: np.ndarray | None):
        examples: dict[str, list[str]] = {}
        for answer in confirmed:
            for theme in answer.confirmed:
                examples.setdefault(theme, []).append(answer.text)
        index = {t.id: i for i, t in enumerate(self.codebook.themes)}
        extra = [
            Prototype(index[t], "example", text)
            for t, texts in examples.items()
            if t in index
            for text in (texts[-MAX_EXAMPLES:] if MAX_EXAMPLES else [])
        ]
        protos = self.base + extra
        zero_shot = ZeroShot(self.codebook, self.space, self.base_lemmas + [self.lemmas[p.text] for p in extra], protos)
        meaning = None
        if vectors is not None and self.base_vectors is not None:
            by_theme = {j: vectors[np.flatnonzero(Y[:, j])] for j in range(Y.shape[1]) if Y[:, j].any()}
            meaning = MeaningZeroShot(self.codebook, self.base, self.base_vectors, by_theme)
        return zero_shot, meaning


def fit_text_model(
    codebook,
    answers: list[Answer],
    lemmas: dict[str, str],
    *,
    seed: int = 0,
    calibrate_rule: bool = True,
    embedder: Embedder | None = None,
    previous: dict | None = None,
) -> TextModel:
    """Fit the TF-IDF space, zero-shot prototypes and (with enough confirmed codes) the learner.

    With an `embedder` (a sentence-embedding model is installed), zero-shot
    also scores by meaning and the learner adds the answers' vectors.
    `previous` is the stored run's details (`suggestion_runs.details`): its
    per-theme thresholds steady the new ones (see `_steadied`).
    """
    confirmed = [a for a in answers if a.confirmed]
    base = prototypes(codebook)
    base_lemmas = lemmatise([p.text for p in base])
    space = TextSpace.fit([lemmas[a.text] for a in answers] + base_lemmas, seed=seed)
    Y = _confirmed_matrix(confirmed, codebook.ids)
    confirmed_vectors, base_vectors = None, None
    texts: dict[str, str] = {}
    if embedder is not None:
        confirmed_vectors = embedder.vectors([a.text for a in confirmed])
        base_vectors = embedder.vectors([p.text for p in base])
        for answer in answers:
            texts.setdefault(lemmas[answer.text], answer.text)
    parts = _ZeroShotParts(codebook, space, base, base_lemmas, base_vectors, lemmas)
    zero_shot, meaning = parts.build(confirmed, Y, confirmed_vectors)
    classifier, calibration, words, matrix = None, Calibration(), None, None
    selection: Selection | Thresholds = Selection()
    rows: dict[str, int] = {}
    if len(confirmed) >= MIN_CONFIRMED and (Y.sum(axis=0) > 0).sum() >= 2:
        words, rows, matrix = word_space([a.text for a in answers])
        features = matrix[[rows[normalise(a.text)] for a in confirmed]]
        classifier = ThemeLearner.fit(features, Y, confirmed_vectors)
        if calibrate_rule:
            calibration = _calibrate(parts, confirmed, Y, features, confirmed_vectors, seed, previous)
            if calibration.rule is not None:
                selection = calibration.rule
    elif calibrate_rule and len(confirmed) >= MIN_CONFIRMED:
        selection = _calibrate_zero_shot(parts, confirmed, Y, confirmed_vectors)
    return TextModel(
        codebook, space, zero_shot, classifier, selection, meaning, embedder, texts, calibration, words, rows, matrix
    )


def _calibrate(
    parts: _ZeroShotParts,
    confirmed: list[Answer],
    Y: np.ndarray,
    words,
    vectors: np.ndarray | None,
    seed: int,
    previous: dict | None = None,
) -> Calibration:
    """Out-of-fold scores on (a sample of) the confirmed answers, so no answer is its own example."""
    rng = np.random.default_rng(seed)
    sample = np.arange(len(confirmed))
    if len(sample) > CALIBRATION_SAMPLE:
        sample = np.sort(rng.choice(len(confirmed), CALIBRATION_SAMPLE, replace=False))
    folds = np.arange(len(sample)) % FOLDS
    rng.shuffle(folds)
    lemmas = [parts.lemmas[confirmed[i].text] for i in sample]
    features = words[sample]
    matrix = parts.space.transform(lemmas)
    Ys = Y[sample]
    Vs = vectors[sample] if vectors is not None else None
    margins = np.zeros(Ys.shape, dtype=np.float32)
    zero = np.zeros(Ys.shape, dtype=np.float32)
    say = np.zeros(Ys.shape, dtype=np.float32)
    for fold in range(FOLDS):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        if not test.size or not train.size:
            continue
        learner = ThemeLearner.fit(features[train], Ys[train], None if Vs is None else Vs[train])
        margins[test] = learner.margins(features[test], None if Vs is None else Vs[test])
        zero_shot, meaning = parts.build(
            [confirmed[i] for i in sample[train]], Ys[train], None if Vs is None else Vs[train]
        )
        zero[test] = with_meaning(
            zero_shot.score(matrix[test]).scores,
            meaning.score(Vs[test]) if meaning is not None and Vs is not None else None,
        )
        say[test] = zero_shot_say(learner.counts)
    margin, zero_platt = Platt.fit(margins, Ys), Platt.fit(zero, Ys)
    final = blend_learned(zero_platt(zero), margin(margins), say)
    # With few confirmed answers zero-shot still leads, and its rule (within a ratio of the top
    # score) may fit them better than thresholds: the rule that reproduces them best decides.
    gold = [set(np.flatnonzero(row).tolist()) for row in Ys]
    rules: list[Thresholds | Selection] = [Thresholds.fit(final, Ys), calibrate(final, gold)]
    fits = [picked_f1(rule.picked(final), Ys > 0) for rule in rules]
    rule = rules[int(np.argmax(fits))]
    if isinstance(rule, Thresholds):  # chosen as fitted, then steadied
        rule = _steadied(rule, parts.codebook.ids, previous)
    return Calibration(margin, zero_platt, rule)


def _steadied(rule: Thresholds, ids: list[str], previous: dict | None) -> Thresholds:
    """The fitted thresholds shrunk towards the stored run's, when that run chose thresholds too: a
    retrain after ten more answers then moves each threshold a little, not to wherever ten answers
    push it (anes:3, eight seeds: queue F1 0.515 -> 0.518 at 120, random's F1 at 200 reached at 140, not 150)."""
    selection = (previous or {}).get("selection") or {}
    stored = (selection.get("thresholds") or {}).get("values")
    if not stored:
        return rule
    before = np.array([stored.get(t, np.nan) for t in ids], dtype=np.float64)
    return rule.shrunk(before, int(selection.get("calibrated_on") or 0), THRESHOLD_STEADY)


def _calibrate_zero_shot(
    parts: _ZeroShotParts, confirmed: list[Answer], Y: np.ndarray, vectors: np.ndarray | None
) -> Selection:
    """Confirmed answers of a single theme: zero-shot decides (without their examples, which would
    match themselves), its selection rule calibrated on them."""
    zero_shot, meaning = parts.build([], Y[:0], None if vectors is None else vectors[:0])
    scores = with_meaning(
        zero_shot.score(parts.space.transform([parts.lemmas[a.text] for a in confirmed])).scores,
        meaning.score(vectors) if meaning is not None else None,
    )
    return calibrate(scores, [set(np.flatnonzero(row).tolist()) for row in Y])


def text_suggestions(
    model: TextModel, texts: list[str], lemmas: dict[str, str], top_k: int = TOP_K
) -> list[list[tuple[Suggestion, bool]]]:
    """Top-k suggestions per text, each with whether the selection rule picks it.

    Everything depends only on an answer's lemmas, so each distinct lemma
    string is scored once: repeated answers ("CRM", "savings") cost nothing.
    """
    ids = model.codebook.ids
    # The learner reads the text (stop words decide there), zero-shot only the lemmas.
    key = normalise if model.classifier else (lambda t: lemmas[t])
    first: dict[str, str] = {}
    for text in texts:
        first.setdefault(key(text), text)
    unique = list(first)
    if not unique:
        return []
    scored = model.scores([lemmas[t] for t in first.values()], list(first.values()))
    final, best, learned, meaning, zero = scored.final, scored.best, scored.learned, scored.meaning, scored.zero_shot
    say = model.say if model.classifier else np.ones(len(ids), dtype=np.float32)
    order = np.argsort(-final, axis=1, kind="stable")[:, :top_k]
    rounded = np.round(final.astype(np.float64), 4)
    per_key: dict[str, list[tuple[Suggestion, bool]]] = {}
    for u, (k, text) in enumerate(first.items()):
        lemma = lemmas[text]
        row = final[u]
        chosen = set(model.selection.choose(row))
        items = []
        top = row[order[u, 0]]
        for rank, j in enumerate(order[u].tolist()):
            # Beyond real contenders nothing is stored; but with the learner, the first three are
            # kept unless vanishingly small (the coder's 1-2-3 keys, top-3).
            if row[j] <= 0 or row[j] < (KEEP_FLOOR if rank < 3 and learned is not None else RELATIVE_FLOOR) * top:
                continue
            evidence = model.zero_shot.evidence(lemma, int(best[u, j]))
            if meaning is not None:
                evidence += f"; meaning sim={meaning[u, j]:.2f}"
            method = "zero-shot"
            if learned is not None and zero is not None:
                # Name the part of the blend that contributed more.
                from_learner = (1 - say[j]) * learned[u, j]
                method = "classifier" if from_learner > say[j] * zero[u, j] else "zero-shot"
                evidence += f"; classifier p={learned[u, j]:.2f}"
            items.append((Suggestion(ids[j], float(rounded[u, j]), method, evidence), j in chosen))
        per_key[k] = items
    return [per_key[key(t)] for t in texts]


def _selection_details(selection: Selection | Thresholds, ids: list[str] | None = None) -> dict:
    if isinstance(selection, Thresholds):
        values = selection.values
        return {
            "thresholds": {
                "min": round(float(values.min()), 3),
                "median": round(float(np.median(values)), 3),
                "max": round(float(values.max()), 3),
                **({"values": {t: round(float(v), 4) for t, v in zip(ids, values)}} if ids else {}),
            },
            "calibrated_on": selection.calibrated_on,
        }
    return {"ratio": selection.ratio, "floor": selection.floor, "calibrated_on": selection.calibrated_on}


def names_suggestions(matcher, texts: list[str]) -> list[list[tuple[Suggestion, bool]]]:
    """Alias and fuzzy matches per text; the matcher caches by normalised text across calls."""
    unique = list(dict.fromkeys(texts))
    found = dict(zip(unique, matcher.match_many(unique)))
    return [[(s, True) for s in found[t]] for t in texts]
