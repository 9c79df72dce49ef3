"""External benchmark: discovery from scratch on ThemeFinder's gambling_XS, through coder's import path.

For each question part: an empty codebook (`themes: []`) and a survey spec are
written, `coder import` loads the 100 answers, and `discover_themes` (what
`coder discover` runs) proposes a starter codebook from all of them. A
published theme with at least `MIN_ANSWERS` answers is recovered when some
proposal's members and the theme's answers have F1 >= `RECOVERED`. The same is
measured for TF-IDF + KMeans given the true number of themes (a baseline that
is told what discovery has to find), and for discovery with TF-IDF alone.
Nothing in coder is tuned to this data set.

    python benchmarks/bench_discover.py [--data DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.ingest import import_responses  # noqa: E402
from coder.spec import load_spec  # noqa: E402
from coder.store import open_db  # noqa: E402
from coder.suggest.engine import discover_themes, proposal_members  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "themefinder-gambling-xs"
MIN_ANSWERS = 5
RECOVERED = 0.4
TARGET = 8 / 11


def load_part(part_dir: Path) -> tuple[str, dict[str, set[str]], dict[str, str]]:
    """The question, each published theme's answers (respondent ids) and its label."""
    question = json.loads((part_dir / "question.json").read_text(encoding="utf-8"))["question_text"]
    labels = {t["topic_id"]: t["topic_label"] for t in json.loads((part_dir / "themes.json").read_text(encoding="utf-8"))}
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
    spec = {"survey": f"themefinder-{part_dir.name}", "respondent_id": "response_id",
            "questions": [{"id": "q", "text": question, "columns": "response", "codebook": "codebook.yaml",
                           "base": "mentions"}]}
    (work / "survey.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    db = open_db(work / "bench.db")
    import_responses(db, load_spec(work / "survey.yaml"), part_dir / "responses.jsonl")
    return db


def recovery(clusters: list[set[str]], themes: dict[str, set[str]]) -> dict[str, float]:
    """Best F1 of any cluster against each theme with enough answers."""
    best = {}
    for topic, members in themes.items():
        if len(members) >= MIN_ANSWERS:
            best[topic] = max((2 * len(c & members) / (len(c) + len(members)) for c in clusters if c), default=0.0)
    return best


def kmeans_baseline(part_dir: Path, k: int) -> list[set[str]]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    rows = [json.loads(line) for line in (part_dir / "responses.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    X = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(r["response"] for r in rows)
    labels = KMeans(k, n_init=10, random_state=0).fit_predict(X)
    return [{str(r["response_id"]) for r, label in zip(rows, labels) if label == c} for c in range(k)]


def run_part(part_dir: Path) -> dict:
    question, themes, names = load_part(part_dir)
    with tempfile.TemporaryDirectory() as tmp:
        db = import_part(part_dir, question, Path(tmp))
        runs = {}
        for name, embeddings in (("coder discover", True), ("coder discover, TF-IDF only", False)):
            started = time.perf_counter()
            found = discover_themes(db, "q", embeddings=embeddings)
            seconds = time.perf_counter() - started
            clusters = [{m["respondent_id"] for m in proposal_members(db, p)} for p in found.proposals]
            runs[name] = {
                "space": found.embeddings or "TF-IDF",
                "seconds": round(seconds, 2),
                "recovery": recovery(clusters, themes),
                "proposals": [{"label": p.label, "size": p.size} for p in found.proposals],
            }
        db.close()
    k = sum(1 for members in themes.values() if members)
    runs[f"TF-IDF + KMeans (k={k}, the true number)"] = {"recovery": recovery(kmeans_baseline(part_dir, k), themes)}
    return {"part": part_dir.name, "themes": {t: names.get(t, t) for t in sorted(themes) if len(themes[t]) >= MIN_ANSWERS},
            "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="The themefinder-gambling-xs folder.")
    parser.add_argument("--json", action="store_true", help="Also print the results as JSON.")
    args = parser.parse_args(argv)
    parts = sorted(p for p in args.data.glob("question_part_*") if p.is_dir())
    if not parts:
        print(f"no question_part_* folders in {args.data}", file=sys.stderr)
        return 2
    results = [run_part(p) for p in parts]
    print(f"ThemeFinder gambling_XS, discovery from an empty codebook: published themes with >= {MIN_ANSWERS} answers "
          f"that some proposal recovers (F1 >= {RECOVERED}); target >= {TARGET:.0%} and ahead of KMeans")
    for result in results:
        print(f"\n{result['part']}")
        for name, run in result["runs"].items():
            found = sum(f >= RECOVERED for f in run["recovery"].values())
            extra = f"  ({len(run['proposals'])} proposals, {run['space']}, {run['seconds']}s)" if "proposals" in run else ""
            print(f"  {name:<45} {found:>2}/{len(run['recovery'])}{extra}")
        run = result["runs"]["coder discover"]
        print("  per theme, best F1 of a proposal:")
        for topic, label in result["themes"].items():
            print(f"    {topic} {label:<40} {run['recovery'][topic]:.2f}")
        print("  proposed labels: " + "; ".join(f"{p['label']} ({p['size']})" for p in run["proposals"]))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
