from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from coder.coding.codings import import_codings
from coder.store import open_db
from coder.survey.load import import_responses
from coder.survey.spec import load_spec

# Tests use TF-IDF alone (fast, and the same with or without an embedding model installed);
# tests/suggest/test_embeddings.py turns the model on where it is present. Child processes inherit this.
os.environ["CODER_EMBEDDINGS"] = "0"

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "local-digital-2014"
HOLDOUT = ROOT / "corpus" / "local-digital-2014-holdout"
CODEBOOKS = ROOT / "codebooks"


def pytest_collection_modifyitems(config, items):
    """Slow tests (a real Chromium) run only when asked: CODER_BROWSER=1 or a -m expression naming slow."""
    if os.environ.get("CODER_BROWSER") == "1" or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set CODER_BROWSER=1 or pass -m slow to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@dataclass
class FakeQuote:
    """What coder.report.quotes.representative_quotes returns, for tests that replace it."""

    theme_id: str
    theme_label: str
    text: str
    attribution: str


@pytest.fixture(scope="session")
def corpus_spec():
    return load_spec(CORPUS / "survey.yaml")


@pytest.fixture(scope="session")
def gold_db_path(tmp_path_factory, corpus_spec):
    """The bundled corpus with its gold coding, built once; tests copy it before writing."""
    path = tmp_path_factory.mktemp("gold") / "gold.db"
    db = open_db(path)
    import_responses(db, corpus_spec, CORPUS / "responses.csv")
    import_codings(db, CORPUS / "codings.csv", coder="gold")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def gold_db(gold_db_path, tmp_path):
    """A private, writable copy of the gold database."""
    path = tmp_path / "gold.db"
    shutil.copy(gold_db_path, path)
    db = open_db(path)
    yield db
    db.close()


@pytest.fixture
def gold_copy_path(gold_db_path, tmp_path):
    """A private copy of the gold database file, not opened (a test can prove a command left it unchanged)."""
    path = tmp_path / "survey.db"
    shutil.copy(gold_db_path, path)
    return path


def fingerprint(path) -> str:
    """A digest of every row of every table, read with plain sqlite3 (opening with coder could migrate it)."""
    connection = sqlite3.connect(path)
    digest = hashlib.sha256()
    for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        for record in connection.execute(f"SELECT * FROM [{table}] ORDER BY 1"):
            digest.update(repr(record).encode())
    connection.close()
    return digest.hexdigest()


@pytest.fixture
def corpus_db(tmp_path, corpus_spec):
    """The bundled corpus imported, with no codings."""
    db = open_db(tmp_path / "corpus.db")
    import_responses(db, corpus_spec, CORPUS / "responses.csv")
    yield db
    db.close()


def q14_gold_items():
    """The priorities codebook and (text, gold theme ids) for every coded q14 cell of the corpus."""
    from coder.codebook.model import load_codebook

    codebook = load_codebook(CODEBOOKS / "priorities-2014.yaml")
    responses = {r["respondent_id"]: r for r in read_csv_rows(CORPUS / "responses.csv")}
    gold: dict[tuple, set] = {}
    for row in read_csv_rows(CORPUS / "codings.csv"):
        if row["question"] == "q14":
            gold.setdefault((row["respondent_id"], row["rank"]), set()).add(codebook.find(row["theme"]).id)
    return codebook, [(responses[rid][f"q14_priority_{rank}"], themes) for (rid, rank), themes in gold.items()]


def read_csv_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return path


MINI_CODEBOOK = """\
id: fruit
title: Fruit
kind: names
themes:
  - id: apple
    label: Apple
    aliases: [Braeburn, Granny Smith]
  - id: pear
    label: Pear
  - id: plum
    label: Plum
  - id: other
    label: Other/unknown
  - id: kiwi
    label: Kiwi
"""

MINI_SPEC = """\
survey: mini
respondent_id: id
attributes: [role]
questions:
  - id: fav
    text: Your three favourite fruits?
    columns: [fav_1, fav_2, fav_3]
    codebook: fruit.yaml
    base: respondents
    fold: {into: other, themes: [kiwi]}
  - id: why
    text: Why?
    columns: why
    codebook: fruit.yaml
    base: mentions
"""

MINI_HEADER = ["id", "role", "fav_1", "fav_2", "fav_3", "why"]
MINI_ROWS = [
    ["r1", "Officer", "apple", "pear", "", "tasty"],
    ["r2", "Head", "Braeburn", "n/a", "", ""],
    ["r3", "Officer", "plum", "kiwi", "apple", "-"],
    ["r4", "Member", "none", "", "", ""],
]


@pytest.fixture
def mini(tmp_path):
    """A tiny survey (spec, codebook, export) to poke at edge cases."""
    (tmp_path / "fruit.yaml").write_text(MINI_CODEBOOK, encoding="utf-8")
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(MINI_SPEC, encoding="utf-8")
    export = write_csv(tmp_path / "export.csv", [MINI_HEADER, *MINI_ROWS])
    return {"dir": tmp_path, "spec": spec_path, "export": export, "db": tmp_path / "mini.db"}
