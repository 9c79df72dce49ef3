from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.coding.codings import Code, apply_codes
from coder.errors import CoderError
from coder.export.formats import to_csv, to_markdown
from coder.report.tables import build_table, percent
from coder.store import open_db
from coder.survey.load import import_responses
from coder.survey.spec import load_spec

# Tables 2.10 and 2.11 of Local Digital Today 2014, row by row.
TABLE_2_10 = [
    ("Cabinet Office/GDS/GOV.UK", "23.8"),
    ("Communities and Local Government", "21.1"),
    ("DWP", "19.7"),
    ("HMRC", "6.8"),
    ("DVLA", "4.1"),
    ("Department of Health/NHS", "2.7"),
    ("HM Treasury/Crown Commercial Service", "2.7"),
    ("Home Office", "2.7"),
    ("BIS", "2.0"),
    ("Dept for Transport/Highways Agency", "2.0"),
    ("CESG", "1.4"),
    ("Other/unknown", "10.9"),
]
TABLE_2_11 = [
    ("Cost and efficiency savings / staff reduction", "38.2"),
    ("Customer access / self service", "30.9"),
    ("Business transformation", "23.5"),
    ("Health and social care integration", "23.5"),
    ("Single customer account / portal", "16.2"),
    ("New website / online forms and transactions", "16.2"),
    ("Improved customer service", "11.8"),
    ("Mobile platform/site and apps", "10.3"),
    ("Front and back office integration", "8.8"),
    ("CRM", "8.8"),
    ("Highways / street scene", "7.4"),
    ("IT infrastructure", "7.4"),
    ("Digital inclusion", "5.9"),
    ("Housing / housing benefits", "5.9"),
    ("Environmental services", "4.4"),
    ("HR / payroll", "4.4"),
]


def test_table_2_10_as_published(gold_db):
    table = build_table(gold_db, "q13")
    assert [(r.label, str(r.percent)) for r in table.rows] == TABLE_2_10
    assert table.base == "mentions" and table.base_n == 147
    assert sum(r.count for r in table.rows) == 147
    assert table.uncoded == 0


def test_table_2_11_as_published(gold_db):
    table = build_table(gold_db, "q14")
    assert [(r.label, str(r.percent)) for r in table.rows] == TABLE_2_11
    assert table.base == "respondents" and table.base_n == 68
    assert table.mentions == 152
    assert sum(r.count for r in table.rows) == 152  # sums past the base: up to three each


def test_markdown_reproduces_the_report(gold_db):
    text = to_markdown(build_table(gold_db, "q13"))
    assert "| Central Government department or agency | Response |" in text
    assert "| Cabinet Office/GDS/GOV.UK | 23.8% |" in text
    assert text.index("| CESG | 1.4% |") < text.index("| Other/unknown | 10.9% |")
    assert "Base: 147 mentions" in text


def test_csv_format_is_exact(gold_db):
    lines = to_csv(build_table(gold_db, "q14")).splitlines()
    assert lines[0] == "theme,count,percent"
    assert lines[1] == "Cost and efficiency savings / staff reduction,26,38.2"
    assert lines[-1] == "HR / payroll,3,4.4"


def test_other_base_on_request(gold_db):
    table = build_table(gold_db, "q14", "mentions")
    assert table.base_n == 152
    assert sum(r.percent for r in table.rows) == pytest.approx(Decimal(100), abs=Decimal("0.8"))


def test_non_answers_are_in_no_base(gold_db):
    # Respondents whose only q14 entries are "n/a" or "-" exist, and are not in the 68.
    non_answering = gold_db.execute(
        """SELECT count(DISTINCT respondent_id) FROM answers WHERE question_id = 'q14' AND is_answer = 0
           AND respondent_id NOT IN (SELECT respondent_id FROM answers WHERE question_id = 'q14' AND is_answer = 1)"""
    ).fetchone()[0]
    assert non_answering >= 1
    assert build_table(gold_db, "q14").base_n == 68


def test_unknown_question(gold_db):
    with pytest.raises(CoderError, match="unknown question 'q99'.*q13"):
        build_table(gold_db, "q99")


@pytest.mark.parametrize(
    "count,base,expected",
    [
        (35, 147, "23.8"),
        (2, 147, "1.4"),
        (1, 8, "12.5"),
        (1, 16, "6.3"),
        (1, 3, "33.3"),
        (0, 0, "0.0"),
        (1, 200, "0.5"),
    ],
)
def test_percent_rounds_half_up_exactly(count, base, expected):
    assert str(percent(count, base)) == expected


# --- property tests on a tiny survey -----------------------------------------------------------

codings_strategy = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["apple", "pear", "plum", "other", "kiwi"])), max_size=30
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=codings_strategy, base=st.sampled_from(["mentions", "respondents"]))
def test_counts_and_percentages_are_consistent(mini_db_factory, codes, base):
    db, answer_ids, pks = mini_db_factory()
    for index, theme in codes:
        apply_codes(db, answer_ids[index % len(answer_ids)], [Code(pks[theme], coder="p")], coder="p")
    table = build_table(db, "fav", base)
    pairs = db.execute(
        """SELECT DISTINCT a.id, a.respondent_id, t.id FROM codings c JOIN answers a ON a.id = c.answer_id
           JOIN themes t ON t.pk = c.theme_pk WHERE a.question_id = 'fav' AND a.is_answer = 1"""
    ).fetchall()
    row_of = lambda t: "other" if t in ("other", "kiwi") else t  # noqa: E731
    if base == "mentions":
        assert table.base_n == len(pairs) == sum(r.count for r in table.rows)
        expected = {}
        for _, _, theme in pairs:
            expected[row_of(theme)] = expected.get(row_of(theme), 0) + 1
    else:
        assert table.base_n == 3  # r1, r2, r3 answered; r4 wrote "none"
        expected = {}
        for _, respondent, theme in pairs:
            expected.setdefault(row_of(theme), set()).add(respondent)
        expected = {k: len(v) for k, v in expected.items()}
        assert all(r.count <= table.base_n for r in table.rows)
    assert {r.theme_id: r.count for r in table.rows} == expected
    for row in table.rows:
        assert row.percent == percent(row.count, table.base_n)
        assert Decimal(0) <= row.percent <= Decimal(100)
    counts = [r.count for r in table.rows if not r.folded]
    assert counts == sorted(counts, reverse=True)
    if any(r.folded for r in table.rows):
        assert table.rows[-1].folded
    if base == "mentions" and table.rows:
        assert abs(sum(r.percent for r in table.rows) - 100) <= Decimal("0.05") * len(table.rows)


@pytest.fixture
def mini_db_factory(mini, tmp_path_factory):
    """A fresh imported database per call; imported once and copied, as property tests call it per example."""
    template = tmp_path_factory.mktemp("prop") / "template.db"
    db = open_db(template)
    import_responses(db, load_spec(mini["spec"]), mini["export"])
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()

    def make():
        path = tmp_path_factory.mktemp("prop") / "p.db"
        shutil.copy(template, path)
        db = open_db(path)
        answer_ids = [
            r[0] for r in db.execute("SELECT id FROM answers WHERE question_id = 'fav' AND is_answer = 1 ORDER BY id")
        ]
        pks = {r[0]: r[1] for r in db.execute("SELECT id, pk FROM themes")}
        return db, answer_ids, pks

    return make


def test_ties_keep_codebook_order_and_fold_row_is_last(mini_db_factory):
    db, answer_ids, pks = mini_db_factory()
    # kiwi (folded) and plum, pear all once; apple twice.
    for answer_id, theme in zip(answer_ids, ["plum", "kiwi", "pear", "apple", "apple"]):
        apply_codes(db, answer_id, [Code(pks[theme], coder="t")], coder="t")
    table = build_table(db, "fav", "mentions")
    assert [r.label for r in table.rows] == ["Apple", "Pear", "Plum", "Other/unknown"]
    assert table.rows[-1].folded
