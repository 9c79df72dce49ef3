"""External benchmark: learning with named themes, zero-shot to 80% confirmed, against LinearSVC.

ANES's codes are numbers, so bench_anes.py measures learning with nothing for
zero-shot to read. Here the themes have names, as a researcher's do: IBM's
ArgKP (a clone of IBM/KPA_2021_shared_task, `kpm_data/`), where each debate
topic is one question, its arguments the answers, and its key points
("Assisted suicide reduces suffering") the codebook's themes, each argument
coded with the key points its annotators matched to it (arguments matched to
none are left out, as ThemeFinder's set leaves out the uncoded). For each
topic and fraction: a random share of the answers is imported as confirmed
codings, `suggest` and `autocode` run as the CLI runs them, and the auto codes
of the other answers are scored (sample F1, pooled over every topic's
answers) beside zero-shot (nothing confirmed) and a TF-IDF (words 1-2) +
one-vs-rest LinearSVC baseline trained on the same confirmed answers.
What to watch: learning should never fall below zero-shot, and should stay
ahead of the baseline at every fraction. Settings are never chosen on the
`test` split.

    python benchmarks/bench_named.py --stance /path/to/KPA_2021_shared_task [--split train] [--fractions 0.05,0.2,0.8]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_anes import baseline, write_question  # noqa: E402
from coder.coding.codings import export_codings, import_codings  # noqa: E402
from coder.store import open_db  # noqa: E402
from coder.suggest.engine import autocode, suggest  # noqa: E402
from coder.suggest.learn import sample_f1  # noqa: E402
from coder.survey.load import import_responses  # noqa: E402
from coder.survey.spec import load_spec  # noqa: E402


def _read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def topics(repo: Path, split: str) -> list[dict]:
    """Per topic: its key points (id, text) and its matched arguments (text, key point ids)."""
    folder = repo / ("test_data" if split == "test" else "kpm_data")
    arguments = {r["arg_id"]: r for r in _read(folder / f"arguments_{split}.csv")}
    points = _read(folder / f"key_points_{split}.csv")
    matched: dict[str, set[str]] = defaultdict(set)
    for row in _read(folder / f"labels_{split}.csv"):
        if row["label"] == "1":
            matched[row["arg_id"]].add(row["key_point_id"])
    out = []
    for topic in sorted({p["topic"] for p in points}):
        kps = [(p["key_point_id"], p["key_point"].strip()) for p in points if p["topic"] == topic]
        if len({text.casefold() for _, text in kps}) < len(kps):
            raise SystemExit(f"topic {topic!r}: two key points share a wording; a codebook's labels must differ")
        args = [(a["argument"], matched[i]) for i, a in arguments.items() if a["topic"] == topic and matched[i]]
        out.append({"topic": topic, "key_points": kps, "answers": args})
    return out


def prepare(work: Path, topic: dict, confirmed: list[int]) -> None:
    ids = {kp: f"kp-{n}" for n, (kp, _) in enumerate(topic["key_points"])}
    write_question(work, "argkp", topic["topic"], [{"id": ids[kp], "label": t} for kp, t in topic["key_points"]])
    with open(work / "responses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "answer"])
        writer.writerows([f"a{i}", text] for i, (text, _) in enumerate(topic["answers"]))
    with open(work / "codings.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["respondent_id", "question", "rank", "theme"])
        for i in confirmed:
            writer.writerows([f"a{i}", "q", 1, ids[kp]] for kp in sorted(topic["answers"][i][1]))


def run_topic(topic: dict, fraction: float, seed: int, embeddings: bool) -> tuple[list, list, list | None]:
    """(gold, coder's codes, the baseline's codes or None at zero-shot) for the answers not confirmed."""
    n = len(topic["answers"])
    confirmed = sorted(random.Random(seed).sample(range(n), round(fraction * n))) if fraction else []
    rest = sorted(set(range(n)) - set(confirmed))
    by_label = {text.casefold(): kp for kp, text in topic["key_points"]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(work, topic, confirmed)
        db = open_db(work / "named.db")
        import_responses(db, load_spec(work / "survey.yaml"), work / "responses.csv")
        if confirmed:
            import_codings(db, work / "codings.csv", coder="gold")
        suggest(db, "q", embeddings=embeddings)
        autocode(db, "q")
        by_answer: dict[int, set[str]] = defaultdict(set)
        for row in export_codings(db, "q"):
            if row["status"] == "auto":
                by_answer[int(row["respondent_id"][1:])].add(by_label[row["theme"].casefold()])
        db.close()
    gold = [topic["answers"][i][1] for i in rest]
    predicted = [by_answer[i] for i in rest]
    svc = None
    labelled = [topic["answers"][i] for i in confirmed]
    if len({kp for _, kps in labelled for kp in kps}) >= 2:  # LinearSVC needs two classes
        svc = baseline([t for t, _ in labelled], [k for _, k in labelled], [topic["answers"][i][0] for i in rest])
    elif confirmed:
        svc = [set() for _ in rest]
    return gold, predicted, svc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stance", type=Path, required=True, help="A clone of IBM/KPA_2021_shared_task.")
    parser.add_argument("--split", default="train", choices=["train", "dev", "test"])
    parser.add_argument("--fractions", default="0,0.05,0.2,0.8", help="Shares of each topic's answers confirmed.")
    parser.add_argument("--seeds", default="0,1", help="Comma-separated seeds (the confirmed answers drawn).")
    parser.add_argument("--topics", type=int, default=None, help="Only the first N topics (a quick look).")
    parser.add_argument("--no-embeddings", action="store_true", help="TF-IDF alone.")
    parser.add_argument("--json", action="store_true", help="Also print the results as JSON.")
    args = parser.parse_args(argv)
    data = topics(args.stance, args.split)[: args.topics]
    fractions = [float(f) for f in args.fractions.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    print(
        f"ArgKP {args.split}: {len(data)} topics, {sum(len(t['answers']) for t in data)} coded arguments, "
        f"{sum(len(t['key_points']) for t in data)} key points (themes); seeds {args.seeds}"
    )
    print(f"{'confirmed':>9} {'coder':>7} {'svc':>7} {'answers scored':>15} {'seconds':>8}")
    results = []
    for fraction in fractions:
        started = time.perf_counter()
        gold, ours, theirs = [], [], []
        for seed in seeds if fraction else seeds[:1]:  # zero-shot draws nothing
            for topic in data:
                g, p, s = run_topic(topic, fraction, seed, not args.no_embeddings)
                gold += g
                ours += p
                theirs += s if s is not None else [set() for _ in g]
        row = {
            "fraction": fraction,
            "coder": sample_f1(ours, gold),
            "svc": sample_f1(theirs, gold) if fraction else None,
            "scored": len(gold),
            "seconds": round(time.perf_counter() - started, 1),
        }
        results.append(row)
        svc = f"{row['svc']:>7.3f}" if row["svc"] is not None else f"{'-':>7}"
        print(f"{fraction:>9.0%} {row['coder']:>7.3f} {svc} {row['scored']:>15,} {row['seconds']:>8.1f}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
