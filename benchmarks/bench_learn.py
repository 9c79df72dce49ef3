"""Retraining speed: the learner on N confirmed answers and 100 themes, against a TF-IDF floor measured in the same run.

The issue's target: a retrain (what `coder suggest` does after every ten
confirmations in the app) takes under 2 s for 10k confirmed answers and 100
themes on 2 cores. Answers are resampled and perturbed from the corpus's coded
q14 cells (as bench_suggest.py does), each keeping its gold themes; each of
the 16 themes is split seven ways by the answer's word count, so there are
100 themes to learn. Timed: the learner alone (one SVM per theme, half of them
in a second process), and the
whole fit of the question's model (TF-IDF spaces, zero-shot, learner and the
cross-validated calibration). Printed beside the floor (one
TfidfVectorizer.fit_transform of the same texts) and their ratio. With a
sentence-embedding model installed, the same with answer vectors added
(the corpus cells' vectors plus a little noise; encoding is not what is timed).

    python benchmarks/bench_learn.py --n 10000 [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_suggest import CORPUS, _perturb  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from coder.codebook.model import Codebook, Theme, load_codebook  # noqa: E402
from coder.suggest.learn import ThemeLearner  # noqa: E402
from coder.suggest.model import Answer, fit_text_model, normalise, word_space  # noqa: E402
from coder.suggest.text import lemmatise  # noqa: E402

TARGET_SECONDS = 2.0
THEMES = 100
SPLIT = 7


def coded_cells() -> list[tuple[str, set[str]]]:
    codebook = load_codebook(ROOT / "codebooks" / "priorities-2014.yaml")
    with open(CORPUS / "responses.csv", newline="", encoding="utf-8") as handle:
        responses = {r["respondent_id"]: r for r in csv.DictReader(handle)}
    gold: dict[tuple[str, str], set[str]] = {}
    with open(CORPUS / "codings.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["question"] == "q14":
                gold.setdefault((row["respondent_id"], row["rank"]), set()).add(codebook.find(row["theme"]).id)
    return [(responses[rid][f"q14_priority_{rank}"], themes) for (rid, rank), themes in gold.items()]


class _Fixed:
    """Precomputed vectors in the Embedder's place: encoding is not what is timed."""

    name = "fixed"

    def __init__(self, vectors: dict[str, np.ndarray]):
        self.memory = vectors

    def vectors(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.memory.get(t, self.memory["\0"]) for t in texts])


def _timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="Confirmed answers to train on.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="Time each step this many times and print the best (a shared machine is noisy).",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    cells = coded_cells()
    pool = [text for text, _ in cells]
    base = load_codebook(ROOT / "codebooks" / "priorities-2014.yaml")
    ids = [f"t{i}" for i in range(THEMES)]
    codebook = Codebook(
        id="bench", title="bench", kind="text", themes=tuple(Theme(id=t, label=f"theme {i}") for i, t in enumerate(ids))
    )
    texts, labels, origins = [], np.zeros((args.n, THEMES), dtype=np.int8), []
    for i in range(args.n):
        origin = rng.randrange(len(cells))
        text = _perturb(cells[origin][0], pool, rng)
        texts.append(text)
        origins.append(origin)
        for theme in cells[origin][1]:
            labels[i, (base.ids.index(theme) * SPLIT + len(text.split()) % SPLIT) % THEMES] = 1
    answers = [Answer(i, t, [ids[j] for j in np.flatnonzero(labels[i])]) for i, t in enumerate(texts)]
    lemmas = dict(zip(texts, lemmatise(texts)))
    best = lambda step: min(_timed(step) for _ in range(max(1, args.repeat)))  # noqa: E731
    floor = best(lambda: TfidfVectorizer().fit_transform(texts))
    print(f"floor, TfidfVectorizer.fit_transform of the {args.n:,} texts: {floor:.2f} s")
    _, rows, matrix = word_space(texts)
    features = matrix[[rows[t] for t in map(normalise, texts)]]
    fit = best(lambda: ThemeLearner.fit(features, labels))
    print(
        f"learner fit on {args.n:,} confirmed answers, {THEMES} themes: {fit:.2f} s; ratio to the floor {fit / floor:.1f}"
    )
    whole = best(lambda: fit_text_model(codebook, answers, lemmas))
    verdict = "ok" if whole <= TARGET_SECONDS else "over"
    print(
        f"classifier fit on {args.n:,} confirmed answers (whole retrain with calibration): {whole:.2f} s "
        f"(target <= {TARGET_SECONDS:.0f} s: {verdict}); ratio to the floor {whole / floor:.1f}"
    )
    from coder.suggest.embeddings import encoder

    found = encoder()
    if found is None:
        print("no sentence-embedding model installed: the learner on answer vectors is not measured")
        return 0
    encoded = found.encode(pool)
    noise = np.random.default_rng(args.seed).normal(scale=0.02, size=(args.n, encoded.shape[1])).astype(np.float32)
    vectors = encoded[origins] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    memory = dict(zip(texts, vectors))
    memory["\0"] = vectors[0]
    dense = best(lambda: fit_text_model(codebook, answers, lemmas, embedder=_Fixed(memory)))
    verdict = "ok" if dense <= TARGET_SECONDS else "over"
    print(
        f"classifier fit on {args.n:,} confirmed answers with answer vectors ({found.fingerprint.split(':')[0]}), "
        f"whole retrain: {dense:.2f} s (target <= {TARGET_SECONDS:.0f} s: {verdict}); ratio to the floor {dense / floor:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
