"""Suggestion engine: which themes an answer probably carries, with the method and evidence.

text.py (spaCy preprocessing), names.py (aliases and fuzzy names), zeroshot.py
(zero-shot TF-IDF and meaning), learn.py (per-theme learner, calibration), embeddings.py (the optional
sentence encoder), model.py (a question's model, fitted and scored in memory), engine.py
(per question: fitted on the database, stored back in it), discover.py (proposing themes by clustering, and accepting them),
evaluate.py (metrics against a gold coding, simulated confirmations).
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("alias", "fuzzy", "zero-shot", "classifier", "cluster", "fallback")


@dataclass(frozen=True)
class Suggestion:
    """One theme proposed for one answer cell."""

    theme_id: str
    score: float  # 0..1; comparable within a question
    method: str  # one of METHODS
    evidence: str = ""  # the alias, spelling or terms that matched
