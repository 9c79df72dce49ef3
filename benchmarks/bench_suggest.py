"""Benchmark `coder import` + `coder suggest` against the floor of the libraries they use.

The floor is what any tool doing this job must pay at least once over the same
answer cells: one sqlite-utils `insert_all`, one spaCy blank-English lookup
lemmatizer pass, one TfidfVectorizer fit, and, where a sentence-embedding model
is installed, one encoding pass over the distinct texts of the questions coder
gives meaning to. Comparing against it keeps the target (import + suggest <= 2x
floor, linear in N, <= 2 GB at 1M) independent of the machine. Each measured side runs in a fresh spawned process, so the generator's
memory and warm caches never count.

    .venv/bin/python benchmarks/bench_suggest.py --n 100000
    .venv/bin/python benchmarks/bench_suggest.py --n 10000 --json --check
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e`

CORPUS = ROOT / "corpus" / "local-digital-2014"
QUESTIONS = ("q5", "q6", "q7", "q13", "q14", "q16")
APPENDED = ("asap", "esp. for residents", "(priority)")
TARGET_RATIO = 2.0
TARGET_MB = 2048


# -- synthetic export ------------------------------------------------------------


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 2:
        return text
    i = rng.choice(letters[:-1])
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + text[i + 1 :]


def _perturb(text: str, pool: list[str], rng: random.Random) -> str:
    """Vary a corpus answer the way respondents do, so texts are not all identical.

    About half the cells stay verbatim: real exports repeat short answers ("DWP")
    a lot, and the caches in coder rely on that as much as on variety.
    """
    if rng.random() < 0.05 and pool:
        text = f"{text} and {rng.choice(pool)}"
    if rng.random() < 0.25:
        text = _typo(text, rng)
    if rng.random() < 0.15:
        text = rng.choice((str.lower, str.upper, str.title))(text)
    if rng.random() < 0.15:
        text = f"{text} {rng.choice(APPENDED)}"
    return text


def generate(path: Path, n: int, seed: int, spec) -> None:
    """Write an export with the corpus header and N respondents resampled from its rows."""
    with open(CORPUS / "responses.csv", newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [r for r in reader if any(c.strip() for c in r)]
    id_col = header.index(spec.respondent_id)
    answer_cols = [header.index(c) for q in spec.questions for c in q.columns]
    pools = {j: [r[j].strip() for r in rows if r[j].strip()] for j in answer_cols}
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(1, n + 1):
            row = list(rng.choice(rows))
            row[id_col] = f"B{i:07d}"
            for j in answer_cols:
                if row[j].strip():
                    row[j] = _perturb(row[j].strip(), pools[j], rng)
            writer.writerow(row)


def answer_cells(path: Path, spec) -> list[dict]:
    """The non-empty answer cells of the export, cleaned as `import_responses` cleans them."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        id_col = header.index(spec.respondent_id)
        columns = [(q.id, rank, header.index(c)) for q in spec.questions for rank, c in enumerate(q.columns, 1)]
        for row in reader:
            for qid, rank, j in columns:
                text = row[j].replace("\r\n", "\n").strip()
                if text:
                    out.append({"respondent_id": row[id_col], "question_id": qid, "rank": rank, "text": text})
    return out


# -- measured sides, each in its own process ---------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_coder(csv_path: str, db_path: str, profile: str | None = None) -> dict:
    """Time import_responses and suggest per question, as `coder import` / `coder suggest` run them."""
    import cProfile

    import spacy  # noqa: F401  imported before timing in both sides: module import is not work

    from coder.store import open_db
    from coder.suggest.engine import suggest
    from coder.survey.load import import_responses
    from coder.survey.spec import load_spec

    spec = load_spec(CORPUS / "survey.yaml")
    db = open_db(db_path)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    times: dict[str, float] = {}
    computed: dict[str, int] = {}
    meaning: list[str] = []
    start = time.perf_counter()
    report = import_responses(db, spec, csv_path)
    times["import"] = time.perf_counter() - start
    for question in QUESTIONS:
        start = time.perf_counter()
        result = suggest(db, question, refresh=False)
        computed[question] = result.computed
        if result.embeddings:
            meaning.append(question)
        times[f"suggest {question}"] = time.perf_counter() - start
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    db.conn.close()
    return {
        "times": times,
        "answers_imported": report.answers_new,
        "suggested": computed,
        "peak_mb": _peak_mb(),
        "embeddings": meaning,
    }


def run_floor(csv_path: str, db_path: str) -> dict:
    """Time the three library calls any implementation needs at least once over the same cells."""
    import spacy
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sqlite_utils import Database

    from coder.survey.spec import load_spec

    spec = load_spec(CORPUS / "survey.yaml")
    cells = answer_cells(Path(csv_path), spec)
    texts = [c["text"] for c in cells]
    times: dict[str, float] = {}

    start = time.perf_counter()
    db = Database(db_path)
    # One transaction, as import_responses uses: left to itself insert_all commits
    # (and fsyncs) every 100 rows, and the floor would measure the disk instead.
    with db.atomic():
        db["answers"].insert_all(cells)
    times["floor insert_all"] = time.perf_counter() - start

    start = time.perf_counter()
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize()
    deque(nlp.pipe(texts, batch_size=1000), maxlen=0)
    times["floor spacy pipe"] = time.perf_counter() - start

    start = time.perf_counter()
    TfidfVectorizer().fit_transform(texts)
    times["floor tfidf"] = time.perf_counter() - start

    distinct = embedded_texts(cells, spec)
    if distinct:
        from coder.suggest.embeddings import encoder

        model = encoder()  # loaded outside the timer: a floor counts the arithmetic only
        start = time.perf_counter()
        model.encode(distinct)
        times["floor encode"] = time.perf_counter() - start
    return {"times": times, "cells": len(texts), "encoded": len(distinct), "peak_mb": _peak_mb()}


def embedded_texts(cells: list[dict], spec) -> list[str]:
    """The distinct texts coder encodes once: text questions within the embedding limit (none without a model)."""
    from coder.suggest.embeddings import available, max_texts

    if not available():
        return []
    kinds = {q.id: q.codebook.kind for q in spec.questions}
    out: dict[str, None] = {}
    for question in QUESTIONS:
        if kinds[question] != "text":
            continue
        texts = dict.fromkeys(c["text"] for c in cells if c["question_id"] == question)
        if len(texts) <= max_texts():
            out.update(texts)
    return list(out)


def in_child(fn, *args):
    """Run fn in a fresh spawned interpreter: its peak RSS is then its own."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# -- report --------------------------------------------------------------------------


def summarise(n: int, seed: int, coder: dict, floor: dict) -> dict:
    cells = floor["cells"]
    suggest_total = sum(v for k, v in coder["times"].items() if k.startswith("suggest"))
    measured = coder["times"]["import"] + suggest_total
    floor_total = sum(v for k, v in floor["times"].items() if k != "floor encode")
    floor_encoding = floor_total + floor["times"].get("floor encode", 0.0)
    phases = {
        **coder["times"],
        "suggest total": suggest_total,
        "import + suggest": measured,
        **{k: v for k, v in floor["times"].items() if k != "floor encode"},
        "floor total": floor_total,
    }
    if "floor encode" in floor["times"]:
        phases.update({"floor encode": floor["times"]["floor encode"], "floor + encode": floor_encoding})
    ratio = measured / floor_encoding  # the target: coder against every pass it must make once
    return {
        "n": n,
        "seed": seed,
        "answer_cells": cells,
        "answers_imported": coder["answers_imported"],
        "suggested": coder["suggested"],
        "embeddings": coder["embeddings"],
        "encoded": floor["encoded"],
        "seconds": {k: round(v, 3) for k, v in phases.items()},
        "seconds_per_1k_cells": {k: round(v / cells * 1000, 4) for k, v in phases.items()},
        "ratio": round(ratio, 2),
        "ratio_without_encoding": round(measured / floor_total, 2),
        "peak_mb": round(coder["peak_mb"], 1),
        "floor_peak_mb": round(floor["peak_mb"], 1),
        "ok": ratio <= TARGET_RATIO and coder["peak_mb"] <= TARGET_MB,
    }


def print_table(result: dict) -> None:
    print(f"n={result['n']:,} respondents, {result['answer_cells']:,} answer cells, seed {result['seed']}")
    print(f"{'phase':<20} {'seconds':>9} {'s/1k cells':>11}")
    for phase, seconds in result["seconds"].items():
        if phase in ("suggest total", "import + suggest", "floor total", "floor + encode"):
            print("-" * 42)
        print(f"{phase:<20} {seconds:>9.2f} {result['seconds_per_1k_cells'][phase]:>11.4f}")
    ratio = result["ratio"]
    verdict = f"(target <= {TARGET_RATIO:g}: {'ok' if ratio <= TARGET_RATIO else 'over'})"
    from coder.suggest.embeddings import max_texts

    used = ", ".join(result["embeddings"]) or "none"
    print(f"sentence embeddings (questions with <= {max_texts():,} distinct answers): {used}")
    if result["encoded"]:
        print(f"floor encode: one encoding pass over the {result['encoded']:,} distinct texts of those questions")
        print(
            f"ratio (import + suggest) / floor with that encoding pass: {ratio:.2f} {verdict}; "
            f"without it: {result['ratio_without_encoding']:.2f}"
        )
    else:
        print(f"ratio (import + suggest) / floor: {ratio:.2f} {verdict}")
    mb = result["peak_mb"]
    print(
        f"peak RSS import + suggest: {mb:,.0f} MB (target <= {TARGET_MB} MB: {'ok' if mb <= TARGET_MB else 'over'}); "
        f"floor process {result['floor_peak_mb']:,.0f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="synthetic respondents (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--workdir", type=Path, help="where the export and databases go (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if the ratio or memory target is missed")
    parser.add_argument("--profile", type=Path, help="write a cProfile of import + suggest here (slows it down)")
    args = parser.parse_args(argv)

    from coder.survey.spec import load_spec

    with tempfile.TemporaryDirectory(prefix="bench-suggest-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        csv_path = work / f"responses-{args.n}-{args.seed}.csv"
        for name in ("coder.db", "floor.db"):
            for suffix in ("", "-wal", "-shm"):
                (work / (name + suffix)).unlink(missing_ok=True)
        start = time.perf_counter()
        generate(csv_path, args.n, args.seed, load_spec(CORPUS / "survey.yaml"))
        print(f"generated {csv_path} in {time.perf_counter() - start:.1f}s (not measured)", file=sys.stderr)
        profile = str(args.profile.resolve()) if args.profile else None
        coder = in_child(run_coder, str(csv_path), str(work / "coder.db"), profile)
        floor = in_child(run_floor, str(csv_path), str(work / "floor.db"))
    result = summarise(args.n, args.seed, coder, floor)
    print_table(result)
    if args.json:
        print(json.dumps(result, indent=2))
    return 1 if args.check and not result["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
