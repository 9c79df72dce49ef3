"""Retraining speed: the classifier on N confirmed answers, against a TF-IDF floor measured in the same run.

The issue's target: retraining after a batch of confirmations takes under a
second for 10k coded answers. Answers are resampled and perturbed from the
corpus's coded q14 cells (as bench_suggest.py does), each keeping its gold
themes. Printed: the fit time, the floor (one TfidfVectorizer.fit_transform
of the same texts) and their ratio. With a sentence-embedding model
installed, also the classifier on answer vectors. Questions are embedded
only up to 2,000 distinct answers, so the worst case is timed: 2,000
distinct vectors (the corpus cells' vectors plus a little noise; encoding
is not what is timed) resampled to N confirmed answers.

    python benchmarks/bench_learn.py --n 10000
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

from coder.codebook import load_codebook  # noqa: E402
from coder.suggest.learn import ThemeClassifier  # noqa: E402
from coder.suggest.text import lemmatise  # noqa: E402
from coder.suggest.themes import TextSpace  # noqa: E402

TARGET_SECONDS = 1.0


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="Confirmed answers to train on.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    cells = coded_cells()
    pool = [text for text, _ in cells]
    ids = load_codebook(ROOT / "codebooks" / "priorities-2014.yaml").ids
    texts, labels = [], np.zeros((args.n, len(ids)), dtype=np.int8)
    for i in range(args.n):
        text, themes = rng.choice(cells)
        texts.append(_perturb(text, pool, rng))
        for theme in themes:
            labels[i, ids.index(theme)] = 1
    lemmas = lemmatise(texts)
    space = TextSpace.fit(lemmas)
    X = space.word.transform(lemmas)
    started = time.perf_counter()
    ThemeClassifier.fit(X, labels)
    fit = time.perf_counter() - started
    started = time.perf_counter()
    TfidfVectorizer().fit_transform(texts)
    floor = time.perf_counter() - started
    verdict = "ok" if fit <= TARGET_SECONDS else "over"
    print(f"classifier fit on {args.n:,} confirmed answers: {fit:.2f} s (target <= {TARGET_SECONDS:.0f} s: {verdict})")
    print(f"floor, TfidfVectorizer.fit_transform of the same texts: {floor:.2f} s; ratio {fit / floor:.2f}")
    from coder.suggest.embeddings import encoder

    found = encoder()
    if found is None:
        print("no sentence-embedding model installed: the embedding classifier is not measured")
        return 0
    from coder.suggest.embeddings import max_texts

    base = found.encode(pool)
    distinct = min(max_texts(), args.n)
    origin = np.array([rng.randrange(len(pool)) for _ in range(distinct)])
    noise = np.random.default_rng(args.seed).normal(scale=0.02, size=(distinct, base.shape[1])).astype(np.float32)
    variants = base[origin] + noise
    variants /= np.linalg.norm(variants, axis=1, keepdims=True)
    picks = np.array([rng.randrange(distinct) for _ in range(args.n)])
    vectors = variants[picks]
    dense_labels = np.zeros_like(labels)
    for i, p in enumerate(picks):
        for theme in cells[origin[p]][1]:
            dense_labels[i, ids.index(theme)] = 1
    started = time.perf_counter()
    ThemeClassifier.fit(vectors, dense_labels, dense=True)
    dense = time.perf_counter() - started
    verdict = "ok" if dense <= TARGET_SECONDS else "over"
    print(f"classifier fit on {args.n:,} answer vectors, {distinct:,} distinct ({found.fingerprint.split(':')[0]}): {dense:.2f} s "
          f"(target <= {TARGET_SECONDS:.0f} s: {verdict}); ratio to the floor {dense / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
