"""External benchmark: the ANES 2008 open-ended coding data, train parts confirmed, test parts autocoded.

For each dataset (a clone of mxli417/co_benchmark; `traintest_data/datasetN_{X,y}{train,test}.csv`)
a temp folder gets a CSV export (train and test answers), a survey spec and a
codebook whose themes are the numeric codes with labels only ("code 12"), so
nothing but the confirmed answers teaches coder. Then the normal paths:
import, the train part's codes imported as confirmed, suggest, autocode, and
the test part's auto codes read back as `codings export` lists them. Printed:
sample F1 (learn.sample_f1) on the test part beside a TF-IDF (words 1-2) +
one-vs-rest LinearSVC baseline trained on the raw train texts in the same run
(an answer it gives no code gets none) and the published sample F1 of Card &
Smith (2015), and "over": the share of one-code answers given two or more
codes. `--confirmed N` confirms only N random train answers (few
confirmations). Settings are never chosen from the test parts.

    python benchmarks/bench_anes.py --repo /path/to/co_benchmark [--datasets 3,4,6] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.coding.codings import export_codings, import_codings  # noqa: E402
from coder.store import open_db  # noqa: E402
from coder.suggest.engine import autocode, suggest  # noqa: E402
from coder.suggest.learn import sample_f1  # noqa: E402
from coder.survey.load import import_responses  # noqa: E402
from coder.survey.spec import load_spec  # noqa: E402

CARD_SMITH = [0.55, 0.67, 0.71, 0.71, 0.81, 0.86, 0.94, 0.96, 0.93, 0.96]


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return list(csv.reader(handle))


def load(repo: Path, n: int, part: str) -> tuple[list[str], list[set[str]]]:
    """Texts and their code sets; rows pair by position (caseIDs repeat across the merged questions)."""
    folder = repo / "traintest_data"
    texts = [r[1] for r in _rows(folder / f"dataset{n}_X{part}.csv")[1:]]
    header, *labels = _rows(folder / f"dataset{n}_y{part}.csv")
    codes = [{header[j] for j, v in enumerate(row) if v.strip() not in ("", "0")} for row in labels]
    if len(texts) != len(codes):
        raise SystemExit(f"dataset {n} {part}: {len(texts)} texts but {len(codes)} label rows")
    return texts, codes


def write_question(work: Path, survey: str, title: str, themes: list[dict], text: str | None = None) -> None:
    """`codebook.yaml` and `survey.yaml` in `work`: one question `q` (worded `text`, else the title) over
    column `answer`, ids in `id`.
    Every text is a real answer (ANES's "don't know" has its own code), so no non-answers."""
    codebook = {"id": survey, "title": title[:80], "kind": "text", "themes": themes}
    (work / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False), encoding="utf-8")
    spec = {
        "survey": survey,
        "respondent_id": "id",
        "non_answers": [],
        "questions": [
            {"id": "q", "text": text or title, "columns": "answer", "codebook": "codebook.yaml", "base": "mentions"}
        ],
    }
    (work / "survey.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def prepare(work: Path, codes: list[str], train: list[str], train_y: list[set[str]], test: list[str]) -> None:
    write_question(work, "anes", "ANES codes", [{"id": f"c{c}", "label": f"code {c}"} for c in codes], "ANES")
    with open(work / "responses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "answer"])
        writer.writerows([f"train{i}", t] for i, t in enumerate(train))
        writer.writerows([f"test{i}", t] for i, t in enumerate(test))
    with open(work / "codings.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["respondent_id", "question", "rank", "theme"])
        for i, themes in enumerate(train_y):
            writer.writerows([f"train{i}", "q", 1, f"c{c}"] for c in sorted(themes))


def run_coder(work: Path, n_test: int) -> tuple[list[set[str]], dict]:
    db = open_db(work / "anes.db")
    timings = {}
    started = time.perf_counter()
    import_responses(db, load_spec(work / "survey.yaml"), work / "responses.csv")
    import_codings(db, work / "codings.csv", coder="anes")
    timings["import"] = time.perf_counter() - started
    started = time.perf_counter()
    report = suggest(db, "q")
    timings["suggest"] = time.perf_counter() - started
    autocode(db, "q")
    predicted: list[set[str]] = [set() for _ in range(n_test)]
    for row in export_codings(db, "q"):
        if row["status"] == "auto" and row["respondent_id"].startswith("test"):
            predicted[int(row["respondent_id"][4:])].add(row["theme"].removeprefix("code "))
    db.close()
    timings["embeddings"] = report.embeddings
    return predicted, timings


def baseline(train: list[str], train_y: list[set[str]], test: list[str]) -> list[set[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    binarizer = MultiLabelBinarizer()
    Y = binarizer.fit_transform(train_y)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    model = OneVsRestClassifier(LinearSVC()).fit(vectorizer.fit_transform(train), Y)
    predicted = model.predict(vectorizer.transform(test))
    return [set(binarizer.classes_[row.nonzero()[0]]) for row in predicted]


def over_selected(predicted: list[set[str]], gold: list[set[str]]) -> float:
    """The share of one-code answers given two or more codes (the multi-label error that dominates)."""
    single = [p for p, g in zip(predicted, gold) if len(g) == 1]
    return sum(len(p) > 1 for p in single) / max(1, len(single))


def run_dataset(repo: Path, n: int, dev: bool = False, confirmed: int | None = None) -> dict:
    train, train_y = load(repo, n, "train")
    if dev:
        # Settings are chosen here: a random tenth of the train part stands in for the test part.
        order = list(range(len(train)))
        random.Random(n).shuffle(order)
        held, kept = order[: len(order) // 10], order[len(order) // 10 :]
        train, train_y, test, test_y = (
            [train[i] for i in kept],
            [train_y[i] for i in kept],
            [train[i] for i in held],
            [train_y[i] for i in held],
        )
    else:
        test, test_y = load(repo, n, "test")
    if confirmed is not None and confirmed < len(train):
        # Few confirmations: a random subset of the train part is confirmed, the rest never seen.
        chosen = sorted(random.Random(1000 + n).sample(range(len(train)), confirmed))
        train, train_y = [train[i] for i in chosen], [train_y[i] for i in chosen]
    codes = _rows(repo / "traintest_data" / f"dataset{n}_ytrain.csv")[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(work, codes, train, train_y, test)
        predicted, timings = run_coder(work, len(test))
    seconds = time.perf_counter() - started
    svc = baseline(train, train_y, test)
    return {
        "dataset": n,
        "train": len(train),
        "test": len(test),
        "codes": len(codes),
        "coder": sample_f1(predicted, test_y),
        "over": over_selected(predicted, test_y),
        "svc": sample_f1(svc, test_y),
        "card_smith": CARD_SMITH[n - 1],
        "seconds": round(seconds, 1),
        "suggest_seconds": round(timings["suggest"], 1),
        "embeddings": timings["embeddings"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="A clone of mxli417/co_benchmark.")
    parser.add_argument("--datasets", default="1,2,3,4,5,6,7,8,9,10", help="Comma-separated dataset numbers.")
    parser.add_argument("--json", action="store_true", help="Also print the results as JSON.")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="Choose settings: score a random 10%% of each train part, the rest confirmed (the test part is not read).",
    )
    parser.add_argument(
        "--confirmed",
        type=int,
        default=None,
        metavar="N",
        help="Confirm only a random N of the train part (learning from few confirmations).",
    )
    args = parser.parse_args(argv)
    numbers = [int(x) for x in args.datasets.split(",") if x.strip()]
    if not (args.repo / "traintest_data").is_dir() or any(not 1 <= n <= 10 for n in numbers):
        print(f"need {args.repo}/traintest_data and dataset numbers 1-10", file=sys.stderr)
        return 2
    print(
        "ANES 2008 open-ended coding: sample F1 on the "
        + (
            "held-out random 10% of the train part (--dev), the rest confirmed"
            if args.dev
            else "test part, train part confirmed"
        )
        + (f"; only {args.confirmed} train answers confirmed" if args.confirmed else "")
    )
    print(
        f"{'dataset':>7} {'train':>6} {'test':>5} {'codes':>5} {'coder':>6} {'SVC':>6} {'C&S':>5} {'seconds':>8} {'over':>5}  embeddings"
    )
    results = []
    for n in numbers:
        r = run_dataset(args.repo, n, args.dev, args.confirmed)
        results.append(r)
        print(
            f"{n:>7} {r['train']:>6} {r['test']:>5} {r['codes']:>5} {r['coder']:>6.3f} {r['svc']:>6.3f} "
            f"{r['card_smith']:>5.2f} {r['seconds']:>8.1f} {r['over']:>5.2f}  {(r['embeddings'] or 'none').split(':')[0]}",
            flush=True,
        )
    mean = lambda key: sum(r[key] for r in results) / len(results)  # noqa: E731
    print(
        f"{'mean':>7} {'':>6} {'':>5} {'':>5} {mean('coder'):>6.3f} {mean('svc'):>6.3f} {mean('card_smith'):>5.2f} "
        f"{sum(r['seconds'] for r in results):>8.1f} {mean('over'):>5.2f}"
    )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
