"""The per-theme SVM fits, half of them in a second process when there is enough work.

liblinear draws its coordinate order from one random generator for the whole process, so fits
on two threads interleave their draws and the same confirmations gave different codes from run
to run. A second process has a generator of its own: each fit there starts from the same seed
as it would here, so the models are the same as one after another, in about half the time.

The second process is this module run as a script (`python -m coder.suggest.svm_fits`), fed
pickled work on its standard input: multiprocessing would import the caller's main script in
it again, which runs an unguarded script twice.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import IO

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

SVM_C = 0.5  # inverse penalty of the per-theme SVMs on TF-IDF
SVM_TOL = 1e-2  # about half the time of 1e-3 on character n-grams, the same ANES --dev F1
READY = b"R"  # what the second process writes once it has loaded
SHARED_WORK = 5_000_000  # stored values x themes from which the second process saves more than it costs
WARM_UP_CONFIRMED = 1_000  # confirmed answers from which a retrain is likely to share its fits


def fit_svms(
    X: sp.csr_matrix, Y: np.ndarray, weights: np.ndarray, *, second_process: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One linear SVM per column of Y (each with both classes): coefficients (features, k) and intercepts.

    `second_process` None decides by the amount of work; True or False forces it (tests). Until the
    second process has loaded (about a second; `warm_up` starts it early), the fits are all made here.
    """
    k = Y.shape[1]
    share = second_process if second_process is not None else X.nnz * k >= SHARED_WORK
    if not share or k < 2 or not _WORKER.lock.acquire(blocking=False):
        return _fit_columns(X, Y, weights)
    try:
        if not _WORKER.ready(wait=second_process is True):
            return _fit_columns(X, Y, weights)
        theirs, ours = np.arange(1, k, 2), np.arange(0, k, 2)  # alternate columns: themes differ in cost
        sent = _WORKER.send((X, Y[:, theirs], weights))
        coef = np.zeros((X.shape[1], k), dtype=np.float32)
        intercept = np.zeros(k, dtype=np.float32)
        coef[:, ours], intercept[ours] = _fit_columns(X, Y[:, ours], weights)
        answer = _WORKER.receive() if sent else None
        # Whatever went wrong there (no second process here, or it died) is the same fits, here.
        coef[:, theirs], intercept[theirs] = answer if answer is not None else _fit_columns(X, Y[:, theirs], weights)
        return coef, intercept
    finally:
        _WORKER.lock.release()


def warm_up() -> None:
    """Start the second process now, so that its Python and scikit-learn load while the caller reads and
    lemmatises answers, not while the first large fit waits for it."""
    with _WORKER.lock:
        _WORKER.running()


def _fit_columns(X: sp.csr_matrix, Y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    coef = np.zeros((X.shape[1], Y.shape[1]), dtype=np.float32)
    intercept = np.zeros(Y.shape[1], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed iteration budget: no chatter
        for j in range(Y.shape[1]):
            model = LinearSVC(C=SVM_C, tol=SVM_TOL, random_state=0).fit(X, Y[:, j] > 0, sample_weight=weights)
            coef[:, j] = model.coef_[0]
            intercept[j] = model.intercept_[0]
    return coef, intercept


class _Worker:
    """The second process, started on first use and kept for the life of this one."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command  # None: this module, run by this interpreter
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.failed = False
        self.loaded = False  # it has said it is ready

    def send(self, work: tuple) -> bool:
        process = self.running()
        if process is None or process.stdin is None:
            return False
        try:
            _write(process.stdin, work)
            return True
        except (OSError, pickle.PicklingError):
            self._give_up()
            return False

    def ready(self, *, wait: bool = False) -> bool:
        """Whether the second process is there and has loaded; starts it if need be. Never waits unless told."""
        process = self.running()
        if process is None or process.stdout is None:
            return False
        if not self.loaded:
            try:
                if not wait and not select.select([process.stdout], [], [], 0)[0]:
                    return False
                self.loaded = process.stdout.read(1) == READY
            except (OSError, ValueError):  # no select on pipes (Windows): wait for it once
                self.loaded = process.stdout.read(1) == READY
            if not self.loaded:
                self._give_up()
        return self.loaded

    def receive(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.process is None or self.process.stdout is None:
            return None
        try:
            ok, result = _read(self.process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError, struct.error):
            self._give_up()
            return None
        return result if ok else None

    def running(self) -> subprocess.Popen | None:
        if self.failed:
            return None
        if self.process is None:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            if cores < 2:
                self.failed = True
                return None
            env = dict(os.environ)
            package_root = str(Path(__file__).resolve().parents[2])
            if package_root not in _site_folders():  # a checkout on the caller's own sys.path: say where it is
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
            try:
                self.process = subprocess.Popen(
                    self.command or [sys.executable, "-m", __name__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,  # never onto the caller's screen (the app draws there)
                    env=env,
                )
            except OSError:
                self.failed = True
                return None
        return self.process

    def _give_up(self) -> None:
        self.failed = True
        self.loaded = False
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


_WORKER = _Worker()


def _site_folders() -> set[str]:
    """Where installed packages live (never put on PYTHONPATH: ahead of the standard library there)."""
    import site

    folders = [*site.getsitepackages(), site.getusersitepackages()]
    return {str(Path(folder).resolve()) for folder in folders}


def _write(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)))
    stream.write(data)
    stream.flush()


def _read(stream: IO[bytes]):
    (size,) = struct.unpack("<Q", _exactly(stream, 8))
    return pickle.loads(_exactly(stream, size))


def _exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the second process ended")
    return data


def _serve() -> None:
    """The second process: fit what arrives until the caller closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the caller's; this ends with it
    source = sys.stdin.buffer
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed here can never garble the answers
    sink.write(READY)
    sink.flush()
    while True:
        try:
            X, Y, weights = _read(source)
        except EOFError:
            return
        try:
            _write(sink, (True, _fit_columns(X, Y, weights)))
        except Exception:  # noqa: BLE001 - the caller fits these itself and reports what fails
            _write(sink, (False, None))


if __name__ == "__main__":
    _serve()
