"""Representative quotes on the real corpus: coded, central, diverse, readable, anonymous."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from coder.coding.codings import question_ids
from coder.errors import CoderError
from coder.report import quotes as quotes_module
from coder.report.anonymise import COMMON_WORDS, name_parts, place_of
from coder.report.quotes import Quote, representative_quotes, theme_order, trim, word_count
from coder.store import now
from tests.invoke import run


def attribute_values(db, name):
    return sorted({r[0] for r in db.execute("SELECT value FROM respondent_attributes WHERE name = ?", [name])})


def name_tokens(db):
    # Some name parts are everyday words too ("Grace", "Lee", "Rob", "Kettle": see
    # COMMON_WORDS), but no answer in the corpus uses any name part in any case, so the
    # check can be case-insensitive for every part and needs no list of words to ignore.
    return {p for n in attribute_values(db, "name") for p in name_parts(n)}


def leaks(text, db):
    """Every respondent name part or organisation still present in `text` (whole words, any case)."""
    found = []
    for token in name_tokens(db):
        if re.search(rf"(?<!\w){re.escape(token)}(?!\w)", text, re.IGNORECASE):
            found.append(token)
    for org in attribute_values(db, "organisation"):
        if org.casefold() in text.casefold():
            found.append(org)
        place = place_of(org)
        if place and re.search(rf"(?<!\w){re.escape(place)}(?!\w)", text, 0 if " " not in place else re.IGNORECASE):
            found.append(place)
    return found


def coded_themes(db, question):
    rows = db.execute(
        """SELECT DISTINCT t.id FROM codings c JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
           WHERE a.question_id = ? AND a.is_answer = 1""",
        [question],
    )
    return {r[0] for r in rows}


def flag(db, answer_id, theme_id, question):
    pk = db.execute(
        "SELECT t.pk FROM themes t JOIN questions q ON q.codebook_id = t.codebook_id WHERE q.id = ? AND t.id = ?",
        [question, theme_id],
    ).fetchone()[0]
    with db.conn:
        db.execute(
            "INSERT INTO quote_flags (answer_id, theme_pk, coder, flagged_at) VALUES (?, ?, 'ann', ?)",
            [answer_id, pk, now()],
        )


def answers_of(db, question, theme_id):
    return {
        r[0]: r[1]
        for r in db.execute(
            """SELECT a.id, a.text FROM codings c JOIN answers a ON a.id = c.answer_id JOIN themes t ON t.pk = c.theme_pk
               WHERE a.question_id = ? AND t.id = ?""",
            [question, theme_id],
        )
    }


# --- every question, every theme ---------------------------------------------------------


def test_leak_check_is_not_vacuous(gold_db):
    assert "Sykes" in leaks("ask deborah SYKES", gold_db)
    assert "Kent County Council" in leaks("we at kent county council", gold_db)
    assert {"Grace", "Kettle"} <= name_tokens(gold_db) and {"grace", "kettle"} <= COMMON_WORDS
    assert leaks("Digital Practitioner (web teams etc), English county council", gold_db) == []


def test_every_question_and_theme_is_quoted_without_names_or_councils(gold_db):
    for question in question_ids(gold_db):
        found = representative_quotes(gold_db, question, n=3)
        assert {q.theme_id for q in found} == coded_themes(gold_db, question), question
        for quote in found:
            assert not leaks(quote.text, gold_db), (question, quote)
            assert not leaks(quote.attribution, gold_db), (question, quote)
            assert quote.text and quote.attribution


def test_salted_answers_are_anonymised_everywhere(gold_db):
    """Put names, councils, emails, phones and postcodes into every answer, then quote them all."""
    people = {}
    for respondent, key, value in gold_db.execute("SELECT respondent_id, name, value FROM respondent_attributes"):
        people.setdefault(respondent, {})[key] = value
    ids = sorted(people)
    rows = gold_db.execute("SELECT id, respondent_id, text FROM answers WHERE is_answer = 1 ORDER BY id").fetchall()
    with gold_db.conn:
        for i, (answer_id, respondent, text) in enumerate(rows):
            own = people[respondent]
            other = people[ids[(ids.index(respondent) + 7) % len(ids)]]
            parts = name_parts(own["name"])
            templates = [
                f"{text} Contact {own['name']} on 01632 960123.",
                f"{other['name']} at {own['organisation']} agreed: {text}",
                f"{text} (ask Cllr {name_parts(other['name'])[-1]} or {parts[0].lower()}.{parts[-1].lower()}@example.gov.uk)",
                f"As {own['name'].upper()} of {place_of(own['organisation']) or own['organisation']} said, {text}",
                f"{text} See the {own['organisation'].lower()} site, SW1P 4DF, or +44 20 7946 0000.",
            ]
            gold_db.execute("UPDATE answers SET text = ? WHERE id = ?", [templates[i % len(templates)], answer_id])
    for question in question_ids(gold_db):
        for quote in representative_quotes(gold_db, question, n=3):
            assert not leaks(quote.text, gold_db), quote
            assert not leaks(quote.attribution, gold_db), quote
            assert not re.search(r"@|01632|7946|SW1P", quote.text), quote


# --- what is picked ------------------------------------------------------------------------


def test_quotes_come_from_answers_coded_with_the_theme(gold_db):
    for question in ("q14", "q16"):
        for quote in representative_quotes(gold_db, question, n=5):
            assert quote.answer_id in answers_of(gold_db, question, quote.theme_id)


def test_theme_by_id_or_label_in_table_order(gold_db):
    by_id = representative_quotes(gold_db, "q14", "customer-access", n=2)
    by_label = representative_quotes(gold_db, "q14", "customer access / SELF SERVICE", n=2)
    assert by_id == by_label and len(by_id) == 2
    assert {q.theme_label for q in by_id} == {"Customer access / self service"}
    everything = representative_quotes(gold_db, "q14", n=1)
    assert [q.theme_id for q in everything] == [t[0] for t in theme_order(gold_db, "q14", "priorities-2014")]
    assert everything[0].theme_id == "cost-savings"  # the top row of table 2.11


def test_flagged_answer_comes_first(gold_db):
    default = representative_quotes(gold_db, "q16", "leadership-awareness", n=3)
    candidates = answers_of(gold_db, "q16", "leadership-awareness")
    unpicked = [
        a for a in sorted(candidates) if a not in {q.answer_id for q in default} and word_count(candidates[a]) >= 5
    ]
    assert unpicked, "the theme needs an answer the default does not pick"
    flag(gold_db, unpicked[-1], "leadership-awareness", "q16")
    flagged = representative_quotes(gold_db, "q16", "leadership-awareness", n=3)
    assert flagged[0].answer_id == unpicked[-1] and flagged[0].flagged
    assert not any(q.flagged for q in flagged[1:])


def test_flagged_one_word_answer_is_not_put_first(gold_db):
    candidates = answers_of(gold_db, "q14", "customer-access")
    short = next(a for a, text in sorted(candidates.items()) if word_count(text) == 1)
    flag(gold_db, short, "customer-access", "q14")
    found = representative_quotes(gold_db, "q14", "customer-access", n=3)
    assert found[0].answer_id != short


def test_flag_for_another_theme_does_not_count(gold_db):
    candidates = answers_of(gold_db, "q16", "leadership-awareness")
    default = representative_quotes(gold_db, "q16", "leadership-awareness", n=3)
    other = next(a for a in sorted(candidates) if a not in {q.answer_id for q in default})
    flag(gold_db, other, "funding", "q16")
    assert representative_quotes(gold_db, "q16", "leadership-awareness", n=3) == default


def test_auto_codes_count_and_confirmed_ones_are_preferred(gold_db):
    candidates = sorted(answers_of(gold_db, "q14", "customer-access"))
    pk = gold_db.execute("SELECT pk FROM themes WHERE id = 'customer-access'").fetchone()[0]
    with gold_db.conn:
        gold_db.execute("UPDATE codings SET status = 'auto' WHERE theme_pk = ?", [pk])
        # The same words from two respondents: the confirmed one speaks for both.
        for answer_id in candidates[:2]:
            gold_db.execute(
                "UPDATE answers SET text = 'Getting residents to self serve online' WHERE id = ?", [answer_id]
            )
        gold_db.execute(
            "UPDATE codings SET status = 'confirmed' WHERE theme_pk = ? AND answer_id = ?", [pk, candidates[1]]
        )
    found = representative_quotes(gold_db, "q14", "customer-access", n=3)
    assert len(found) == 3  # auto codes alone are enough to quote from
    same = [q for q in found if q.text == "Getting residents to self serve online"]
    assert [q.answer_id for q in same] == [candidates[1]]


def test_mmr_gives_distinct_quotes(gold_db, monkeypatch):
    space = quotes_module._QuestionSpace(gold_db, "q14")

    def spread(found):
        rows = [space.index[q.answer_id] for q in found]
        sims = (space.vectors[rows] @ space.vectors[rows].T).toarray()
        return sims[np.triu_indices(len(rows), 1)]

    diverse = representative_quotes(gold_db, "q14", "customer-access", n=4)
    assert len({q.text.casefold() for q in diverse}) == 4
    assert spread(diverse).max() < quotes_module.DUPLICATE
    monkeypatch.setattr(quotes_module, "MMR_LAMBDA", 1.0)  # relevance only
    greedy = representative_quotes(gold_db, "q14", "customer-access", n=4)
    assert spread(diverse).mean() < spread(greedy).mean()


def test_an_answer_is_not_quoted_for_two_themes_when_others_exist(gold_db):
    found = representative_quotes(gold_db, "q16", n=3)
    ids = [q.answer_id for q in found]
    assert len(ids) == len(set(ids))


def test_long_answer_is_trimmed_at_a_sentence_boundary(gold_db):
    found = representative_quotes(gold_db, "q16", "funding", n=3)
    long = [q for q in found if q.text.endswith("…")]
    assert long, "a q16 funding answer runs past 60 words"
    for quote in long:
        original = " ".join(
            gold_db.execute("SELECT text FROM answers WHERE id = ?", [quote.answer_id]).fetchone()[0].split()
        )
        kept = quote.text.removesuffix(" …")
        assert original.startswith(kept) and word_count(kept) <= 60
        rest = original[len(kept) :]
        # The cut falls after a sentence's closing punctuation ("... at the moment..." keeps one ellipsis).
        assert kept[-1] in ".!?" or re.match(r"(\.{2,}|…)\s", rest), rest[:20]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Short and sweet.", "Short and sweet."),
        ("  spread \n over   lines ", "spread over lines"),
        ("One two three four five six seven eight. " + "word " * 70, "One two three four five six seven eight. …"),
        (
            "A sentence that trails off like this one here... " + "more " * 70,
            "A sentence that trails off like this one here …",
        ),
        ("Yes. " + "alpha beta, " * 40, "Yes. " + ", ".join(["alpha beta"] * 29) + " …"),
        ("word " * 75, " ".join(["word"] * 60) + " …"),
    ],
    ids=["short", "whitespace", "sentence", "trailing-dots", "clause", "words"],
)
def test_trim(text, expected):
    assert trim(text) == expected


def test_quote_is_frozen_and_deterministic(gold_db):
    first = representative_quotes(gold_db, "q16", n=3)
    assert first == representative_quotes(gold_db, "q16", n=3)
    with pytest.raises(AttributeError):
        first[0].text = "changed"
    assert all(isinstance(q, Quote) and 0 <= q.score <= 1.0001 for q in first)


def test_attribution_is_role_and_kind_of_council(gold_db):
    found = representative_quotes(gold_db, "q16", n=3)
    for quote in found:
        respondent = gold_db.execute("SELECT respondent_id FROM answers WHERE id = ?", [quote.answer_id]).fetchone()[0]
        role = gold_db.execute(
            "SELECT value FROM respondent_attributes WHERE respondent_id = ? AND name = 'role'", [respondent]
        ).fetchone()[0]
        assert quote.attribution.startswith(role + ", ")


def test_unknown_question_or_theme_names_what_exists(gold_db):
    with pytest.raises(CoderError, match="q14"):
        representative_quotes(gold_db, "q99")
    with pytest.raises(CoderError, match=r"customer-access \(Customer access / self service\)"):
        representative_quotes(gold_db, "q14", "no-such-theme")


def test_uncoded_theme_has_no_quotes(gold_db):
    assert representative_quotes(gold_db, "q13", "gchq") == []


def test_quotes_module_imports_no_ui():
    # spaCy brings in rich for its own CLI; the check is for our shells and the TUI stack.
    shells = ("textual", "coder.cli.main", "coder.tui", "coder.cli")
    code = f"import sys, coder.report.quotes; bad = [m for m in {shells!r} if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the command ----------------------------------------------------------------------------


def db_path(db):
    return db.execute("PRAGMA database_list").fetchone()[2]


def counts(db):
    return [
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("codings", "quote_flags", "answers", "audit")
    ]


def test_cli_markdown(gold_db):
    before = counts(gold_db)
    result = run("quotes", db_path(gold_db), "--question", "q16", "--n", "2")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("**Funding, cuts and savings**\n\n> “")
    assert result.output.count("> — ") == len(representative_quotes(gold_db, "q16", n=2))
    assert counts(gold_db) == before  # quoting reads, never writes


def test_cli_html_escapes_answers(gold_db):
    target = min(answers_of(gold_db, "q16", "leadership-awareness"))
    with gold_db.conn:
        gold_db.execute(
            "UPDATE answers SET text = ? WHERE id = ?",
            ["Leaders must <b>own</b> R&D and digital, not just IT.", target],
        )
    flag(gold_db, target, "leadership-awareness", "q16")
    result = run("quotes", db_path(gold_db), "-q", "q16", "--theme", "leadership-awareness", "--format", "html")
    assert result.exit_code == 0, result.output
    assert "<p>“Leaders must &lt;b&gt;own&lt;/b&gt; R&amp;D and digital, not just IT.”</p>" in result.output
    assert "<b>" not in result.output
    assert result.output.startswith('<section class="quotes" data-theme="leadership-awareness">')
    md = run("quotes", db_path(gold_db), "-q", "q16", "--theme", "leadership-awareness", ok=None)
    assert "> “Leaders must \\<b\\>own\\</b\\> R&D and digital, not just IT.”" in md.output


def test_cli_json(gold_db):
    result = run("quotes", db_path(gold_db), "-q", "q14", "-t", "Customer access / self service", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 3
    assert set(rows[0]) == {"answer_id", "theme_id", "theme_label", "text", "attribution", "score", "flagged"}
    assert {r["theme_id"] for r in rows} == {"customer-access"}


def test_cli_unknown_theme_fails_with_message(gold_db):
    result = run("quotes", db_path(gold_db), "-q", "q14", "--theme", "Blockchain", ok=False)
    assert result.exit_code == 1
    assert "no theme 'Blockchain'" in result.output and "cost-savings" in result.output


def test_cli_unknown_question_and_missing_db(gold_db, tmp_path):
    result = run("quotes", db_path(gold_db), "-q", "q99", ok=False)
    assert result.exit_code == 1 and "q14" in result.output
    result = run("quotes", str(tmp_path / "none.db"), "-q", "q14", ok=False)
    assert result.exit_code == 1 and "no such database" in result.output


def test_cli_help_has_an_example():
    result = run("quotes", "--help")
    assert result.exit_code == 0 and "coder quotes demo.db --question q16" in result.output
