"""spaCy preprocessing: lemmas without stop words, computed once per distinct text.

The default pipeline is `spacy.blank("en")` with the lookup lemmatizer from
spacy-lookups-data: no model download, fast, deterministic. If a trained
pipeline (en_core_web_sm) is installed it is used instead, for better lemmas
and noun chunks; nothing ever requires it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9][a-z0-9'&+-]*")

# Fillers that carry no theme in survey answers, on top of spaCy's stop words.
# Kept short on purpose: "service", "new" or "better" are parts of theme labels.
SURVEY_STOP = frozenset(["etc", "e.g", "eg", "i.e", "ie", "also", "really", "just", "lot", "lots", "thing", "things"])


@lru_cache(maxsize=1)
def get_nlp():
    """The shared pipeline; trained if installed, else blank English with lookup lemmas."""
    import spacy

    try:
        nlp = spacy.load("en_core_web_sm", exclude=["parser", "ner"])
        nlp.meta["coder_pipeline"] = "en_core_web_sm"
        return nlp
    except OSError:
        pass
    nlp = spacy.blank("en")
    try:
        lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        lemmatizer.initialize()  # type: ignore[attr-defined]  # spaCy types add_pipe as a bare Doc -> Doc callable
        nlp.meta["coder_pipeline"] = "blank-en+lookup"
    except Exception:  # pragma: no cover - spacy-lookups-data missing: lower-case forms still work
        nlp.remove_pipe("lemmatizer")
        nlp.meta["coder_pipeline"] = "blank-en"
    return nlp


def _clean(text: str) -> str:
    # Answers like "H&SC/NHS" are lists; spaCy should see the words. The lookup
    # table is keyed by lower-case forms, so "Reducing" must arrive as "reducing".
    return re.sub(r"[/\\|_]+", " ", text.replace("\n", " ")).lower()


def _lemmas(doc, keep_stop: bool) -> str:
    from spacy.lang.en.stop_words import STOP_WORDS

    out = []
    for token in doc:
        if token.is_punct or token.is_space:
            continue
        lemma = (token.lemma_ or token.text).lower()
        if not _WORD.fullmatch(lemma):
            continue
        if not keep_stop and (lemma in STOP_WORDS or token.lower_ in STOP_WORDS or lemma in SURVEY_STOP):
            continue
        out.append(lemma)
    return " ".join(out)


def lemmatise(texts: Iterable[str], *, keep_stop: bool = False, batch_size: int = 2000) -> list[str]:
    """Lower-case lemmas per text, stop words removed; distinct texts are processed once."""
    texts = list(texts)
    unique = list(dict.fromkeys(texts))
    nlp = get_nlp()
    done = {}
    for text, doc in zip(unique, nlp.pipe((_clean(t) for t in unique), batch_size=batch_size)):
        done[text] = _lemmas(doc, keep_stop)
    return [done[t] for t in texts]


def noun_chunks(texts: Iterable[str]) -> list[list[str]] | None:
    """Noun phrases per text when a trained pipeline with a parser is installed, else None."""
    import spacy

    try:
        nlp = spacy.load("en_core_web_sm")
    except OSError:
        return None
    return [[chunk.text.lower() for chunk in doc.noun_chunks] for doc in nlp.pipe(texts)]
