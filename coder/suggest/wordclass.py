"""Word classes from spaCy's lookup data (WordNet's lemma index), for labels without a tagger.

No trained pipeline is required (spacy.blank("en")), so a label cannot be tagged; the lemma index
still says which classes a base form can have: "nearly" is only an adverb, "improve" only a verb,
"buy" a noun and a verb. Without spacy-lookups-data every word is of no known class.
"""

from __future__ import annotations

from functools import lru_cache

# Words that carry a verb into a phrasal verb or a compound made of one ("buy in", "buy-in", "sign up").
PARTICLES = frozenset(["in", "up", "out", "on", "off", "down", "over", "back", "away"])


@lru_cache(maxsize=1)
def _index() -> dict[str, frozenset[str]]:
    try:
        from spacy.lookups import load_lookups

        table = load_lookups("en", ["lemma_index"]).get_table("lemma_index")
    except Exception:  # pragma: no cover - spacy-lookups-data missing
        return {}
    classes: dict[str, set[str]] = {}
    for name in ("noun", "verb", "adj", "adv"):
        for word in table.get(name, []):
            classes.setdefault(word, set()).add(name)
    return {w: frozenset(c) for w, c in classes.items()}


def classes(word: str) -> frozenset[str]:
    """The classes ("noun", "verb", "adj", "adv") a base form can have; empty when unknown."""
    return _index().get(word.lower(), frozenset())


def only(word: str, name: str) -> bool:
    """Whether the word is known and can only be `name` ("nearly": "adv"; "improve": "verb")."""
    return classes(word) == {name}
