"""External benchmark: discovery from scratch on ThemeFinder's gambling_XS, through coder's import path.

For each question part: an empty codebook (`themes: []`) and a survey spec are
written, `coder import` loads the 100 answers, and `discover_themes` (what
`coder discover` runs) proposes a starter codebook from all of them. A
published theme with at least `MIN_ANSWERS` answers is recovered when some
proposal's members and the theme's answers have F1 >= `RECOVERED`. The same is
measured for TF-IDF + KMeans given the true number of themes (a baseline that
is told what discovery has to find), and for discovery with TF-IDF alone.
Nothing in coder is tuned to this data set.

`--dev ANES_DIR` measures the same on the development data instead, where
settings are chosen: the bundled corpus's q5, q6, q14 and q16 against their gold
coding, and random samples of `DEV_SAMPLE` answers from ANES 2008 train parts
(`traintest_data/datasetN_{X,y}train.csv`), where each code with at least
`MIN_ANSWERS` answers in the sample is a theme. `--pairs` adds, per ANES sample, one
where half the answers are two answers run together and coded with both (see `paired`).
`--stance ARGKP_DIR` adds stance themes (see `stance_sets`): IBM Debater ArgKP's arguments
for and against a motion, each key point a theme, as in a consultation's "do you agree?".
`--sample N` makes every development set small (see `cut`): ANES samples of N, and each corpus
question and motion cut to N random answers once per seed; `--sample 100` is ThemeFinder's size.
`--after-accept` (with `--dev`/`--stance`) measures instead what `suggest` + `autocode` keep of the
proposals right after `discover --accept all`, with the members kept as seeds and without (see `run_accepted`).

    python benchmarks/bench_discover.py [--data DIR] [--json]
    python benchmarks/bench_discover.py --dev /work/data/anes [--datasets 2,3,5] [--seeds 0,1] [--pairs]
    python benchmarks/bench_discover.py --stance ARGKP_DIR [--topics train|held-out|all] [--dev ...]
    python benchmarks/bench_discover.py --dev /work/data/anes --stance ARGKP_DIR --sample 100 --seeds 0,1,2
    python benchmarks/bench_discover.py --dev /work/data/anes --datasets 2,3,5 --seeds 0 --stance ARGKP_DIR --after-accept
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.store import open_db  # noqa: E402
from coder.suggest.discover import discover_themes, proposal_members  # noqa: E402
from coder.survey.load import import_responses  # noqa: E402
from coder.survey.spec import load_spec  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "themefinder-gambling-xs"
MIN_ANSWERS = 5
RECOVERED = 0.4
TARGET = 8 / 11
DEV_SAMPLE = 300
CORPUS = ROOT / "corpus" / "local-digital-2014"
DEV_QUESTIONS = ("q5", "q6", "q14", "q16")


def load_part(part_dir: Path) -> tuple[str, dict[str, set[str]], dict[str, str]]:
    """The question, each published theme's answers (respondent ids) and its label."""
    question = json.loads((part_dir / "question.json").read_text(encoding="utf-8"))["question_text"]
    labels = {
        t["topic_id"]: t["topic_label"] for t in json.loads((part_dir / "themes.json").read_text(encoding="utf-8"))
    }
    answers: dict[str, set[str]] = {}
    for line in (part_dir / "mapping.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            for topic in record["labels"]:
                answers.setdefault(topic, set()).add(str(record["response_id"]))
    return question, answers, labels


def import_part(part_dir: Path, question: str, work: Path):
    """A database holding the part's answers under one question with an empty codebook."""
    codebook = {"id": "gambling", "title": question[:80], "kind": "text", "themes": []}
    (work / "codebook.yaml").write_text(yaml.safe_dump(codebook, sort_keys=False), encoding="utf-8")
    spec = {
        "survey": f"themefinder-{part_dir.name}",
        "respondent_id": "response_id",
        "questions": [
            {"id": "q", "text": question, "columns": "response", "codebook": "codebook.yaml", "base": "mentions"}
        ],
    }
    (work / "survey.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    db = open_db(work / "bench.db")
    import_responses(db, load_spec(work / "survey.yaml"), part_dir / "responses.jsonl")
    return db


def recovery(clusters: list[set[str]], themes: dict[str, set[str]]) -> dict[str, float]:
    """Best F1 of any cluster against each theme with enough answers."""
    return {topic: f1 for topic, (f1, _) in matches(clusters, themes).items()}


def matches(clusters: list, themes: dict) -> dict:
    """(best F1, the cluster's position or -1) per theme with enough answers."""
    best = {}
    for topic, members in themes.items():
        if len(members) >= MIN_ANSWERS:
            scores = [2 * len(c & members) / (len(c) + len(members)) if c else 0.0 for c in clusters]
            at = int(max(range(len(scores)), key=scores.__getitem__)) if scores else -1
            best[topic] = (scores[at] if scores else 0.0, at)
    return best


def label_scores(labels: list[str], found: dict, names: dict, embedder) -> list[dict]:
    """Per recovered theme with a name (a key point, a corpus theme's label): the cosine between it and
    the label of the proposal that recovers it, in the embedder's space (uncentred): how near the label a
    researcher would keep is to the name the gold coding gave the theme. `own`: the label is nearer that
    name than any other theme's of the set (a label that only restates the question is near them all)."""
    pairs = [(t, labels[at]) for t, (f1, at) in found.items() if f1 >= RECOVERED and names.get(t) and at >= 0]
    if not pairs or embedder is None:
        return []
    import numpy as np

    ours = embedder.vectors([label for _, label in pairs])
    every = [t for t in found if names.get(t)]
    gold = embedder.vectors([names[t] for t in every])
    ours = ours / np.maximum(np.linalg.norm(ours, axis=1, keepdims=True), 1e-12)
    gold = gold / np.maximum(np.linalg.norm(gold, axis=1, keepdims=True), 1e-12)
    sims = ours @ gold.T
    return [
        {
            "theme": names[t],
            "label": label,
            "cosine": round(float(sims[i, every.index(t)]), 3),
            "own": bool(sims[i, every.index(t)] >= sims[i].max()),
        }
        for i, (t, label) in enumerate(pairs)
    ]


def kmeans_baseline(part_dir: Path, k: int) -> list[set[str]]:
    rows = [
        json.loads(line)
        for line in (part_dir / "responses.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return kmeans_clusters([str(r["response_id"]) for r in rows], [r["response"] for r in rows], k)


def kmeans_clusters(ids: list, texts: list[str], k: int) -> list[set]:
    """TF-IDF + KMeans told the number of themes: the baseline discovery has to beat."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    labels = KMeans(k, n_init=10, random_state=0).fit_predict(X)
    return [{i for i, label in zip(ids, labels) if label == c} for c in range(k)]


def run_part(part_dir: Path) -> dict:
    from coder.suggest.embeddings import embedder_for

    question, themes, names = load_part(part_dir)
    scorer = embedder_for(["label"])
    with tempfile.TemporaryDirectory() as tmp:
        db = import_part(part_dir, question, Path(tmp))
        runs = {}
        for name, embeddings in (("coder discover", True), ("coder discover, TF-IDF only", False)):
            started = time.perf_counter()
            found = discover_themes(db, "q", embeddings=embeddings)
            seconds = time.perf_counter() - started
            clusters = [{m["respondent_id"] for m in proposal_members(db, p)} for p in found.proposals]
            best = matches(clusters, themes)
            runs[name] = {
                "space": found.embeddings or "TF-IDF",
                "seconds": round(seconds, 2),
                "recovery": {t: f1 for t, (f1, _) in best.items()},
                "named": label_scores([p.label for p in found.proposals], best, names, scorer),
                "proposals": [{"label": p.label, "size": p.size} for p in found.proposals],
            }
        db.close()
    k = sum(1 for members in themes.values() if members)
    runs[f"TF-IDF + KMeans (k={k}, the true number)"] = {"recovery": recovery(kmeans_baseline(part_dir, k), themes)}
    return {
        "part": part_dir.name,
        "themes": {t: names.get(t, t) for t in sorted(themes) if len(themes[t]) >= MIN_ANSWERS},
        "runs": runs,
    }


def paired(
    pairs: list[tuple[str, list[str]]], seed: int, size: int = DEV_SAMPLE
) -> tuple[list[str], dict[str, set[int]]]:
    """Half the sample's answers two ANES answers run together ("A. B."), coded with both: answers that
    carry several themes, as ThemeFinder's do (1.8 each), which single ANES answers rarely are."""
    rng = random.Random(seed)
    drawn = rng.sample(pairs, min(size * 3 // 2, len(pairs)))
    half = len(drawn) // 3
    joined = [
        (f"{a.strip().rstrip('.')}. {b.strip()}", ca + cb)
        for (a, ca), (b, cb) in zip(drawn[:half], drawn[half : 2 * half])
    ]
    sample = joined + drawn[2 * half :]
    themes: dict[str, set[int]] = {}
    for i, (_, found) in enumerate(sample):
        for code in found:
            themes.setdefault(code, set()).add(i)
    return [t for t, _ in sample], themes


def cut(sets, size: int, seeds: list[int]):
    """Each set larger than `size` as random samples of `size` answers, one per seed, its themes
    those of the sample: small questions, ThemeFinder's size (100), are where discovery is weakest."""
    for name, texts, themes, names in sets:
        if len(texts) <= size:
            yield name, texts, themes, names
            continue
        for seed in seeds:
            kept = sorted(random.Random(seed).sample(range(len(texts)), size))
            at = {row: i for i, row in enumerate(kept)}
            sampled = {t: {at[m] for m in members if m in at} for t, members in themes.items()}
            yield f"{name} cut {seed}", [texts[row] for row in kept], sampled, names


def dev_sets(anes: Path, datasets: list[int], seeds: list[int], pairs: bool = False, size: int = DEV_SAMPLE):
    """(name, texts, themes as sets of positions, theme names) for every development set; ANES samples of
    `size` (ANES codes are numbers: no names)."""
    from coder.coding.codings import import_codings

    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "gold.db")
        import_responses(db, load_spec(CORPUS / "survey.yaml"), CORPUS / "responses.csv")
        import_codings(db, CORPUS / "codings.csv", coder="gold")
        for question in DEV_QUESTIONS:
            rows = db.execute(
                "SELECT id, text FROM answers WHERE question_id = ? AND is_answer = 1 ORDER BY id", [question]
            ).fetchall()
            at = {answer: i for i, (answer, _) in enumerate(rows)}
            themes: dict[int, set[int]] = {}
            for answer, theme in db.execute(
                "SELECT c.answer_id, c.theme_pk FROM codings c JOIN answers a ON a.id = c.answer_id WHERE a.question_id = ?",
                [question],
            ):
                if answer in at:
                    themes.setdefault(theme, set()).add(at[answer])
            names = dict(db.execute("SELECT pk, label FROM themes").fetchall())
            yield f"corpus {question}", [t for _, t in rows], themes, names
        db.close()
    for number in datasets:
        folder = anes / "traintest_data"
        with open(folder / f"dataset{number}_Xtrain.csv", encoding="utf-8", newline="") as f:
            texts = [row["verbatim"] for row in csv.DictReader(f)]
        with open(folder / f"dataset{number}_ytrain.csv", encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            codes = next(reader)
            labels = [[codes[j] for j, v in enumerate(row) if v.strip() == "1"] for row in reader]
        coded = [(t, c) for t, c in zip(texts, labels) if t.strip()]
        for seed in seeds:
            sample = random.Random(seed).sample(coded, min(size, len(coded)))
            themes = {}
            for i, (_, found) in enumerate(sample):
                for code in found:
                    themes.setdefault(code, set()).add(i)
            yield f"anes {number} seed {seed}", [t for t, _ in sample], themes, {}
            if pairs:
                yield f"anes {number} pairs {seed}", *paired(coded, seed, size), {}


def stance_sets(folder: Path, topics: str = "train"):
    """(name, texts, themes, key point texts) per ArgKP motion: every argument for and against it, each key point with
    `MIN_ANSWERS` matching arguments a theme. Key points are stances ("People should have the freedom
    to choose to end their life"), whose arguments share the motion's words and few of their own.

    `folder` holds the ArgKP csv files (IBM/KPA_2021_shared_task: kpm_data/ and test_data/, CDLA-Sharing
    1.0; used locally, never committed). `topics`: "train" (its 24 motions, where settings are chosen),
    "held-out" (the 7 motions of its dev and test parts, to confirm a choice) or "all".
    """
    parts = {"train": ["train"], "held-out": ["dev", "test"], "all": ["train", "dev", "test"]}[topics]
    for part in parts:
        found = {p.name: p for p in folder.rglob(f"*_{part}.csv")}
        if not {f"arguments_{part}.csv", f"labels_{part}.csv"} <= set(found):
            raise SystemExit(f"no ArgKP {part} files (arguments_{part}.csv, labels_{part}.csv) under {folder}")
        with open(found[f"arguments_{part}.csv"], encoding="utf-8", newline="") as f:
            arguments = list(csv.DictReader(f))
        key_points = {}
        if f"key_points_{part}.csv" in found:
            with open(found[f"key_points_{part}.csv"], encoding="utf-8", newline="") as f:
                key_points = {r["key_point_id"]: r["key_point"] for r in csv.DictReader(f)}
        with open(found[f"labels_{part}.csv"], encoding="utf-8", newline="") as f:
            matched = [(r["arg_id"], r["key_point_id"]) for r in csv.DictReader(f) if r["label"].strip() == "1"]
        for topic in sorted({a["topic"] for a in arguments}):
            rows = [a for a in arguments if a["topic"] == topic]
            at = {a["arg_id"]: i for i, a in enumerate(rows)}
            themes: dict[str, set[int]] = {}
            for arg, key_point in matched:
                if arg in at:
                    themes.setdefault(key_point, set()).add(at[arg])
            yield f"stance {topic[:40]}", [a["argument"] for a in rows], themes, key_points


def run_dev(
    anes: Path | None,
    datasets: list[int],
    seeds: list[int],
    embeddings: bool = True,
    pairs: bool = False,
    stance: Path | None = None,
    topics: str = "train",
    sample: int | None = None,
) -> list[dict]:
    from coder.suggest import embeddings as embedding_models
    from coder.suggest.discover import discover, enough_for_vectors

    results = []
    sets = dev_sets(anes, datasets, seeds, pairs, sample or DEV_SAMPLE) if anes is not None else iter(())
    if stance is not None:
        sets = itertools.chain(sets, stance_sets(stance, topics))
    if sample:  # ANES is drawn at this size already; the corpus questions and motions are cut to it
        sets = cut(sets, sample, seeds)
    scorer = embedding_models.embedder_for(["label"])  # labels against theme names, whatever the space
    for name, texts, themes, names in sets:
        themes = {t: m for t, m in themes.items() if len(m) >= MIN_ANSWERS}
        embedder = embedding_models.embedder_for(texts) if embeddings and enough_for_vectors(texts) else None
        vectors = embedder.vectors(texts) if embedder is not None else None
        started = time.perf_counter()
        encode = embedder.vectors if embedder is not None else None
        proposals = discover(texts, list(range(len(texts))), vectors=vectors, encode=encode)
        seconds = time.perf_counter() - started
        found = matches([set(p.member_ids) for p in proposals], themes)
        ours = {t: f1 for t, (f1, _) in found.items()}
        baseline = recovery(kmeans_clusters(list(range(len(texts))), texts, max(len(themes), 1)), themes)
        results.append(
            {
                "set": name,
                "answers": len(texts),
                "themes": len(themes),
                "seconds": round(seconds, 2),
                "discover": sum(f >= RECOVERED for f in ours.values()),
                "kmeans": sum(f >= RECOVERED for f in baseline.values()),
                "f1": round(sum(ours.values()), 3),
                "labels": [f"{p.label} ({p.size})" for p in proposals],
                "named": label_scores([p.label for p in proposals], found, names, scorer),
            }
        )
    return results


def run_accepted(sets, embeddings: bool = True) -> list[dict]:
    """What `discover --accept all` leaves for `suggest` + `autocode`: per development set, the gold themes
    (>= `MIN_ANSWERS` answers) some proposal's members recover, and those the accepted themes' auto
    codes still recover, through the database path the CLI takes (the members are the themes' seeds)."""
    from benchmarks.bench_anes import write_question
    from coder.suggest.discover import accept_proposals

    out = []
    for name, texts, themes, _ in sets:
        themes = {t: m for t, m in themes.items() if len(m) >= MIN_ANSWERS}
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            write_question(work, "set", name, [])  # an empty codebook, every text a real answer
            with open(work / "responses.csv", "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["id", "answer"])
                writer.writerows([f"r{i}", t] for i, t in enumerate(texts))
            db = open_db(work / "set.db")
            import_responses(db, load_spec(work / "survey.yaml"), work / "responses.csv")
            at = {a: int(r[1:]) for a, r in db.execute("SELECT id, respondent_id FROM answers")}
            found = discover_themes(db, "q", embeddings=embeddings)
            members = [{at[m] for m in p.member_ids} for p in found.proposals]
            accepted = accept_proposals(db, "q", found.proposals)

            seeded = _autocoded(db, accepted, at, embeddings)
            with db.atomic():  # the same codebook from its labels, terms and examples alone
                db.execute("DELETE FROM theme_seeds")
            unseeded = _autocoded(db, accepted, at, embeddings)
            db.close()
        row = {"set": name, "themes": len(themes)}
        for key, sets_of in (("members", members), ("seeded", seeded), ("unseeded", unseeded)):
            f1s = recovery(sets_of, themes)
            row[key] = sum(f >= RECOVERED for f in f1s.values())
            row[f"{key}_f1"] = round(sum(f1s.values()), 3)
        out.append(row)
        _print_accepted(row)
    keys = ("themes", "members", "seeded", "unseeded", "members_f1", "seeded_f1", "unseeded_f1")
    _print_accepted({"set": "all", **{k: sum(r[k] for r in out) for k in keys}})
    return out


def _autocoded(db, themes, position: dict[int, int], embeddings: bool) -> list[set[int]]:
    """Each theme's answers (by position) as `suggest` + `autocode` code them."""
    from coder.suggest.engine import autocode, suggest

    suggest(db, "q", embeddings=embeddings)
    autocode(db, "q")
    coded: dict[str, set[int]] = {}
    for theme, answer in db.execute(
        "SELECT t.id, c.answer_id FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE c.status = 'auto'"
    ):
        coded.setdefault(theme, set()).add(position[answer])
    return [coded.get(t.id, set()) for t in themes]


def _print_accepted(row: dict) -> None:
    print(
        f"  {row['set']:<40} {row['themes']:3} themes  recovered by the members {row['members']:3} "
        f"({row['members_f1']:.2f}); after suggest + autocode, with seeds {row['seeded']:3} ({row['seeded_f1']:.2f}), "
        f"without {row['unseeded']:3} ({row['unseeded_f1']:.2f})",
        flush=True,
    )


def print_dev(results: list[dict]) -> None:
    print(
        f"Development sets: themes with >= {MIN_ANSWERS} answers some proposal recovers (F1 >= {RECOVERED}), "
        "beside TF-IDF + KMeans told the number of themes"
    )
    for r in results:
        print(
            f"  {r['set']:<22} {r['answers']:>4} answers  discover {r['discover']:>2}/{r['themes']:<2}  "
            f"kmeans {r['kmeans']:>2}/{r['themes']:<2}  ({len(r['labels'])} proposals, {r['seconds']}s)"
        )
    families: dict[str, list[dict]] = {}
    for r in results:
        family = "anes pairs" if " pairs " in r["set"] else r["set"].split()[0]
        families.setdefault(family, []).append(r)
    for family, rows in [*families.items(), ("all", results)]:
        total = sum(r["themes"] for r in rows)
        named = [n["cosine"] for r in rows for n in r["named"]]
        own = sum(n["own"] for r in rows for n in r["named"])
        said = f"  label {sum(named) / len(named):.3f} ({len(named)}, nearest own {own})" if named else ""
        print(
            f"  {family:<22} {'':>12}  discover {sum(r['discover'] for r in rows):>3}/{total:<3} "
            f"kmeans {sum(r['kmeans'] for r in rows):>3}/{total:<3} "
            f"mean best F1 {sum(r['f1'] for r in rows) / max(total, 1):.3f}{said}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="The themefinder-gambling-xs folder.")
    parser.add_argument("--json", action="store_true", help="Also print the results as JSON.")
    parser.add_argument(
        "--dev",
        type=Path,
        default=None,
        metavar="ANES_DIR",
        help="Measure on the development data (the corpus and ANES 2008 samples) instead.",
    )
    parser.add_argument("--datasets", default="2,3,5,7,9", help="With --dev: ANES dataset numbers.")
    parser.add_argument("--seeds", default="0,1", help="With --dev: sampling seeds.")
    parser.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="With --dev/--stance: every set as random samples of N answers, one per --seeds (e.g. 100).",
    )
    parser.add_argument("--no-embeddings", action="store_true", help="With --dev: TF-IDF only.")
    parser.add_argument(
        "--pairs", action="store_true", help="With --dev: also samples where half the answers are two run together."
    )
    parser.add_argument(
        "--stance",
        type=Path,
        default=None,
        metavar="ARGKP_DIR",
        help="Development sets of stance themes: IBM Debater ArgKP's motions (alone, or beside --dev's).",
    )
    parser.add_argument(
        "--topics", choices=("train", "held-out", "all"), default="train", help="With --stance: which motions."
    )
    parser.add_argument(
        "--after-accept",
        action="store_true",
        help="With --dev/--stance: what suggest + autocode keep of the proposals after discover --accept all.",
    )
    args = parser.parse_args(argv)
    if args.after_accept:
        if args.dev is None and args.stance is None:
            parser.error("--after-accept needs --dev or --stance")
        numbers = [int(n) for n in args.datasets.split(",") if n.strip()]
        seeds = [int(n) for n in args.seeds.split(",") if n.strip()]
        sets = dev_sets(args.dev, numbers, seeds, args.pairs) if args.dev is not None else iter(())
        if args.stance is not None:
            sets = itertools.chain(sets, stance_sets(args.stance, args.topics))
        results = run_accepted(sets, embeddings=not args.no_embeddings)
        if args.json:
            print(json.dumps(results, indent=2))
        return 0
    if args.dev is not None or args.stance is not None:
        numbers = [int(n) for n in args.datasets.split(",") if n.strip()]
        seeds = [int(n) for n in args.seeds.split(",") if n.strip()]
        results = run_dev(
            args.dev,
            numbers,
            seeds,
            embeddings=not args.no_embeddings,
            pairs=args.pairs,
            stance=args.stance,
            topics=args.topics,
            sample=args.sample,
        )
        print_dev(results)
        if args.json:
            print(json.dumps(results, indent=2))
        return 0
    parts = sorted(p for p in args.data.glob("question_part_*") if p.is_dir())
    if not parts:
        print(f"no question_part_* folders in {args.data}", file=sys.stderr)
        return 2
    results = [run_part(p) for p in parts]
    print(
        f"ThemeFinder gambling_XS, discovery from an empty codebook: published themes with >= {MIN_ANSWERS} answers "
        f"that some proposal recovers (F1 >= {RECOVERED}); target >= {TARGET:.0%} and ahead of KMeans"
    )
    for result in results:
        print(f"\n{result['part']}")
        for name, run in result["runs"].items():
            found = sum(f >= RECOVERED for f in run["recovery"].values())
            extra = (
                f"  ({len(run['proposals'])} proposals, {run['space']}, {run['seconds']}s)"
                if "proposals" in run
                else ""
            )
            print(f"  {name:<45} {found:>2}/{len(run['recovery'])}{extra}")
        run = result["runs"]["coder discover"]
        named = [n["cosine"] for n in run["named"]]
        if named:
            print(
                f"  label score (cosine of a recovered theme's name and its proposal's label): "
                f"{sum(named) / len(named):.3f} ({len(named)})"
            )
        print("  per theme, best F1 of a proposal:")
        for topic, label in result["themes"].items():
            print(f"    {topic} {label:<40} {run['recovery'][topic]:.2f}")
        print("  proposed labels: " + "; ".join(f"{p['label']} ({p['size']})" for p in run["proposals"]))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
