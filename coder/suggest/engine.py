"""Suggestions for one question, computed from the database and stored back in it.

A names question (codebook kind `names`) goes through the alias and fuzzy
matcher; a text question through zero-shot TF-IDF, blended with a classifier
once coders have confirmed enough answers. Every stored suggestion carries
its method, score and evidence, and a `selected` flag from the question's
calibrated rule that decides how many themes an answer gets.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sqlite_utils import Database

from ..codebook import dump_codebook
from ..codings import Code, apply_codes, question_codebook
from ..errors import CoderError
from ..safe_input import shorten
from ..store import now, write
from ..themes import read_codebook, theme_pks
from . import Suggestion
from .learn import (Platt, Selection, ThemeLearner, Thresholds, blend_learned, calibrate, picked_f1, uncertainty_order,
                    zero_shot_say)
from .embeddings import Embedder, embedder_for, over_limit
from .themes import MeaningZeroShot, Prototype, TextSpace, ZeroShot, prototypes, with_meaning
from .text import lemmatise

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
class SuggestReport:
    question: str
    kind: str
    computed: int = 0
    skipped: int = 0
    confirmed: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    selection: dict = field(default_factory=dict)
    embeddings: str | None = None  # the sentence-embedding model used, if any
    over_limit: tuple[int, int] | None = None  # (distinct answers, limit) when meaning was left out for size
    no_themes: str | None = None  # the codebook's id when it has no themes: nothing to suggest

    def lines(self) -> list[str]:
        if self.no_themes:
            return [no_themes_note(self.question, self.no_themes)]
        methods = ", ".join(f"{m} {n}" for m, n in sorted(self.methods.items())) or "none"
        meaning = f"; meaning from {self.embeddings.split(':')[0]}" if self.embeddings else ""
        lines = [
            f"{self.question}: suggestions for {self.computed} answers ({self.skipped} already up to date, "
            f"{self.confirmed} confirmed answers used); top method: {methods}{meaning}"
        ]
        if self.over_limit:
            distinct, limit = self.over_limit
            lines.append(f"{self.question}: meaning left out, TF-IDF alone: {distinct:,} distinct answers, over the "
                         f"limit of {limit:,} (encoding takes a few ms per answer, once; CODER_EMBEDDING_MAX raises it)")
        return lines


def no_themes_note(question: str, codebook_id: str) -> str:
    """What to do when a question's codebook is empty (inductive coding starts there)."""
    return (f"{question}: nothing to suggest: codebook {codebook_id!r} has no themes yet; add one with "
            f"`coder codebook add DB LABEL --question {question}` (or n in `coder code`), "
            f"or let `coder discover DB --question {question}` propose some")


def load_answers(db: Database, question: str) -> list[Answer]:
    confirmed: dict[int, list[str]] = {}
    for answer_id, theme in db.execute(
        """SELECT c.answer_id, t.id FROM codings c JOIN themes t ON t.pk = c.theme_pk
           JOIN answers a ON a.id = c.answer_id
           WHERE a.question_id = ? AND c.status = 'confirmed' ORDER BY c.answer_id, t.position""",
        [question],
    ):
        confirmed.setdefault(answer_id, []).append(theme)
    # Answers are read in id order (the order they were imported in), which needs no sort.
    rows = db.execute("SELECT id, text FROM answers WHERE question_id = ? AND is_answer = 1 ORDER BY id", [question])
    return [Answer(r[0], r[1], confirmed.get(r[0], [])) for r in rows]


def _version(codebook_yaml: str, answers: list[Answer], kind: str, embedder: Embedder | None = None) -> str:
    # Installing or removing an embedding model changes every text suggestion.
    model = embedder.name if embedder is not None else "-"
    digest = hashlib.sha256(f"{ENGINE_VERSION}|{kind}|{model}|{codebook_yaml}".encode())
    if kind == "text":
        # Confirmed codes teach the classifier: new confirmations make every suggestion stale.
        for answer in answers:
            if answer.confirmed:
                digest.update(f"{answer.id}:{','.join(sorted(answer.confirmed))};".encode())
    return digest.hexdigest()[:16]


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

    codebook: object
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
        return self.embedder.vectors(texts if texts is not None else [self.texts.get(l, l) for l in lemmas])

    def scores(self, lemmas: list[str], texts: list[str] | None = None) -> Scores:
        """Scores per answer: zero-shot reads the lemmas; the learner (and the sentence encoder) the texts."""
        zs = self.zero_shot.score(self.space.transform(lemmas))
        vectors = self.vectors(lemmas, texts)
        meaning = self.meaning.score(vectors) if self.meaning is not None else None
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
        return sp.csr_matrix(self.words.transform(docs))

    @property
    def say(self) -> np.ndarray:
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
    space = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=LEARNER_FEATURES)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  max_features=LEARNER_FEATURES)),
    ])
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

    codebook: object
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
        extra = [Prototype(index[t], "example", text) for t, texts in examples.items() if t in index
                 for text in (texts[-MAX_EXAMPLES:] if MAX_EXAMPLES else [])]
        protos = self.base + extra
        zero_shot = ZeroShot(self.codebook, self.space, self.base_lemmas + [self.lemmas[p.text] for p in extra], protos)
        meaning = None
        if vectors is not None:
            by_theme = {j: vectors[np.flatnonzero(Y[:, j])] for j in range(Y.shape[1]) if Y[:, j].any()}
            meaning = MeaningZeroShot(self.codebook, self.base, self.base_vectors, by_theme)
        return zero_shot, meaning


def fit_text_model(codebook, answers: list[Answer], lemmas: dict[str, str], *, seed: int = 0,
                   calibrate_rule: bool = True, embedder: Embedder | None = None) -> TextModel:
    """Fit the TF-IDF space, zero-shot prototypes and (with enough confirmed codes) the learner.

    With an `embedder` (a sentence-embedding model is installed), zero-shot
    also scores by meaning and the learner adds the answers' vectors.
    """
    confirmed = [a for a in answers if a.confirmed]
    base = prototypes(codebook)
    base_lemmas = lemmatise([p.text for p in base])
    space = TextSpace.fit([lemmas[a.text] for a in answers] + base_lemmas, seed=seed)
    Y = _confirmed_matrix(confirmed, codebook.ids)
    confirmed_vectors, texts, base_vectors = None, {}, None
    if embedder is not None:
        confirmed_vectors = embedder.vectors([a.text for a in confirmed])
        base_vectors = embedder.vectors([p.text for p in base])
        for answer in answers:
            texts.setdefault(lemmas[answer.text], answer.text)
    parts = _ZeroShotParts(codebook, space, base, base_lemmas, base_vectors, lemmas)
    zero_shot, meaning = parts.build(confirmed, Y, confirmed_vectors)
    classifier, selection, calibration, words, rows, matrix = None, Selection(), Calibration(), None, {}, None
    if len(confirmed) >= MIN_CONFIRMED and (Y.sum(axis=0) > 0).sum() >= 2:
        words, rows, matrix = word_space([a.text for a in answers])
        features = matrix[[rows[normalise(a.text)] for a in confirmed]]
        classifier = ThemeLearner.fit(features, Y, confirmed_vectors)
        if calibrate_rule:
            calibration = _calibrate(parts, confirmed, Y, features, confirmed_vectors, seed)
            selection = calibration.rule
    elif calibrate_rule and len(confirmed) >= MIN_CONFIRMED:
        selection = _calibrate_zero_shot(parts, confirmed, Y, confirmed_vectors)
    return TextModel(codebook, space, zero_shot, classifier, selection, meaning, embedder, texts, calibration, words,
                     rows, matrix)


def _calibrate(parts: _ZeroShotParts, confirmed: list[Answer], Y: np.ndarray, words, vectors: np.ndarray | None,
               seed: int) -> Calibration:
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
        zero_shot, meaning = parts.build([confirmed[i] for i in sample[train]], Ys[train],
                                         None if Vs is None else Vs[train])
        zero[test] = with_meaning(zero_shot.score(matrix[test]).scores,
                                  meaning.score(Vs[test]) if meaning is not None else None)
        say[test] = zero_shot_say(learner.counts)
    margin, zero_platt = Platt.fit(margins, Ys), Platt.fit(zero, Ys)
    final = blend_learned(zero_platt(zero), margin(margins), say)
    # With few confirmed answers zero-shot still leads, and its rule (within a ratio of the top
    # score) may fit them better than thresholds: the rule that reproduces them best decides.
    gold = [set(np.flatnonzero(row).tolist()) for row in Ys]
    rules = [Thresholds.fit(final, Ys), calibrate(final, gold)]
    fits = [picked_f1(rule.picked(final), Ys > 0) for rule in rules]
    return Calibration(margin, zero_platt, rules[int(np.argmax(fits))])


def _calibrate_zero_shot(parts: _ZeroShotParts, confirmed: list[Answer], Y: np.ndarray,
                         vectors: np.ndarray | None) -> Selection:
    """Confirmed answers of a single theme: zero-shot decides (without their examples, which would
    match themselves), its selection rule calibrated on them."""
    zero_shot, meaning = parts.build([], Y[:0], None if vectors is None else vectors[:0])
    scores = with_meaning(zero_shot.score(parts.space.transform([parts.lemmas[a.text] for a in confirmed])).scores,
                          meaning.score(vectors) if meaning is not None else None)
    return calibrate(scores, [set(np.flatnonzero(row).tolist()) for row in Y])


def text_suggestions(model: TextModel, texts: list[str], lemmas: dict[str, str], top_k: int = TOP_K) -> list[list[tuple[Suggestion, bool]]]:
    """Top-k suggestions per text, each with whether the selection rule picks it.

    Everything depends only on an answer's lemmas, so each distinct lemma
    string is scored once: repeated answers ("CRM", "savings") cost nothing.
    """
    ids = model.codebook.ids
    # The learner reads the text (stop words decide there), zero-shot only the lemmas.
    key = normalise if model.classifier else (lambda t: lemmas[t])
    first = {}
    for text in texts:
        first.setdefault(key(text), text)
    unique = list(first)
    if not unique:
        return []
    scored = model.scores([lemmas[t] for t in first.values()], list(first.values()))
    final, best, learned, meaning = scored.final, scored.best, scored.learned, scored.meaning
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
            if learned is not None:
                # Name the part of the blend that contributed more.
                from_learner = (1 - say[j]) * learned[u, j]
                method = "classifier" if from_learner > say[j] * scored.zero_shot[u, j] else "zero-shot"
                evidence += f"; classifier p={learned[u, j]:.2f}"
            items.append((Suggestion(ids[j], float(rounded[u, j]), method, evidence), j in chosen))
        per_key[k] = items
    return [per_key[key(t)] for t in texts]


def _selection_details(selection: Selection | Thresholds) -> dict:
    if isinstance(selection, Thresholds):
        values = selection.values
        return {"thresholds": {"min": round(float(values.min()), 3), "median": round(float(np.median(values)), 3),
                               "max": round(float(values.max()), 3)}, "calibrated_on": selection.calibrated_on}
    return {"ratio": selection.ratio, "floor": selection.floor, "calibrated_on": selection.calibrated_on}


def names_suggestions(matcher, texts: list[str]) -> list[list[tuple[Suggestion, bool]]]:
    """Alias and fuzzy matches per text; the matcher caches by normalised text across calls."""
    unique = list(dict.fromkeys(texts))
    found = dict(zip(unique, matcher.match_many(unique)))
    return [[(s, True) for s in found[t]] for t in texts]


def _store(db: Database, pks: dict[str, int], chunk: list[Answer], results, version: str, stamp: str,
           top_k: int, report: SuggestReport) -> None:
    """Replace the suggestions of one chunk of answers, in one short transaction.

    Replace, not add: an interrupted run may have stored this chunk already
    without its run record, and the next run computes it again.
    """
    rows = []
    for answer, items in zip(chunk, results):
        for rank, (s, selected) in enumerate(items[:top_k], start=1):
            rows.append((answer.id, pks[s.theme_id], rank, s.score, s.method, s.evidence, int(selected), version, stamp))
            if rank == 1:
                report.methods[s.method] = report.methods.get(s.method, 0) + 1
    with write(db):
        ids = [(a.id,) for a in chunk]
        db.conn.executemany("DELETE FROM suggestions WHERE answer_id = ?", ids)
        db.conn.executemany("DELETE FROM suggested WHERE answer_id = ?", ids)
        db.conn.executemany(
            """INSERT INTO suggestions (answer_id, theme_pk, rank, score, method, evidence, selected, version, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        # Only answers left without any suggestion need a mark that they were looked at.
        db.conn.executemany(
            "INSERT INTO suggested (answer_id, version) VALUES (?, ?)",
            [(a.id, version) for a, items in zip(chunk, results) if not items],
        )


CHUNK = 20_000  # answers scored and written at a time: bounded memory, short write locks


def suggest(db: Database, question: str, *, refresh: bool = False, progress: Progress | None = None,
            top_k: int = TOP_K, seed: int = 0, embeddings: bool = True,
            encode_progress: Progress | None = None) -> SuggestReport:
    """Compute and store suggestions for every answer of `question` without confirmed codes.

    Incremental: when neither the codebook nor the confirmed codes changed since
    the last run, only answers without suggestions are computed. Suggestions
    are derived data, written chunk by chunk: an interrupted run leaves valid
    suggestions for the chunks it finished and no run record, so the next run
    computes every chunk again, replacing what it finds.
    """
    codebook = read_codebook(db, question_codebook(db, question))
    answers = load_answers(db, question)
    report = SuggestReport(question, codebook.kind, confirmed=sum(1 for a in answers if a.confirmed))
    if not codebook.themes:
        report.no_themes = codebook.id
        return report
    embedder = embedder_for([a.text for a in answers], db) if codebook.kind == "text" and embeddings else None
    report.embeddings = embedder.name if embedder is not None else None
    if codebook.kind == "text" and embeddings and embedder is None:
        report.over_limit = over_limit([a.text for a in answers])
    version = _version(dump_codebook(codebook), answers, codebook.kind, embedder)
    run = db.execute("SELECT version FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    pending = [a for a in answers if not a.confirmed]
    if not refresh and run is not None and run[0] == version:
        have = {r[0] for r in db.execute(
            """SELECT s.answer_id FROM suggested s JOIN answers a ON a.id = s.answer_id
               WHERE a.question_id = ? AND s.version = ?
               UNION SELECT DISTINCT s.answer_id FROM suggestions s JOIN answers a ON a.id = s.answer_id
               WHERE a.question_id = ? AND s.version = ?""", [question, version, question, version])}
        report.skipped = sum(1 for a in pending if a.id in have)
        pending = [a for a in pending if a.id not in have]
    details: dict = {"kind": codebook.kind}
    model = lemmas = matcher = None
    if codebook.kind == "names":
        from .names import NameMatcher

        matcher = NameMatcher(codebook)
    elif pending:
        if embedder is not None:
            # Every distinct answer at once, so a progress bar has one total; later calls hit the cache.
            embedder.progress = encode_progress
            embedder.vectors(list(dict.fromkeys(a.text for a in answers)))
            embedder.progress = None
        lemmas = dict(zip(*_unique_lemmas([a.text for a in answers])))
        model = fit_text_model(codebook, answers, lemmas, seed=seed, embedder=embedder)
        details["embeddings"] = report.embeddings
        details["selection"] = _selection_details(model.selection)
        details["classifier"] = bool(model.classifier)
        report.selection = details["selection"]
    with write(db):
        # Answers now confirmed need no suggestions; suggestions of an older version are stale;
        # a refresh recomputes all. What remains belongs to answers that are not pending.
        db.execute(
            """DELETE FROM suggestions WHERE answer_id IN (SELECT id FROM answers WHERE question_id = ?)
               AND (? OR version != ? OR answer_id IN (SELECT answer_id FROM codings WHERE status = 'confirmed'))""",
            [question, int(refresh), version],
        )
    pks = theme_pks(db, codebook.id)
    stamp = now()
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        texts = [a.text for a in chunk]
        if codebook.kind == "names":
            results = names_suggestions(matcher, texts)
        else:
            results = text_suggestions(model, texts, lemmas, top_k)
        _store(db, pks, chunk, results, version, stamp, top_k, report)
        if progress:
            progress(start + len(chunk), len(pending))
    with write(db):
        db.execute(
            """INSERT INTO suggestion_runs (question_id, version, created_at, details) VALUES (?, ?, ?, ?)
               ON CONFLICT (question_id) DO UPDATE SET version = excluded.version,
                 created_at = excluded.created_at, details = excluded.details""",
            [question, version, stamp, json.dumps(details)],
        )
    report.computed = len(pending)
    return report


def stored_embeddings(db: Database, question: str) -> str | None:
    """The sentence-embedding model the stored suggestions used, if any (so a number says how it was made)."""
    row = db.execute("SELECT details FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    try:
        return json.loads(row[0]).get("embeddings") if row and row[0] else None
    except (ValueError, AttributeError):
        return None


def ran_without_embeddings(db: Database, question: str) -> bool:
    """Whether the stored suggestions were made without the embedding model (so a retrain keeps to that)."""
    ran = db.execute("SELECT 1 FROM suggestion_runs WHERE question_id = ?", [question]).fetchone()
    return ran is not None and stored_embeddings(db, question) is None


def _unique_lemmas(texts: list[str]) -> tuple[list[str], list[str]]:
    unique = list(dict.fromkeys(texts))
    return unique, lemmatise(unique)


def autocode(db: Database, question: str, *, min_score: float = 0.0, coder: str = "auto") -> dict[str, int]:
    """Accept the selected suggestions of each answer with no confirmed code, as status `auto`.

    Confirmed codes are never touched; earlier auto codes on the same answer are
    replaced, so re-running after new suggestions converges. With no themes
    there is nothing to accept (and `coder suggest` stores nothing to wait for).
    """
    if not read_codebook(db, question_codebook(db, question)).themes:
        return {"answers": 0, "codings": 0}
    rows = db.execute(
        """SELECT s.answer_id, s.theme_pk, s.score, s.method, s.evidence FROM suggestions s
           JOIN answers a ON a.id = s.answer_id
           WHERE a.question_id = ? AND s.selected = 1 AND s.score >= ?
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = s.answer_id AND c.status = 'confirmed')
           ORDER BY s.answer_id, s.rank""",
        [question, min_score],
    ).fetchall()
    if not rows and not db.execute(
        "SELECT 1 FROM suggestion_runs WHERE question_id = ?", [question]
    ).fetchone():
        raise CoderError(f"no suggestions for {question!r} yet: run `coder suggest` first")
    by_answer: dict[int, list[Code]] = {}
    for answer_id, theme_pk, score, method, evidence in rows:
        by_answer.setdefault(answer_id, []).append(Code(theme_pk, "auto", coder, score, method, evidence))
    with write(db):
        for answer_id, codes in by_answer.items():
            apply_codes(db, answer_id, codes, coder=coder, action="coding.auto", replace=True)
    return {"answers": len(by_answer), "codings": sum(len(c) for c in by_answer.values())}


def review_queue(db: Database, question: str) -> list[int]:
    """Answer ids without confirmed codes, least confident first (for the TUI's queue)."""
    rows = db.execute(
        """SELECT a.id, s.score FROM answers a JOIN respondents r ON r.id = a.respondent_id
           LEFT JOIN suggestions s ON s.answer_id = a.id AND s.rank <= 2
           WHERE a.question_id = ? AND a.is_answer = 1
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')
           ORDER BY r.position, a.rank, s.rank""",
        [question],
    ).fetchall()
    ids: list[int] = []
    top2: dict[int, list[float]] = {}
    for answer_id, score in rows:
        if answer_id not in top2:
            ids.append(answer_id)
            top2[answer_id] = []
        if score is not None:
            top2[answer_id].append(score)
    matrix = np.array([(v + [0.0, 0.0])[:2] for v in (top2[i] for i in ids)], dtype=np.float32).reshape(-1, 2)
    return [ids[i] for i in uncertainty_order(matrix)] if ids else []


def unfit_answers(db: Database, question: str, max_score: float = 0.3) -> list[Answer]:
    """Answers no theme fits: not confirmed, and no suggestion scoring above `max_score`."""
    rows = db.execute(
        """SELECT a.id, a.text FROM answers a JOIN respondents r ON r.id = a.respondent_id
           WHERE a.question_id = ? AND a.is_answer = 1
             AND NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')
             AND coalesce((SELECT max(s.score) FROM suggestions s WHERE s.answer_id = a.id), 0) <= ?
           ORDER BY r.position, a.rank""",
        [question, max_score],
    ).fetchall()
    return [Answer(r[0], r[1], []) for r in rows]


@dataclass
class Discovery:
    """What `coder discover` proposes, and from which answers and in which space."""

    question: str
    answers: list[Answer]  # the answers clustered
    proposals: list
    scratch: bool  # all answers clustered (a starter codebook), not only those no theme fits
    embeddings: str | None  # the sentence model used, or None for TF-IDF
    repeats: list = field(default_factory=list)  # Repeat: proposals left out as existing themes found again


REPEAT_SHARE = 0.5  # of a proposal's answers already coded with one theme: that theme found again


@dataclass(frozen=True)
class Repeat:
    """A proposal left out because the codebook has it already."""

    proposal: object
    theme_id: str
    reason: str  # "same label" or "60% of its answers are coded with it"


def discover_themes(db: Database, question: str, *, max_score: float = 0.3, min_size: int = 3,
                    max_themes: int = 12, seed: int = 0, all_answers: bool = False,
                    embeddings: bool = True, cache: bool = False) -> Discovery:
    """Cluster answers into proposed new themes (see discover.py).

    With no themes yet, or `all_answers`, every answer is clustered (discovery from scratch);
    otherwise only those no theme fits. Sentence vectors are used when a model is installed:
    those `coder suggest` stored are read, and new ones stored only with `cache` (the database
    must then be writable).
    """
    from .discover import discover, enough_for_vectors

    codebook = read_codebook(db, question_codebook(db, question))
    scratch = all_answers or not codebook.themes
    if scratch:
        answers = [Answer(a.id, a.text, []) for a in load_answers(db, question)]
    else:
        answers = unfit_answers(db, question, max_score)
    texts = [a.text for a in answers]
    wanted = embeddings and codebook.kind == "text" and enough_for_vectors(texts)
    embedder = embedder_for(texts, db, store=cache) if wanted else None
    vectors = embedder.vectors(texts) if embedder is not None and texts else None
    # Proposals for what no theme fits should not be named after a theme; a fresh start may be.
    label_words = [] if scratch else [w for t in codebook.themes for w in t.label.split()]
    proposals = discover(texts, [a.id for a in answers], vectors=vectors, min_size=min_size,
                         max_themes=max_themes, random_state=seed, exclude_terms=label_words)
    repeats = _repeats(db, codebook, proposals) if codebook.themes else []
    left_out = {id(r.proposal) for r in repeats}
    return Discovery(question, answers, [p for p in proposals if id(p) not in left_out], scratch,
                     embedder.name if embedder is not None else None, repeats)


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
                WHERE a.id IN ({','.join('?' * len(part))})""",
            part,
        ).fetchall()
    return [{"respondent_id": r[0], "rank": r[1]} for r in sorted(rows, key=lambda r: (r[2], r[1]))]


def accept_proposal(db: Database, question: str, proposal, *, label: str | None = None, coder: str | None = None):
    """Add a proposed theme to the question's codebook; its top terms become keywords."""
    from ..themes import add_theme

    codebook_id = question_codebook(db, question)
    # Examples are answers, which may be long: the description quotes the start of each.
    examples = "; ".join(f'"{shorten(e, 200)}"' for e in proposal.examples)
    said = getattr(proposal, "description", "") or f"Proposed by discovery from {proposal.size} answers."
    return add_theme(
        db,
        codebook_id,
        label or proposal.label,
        description=f"{said} Proposed by discovery, e.g. {examples}",
        keywords=tuple(proposal.terms),
        coder=coder,
    )


def accept_proposals(db: Database, question: str, proposals, *, coder: str | None = None):
    """Add several proposals in one transaction: all of them, or (on any error) none."""
    with write(db):
        return [accept_proposal(db, question, p, coder=coder) for p in proposals]


def name_candidates(db: Database, question: str):
    """For a names question: spellings no alias or fuzzy match claims, grouped, with the nearest theme."""
    from .names import NameMatcher

    codebook = read_codebook(db, question_codebook(db, question))
    if codebook.kind != "names":
        raise CoderError(f"question {question!r} is not a names question (its codebook is kind {codebook.kind!r})")
    matcher = NameMatcher(codebook)
    texts = [a.text for a in load_answers(db, question) if not a.confirmed]
    # Only cells that named nothing known: leftover words beside a match ("DWP - for UC") are not names.
    unknown = [t for t, found in zip(texts, matcher.match_many(texts)) if all(s.method == "fallback" for s in found)]
    return matcher.unmatched(unknown)


def accept_names(db: Database, question: str, candidate, *, alias_of: str | None = None,
                 label: str | None = None, coder: str | None = None):
    """Teach the codebook a group of spellings: as aliases of a theme, or as a new theme."""
    from ..themes import add_alias, add_theme

    codebook_id = question_codebook(db, question)
    if alias_of:
        with write(db):
            for spelling in candidate.spellings:
                theme = add_alias(db, codebook_id, alias_of, spelling, coder=coder)
        return theme
    name = label or candidate.spellings[0]
    aliases = tuple(s for s in candidate.spellings if s.casefold() != name.casefold())
    return add_theme(db, codebook_id, name, aliases=aliases,
                     description=f"Added from {candidate.count} answers naming it", coder=coder)
