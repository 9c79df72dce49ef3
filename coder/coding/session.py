"""A coding session: one coder working through one question's answers.

Everything the TUI does to the data goes through here, so it is testable
without a terminal. Each action is one transaction committed at once; the
working codes of an answer are stored as `auto` until the coder confirms the
answer, so a killed session loses at most the keystroke in flight and resumes
at the first unconfirmed answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from coder.codebook.db import add_alias, add_theme, read_codebook, theme_pks
from coder.codebook.model import Codebook
from coder.coding.codings import Code, apply_codes, question_codebook, question_text
from coder.coding.queue import ready, teaching_queue
from coder.coding.team import assigned_answers, blind_answers, disputed_answers, originals, own_codes, set_own_codes
from coder.errors import CoderError
from coder.store import audit, now, write
from coder.suggest.engine import has_suggestions, review_queue

ORDERS = ("imported", "uncertain", "theme", "teaches")
ORDER_NAMES = {
    "imported": "as imported",
    "uncertain": "least confident first",
    "theme": "by theme",
    "teaches": "teaches most",
}


def default_order(db: Database, question: str) -> str:
    """As imported until the question has suggestions and 20 confirmed answers; then what teaches most."""
    return "teaches" if ready(db, question) else "imported"


@dataclass(frozen=True)
class SuggestionView:
    theme_id: str
    label: str
    score: float
    method: str
    evidence: str
    selected: bool


@dataclass(frozen=True)
class AnswerView:
    """What the screen shows for one answer."""

    id: int
    respondent_id: str
    rank: int
    text: str
    attributes: dict[str, str]
    suggestions: tuple[SuggestionView, ...]
    codes: dict[str, str]  # theme id -> status
    flagged: frozenset[str]
    changed: bool
    blind: bool = False  # the coder's own codes on an overlap answer; others' are hidden
    others: dict[str, frozenset[str]] = field(default_factory=dict)  # adjudication: each coder's codes

    @property
    def confirmed(self) -> bool:
        return bool(self.codes) and all(s == "confirmed" for s in self.codes.values())


@dataclass
class Progress:
    total: int
    confirmed: int
    auto: int

    @property
    def uncoded(self) -> int:
        return self.total - self.confirmed - self.auto


def question_progress(db: Database, question: str) -> Progress:
    """Confirmed / auto / uncoded counts for one question's real answers."""
    total, confirmed, auto = db.execute(
        """SELECT count(*),
                  sum(EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')),
                  sum(NOT EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id AND c.status = 'confirmed')
                      AND EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id))
           FROM answers a WHERE a.question_id = ? AND a.is_answer = 1""",
        [question],
    ).fetchone()
    return Progress(total or 0, confirmed or 0, auto or 0)


@dataclass
class _Undo:
    answer_id: int
    codes: dict[str, str]
    flags: frozenset[str]
    position: int


@dataclass
class CodingSession:
    db: Database
    question: str
    coder: str
    order: str | None = None  # None: the default order, which follows the question's confirmations
    adjudicate: bool = False  # the queue is the disputed overlap answers; decisions are final
    codebook: Codebook = field(init=False)
    queue: list[int] = field(init=False, default_factory=list)
    position: int = field(init=False, default=0)
    skipped: set[int] = field(init=False, default_factory=set)
    confirmations: int = field(init=False, default=0)
    finished: bool = field(init=False, default=False)  # every answer confirmed
    _undo: list[_Undo] = field(init=False, default_factory=list)
    # The open answer's codes as this session last read them: another coder's confirmation made
    # since (two sessions on one database, `coder serve`) is never overwritten unseen.
    _shown: tuple[int, dict[str, str]] | None = field(init=False, default=None)

    def __post_init__(self):
        if not self.coder or not self.coder.strip():
            raise CoderError("a coding session needs a coder name")
        self.codebook_id = question_codebook(self.db, self.question)
        self.reload_codebook()
        kind = self.db.execute("SELECT base FROM questions WHERE id = ?", [self.question]).fetchone()
        self.base = kind[0]
        # With assignments a coder sees only their queue, and codes the overlap sample blind.
        self.blind = set() if self.adjudicate else blind_answers(self.db, self.question, self.coder)
        self.automatic = self.order is None
        self.set_order(self._default_order() if self.order is None else self.order)

    # -- reading ---------------------------------------------------------------------------

    def reload_codebook(self) -> None:
        self.codebook = read_codebook(self.db, self.codebook_id)
        self.pks = theme_pks(self.db, self.codebook_id)
        self.labels = {t.id: t.label for t in self.codebook.themes}

    def _imported_order(self) -> list[int]:
        if self.adjudicate:
            return disputed_answers(self.db, self.question)
        mine = assigned_answers(self.db, self.question, self.coder)
        if mine is not None:
            return mine
        return [
            r[0]
            for r in self.db.execute(
                """SELECT a.id FROM answers a JOIN respondents r ON r.id = a.respondent_id
               WHERE a.question_id = ? AND a.is_answer = 1 ORDER BY r.position, a.rank""",
                [self.question],
            )
        ]

    def _default_order(self) -> str:
        return "imported" if self.adjudicate else default_order(self.db, self.question)

    def set_order(self, order: str) -> None:
        """Rebuild the queue in `order`, keeping the current answer in view."""
        if order not in ORDERS:
            raise CoderError(f"order must be one of {', '.join(ORDERS)}")
        current = self.queue[self.position] if self.queue else None
        imported = self._imported_order()
        if order == "imported":
            queue = imported
        else:
            # Unconfirmed answers in the chosen order first, then the confirmed ones as imported.
            allowed = set(imported)
            if order == "teaches":
                pending = teaching_queue(self.db, self.question, allowed)
            else:
                pending = [a for a in review_queue(self.db, self.question) if a in allowed]
            if order == "theme":
                top = dict(
                    self.db.execute(
                        """SELECT s.answer_id, t.position FROM suggestions s JOIN themes t ON t.pk = s.theme_pk
                       JOIN answers a ON a.id = s.answer_id WHERE a.question_id = ? AND s.rank = 1""",
                        [self.question],
                    ).fetchall()
                )
                rank = {aid: i for i, aid in enumerate(imported)}
                pending = sorted(pending, key=lambda a: (top.get(a, 1e9), rank[a]))
            seen = set(pending)
            queue = pending + [a for a in imported if a not in seen]
        self.order, self.queue = order, queue
        if current in queue:
            self.position = queue.index(current)
        else:
            self.position = 0
            self.next_uncoded(from_start=True)

    def cycle_order(self) -> str:
        self.automatic = False  # the coder chose: keep it
        order = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        self.set_order(order)
        return order

    def requeue(self) -> None:
        """Rebuild the queue after new suggestions; the default order turns to what teaches most once it can."""
        order = self.order if not self.automatic and self.order is not None else self._default_order()
        if order != "imported" or order != self.order:
            self.set_order(order)

    @property
    def current_id(self) -> int | None:
        return self.queue[self.position] if self.queue else None

    def view(self, answer_id: int | None = None) -> AnswerView | None:
        answer_id = self.current_id if answer_id is None else answer_id
        if answer_id is None:
            return None
        row = self.db.execute(
            "SELECT respondent_id, rank, text, changed FROM answers WHERE id = ?", [answer_id]
        ).fetchone()
        attributes = dict(
            self.db.execute(
                "SELECT name, value FROM respondent_attributes WHERE respondent_id = ? ORDER BY name", [row[0]]
            ).fetchall()
        )
        suggestions = tuple(
            SuggestionView(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
            for r in self.db.execute(
                """SELECT t.id, t.label, s.score, s.method, s.evidence, s.selected FROM suggestions s
                   JOIN themes t ON t.pk = s.theme_pk WHERE s.answer_id = ? ORDER BY s.rank LIMIT 9""",
                [answer_id],
            )
        )
        blind = answer_id in self.blind
        codes = own_codes(self.db, answer_id, self.coder) if blind else self._final_codes(answer_id)
        if answer_id == self.current_id and (self._shown is None or self._shown[0] != answer_id):
            self._shown = (answer_id, dict(codes))
        flagged = frozenset(
            r[0]
            for r in self.db.execute(
                "SELECT t.id FROM quote_flags f JOIN themes t ON t.pk = f.theme_pk WHERE f.answer_id = ?", [answer_id]
            )
        )
        others = originals(self.db, answer_id) if self.adjudicate else {}
        return AnswerView(
            answer_id, row[0], row[1], row[2], attributes, suggestions, codes, flagged, bool(row[3]), blind, others
        )

    def _final_codes(self, answer_id: int) -> dict[str, str]:
        return dict(
            self.db.execute(
                """SELECT t.id, c.status FROM codings c JOIN themes t ON t.pk = c.theme_pk
               WHERE c.answer_id = ? ORDER BY t.position""",
                [answer_id],
            ).fetchall()
        )

    def other_answers(self, answer_id: int | None = None) -> list[tuple[str, str]]:
        """The same respondent's other answers, for context on demand."""
        answer_id = self.current_id if answer_id is None else answer_id
        respondent = self.db.execute("SELECT respondent_id FROM answers WHERE id = ?", [answer_id]).fetchone()[0]
        return [
            (f"{r[0]}" + (f" ({r[1]})" if r[2] > 1 else ""), r[3])
            for r in self.db.execute(
                """SELECT a.question_id, a.rank, (SELECT count(*) FROM answers b WHERE b.respondent_id = a.respondent_id
                   AND b.question_id = a.question_id), a.text
               FROM answers a JOIN questions q ON q.id = a.question_id
               WHERE a.respondent_id = ? AND a.id != ? AND a.is_answer = 1 ORDER BY q.position, a.rank""",
                [respondent, answer_id],
            )
        ]

    def progress(self) -> Progress:
        return question_progress(self.db, self.question)

    def question_text(self) -> str:
        return question_text(self.db, self.question)

    def has_suggestions(self) -> bool:
        """Whether `coder suggest` has ever run on the question (the app computes them if not)."""
        return has_suggestions(self.db, self.question)

    # -- moving ----------------------------------------------------------------------------

    def move(self, step: int) -> None:
        if self.queue:
            self.position = max(0, min(len(self.queue) - 1, self.position + step))

    def next_uncoded(self, from_start: bool = False) -> bool:
        """Go to the next answer without confirmed codes (skipped ones last); False when none is left.

        Looks ahead in growing batches with an indexed query, so a keystroke costs
        the same with a hundred answers or a million.
        """
        n = len(self.queue)
        if n == 0:
            return False
        start = 0 if from_start else self.position + 1
        span = n if from_start else n - 1
        for allow_skipped in (False, True):
            batch, size = [], 32
            for k in range(span):
                index = (start + k) % n
                if self.queue[index] in self.skipped and not allow_skipped:
                    continue
                batch.append(index)
                if len(batch) >= size:
                    found = self._first_unconfirmed(batch)
                    if found is not None:
                        self.position = found
                        return True
                    batch, size = [], min(size * 4, 4096)
            found = self._first_unconfirmed(batch) if batch else None
            if found is not None:
                self.position = found
                return True
        return False

    def _first_unconfirmed(self, indices: list[int]) -> int | None:
        ids = [self.queue[i] for i in indices]
        marks = ",".join("?" * len(ids))
        done = {
            r[0]
            for r in self.db.execute(
                f"SELECT DISTINCT answer_id FROM codings WHERE status = 'confirmed' AND answer_id IN ({marks})", ids
            )
        }
        blind = [a for a in ids if a in self.blind]
        if blind:
            # A blind answer is done for this coder once their own codes are confirmed.
            mine = {
                r[0]
                for r in self.db.execute(
                    f"""SELECT answer_id FROM coder_codings WHERE coder = ? AND answer_id IN ({",".join("?" * len(blind))})
                    GROUP BY answer_id HAVING min(status = 'confirmed') = 1""",
                    [self.coder, *blind],
                )
            }
            done = (done - set(blind)) | mine
        return next((i for i in indices if self.queue[i] not in done), None)

    def _next_after_confirm(self) -> bool:
        # In the teaching order the best next answer is the first unconfirmed one, wherever the
        # current answer sat when the queue was rebuilt around it.
        return self.next_uncoded(from_start=self.order == "teaches")

    def skip(self) -> None:
        if self.current_id is not None:
            self.skipped.add(self.current_id)
            self.next_uncoded()

    # -- changing --------------------------------------------------------------------------

    def _open_view(self) -> AnswerView:
        """The open answer, for a change to it; an empty queue has none to change."""
        view = self.view()
        if view is None:
            raise CoderError("no answer is open: the queue is empty")
        return view

    def _remember(self) -> None:
        view = self._open_view()
        self._undo.append(_Undo(view.id, dict(view.codes), view.flagged, self.position))

    def _write(self, codes: dict[str, str], action: str) -> None:
        """Make the current answer's codes exactly `codes` (theme id -> status)."""
        view = self._open_view()
        if view.blind:
            set_own_codes(self.db, view.id, self.coder, {t: self.pks[t] for t in codes}, codes, action + ".blind")
            return
        self._check_unchanged(view)
        suggestion = {s.theme_id: s for s in view.suggestions}
        add = []
        for theme_id, status in codes.items():
            s = suggestion.get(theme_id)
            add.append(
                Code(
                    self.pks[theme_id],
                    status,
                    self.coder,
                    s.score if s else None,
                    s.method if s else "manual",
                    s.evidence if s else None,
                )
            )
        apply_codes(self.db, view.id, add, coder=self.coder, action=action, replace=True)
        self._shown = (view.id, self._final_codes(view.id))  # as stored: a confirmed code never goes back to auto

    def _check_unchanged(self, view: AnswerView) -> None:
        """Refuse once to replace codes another coder confirmed here after this session showed the answer."""
        shown = self._shown
        if shown is None or shown[0] != view.id or shown[1] == view.codes:
            return
        others = sorted(
            {
                r[0]
                for r in self.db.execute(
                    "SELECT DISTINCT coder FROM codings WHERE answer_id = ? AND status = 'confirmed' AND coder IS NOT ?",
                    [view.id, self.coder],
                )
            }
        )
        self._shown = (view.id, dict(view.codes))  # now seen: the same key again goes ahead
        if others:
            labels = ", ".join(self.labels.get(t, t) for t in view.codes) or "no themes"
            raise CoderError(
                f"{', '.join(others)} coded this answer while it was open here (now: {labels}); "
                "nothing was changed. Look again, then repeat the key to replace their codes"
            )

    def toggle(self, theme_id: str) -> None:
        """Put a theme on the answer, or take it off; working codes stay `auto` until confirmed."""
        if theme_id not in self.pks:
            raise CoderError(f"unknown theme {theme_id!r}")
        self._remember()
        codes = {t: "auto" for t in self._open_view().codes}
        if theme_id in codes:
            del codes[theme_id]
        else:
            codes[theme_id] = "auto"
        self._write(codes, "coding.toggle")

    def toggle_suggestion(self, number: int) -> str | None:
        view = self.view()
        if view is None or not 1 <= number <= len(view.suggestions):
            return None
        theme_id = view.suggestions[number - 1].theme_id
        self.toggle(theme_id)
        return theme_id

    def clear(self) -> None:
        self._remember()
        self._write({}, "coding.clear")

    def confirm(self) -> bool:
        """Confirm the answer's current codes and move to the next unconfirmed answer.

        On a names question, a spelling the matcher did not know (no alias
        suggestion) coded with one theme becomes an alias of it.
        """
        view = self.view()
        if view is None or not view.codes:
            return False
        self._remember()
        self._write({t: "confirmed" for t in view.codes}, "coding.confirm")
        self._learn_alias(view)
        self.confirmations += 1
        self.skipped.discard(view.id)
        self.finished = not self._next_after_confirm()
        return True

    def accept_top(self) -> bool:
        """Confirm the top suggestion (with any others the question's rule selected) and move on."""
        view = self.view()
        if view is None or not view.suggestions:
            return False
        chosen = [view.suggestions[0].theme_id] + [s.theme_id for s in view.suggestions[1:] if s.selected]
        self._remember()
        self._write({t: "confirmed" for t in chosen}, "coding.accept")
        self._learn_alias(self._open_view())
        self.confirmations += 1
        self.skipped.discard(view.id)
        self.finished = not self._next_after_confirm()
        return True

    def _learn_alias(self, view: AnswerView) -> None:
        if self.codebook.kind != "names" or len(view.codes) != 1:
            return
        if any(s.method == "alias" for s in view.suggestions):
            return
        spelling = " ".join(view.text.split())
        if not spelling or len(spelling) > 80:
            return
        (theme_id,) = view.codes
        try:
            add_alias(self.db, self.codebook_id, theme_id, spelling, coder=self.coder)
        except CoderError:
            return  # the spelling already names another theme; leave the codebook alone
        self.reload_codebook()

    def flag(self) -> list[str]:
        """Mark the answer as a quote candidate for each of its themes (or unmark it)."""
        view = self.view()
        if view is None or not view.codes:
            return []
        self._remember()
        themes = list(view.codes)
        with write(self.db):
            if set(themes) <= view.flagged:
                self.db.execute("DELETE FROM quote_flags WHERE answer_id = ?", [view.id])
                audit(
                    self.db,
                    coder=self.coder,
                    action="quote.unflag",
                    target=f"answer:{view.id}",
                    before=sorted(view.flagged),
                )
                return []
            for theme_id in themes:
                self.db.execute(
                    "INSERT OR IGNORE INTO quote_flags (answer_id, theme_pk, coder, flagged_at) VALUES (?, ?, ?, ?)",
                    [view.id, self.pks[theme_id], self.coder, now()],
                )
            audit(self.db, coder=self.coder, action="quote.flag", target=f"answer:{view.id}", after=themes)
        return themes

    def new_theme(self, label: str, *, code_answer: bool = True) -> str:
        """Add a theme from a typed label and (by default) put it on the current answer."""
        theme = add_theme(self.db, self.codebook_id, label, coder=self.coder)
        self.reload_codebook()
        if code_answer and self.current_id is not None:
            self.toggle(theme.id)
        return theme.id

    def undo(self) -> bool:
        """Revert the last change (repeatable), returning to the answer it was made on."""
        if not self._undo:
            return False
        step = self._undo.pop()
        if step.answer_id in self.queue:
            self.position = self.queue.index(step.answer_id)
        if step.answer_id in self.blind:
            codes = {t: s for t, s in step.codes.items() if t in self.pks}
            set_own_codes(
                self.db, step.answer_id, self.coder, {t: self.pks[t] for t in codes}, codes, "coding.undo.blind"
            )
            return True
        add = [Code(self.pks[t], s, self.coder, method="manual") for t, s in step.codes.items() if t in self.pks]
        with write(self.db):
            apply_codes(self.db, step.answer_id, add, coder=self.coder, action="coding.undo", replace=True, exact=True)
            self.db.execute("DELETE FROM quote_flags WHERE answer_id = ?", [step.answer_id])
            for theme_id in step.flags:
                if theme_id in self.pks:
                    self.db.execute(
                        "INSERT INTO quote_flags (answer_id, theme_pk, coder, flagged_at) VALUES (?, ?, ?, ?)",
                        [step.answer_id, self.pks[theme_id], self.coder, now()],
                    )
        return True

    def search_themes(self, query: str, limit: int = 20) -> list[tuple[str, str, float]]:
        """Fuzzy search over labels, aliases and keywords: (theme id, label, score), best first."""
        from rapidfuzz import fuzz

        query = query.strip().casefold()
        results = []
        for theme in self.codebook.themes:
            if not query:
                results.append((theme.id, theme.label, 100.0))
                continue
            names = [theme.label, theme.id, *theme.aliases, *theme.keywords]
            score = max(max(fuzz.WRatio(query, n.casefold()), 100.0 if query in n.casefold() else 0.0) for n in names)
            results.append((theme.id, theme.label, score))
        if query:
            results = [r for r in results if r[2] >= 60]
            results.sort(key=lambda r: -r[2])
        return results[:limit]
