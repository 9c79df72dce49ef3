from __future__ import annotations

import pytest

from coder.coding.session import CodingSession
from coder.errors import CoderError
from coder.store import open_db
from coder.suggest.engine import suggest


@pytest.fixture
def session(corpus_db):
    suggest(corpus_db, "q14")
    suggest(corpus_db, "q13")
    return CodingSession(corpus_db, "q14", "ann")


def statuses(db, answer_id):
    return dict(
        db.execute(
            "SELECT t.id, c.status FROM codings c JOIN themes t ON t.pk = c.theme_pk WHERE c.answer_id = ?", [answer_id]
        ).fetchall()
    )


def test_opens_at_first_uncoded_answer_with_context(session):
    view = session.view()
    assert view.text and view.attributes["role"] and view.suggestions
    assert session.position == 0
    assert session.progress().total == 148 and session.progress().confirmed == 0


def test_toggle_then_confirm(session):
    db, first = session.db, session.current_id
    theme = session.toggle_suggestion(1)
    assert statuses(db, first) == {theme: "auto"}
    session.toggle("crm")
    assert statuses(db, first) == {theme: "auto", "crm": "auto"}
    session.toggle("crm")
    assert session.confirm()
    assert statuses(db, first) == {theme: "confirmed"}
    assert session.current_id != first
    coders = db.execute("SELECT DISTINCT coder FROM codings").fetchall()
    assert coders == [("ann",)]
    actions = [r[0] for r in db.execute("SELECT action FROM audit WHERE target = ? ORDER BY id", [f"answer:{first}"])]
    assert actions == ["coding.toggle", "coding.toggle", "coding.toggle", "coding.confirm"]


def test_accept_top_and_undo_repeatedly(session):
    db = session.db
    first = session.current_id
    session.accept_top()
    second = session.current_id
    session.accept_top()
    assert statuses(db, first) and all(s == "confirmed" for s in statuses(db, second).values())
    assert session.undo() and session.current_id == second and statuses(db, second) == {}
    assert session.undo() and session.current_id == first and statuses(db, first) == {}
    assert not session.undo()


def test_skip_and_resume_after_reopen(session, tmp_path):
    first = session.current_id
    session.skip()
    assert session.current_id != first
    session.accept_top()
    db_path = session.db.execute("PRAGMA database_list").fetchone()[2]
    reopened = CodingSession(open_db(db_path), "q14", "ann")
    # Resumes at the first unconfirmed answer: the skipped one.
    assert reopened.current_id == first


def test_orders_cycle_and_keep_current(session):
    current = session.current_id
    assert session.cycle_order() == "uncertain"
    assert session.current_id == current
    assert session.cycle_order() == "theme"
    assert session.cycle_order() == "teaches"
    assert session.cycle_order() == "imported"
    assert sorted(session.queue) == sorted(CodingSession(session.db, "q14", "bob").queue)


def test_flag_quote_candidate(session):
    session.toggle_suggestion(1)
    themes = session.flag()
    assert themes and session.view().flagged == frozenset(themes)
    assert session.flag() == [] and not session.view().flagged


def test_new_theme_codes_the_answer(session):
    theme = session.new_theme("Chatbots and webchat")
    assert theme in session.view().codes
    assert session.codebook.theme(theme).label == "Chatbots and webchat"
    with pytest.raises(CoderError, match="already has a theme"):
        session.new_theme("chatbots and WEBCHAT")


def test_names_question_learns_alias(corpus_db):
    suggest(corpus_db, "q13")
    session = CodingSession(corpus_db, "q13", "ann")
    # Find an answer the matcher did not know by alias, code it, confirm.
    for answer_id in session.queue:
        view = session.view(answer_id)
        if view.suggestions and view.suggestions[0].method in ("fuzzy", "fallback"):
            break
    else:
        pytest.skip("every q13 answer matched an alias")
    session.position = session.queue.index(answer_id)
    session.toggle("dwp")
    session.confirm()
    assert " ".join(view.text.split()) in session.codebook.theme("dwp").aliases


def test_search_themes(session):
    results = session.search_themes("self serv")
    assert results[0][0] == "customer-access"
    assert len(session.search_themes("")) == 16


def test_other_answers_of_respondent(session):
    others = session.other_answers()
    assert all(q != "q14" or "(" in q for q, _ in others)


def test_a_second_session_never_overwrites_a_confirmation_it_has_not_seen(corpus_db, tmp_path):
    """Two coders on one database (`coder serve`): bob confirms the answer ann has open."""
    suggest(corpus_db, "q14")
    ann = CodingSession(corpus_db, "q14", "ann")
    other = open_db(tmp_path / "corpus.db")
    bob = CodingSession(other, "q14", "bob")
    answer = ann.current_id
    assert ann.view().codes == {} and bob.current_id == answer
    assert bob.accept_top()
    bobs = statuses(corpus_db, answer)
    assert bobs and set(bobs.values()) == {"confirmed"}
    with pytest.raises(CoderError, match="bob coded this answer while it was open here"):
        ann.toggle_suggestion(2)
    assert statuses(corpus_db, answer) == bobs  # nothing changed
    ann.toggle_suggestion(2)  # seen now: the same key again goes ahead
    assert statuses(corpus_db, answer) != bobs
    assert ann.confirm()
    assert {r[0] for r in corpus_db.execute("SELECT coder FROM codings WHERE answer_id = ?", [answer])} == {"ann"}
    other.close()
