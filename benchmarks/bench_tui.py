"""Keystroke latency of the coding app with a large question, measured with Textual's Pilot.

Builds a survey of N synthetic respondents (the same generator as
bench_suggest.py), imports it, computes q14 suggestions, then drives
`coder code` headless: the time from a key press to the redrawn screen, for
`space` (accept and go to the next answer), `1` (toggle) and `j` (move).
Pilot's own round trip (posting the key, waiting for the app to go idle) is
measured in the same run with a key that has no binding and subtracted, so
the figure is what coder adds. Target: under 50 ms per keystroke at 100k
answers; the same keys on a 1k-answer survey are printed beside it.

    python benchmarks/bench_tui.py --n 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_suggest import CORPUS, generate  # noqa: E402

from coder.store import open_db  # noqa: E402
from coder.suggest.engine import suggest  # noqa: E402
from coder.survey.load import import_responses  # noqa: E402
from coder.survey.spec import load_spec  # noqa: E402
from coder.tui import make_app  # noqa: E402

TARGET_MS = 50.0
KEYS = ("space", "1", "j")
NO_OP = "z"  # bound to nothing: Pilot's round trip alone


def build(workdir: Path, n: int, seed: int) -> Path:
    spec = load_spec(CORPUS / "survey.yaml")
    export = workdir / f"export-{n}.csv"
    generate(export, n, seed, spec)
    db_path = workdir / f"tui-{n}.db"
    db = open_db(db_path)
    import_responses(db, spec, export)
    suggest(db, "q14")
    db.close()
    return db_path


async def measure(db_path: Path, presses: int) -> dict[str, list[float]]:
    app = make_app(db_path, "q14", "bench", retrain=False)
    timings: dict[str, list[float]] = {key: [] for key in (*KEYS, NO_OP)}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(presses):
            for key in (*KEYS, NO_OP):
                started = time.perf_counter()
                await pilot.press(key)
                timings[key].append((time.perf_counter() - started) * 1000)
        await pilot.app.workers.wait_for_complete()
    return timings


async def measure_during_retrain(db_path: Path) -> tuple[float, list[float]]:
    """`j` presses while the background retrain that ten confirmations start is running."""
    app = make_app(db_path, "q14", "bench", retrain=True)
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        for _ in range(10):
            await pilot.press("space")
        started = time.perf_counter()
        while any(w.group == "retrain" and w.is_running for w in pilot.app.workers) and len(times) < 500:
            press = time.perf_counter()
            await pilot.press("j")
            times.append((time.perf_counter() - press) * 1000)
        retrain = time.perf_counter() - started
        await pilot.app.workers.wait_for_complete()
    return retrain, times


def summary(timings: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per key: the median, p95 and max of (press time - median no-op press time)."""
    base = statistics.median(timings[NO_OP])
    out = {}
    for key in KEYS:
        net = sorted(max(0.0, v - base) for v in timings[key])
        out[key] = {"median_ms": statistics.median(net), "p95_ms": net[int(0.95 * (len(net) - 1))], "max_ms": net[-1]}
    out["pilot_round_trip_ms"] = {"median_ms": base}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="Respondents (q14 has up to three answers each).")
    parser.add_argument("--presses", type=int, default=40, help="Rounds of the three keys.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        floor = summary(asyncio.run(measure(build(work, 1_000, args.seed), args.presses)))
        big_db = build(work, args.n, args.seed)
        db = open_db(big_db)
        answers = db.execute("SELECT count(*) FROM answers WHERE question_id = 'q14' AND is_answer = 1").fetchone()[0]
        db.close()
        big = summary(asyncio.run(measure(big_db, args.presses)))
        retrain_seconds, during = asyncio.run(measure_during_retrain(big_db))
    print(f"coder code: keystroke to redrawn screen, q14 with {answers:,} answers (target median < {TARGET_MS:.0f} ms)")
    print(f"(Pilot's own round trip, subtracted: {big['pilot_round_trip_ms']['median_ms']:.1f} ms)")
    print(f"{'key':<8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'floor (1k) ms':>14} {'ratio':>6}")
    for key in KEYS:
        ratio = big[key]["median_ms"] / max(floor[key]["median_ms"], 1e-9)
        print(
            f"{key:<8} {big[key]['median_ms']:>10.1f} {big[key]['p95_ms']:>8.1f} {big[key]['max_ms']:>8.1f} "
            f"{floor[key]['median_ms']:>14.1f} {ratio:>6.2f}"
        )
    base = big["pilot_round_trip_ms"]["median_ms"]
    if during:
        net = sorted(max(0.0, t - base) for t in during)
        print(
            f"during a background retrain ({retrain_seconds:.1f} s): j median {statistics.median(net):.1f} ms, "
            f"max {net[-1]:.1f} ms over {len(net)} presses"
        )
    else:
        print(f"the background retrain finished before a key could be timed ({retrain_seconds:.1f} s)")
    if args.json:
        print(json.dumps({"answers": answers, "keys": big, "floor_1k": floor, "during_retrain_ms": during}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
