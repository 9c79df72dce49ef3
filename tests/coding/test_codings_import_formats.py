"""`codings import` reads themes as label or id paths, and the wide layout teams keep in spreadsheets."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.codebook.db import add_theme, nest_theme
from coder.codebook.model import Codebook, Theme, load_codebook, validate
from coder.coding.codings import resolve_theme, theme_path
from coder.errors import CoderError
from tests.conftest import CODEBOOKS, CORPUS, fingerprint, read_csv_rows, write_csv
from tests.invoke import run

POLITICAL = "Political and member buy-in"
CULTURE = "Organisation-wide buy-in and culture"


def nets(db):
    """q6's codebook, nested: Support > Buy-in > (Political..., Organisation-wide...), Capability > Staff skills."""
    cb = "success-factors-2014"
    add_theme(db, cb, "Support", theme_id="support")
    add_theme(db, cb, "Buy-in", theme_id="buy-in", parent="support")
    add_theme(db, cb, "Capability", theme_id="capability")
    for theme, parent in (
        ("political-buy-in", "buy-in"),
        ("organisation-buy-in", "buy-in"),
        ("staff-skills", "capability"),
    ):
        nest_theme(db, cb, theme, parent)


def q6_respondents(n):
    """Respondents who really answered q6 in the corpus."""
    return list(
        dict.fromkeys(r["respondent_id"] for r in read_csv_rows(CORPUS / "codings.csv") if r["question"] == "q6")
    )[:n]


def codings(db, question):
    return sorted(
        db.execute(
            """SELECT a.respondent_id, a.rank, t.id, c.coder FROM codings c JOIN answers a ON a.id = c.answer_id
           JOIN themes t ON t.pk = c.theme_pk WHERE a.question_id = ?""",
            [question],
        ).fetchall()
    )


def invoke(db_path, path, *args):
    return run("codings", "import", str(db_path), str(path), "--coder", "ann", *args, ok=None)


# Label and id paths


def test_label_and_id_paths_of_any_depth_import(corpus_db, tmp_path):
    nets(corpus_db)
    r = q6_respondents(6)
    path = write_csv(
        tmp_path / "paths.csv",
        [
            ["respondent_id", "question", "rank", "theme"],
            [r[0], "q6", "1", f"Support > Buy-in > {POLITICAL}"],  # the whole path
            [r[1], "q6", "1", f"buy-in>{CULTURE.upper()}"],  # from the parent, no spaces, any case
            [r[2], "q6", "1", "support > buy-in > political-buy-in"],  # ids
            [r[3], "q6", "1", "capability/staff-skills"],  # ids with '/'
            [r[4], "q6", "1", "  Capability  >  staff-skills "],  # label and id mixed
            [r[5], "q6", "1", "Buy-in"],  # a net is a theme too
        ],
    )
    result = invoke(tmp_path / "corpus.db", path)
    assert result.exit_code == 0, result.output
    assert codings(corpus_db, "q6") == sorted(
        [
            (r[0], 1, "political-buy-in", "ann"),
            (r[1], 1, "organisation-buy-in", "ann"),
            (r[2], 1, "political-buy-in", "ann"),
            (r[3], 1, "staff-skills", "ann"),
            (r[4], 1, "staff-skills", "ann"),
            (r[5], 1, "buy-in", "ann"),
        ]
    )


def test_a_path_with_the_wrong_parent_names_row_value_and_real_path(corpus_db, tmp_path):
    nets(corpus_db)
    r = q6_respondents(2)
    path = write_csv(
        tmp_path / "wrong.csv",
        [
            ["respondent_id", "question", "rank", "theme"],
            [r[0], "q6", "1", f"Support > Buy-in > {POLITICAL}"],
            [r[1], "q6", "1", f"Capability > {POLITICAL}"],
        ],
    )
    before = fingerprint(tmp_path / "corpus.db")
    result = invoke(tmp_path / "corpus.db", path)
    assert result.exit_code == 1
    assert "row 3" in result.output and "column 'theme'" in result.output
    assert f"Capability > {POLITICAL}" in result.output
    assert f"Support > Buy-in > {POLITICAL}" in result.output.split("does not match", 1)[1]
    assert fingerprint(tmp_path / "corpus.db") == before


def test_a_path_under_a_top_level_theme_says_it_is_top_level(corpus_db, tmp_path):
    r = q6_respondents(1)
    path = write_csv(
        tmp_path / "top.csv",
        [["respondent_id", "question", "rank", "theme"], [r[0], "q6", "1", "User focus > Funding and investment"]],
    )
    result = invoke(tmp_path / "corpus.db", path)
    assert result.exit_code == 1 and "a top-level theme" in result.output and "row 2" in result.output


def same_label_codebook():
    # Codebook files refuse one label twice, but the rule for an ambiguous label must still hold.
    return Codebook(
        "money",
        "Money",
        themes=(
            Theme("money", "Money"),
            Theme("time", "Time"),
            Theme("money-cost", "Cost", parent="money"),
            Theme("time-cost", "Cost", parent="time"),
        ),
    )


def test_a_label_under_two_parents_must_be_a_path():
    cb = same_label_codebook()
    with pytest.raises(CoderError) as caught:
        resolve_theme(cb, "cost")
    assert "'Money > Cost'" in caught.value.message and "'Time > Cost'" in caught.value.message
    assert "path" in caught.value.message
    assert resolve_theme(cb, "Time > Cost").id == "time-cost"
    assert resolve_theme(cb, "money/money-cost").id == "money-cost"


def test_unknown_theme_names_the_closest_id(corpus_db, tmp_path):
    path = write_csv(
        tmp_path / "typo.csv",
        [["respondent_id", "question", "rank", "theme"], ["R002", "q14", "1", "Cost and efficency savings"]],
    )
    result = invoke(tmp_path / "corpus.db", path)
    assert result.exit_code == 1 and "row 2" in result.output and "'cost-savings'" in result.output


# Property: any theme of any codebook tree resolves from any spelling of any of its paths.

WORDS = st.text(alphabet="abcdeXYZé", min_size=1, max_size=5)
LABELS = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)


@st.composite
def trees(draw):
    n = draw(st.integers(1, 7))
    labels = draw(st.lists(LABELS, min_size=n, max_size=n, unique_by=str.casefold))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    themes = tuple(Theme(f"t{i}", labels[i], parent=None if p is None else f"t{p}") for i, p in enumerate(parents))
    codebook = Codebook("tree", "Tree", themes=themes)
    validate(codebook)
    return codebook


@settings(max_examples=60, deadline=None)
@given(trees(), st.data())
def test_any_spelling_of_a_path_resolves_to_its_theme(codebook, data):
    theme = data.draw(st.sampled_from(codebook.themes))
    chain = [theme]
    while chain[0].parent:
        chain.insert(0, codebook.theme(chain[0].parent))
    chain = chain[data.draw(st.integers(0, len(chain) - 1)) :]  # the path may start at any net above
    parts = []
    for t in chain:
        part = (
            t.id
            if data.draw(st.booleans())
            else data.draw(st.sampled_from([t.label, t.label.upper(), t.label.lower()]))
        )
        parts.append(data.draw(st.sampled_from(["", " ", "  "])) + part + data.draw(st.sampled_from(["", " "])))
    value = ">".join(parts).strip()
    assert resolve_theme(codebook, value) == theme
    assert resolve_theme(codebook, "/".join(t.id for t in chain)) == theme
    assert theme_path(codebook, theme).split(" > ")[-1] == theme.label


@settings(max_examples=50, deadline=None)
@given(trees(), st.data())
def test_a_wrong_parent_is_refused_with_the_real_path(codebook, data):
    theme = data.draw(st.sampled_from(codebook.themes))
    wrong = [t for t in codebook.themes if t.id not in (theme.id, theme.parent)]
    if not wrong:
        return
    other = data.draw(st.sampled_from(wrong))
    with pytest.raises(CoderError) as caught:
        resolve_theme(codebook, f"{other.label} > {theme.label}")
    assert theme_path(codebook, theme) in caught.value.message


# The wide layout


def gold_q14():
    """(respondent, rank) -> theme ids of the corpus's gold coding of q14, in file order."""
    codebook = load_codebook(CODEBOOKS / "priorities-2014.yaml")
    sets: dict[tuple, list[str]] = {}
    for row in read_csv_rows(CORPUS / "codings.csv"):
        if row["question"] == "q14":
            sets.setdefault((row["respondent_id"], int(row["rank"])), []).append(codebook.find(row["theme"]).id)
    return sets


def expected(sets, coder="ann"):
    return sorted((r, k, t, coder) for (r, k), themes in sets.items() for t in dict.fromkeys(themes))


def test_wide_csv_imports_like_the_long_file(corpus_db, tmp_path):
    gold = gold_q14()
    width = max(map(len, gold.values()))
    header = ["respondent_id", "question", "rank", "Code 1", "code2", "theme_3", "CODE-4"][: 3 + max(width + 1, 3)]
    rows = [header]
    for (respondent, rank), themes in gold.items():
        cells = list(themes) + [""] * (len(header) - 3 - len(themes))
        rows.append([respondent, "q14", str(rank), *cells])
    rows[1][-1] = rows[1][3]  # the same code twice in one row counts once
    result = invoke(tmp_path / "corpus.db", write_csv(tmp_path / "wide.csv", rows), "--wide")
    assert result.exit_code == 0, result.output
    assert codings(corpus_db, "q14") == expected(gold)
    assert f"Imported {sum(len(set(t)) for t in gold.values())} codings on {len(gold)} answer cells" in result.output


def test_wide_xlsx_with_question_option_and_no_rank(corpus_db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    r = q6_respondents(3)
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (
        ["respondent_id", "code_1", "code_2", "code_3"],
        [r[0], "User focus", "funding", None],
        [r[1], None, None, None],  # coded with nothing: skipped
        [r[2], "Other", None, "other"],
    ):
        sheet.append(row)
    book.save(tmp_path / "wide.xlsx")
    result = invoke(tmp_path / "corpus.db", tmp_path / "wide.xlsx", "--wide", "--question", "q6")
    assert result.exit_code == 0, result.output
    assert codings(corpus_db, "q6") == sorted(
        [(r[0], 1, "user-focus", "ann"), (r[0], 1, "funding", "ann"), (r[2], 1, "other", "ann")]
    )


@pytest.mark.parametrize(
    "rows, args, message, where",
    [
        ([["respondent_id", "code_1"], ["R002", "CRM"]], ["--wide"], "--question", "row 1"),
        (
            [["respondent_id", "question", "rank", "code_1"], ["R002", "q14", "1", "CRM"]],
            ["--question", "q14", "--wide"],
            "the file has a question column",
            "row 1",
        ),
        (
            [["respondent_id", "question", "rank", "code_1", "code_2"], ["R002", "q14", "1", "CRM", ""]],
            [],
            "--wide",
            "row 1",
        ),
        ([["respondent_id", "question", "rank", "theme"], ["R002", "q14", "1", "CRM"]], ["--wide"], "code_1", "row 1"),
        ([["respondent_id", "question", "code_1"], ["R002", "q14", "CRM"]], ["--wide"], "add a rank column", "row 2"),
        (
            [["respondent_id", "question", "rank", "Code 1", "Code 2"], ["R002", "q14", "1", "CRM", "Nonsense"]],
            ["--wide"],
            "unknown theme 'Nonsense'",
            "row 2, column 'Code 2'",
        ),
        (
            [["respondent_id", "question", "rank", "code_1"], ["R002", "q14", "1", "CRM"], ["R999", "q14", "1", "CRM"]],
            ["--wide"],
            "no such respondent",
            "row 3, column 'respondent_id'",
        ),
        ([["respondent_id", "question", "rank", "code_1"]], ["--wide"], "no codes", "wide.csv"),
        (
            [["respondent_id", "question", "rank", "code_1"], ["R002", "q14", "1", ""]],
            ["--wide"],
            "no codes",
            "wide.csv",
        ),
        (
            [["respondent_id", "question", "rank", "theme"], ["R002", "q14", "1", ""]],
            [],
            "theme is empty",
            "row 2, column 'theme'",
        ),
        (
            [["respondent_id", "rank", "code_1"], ["R002", "1", "CRM"]],
            ["--wide", "--question", "q99"],
            "unknown question 'q99'",
            "",
        ),
    ],
    ids=[
        "no-question",
        "two-questions",
        "wide-without-flag",
        "flag-without-codes",
        "ranked-without-rank",
        "unknown-theme",
        "unknown-respondent",
        "header-only",
        "all-blank",
        "blank-long-theme",
        "unknown-question",
    ],
)
def test_bad_files_name_the_problem_and_import_nothing(gold_copy_path, tmp_path, rows, args, message, where):
    before = fingerprint(gold_copy_path)
    result = invoke(gold_copy_path, write_csv(tmp_path / "wide.csv", rows), *args)
    assert result.exit_code == 1 and message in result.output and where in result.output, result.output
    assert fingerprint(gold_copy_path) == before


def test_an_empty_file_is_refused(gold_copy_path, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    result = invoke(gold_copy_path, tmp_path / "empty.csv", "--wide")
    assert result.exit_code == 1 and "empty" in result.output and "empty.csv" in result.output


def test_the_long_layout_stays_the_default_and_takes_a_question_option(corpus_db, tmp_path):
    path = write_csv(
        tmp_path / "long.csv", [["respondent_id", "rank", "theme"], ["R002", "1", "CRM"], ["R002", "1", "crm"]]
    )
    result = invoke(tmp_path / "corpus.db", path, "--question", "q14")
    assert result.exit_code == 0, result.output
    assert [row[2] for row in codings(corpus_db, "q14")] == ["crm"]


def test_a_label_holding_the_separator_is_still_a_label():
    cb = Codebook("ages", "Ages", themes=(Theme("old", "Age > 65"), Theme("age", "Age"), Theme("young", "Young")))
    assert resolve_theme(cb, "age > 65").id == "old"
    with pytest.raises(CoderError, match="empty part"):
        resolve_theme(cb, "Age > > Young")


def test_two_coders_wide_files_feed_agreement(corpus_db, tmp_path):
    gold = gold_q14()
    keys = list(gold)[:40]
    header = ["respondent_id", "question", "rank", "code_1", "code_2", "code_3"]
    mine = [[r, "q14", str(k), *(gold[r, k] + ["", "", ""])[:3]] for r, k in keys]
    theirs = [row[:] for row in mine]
    for row in theirs[::4]:
        row[3] = "crm" if row[3] != "crm" else "cost-savings"
    db_path = tmp_path / "corpus.db"
    for coder, rows in (("ann", mine), ("bob", theirs)):
        result = run(
            "codings",
            "import",
            str(db_path),
            str(write_csv(tmp_path / f"{coder}.csv", [header, *rows])),
            "--coder",
            coder,
            "--wide",
            "--independent",
        )
        assert result.exit_code == 0, result.output
    result = run("agreement", str(db_path), "--question", "q14", "--coders", "ann,bob", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    agree = sum(1 for a, b in zip(mine, theirs) if set(filter(None, a[3:])) == set(filter(None, b[3:])))
    assert stats["units"] == len(keys) and abs(stats["percent_agreement"] - agree / len(keys)) < 1e-9
    assert agree < len(keys)
