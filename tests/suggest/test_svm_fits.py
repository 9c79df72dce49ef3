"""Half the per-theme fits in a second process: the same models as one after another, whatever happens to it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import coder.suggest.engine as engine
import coder.suggest.svm_fits as svm_fits
from coder.coding.codings import import_codings
from coder.suggest.learn import ThemeLearner
from coder.suggest.model import normalise, word_space
from tests.conftest import CORPUS, q14_gold_items, read_csv_rows, write_csv


@pytest.fixture(scope="module")
def q14():
    """The corpus's coded q14 answers as the learner sees them: word and character features, k-hot themes."""
    codebook, items = q14_gold_items()
    texts = [t for t, _ in items]
    _, rows, matrix = word_space(texts)
    X = matrix[[rows[normalise(t)] for t in texts]]
    Y = np.array([[theme in gold for theme in codebook.ids] for _, gold in items], dtype=np.int8)
    return X, Y


@pytest.fixture
def worker(monkeypatch):
    """A second process of this test's own, stopped afterwards."""
    fresh = svm_fits._Worker()
    monkeypatch.setattr(svm_fits, "_WORKER", fresh)
    yield fresh
    fresh._give_up()


def _same(a: ThemeLearner, b: ThemeLearner) -> bool:
    return np.array_equal(a.coef, b.coef) and np.array_equal(a.intercept, b.intercept)


def test_second_process_gives_the_same_models(q14, worker):
    X, Y = q14
    here = ThemeLearner.fit(X, Y, second_process=False)
    shared = ThemeLearner.fit(X, Y, second_process=True)
    assert not worker.failed and worker.process.poll() is None  # it ran there, and stays for the next
    assert _same(here, shared)
    assert _same(here, ThemeLearner.fit(X, Y, second_process=True))  # the same process, a second time


def test_no_second_process_fits_here(q14, worker, monkeypatch):
    X, Y = q14
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert _same(ThemeLearner.fit(X, Y, second_process=True), ThemeLearner.fit(X, Y, second_process=False))
    assert worker.failed and worker.process is None


def test_a_second_process_that_dies_is_replaced_by_fits_here(q14, worker, monkeypatch):
    X, Y = q14
    here = ThemeLearner.fit(X, Y, second_process=False)
    ThemeLearner.fit(X, Y, second_process=True)
    worker.process.kill()
    worker.process.wait()
    assert _same(ThemeLearner.fit(X, Y, second_process=True), here)
    assert worker.failed  # and it is not tried again in this process
    assert _same(ThemeLearner.fit(X, Y, second_process=True), here)


def test_small_work_stays_here(q14, worker):
    X, Y = q14
    assert X.nnz * Y.shape[1] < svm_fits.SHARED_WORK
    ThemeLearner.fit(X, Y)
    assert worker.process is None


def test_fits_never_wait_for_a_second_process_still_loading(q14, monkeypatch):
    X, Y = q14
    slow = svm_fits._Worker(command=[sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(svm_fits, "_WORKER", slow)
    monkeypatch.setattr(svm_fits, "SHARED_WORK", 0)  # the corpus's q14 counts as large work here
    try:
        svm_fits.warm_up()
        assert slow.process is not None and slow.process.poll() is None
        assert _same(ThemeLearner.fit(X, Y), ThemeLearner.fit(X, Y, second_process=False))
        assert not slow.loaded and not slow.failed  # fitted here meanwhile; it may still serve later fits
    finally:
        slow._give_up()


def test_suggest_starts_the_second_process_before_encoding_when_many_answers_are_confirmed(
    corpus_db, tmp_path, monkeypatch
):
    rows = [r for r in read_csv_rows(CORPUS / "codings.csv") if r["question"] == "q14"][:100]
    write_csv(tmp_path / "some.csv", [list(rows[0])] + [list(r.values()) for r in rows])
    import_codings(corpus_db, tmp_path / "some.csv", coder="ann")
    started = []
    monkeypatch.setattr(engine, "warm_up", lambda: started.append(True))
    monkeypatch.setattr(engine, "WARM_UP_CONFIRMED", 10_000)
    engine.suggest(corpus_db, "q14")
    assert not started  # under a hundred confirmed answers: nothing to share
    monkeypatch.setattr(engine, "WARM_UP_CONFIRMED", 50)
    engine.suggest(corpus_db, "q14", refresh=True)
    assert started == [True]
