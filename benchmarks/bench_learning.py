"""Active learning: does confirming answers in coder's own queue order teach faster than a random order?

A simulated coder confirms answers in batches, retraining between batches as
the app does (`coder code` runs `coder suggest` after every ten confirmations
and rebuilds its queue). Two coders, same data, same seeds:

- queue: the next batch is the first unconfirmed answers of a `CodingSession`'s
  queue in its default order (as imported until 20 answers are confirmed, then
  "teaches most");
- random: the next batch is the next unconfirmed answers of a random permutation.

Each batch is confirmed with its gold codes through the normal code path
(`codings.apply_codes`, status confirmed), then the real `suggest` retrains.
Printed: the sample F1 (coder.suggest.learn.sample_f1) of the auto-selected
suggestions on the answers not yet confirmed, after each of `--steps`
confirmations, for both; and the first retrain at which the queue coder reaches
the random coder's F1 at 200 (the issue's target: at most 120); on stderr, per
retrain, the F1 and the selection rule `suggest` chose. Each seed shuffles the
import order too, so the queue coder's first 20 differ by seed.

Data: `anes:N` (ANES 2008 dataset N, its train part as the pool, a codebook
of its numeric codes as labels), `themefinder:1` / `themefinder:2` (gambling_XS,
100 answers each: stops below the pool size), `q14` (the bundled corpus's coded
q14 cells). Sentence embeddings are off unless `--embeddings`.

    python benchmarks/bench_learning.py --data anes:6 --repo /work/data/anes --seeds 0,1
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.codebook.db import theme_pks  # noqa: E402
from coder.coding.codings import Code, apply_codes  # noqa: E402
from coder.coding.session import CodingSession  # noqa: E402
from coder.store import open_db  # noqa: E402
from coder.suggest.engine import suggest  # noqa: E402
from coder.suggest.learn import sample_f1  # noqa: E402
from coder.survey.load import import_responses  # noqa: E402
from coder.survey.spec import load_spec  # noqa: E402

DEFAULT_REPO = Path("/work/data/anes")
THEMEFINDER = ROOT.parent / "shared" / "benchmarks" / "themefinder-gambling-xs"
CORPUS = ROOT / "corpus" / "local-digital-2014"
TARGET = (200, 120)  # the queue reaches random's F1 at 200 with at most 120 confirmations


@dataclass
class Dataset:
    name: str
    question: str
    codebook: dict
    rows: list[tuple[str, str]]  # respondent id, answer text
    gold: dict[str, set[str]]  # respondent id -> theme ids


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return list(csv.reader(handle))


def anes(repo: Path, number: int) -> Dataset:
    X = _read_csv(repo / "traintest_data" / f"dataset{number}_Xtrain.csv")
    y = _read_csv(repo / "traintest_data" / f"dataset{number}_ytrain.csv")
    codes = y[0]
    rows, gold = [], {}
    for i, ((_case, text), flags) in enumerate(zip(X[1:], y[1:])):
        # Row numbers, not caseIDs: a case can answer twice (a question asked about two candidates).
        themes = {f"c{codes[j]}" for j, v in enumerate(flags) if v.strip() in ("1", "1.0")}
        if themes and text.strip():
            rows.append((f"r{i}", text))
            gold[f"r{i}"] = themes
    codebook = {
        "id": f"anes-{number}",
        "title": f"ANES 2008 dataset {number}",
        "kind": "text",
        "themes": [{"id": f"c{c}", "label": c} for c in codes],
    }
    return Dataset(f"anes:{number}", f"ANES 2008 open-ended question (dataset {number})", codebook, rows, gold)


def themefinder(part: int) -> Dataset:
    folder = THEMEFINDER / f"question_part_{part}"
    question = json.loads((folder / "question.json").read_text(encoding="utf-8"))
    themes = json.loads((folder / "themes.json").read_text(encoding="utf-8"))
    codebook = {
        "id": f"themefinder-{part}",
        "title": question["question_text"][:80],
        "kind": "text",
        "themes": [
            {"id": t["topic_id"].lower(), "label": t["topic_label"], "description": t["topic_description"]}
            for t in themes
        ],
    }
    texts = {}
    for line in (folder / "responses.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            texts[f"r{record['response_id']}"] = record["response"]
    gold = {}
    for line in (folder / "mapping.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            gold[f"r{record['response_id']}"] = {label.lower() for label in record["labels"]}
    rows = [(rid, text) for rid, text in texts.items() if gold.get(rid) and text.strip()]
    return Dataset(f"themefinder:{part}", question["question_text"], codebook, rows, gold)


def q14() -> Dataset:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import q14_gold_items  # the corpus's coded q14 cells, as the tests read them

    book, items = q14_gold_items()
    codebook = yaml.safe_load((ROOT / "codebooks" / "priorities-2014.yaml").read_text(encoding="utf-8"))
    rows, gold = [], {}
    for i, (text, themes) in enumerate(items):
        if text.strip():
            rows.append((f"r{i}", text))
            gold[f"r{i}"] = set(themes)
    return Dataset("q14", "What are your priorities?", codebook, rows, gold)


def load(name: str, repo: Path) -> Dataset:
    if name.startswith("anes:"):
        return anes(repo, int(name.split(":")[1]))
    if name.startswith("themefinder:"):
        return themefinder(int(name.split(":")[1]))
    if name == "q14":
        return q14()
    raise SystemExit(f"unknown --data {name!r} (anes:N, themefinder:1, themefinder:2, q14)")


def build(data: Dataset, work: Path, seed: int) -> Path:
    """A database with the pool imported in a seed-shuffled order, suggestions computed, nothing confirmed."""
    rows = data.rows[:]
    random.Random(seed).shuffle(rows)
    (work / "codebook.yaml").write_text(yaml.safe_dump(data.codebook, sort_keys=False), encoding="utf-8")
    spec = {
        "survey": "bench-learning",
        "respondent_id": "id",
        "questions": [
            {"id": "q", "text": data.question, "columns": "text", "codebook": "codebook.yaml", "base": "mentions"}
        ],
    }
    (work / "survey.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with open(work / "pool.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        writer.writerows(rows)
    path = work / f"pool-{seed}.db"
    db = open_db(path)
    import_responses(db, load_spec(work / "survey.yaml"), work / "pool.csv")
    db.close()
    return path


class Simulation:
    def __init__(self, path: Path, data: Dataset, embeddings: bool, seed: int):
        self.db = open_db(path)
        self.seed, self.embeddings = seed, embeddings
        self.pks = theme_pks(self.db, data.codebook["id"])
        self.gold = {}
        for answer_id, respondent in self.db.execute(
            "SELECT id, respondent_id FROM answers WHERE question_id = 'q' AND is_answer = 1"
        ):
            if respondent in data.gold:
                self.gold[answer_id] = data.gold[respondent]
        self.confirmed: set[int] = set()
        self.retrain_seconds: list[float] = []

    def retrain(self) -> None:
        started = time.perf_counter()
        suggest(self.db, "q", seed=self.seed, embeddings=self.embeddings)
        self.retrain_seconds.append(time.perf_counter() - started)

    def rule(self) -> str:
        """The selection rule the last retrain chose, from what `suggest` stored: a dip in a curve is often a flip."""
        row = self.db.execute("SELECT details FROM suggestion_runs WHERE question_id = 'q'").fetchone()
        selection = json.loads(row[0]).get("selection") or {}
        if "thresholds" in selection:
            return f"thresholds (median {selection['thresholds']['median']:.2f})"
        return f"ratio {selection.get('ratio')} floor {selection.get('floor')}" if selection else "none"

    def confirm(self, answer_ids: list[int]) -> None:
        for answer_id in answer_ids:
            codes = [
                Code(self.pks[t], "confirmed", "sim", method="manual")
                for t in sorted(self.gold[answer_id])
                if t in self.pks
            ]
            apply_codes(self.db, answer_id, codes, coder="sim", action="coding.confirm", replace=True)
            self.confirmed.add(answer_id)

    def picks(self) -> tuple[float, float]:
        """Mean gold codes and words of the answers confirmed so far: what kind of answers an order offers."""
        texts = dict(self.db.execute("SELECT id, text FROM answers WHERE question_id = 'q'").fetchall())
        codes = [len(self.gold[a]) for a in self.confirmed]
        words = [len(texts[a].split()) for a in self.confirmed]
        return statistics.mean(codes), statistics.mean(words)

    def f1(self) -> float:
        """Sample F1 of the selected suggestions on the answers not yet confirmed."""
        selected: dict[int, set[str]] = {}
        for answer_id, theme in self.db.execute(
            """SELECT s.answer_id, t.id FROM suggestions s JOIN themes t ON t.pk = s.theme_pk
                   JOIN answers a ON a.id = s.answer_id WHERE a.question_id = 'q' AND s.selected = 1"""
        ):
            selected.setdefault(answer_id, set()).add(theme)
        rest = [a for a in self.gold if a not in self.confirmed]
        return sample_f1([selected.get(a, set()) for a in rest], [self.gold[a] for a in rest])

    def next_batch(self, strategy: str, size: int, permutation: list[int]) -> list[int]:
        # The queue strategy takes the app's default order, as the app opens it.
        queue = CodingSession(self.db, "q", "sim").queue if strategy == "queue" else permutation
        return [a for a in queue if a in self.gold and a not in self.confirmed][:size]


def schedule(steps: list[int], every: int, every_after: int, switch: int) -> list[int]:
    """Confirmation counts at which to retrain: every `every` up to `switch`, then every `every_after`."""
    points, n = [], 0
    while n < max(steps):
        n += every if n < switch else every_after
        points.append(n)
    return sorted(set(points) | set(steps))


def run(
    data: Dataset,
    strategy: str,
    seed: int,
    steps: list[int],
    points: list[int],
    embeddings: bool,
    template: Path,
    work: Path,
) -> dict:
    path = work / f"{strategy}-{seed}.db"
    shutil.copy(template, path)
    sim = Simulation(path, data, embeddings, seed)
    permutation = list(sim.gold)
    random.Random(1000 + seed).shuffle(permutation)
    sim.retrain()
    curve = {}
    for point in points:
        sim.confirm(sim.next_batch(strategy, point - len(sim.confirmed), permutation))
        sim.retrain()
        curve[point] = sim.f1()
        print(
            f"  {data.name} {strategy} seed {seed}: {point} confirmed, F1 {curve[point]:.3f}, "
            f"retrain {sim.retrain_seconds[-1]:.1f} s, rule {sim.rule()}",
            file=sys.stderr,
            flush=True,
        )
    picks = sim.picks()
    sim.db.close()
    return {"curve": curve, "retrain_seconds": sim.retrain_seconds, "picks": picks}


def queue_speed(n: int, seed: int) -> None:
    """Time the queue rebuild at N synthetic respondents (bench_suggest's generator), beside `review_queue`.

    `review_queue` (the "least confident first" order: one indexed query and a
    sort) is measured in the same run as the floor.
    """
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_suggest import generate

    from coder.coding.queue import teaching_queue
    from coder.suggest.engine import review_queue

    with tempfile.TemporaryDirectory() as tmp:
        spec = load_spec(CORPUS / "survey.yaml")
        export = Path(tmp) / "export.csv"
        generate(export, n, seed, spec)
        db = open_db(Path(tmp) / "speed.db")
        import_responses(db, spec, export)
        suggest(db, "q14", embeddings=False)
        answers = db.execute("SELECT count(*) FROM answers WHERE question_id = 'q14' AND is_answer = 1").fetchone()[0]
        times = {"review_queue": [], "teaching_queue": []}
        for _ in range(3):
            for name, function in (("review_queue", review_queue), ("teaching_queue", teaching_queue)):
                started = time.perf_counter()
                function(db, "q14")
                times[name].append(time.perf_counter() - started)
        db.close()
    floor, teach = min(times["review_queue"]), min(times["teaching_queue"])
    print(
        f"queue rebuild, q14 of {n} respondents ({answers} answers; best of 3): teaching_queue {teach:.2f} s, "
        f"review_queue (floor) {floor:.2f} s, ratio {teach / floor:.2f} (target: teaching_queue <= 1 s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default="anes:6", help="anes:N, themefinder:1, themefinder:2 or q14 (comma-separated)."
    )
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO, help="The co_benchmark clone (for anes:N).")
    parser.add_argument("--steps", default="50,100,200,500", help="Confirmation counts to report.")
    parser.add_argument("--seeds", default="0", help="Comma-separated seeds (import order and random order).")
    parser.add_argument("--every", type=int, default=10, help="Confirmations between retrains (as the app).")
    parser.add_argument(
        "--every-after",
        type=int,
        default=None,
        help="Confirmations between retrains after --switch (default: --every).",
    )
    parser.add_argument("--switch", type=int, default=100, help="Confirmations after which --every-after applies.")
    parser.add_argument("--embeddings", action="store_true", help="Use the sentence-embedding model if installed.")
    parser.add_argument("--strategies", default="queue,random", help="Which coders to simulate.")
    parser.add_argument("--json", action="store_true", help="Also print the results as JSON.")
    parser.add_argument(
        "--queue-speed",
        type=int,
        default=None,
        metavar="N",
        help="Only time the queue rebuild on N synthetic respondents (e.g. 100000).",
    )
    args = parser.parse_args(argv)
    if args.queue_speed:
        queue_speed(args.queue_speed, int(args.seeds.split(",")[0]))
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    for name in args.data.split(","):
        data = load(name.strip(), args.repo)
        steps = [s for s in (int(x) for x in args.steps.split(",")) if s < len(data.rows)]
        points = schedule(steps, args.every, args.every_after or args.every, args.switch)
        curves = {s: [] for s in args.strategies.split(",")}
        picks = {s: [] for s in curves}
        seconds = []
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for seed in seeds:
                template = build(data, work, seed)
                for strategy in curves:
                    out = run(data, strategy, seed, steps, points, args.embeddings, template, work)
                    curves[strategy].append(out["curve"])
                    picks[strategy].append(out["picks"])
                    seconds += out["retrain_seconds"]
        results.append(report(data, steps, points, curves, seeds, seconds, time.perf_counter() - started, args, picks))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def report(data: Dataset, steps, points, curves, seeds, seconds, wall, args, picks) -> dict:
    mean = {
        s: {p: statistics.mean(c[p] for c in curves[s]) if curves.get(s) else float("nan") for p in points}
        for s in ("queue", "random")
    }
    curves = {s: curves.get(s) or [] for s in ("queue", "random")}
    every_after = args.every_after or args.every
    plan = (
        f"every {args.every}"
        if every_after == args.every
        else f"every {args.every} up to {args.switch}, then every {every_after}"
    )
    print(
        f"\n{data.name}: {len(data.rows)} answers, {len(data.codebook['themes'])} themes; seeds {seeds}; "
        f"retrained {plan}; embeddings {'on' if args.embeddings else 'off'}"
    )
    print(f"{'confirmed':>9} {'queue F1':>9} {'random F1':>10} {'diff':>7}")
    for step in steps:
        spread = ""
        if len(seeds) > 1:
            spread = (
                "   (per seed: queue "
                + " ".join(f"{c[step]:.3f}" for c in curves["queue"])
                + "; random "
                + " ".join(f"{c[step]:.3f}" for c in curves["random"])
                + ")"
            )
        print(
            f"{step:>9} {mean['queue'][step]:>9.3f} {mean['random'][step]:>10.3f} "
            f"{mean['queue'][step] - mean['random'][step]:>+7.3f}{spread}"
        )
    reference, limit = TARGET
    reached = None
    if reference in mean["random"] and curves["random"] and curves["queue"]:
        goal = mean["random"][reference]
        reached = next((p for p in points if mean["queue"][p] >= goal), None)
        verdict = "met" if reached is not None and reached <= limit else "missed"
        print(
            f"queue reaches random's F1 at {reference} ({goal:.3f}) after "
            f"{reached if reached is not None else f'more than {points[-1]}'} confirmations "
            f"(target <= {limit}: {verdict})"
        )
    kinds = {s: (statistics.mean(c for c, _ in p), statistics.mean(w for _, w in p)) for s, p in picks.items() if p}
    print(
        "answers confirmed by the last step: "
        + "; ".join(f"{s} {codes:.2f} codes, {words:.1f} words an answer" for s, (codes, words) in kinds.items())
        + f" (all answers: {statistics.mean(len(data.gold[r]) for r, _ in data.rows):.2f} codes, "
        f"{statistics.mean(len(t.split()) for _, t in data.rows):.1f} words)"
    )
    print(
        f"retrain: {len(seconds)} runs, median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s; "
        f"wall {wall:.0f} s"
    )
    return {
        "data": data.name,
        "answers": len(data.rows),
        "seeds": seeds,
        "plan": plan,
        "queue": mean["queue"],
        "random": mean["random"],
        "reached": reached,
        "retrain_median_s": statistics.median(seconds),
        "picks": kinds,
    }


if __name__ == "__main__":
    sys.exit(main())
