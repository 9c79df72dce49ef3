"""Names codebooks: find the bodies named in a cell by alias, then by fuzzy spelling.

Answers to "which departments?" are short lists of names, abbreviations and
misspellings, so matching them is a lookup problem rather than a topic one.
Every string is first normalised the same way (cells, labels and aliases), then
a cell is matched whole, then by the longest alias spans inside it, and only the
words left over are split on separators and fuzzy-matched. Matching spans
before splitting keeps names that contain a separator ("Work and Pensions",
"Cabinet Office/GDS/GOV.UK") in one piece.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from coder.codebook.model import Codebook
from coder.suggest import Suggestion
from coder.survey.spec import DEFAULT_NON_ANSWERS, NonAnswers

_QUOTES = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032`\u00b4"} | {c: '"' for c in "\u201c\u201d\u201e\u2033"}
)

# A word keeps inner dots and apostrophes ("d.w.p", "gov.uk", "gov't"); a dash
# with space around it, or any of the listed marks, separates names.
_SCAN = re.compile(
    r"(?P<word>[^\W_]+(?:['.][^\W_]+)*)"
    r"|(?P<and>[&+])"
    r"|(?P<sep>\s[-\u2013\u2014]+\s|[\u2013\u2014/\\,;()\[\]|:\n])"
)
_REWRITE = {
    "dept": "department",
    "dpt": "department",
    "depts": "departments",
    "gov": "government",
    "govt": "government",
    "govts": "governments",
}
_SPLIT_WORDS = frozenset({"and", "or"})
# Parts made only of these words name nothing ("the department", "team").
_GENERIC = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "for",
        "and",
        "or",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "via",
        "re",
        "e",
        "g",
        "eg",
        "i",
        "ie",
        "etc",
        "also",
        "department",
        "departments",
        "government",
        "central",
        "agency",
        "agencies",
        "office",
        "offices",
        "service",
        "services",
        "team",
        "teams",
        "unit",
        "programme",
        "program",
        "hm",
        "her",
        "majestys",
        "uk",
        "national",
        "because",
        "especially",
        "particularly",
        "obviously",
        "probably",
        "maybe",
        "definitely",
    ]
)

FUZZY_CUTOFF = 85.0  # a part's best combined score must reach this
RUN_CUTOFF = 90.0  # a run still holding separators is only kept whole when this close
SHORT_CUTOFF = 80.0  # abbreviations: one extra letter passes, "dfe" for "dft" does not
SHORT_LEN = 4
PARTIAL_WEIGHT = 0.9  # a known name inside a longer part, as WRatio weighs it
PARTIAL_MIN_LEN = 6
FALLBACK_SCORE = 0.2
GROUP_CUTOFF = 80.0


@dataclass(frozen=True)
class _Token:
    norm: str | None  # None for a separator
    start: int
    end: int


def _tokens(text: str) -> tuple[str, list[_Token]]:
    """Normalised words with their place in the (NFKC) text, separators as None."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    tokens: list[_Token] = []
    for m in _SCAN.finditer(text):
        if m.group("word"):
            word = m.group("word").casefold()
            word = word[4:] if word.startswith("www.") else word
            word = word.replace("'", "").replace(".", "")
            tokens.append(_Token(_REWRITE.get(word, word), m.start(), m.end()))
        elif m.group("and"):
            tokens.append(_Token("and", m.start(), m.end()))
        else:
            tokens.append(_Token(None, m.start(), m.end()))
    return text, _join_letters(tokens)


def _norms(tokens: list[_Token]) -> list[str]:
    """The words of tokens that hold no separator (the filter is for the type checker)."""
    return [t.norm for t in tokens if t.norm is not None]


def _join_letters(tokens: list[_Token]) -> list[_Token]:
    """Merge runs of single letters: "H M Revenue" and "D. W. P." are typed gaps."""
    out: list[_Token] = []
    run: list[_Token] = []
    for tok in tokens + [_Token(None, -1, -1)]:
        if tok.norm is not None and len(tok.norm) == 1 and tok.norm.isalpha():
            run.append(tok)
            continue
        if len(run) > 1:
            out.append(_Token("".join(_norms(run)), run[0].start, run[-1].end))
        else:
            out.extend(run)
        run = []
        if tok.start >= 0:
            out.append(tok)
    return out


def normalise_name(text: str) -> str:
    """The form every cell, label and alias is compared in."""
    words = [t.norm for t in _tokens(text)[1] if t.norm is not None]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def _drop_the(words: list[str]) -> list[str]:
    return words[1:] if len(words) > 1 and words[0] == "the" else words


@dataclass(frozen=True)
class NameCandidate:
    """Spellings no alias or fuzzy match claimed, grouped because they look alike."""

    spellings: tuple[str, ...]  # as written, most frequent first
    count: int  # cells (with repeats) that held one of them
    nearest_theme: str | None
    nearest_score: float  # 0..1, how close the nearest theme's best alias is


@dataclass(frozen=True)
class _Entry:
    theme_id: str
    alias: str  # as written in the codebook
    vague: bool  # an alias of the fallback theme: only ever a whole answer


@dataclass
class _Found:
    suggestions: list[Suggestion]
    unmatched: list[str]  # parts as written


class NameMatcher:
    """Suggest themes of a `kind: names` codebook for answer cells.

    The alias index is built once; results are cached by normalised cell, so a
    survey where a hundred people wrote "DWP" costs one lookup.
    """

    def __init__(self, codebook: Codebook, non_answers: NonAnswers | None = None):
        self.codebook = codebook
        self.non_answers = non_answers or NonAnswers.parse(DEFAULT_NON_ANSWERS, codebook.id)
        self.fallback = _fallback_theme(codebook)
        self.index: dict[str, _Entry] = {}
        for theme in codebook.themes:
            for name in (theme.label, *theme.aliases):
                key = normalise_name(name)
                # Two spellings that only differ in punctuation fold together; the
                # first theme in codebook order keeps the key, deterministically.
                if key and key not in self.index:
                    self.index[key] = _Entry(theme.id, name, theme.id == self.fallback)
        self.max_words = max((len(k.split()) for k in self.index), default=0)
        self.choices = list(self.index)
        self._lengths = np.array([len(c) for c in self.choices])
        # "the government" names no body: it may match a whole answer, never a word inside a name.
        self._vague = np.array([self.index[c].vague for c in self.choices], dtype=bool)
        self._short = [c for c in self.choices if len(c) <= SHORT_LEN + 2]
        self._cache: dict[tuple[str, tuple[str, ...]], _Found] = {}
        self._fuzzy_cache: dict[tuple[str, bool], tuple[str, float] | None] = {}

    # -- public ---------------------------------------------------------------

    def match(self, text: str) -> list[Suggestion]:
        """One suggestion per body named in the cell, best first, no theme twice."""
        return list(self._analyse(text).suggestions)

    def match_many(self, texts: Iterable[str]) -> list[list[Suggestion]]:
        return [self.match(text) for text in texts]

    def unmatched(self, texts: Iterable[str]) -> list[NameCandidate]:
        """Spellings nothing matched, grouped by likeness, biggest group first."""
        counts: dict[str, int] = {}
        for text in texts:
            for part in self._analyse(text).unmatched:
                counts[part] = counts.get(part, 0) + 1
        return self._group(counts)

    # -- matching --------------------------------------------------------------

    def _analyse(self, text: str) -> _Found:
        if self.non_answers.matches(text):
            return _Found([], [])
        source, tokens = _tokens(text)
        words = _drop_the([t.norm for t in tokens if t.norm is not None])
        key = " ".join(words)
        # Case only matters for acronyms typed in lower case, so nearly every
        # cache key is the normalised text alone.
        words_like_acronyms = tuple(t.norm for t in tokens if t.norm is not None and self._word_not_acronym(source, t))
        found = self._cache.get((key, words_like_acronyms))
        if found is None:
            found = self._cache[(key, words_like_acronyms)] = self._match_tokens(source, tokens, key)
        return found

    def _match_tokens(self, source: str, tokens: list[_Token], key: str) -> _Found:
        entry = self.index.get(key)
        if entry is not None:
            return _Found([Suggestion(entry.theme_id, 1.0, "alias", entry.alias)], [])
        hits: list[tuple[int, Suggestion]] = []  # (position, suggestion)
        unmatched: list[str] = []
        words = [(i, t) for i, t in enumerate(tokens) if t.norm is not None]
        covered = self._spans(source, words, hits)
        for run in _runs(tokens, covered):
            self._match_run(source, run, hits, unmatched)
        suggestions = _rank(hits)
        specific = [s for s in suggestions if s.theme_id != self.fallback]
        if specific:
            return _Found(specific, unmatched)
        if suggestions:
            return _Found(suggestions, unmatched)
        if self.fallback is not None and key:
            # A real answer that names nothing we know: vague, or a body to add.
            return _Found([Suggestion(self.fallback, FALLBACK_SCORE, "fallback", source.strip())], unmatched)
        return _Found([], unmatched)

    def _word_not_acronym(self, source: str, token: _Token) -> bool:
        # "DWP would be nice" does not name NICE: an acronym typed in lower case
        # is a word when the writer capitalises elsewhere in the cell.
        if token.norm is None:
            return False
        entry = self.index.get(token.norm)
        return (
            entry is not None
            and entry.alias.isupper()
            and source[token.start : token.end].islower()
            and source != source.lower()
        )

    def _spans(self, source: str, words: list[tuple[int, _Token]], hits: list) -> set[int]:
        """Greedy longest alias n-grams, left to right; returns covered token indexes."""
        covered: set[int] = set()
        i = 0
        while i < len(words):
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                key = " ".join(_norms([t for _, t in words[i : i + n]]))
                entry = self.index.get(key)
                if entry is None or entry.vague:
                    continue
                if n == 1 and self._word_not_acronym(source, words[i][1]):
                    continue
                hits.append((words[i][1].start, Suggestion(entry.theme_id, 1.0, "alias", entry.alias)))
                covered.update(j for j, _ in words[i : i + n])
                i += n
                break
            else:
                i += 1
        return covered

    def _match_run(self, source: str, run: list[_Token], hits: list, unmatched: list[str]) -> None:
        words = [t for t in run if t.norm is not None]
        if not words:
            return
        if len(words) < len(run) or any(t.norm in _SPLIT_WORDS for t in words):
            # "Communites & Local Gov": a misspelt name that holds a separator.
            best = self._fuzzy(" ".join(_drop_the(_norms(words))), strict=True)
            if best is not None:
                hits.append((run[0].start, self._fuzzy_suggestion(best, source, words)))
                return
        for part in _split(run):
            if len(part) > 1 and part[0].norm == "the":
                part = part[1:]
            norms = _norms(part)
            norm = " ".join(norms)
            entry = self.index.get(norm)
            if entry is not None:
                hits.append((part[0].start, Suggestion(entry.theme_id, 1.0, "alias", entry.alias)))
                continue
            if all(w in _GENERIC or not any(c.isalpha() for c in w) for w in norms):
                continue  # "the department", "1.", "team": no name to look for
            best = self._fuzzy(norm, strict=False)
            if best is not None:
                hits.append((part[0].start, self._fuzzy_suggestion(best, source, part)))
            else:
                unmatched.append(source[part[0].start : part[-1].end])

    def _fuzzy_suggestion(self, best: tuple[str, float], source: str, part: list[_Token]) -> Suggestion:
        choice, score = best
        entry = self.index[choice]
        spelling = source[part[0].start : part[-1].end]
        # Never 1.0: an exact alias always outranks a guess.
        return Suggestion(entry.theme_id, min(score / 100, 0.99), "fuzzy", f"{entry.alias} ~ {spelling}")

    def _fuzzy(self, norm: str, strict: bool) -> tuple[str, float] | None:
        """The closest alias to a part, or None if nothing is close enough."""
        key = (norm, strict)
        if key not in self._fuzzy_cache:
            result = None
            if " " not in norm and len(norm) <= SHORT_LEN:
                # Abbreviations differ by one letter ("dfe", "dft"): whole-string only.
                if not strict:
                    hit = process.extractOne(
                        norm, self._short, scorer=fuzz.ratio, processor=None, score_cutoff=SHORT_CUTOFF
                    )
                    result = (hit[0], hit[1]) if hit else None
            elif self.choices:  # an empty codebook has no alias to be close to
                scores = self._scores(norm, partial=not strict, cutoff=min(RUN_CUTOFF, FUZZY_CUTOFF))
                best = int(np.argmax(scores))
                if scores[best] >= (RUN_CUTOFF if strict else FUZZY_CUTOFF):
                    result = (self.choices[best], float(scores[best]))
            self._fuzzy_cache[key] = result
        return self._fuzzy_cache[key]

    def _scores(self, norm: str, partial: bool = True, cutoff: float = 0) -> np.ndarray:
        """Likeness (0-100) of a normalised part to every alias; below `cutoff` may read as 0 (faster)."""
        scores = np.maximum(
            process.cdist([norm], self.choices, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff)[0],
            process.cdist([norm], self.choices, scorer=fuzz.token_sort_ratio, processor=None, score_cutoff=cutoff)[0],
        )
        if partial and not (cutoff and scores.max() >= cutoff):
            # (Skipped when a whole-string match already passes: partial scores are the slow part.)
            # A known name inside a longer part ("cabinet ofice team"), never the
            # part inside a longer name ("standards" in "food standards").
            inside = process.cdist(
                [norm],
                self.choices,
                scorer=fuzz.partial_ratio,
                processor=None,
                score_cutoff=cutoff / PARTIAL_WEIGHT if cutoff else 0,
            )[0]
            usable = (self._lengths <= len(norm)) & (self._lengths >= PARTIAL_MIN_LEN) & ~self._vague
            scores = np.maximum(scores, np.where(usable, inside * PARTIAL_WEIGHT, 0))
        return scores

    # -- grouping ----------------------------------------------------------------

    def _group(self, counts: dict[str, int]) -> list[NameCandidate]:
        spellings = sorted(counts, key=lambda s: (-counts[s], s.casefold()))
        if not spellings:
            return []
        norms = [normalise_name(s) for s in spellings]
        sim = np.maximum(
            process.cdist(norms, norms, scorer=fuzz.ratio, processor=None),
            process.cdist(norms, norms, scorer=fuzz.token_sort_ratio, processor=None),
        )
        parent = list(range(len(spellings)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        # Single linkage: "min of magic" joins via "ministry of magic".
        for i, j in zip(*np.nonzero(sim >= GROUP_CUTOFF)):
            if i < j:
                parent[root(int(j))] = root(int(i))
        groups: dict[int, list[int]] = {}
        for i in range(len(spellings)):
            groups.setdefault(root(i), []).append(i)
        out = []
        for members in groups.values():
            best_theme, best_score = None, 0.0
            for i in members if self.choices else ():
                scores = self._scores(norms[i])
                j = int(np.argmax(scores))
                if scores[j] / 100 > best_score:
                    best_theme, best_score = self.index[self.choices[j]].theme_id, float(scores[j]) / 100
            out.append(
                NameCandidate(
                    spellings=tuple(spellings[i] for i in members),
                    count=sum(counts[spellings[i]] for i in members),
                    nearest_theme=best_theme,
                    nearest_score=round(best_score, 3),
                )
            )
        out.sort(key=lambda c: (-c.count, c.spellings[0].casefold()))
        return out


def _fallback_theme(codebook: Codebook) -> str | None:
    for theme in codebook.themes:
        if theme.id == "other-unknown":
            return theme.id
    for theme in codebook.themes:
        if theme.label.casefold().startswith("other"):
            return theme.id
    return None


def _runs(tokens: list[_Token], covered: set[int]) -> list[list[_Token]]:
    """Maximal stretches of tokens no alias span took, without outer separators."""
    runs: list[list[_Token]] = []
    run: list[_Token] = []
    for i, tok in enumerate([*tokens, None]):
        if tok is None or i in covered:
            while run and run[-1].norm is None:
                run.pop()
            if run:
                runs.append(run)
            run = []
        elif run or tok.norm is not None:
            run.append(tok)
    return runs


def _split(run: list[_Token]) -> list[list[_Token]]:
    parts: list[list[_Token]] = []
    part: list[_Token] = []
    for tok in run + [_Token(None, -1, -1)]:
        if tok.norm is None or tok.norm in _SPLIT_WORDS:
            if part:
                parts.append(part)
            part = []
        else:
            part.append(tok)
    return parts


def _rank(hits: list[tuple[int, Suggestion]]) -> list[Suggestion]:
    """Best score first, then order of mention; a theme keeps its best hit."""
    best: dict[str, tuple[int, Suggestion]] = {}
    for pos, s in hits:
        old = best.get(s.theme_id)
        if old is None or s.score > old[1].score or (s.score == old[1].score and pos < old[0]):
            best[s.theme_id] = (pos, s)
    return [s for _, s in sorted(best.values(), key=lambda ps: (-ps[1].score, ps[0]))]
