"""Regression tests for a second adversarial review of text in outputs, terminals and quotes (issue 10)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import pytest

from coder.export import formats as table_formats
from coder.export.formats import md_text
from coder.report.tables import Row, Table
from coder.spreadsheet import neutralise, unneutralise
from tests.conftest import fingerprint
from tests.invoke import run

NOT_XML = "bidi \ufffe end \uffff"


def _table(label: str, title: str = "Title") -> Table:
    row = Row(theme_id="t1", label=label, count=1, percent=Decimal("100.0"))
    return Table(
        question="q1",
        title=title,
        header="Theme",
        rows=(row,),
        base="respondents",
        base_n=1,
        respondents=1,
        mentions=1,
        uncoded=0,
    )


# --- formula injection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "\uff1d1+1",
        "\uff0bSUM(A1)",
        "\uff0d1",
        "\uff20SUM(A1)",
        " =1+1",
        '\u00a0=HYPERLINK("x")',
        "  +44 20",
        "\n=cmd|' /C calc'!A0",
        "'\uff1dx",
        "' =x",
    ],
)
def test_full_width_and_padded_formulas_are_neutralised_and_round_trip(cell):
    assert neutralise(cell).startswith("'")
    assert unneutralise(neutralise(cell)) == cell


def test_ordinary_text_is_not_quoted():
    assert neutralise("Cost savings") == "Cost savings"
    assert neutralise("a = b") == "a = b"


# --- XML: U+FFFE and U+FFFF make an SVG or a workbook unreadable -----------------------------------


def _parse_all(xlsx: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        for name in book.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                ET.fromstring(book.read(name))


def test_table_xlsx_with_a_non_character_is_xml():
    _parse_all(table_formats.render(_table(NOT_XML, title=NOT_XML), "xlsx"))


def test_chart_svg_with_a_non_character_is_xml(tmp_path):
    from coder.export.charts import render_chart

    render_chart(_table(NOT_XML, title=NOT_XML), tmp_path / "c.svg")
    ET.parse(tmp_path / "c.svg")


def test_codings_xlsx_with_a_non_character_is_xml(tmp_path):
    from coder.export.coded_data import _cell

    assert _cell("a\ufffeb\uffff") == "ab"


# --- LaTeX and Markdown -------------------------------------------------------------------------


def test_latex_cell_starting_with_a_bracket_is_no_optional_argument():
    out = table_formats.render(_table("[@click] x [2pt]"), "latex")
    assert "\\\\\n[" not in out and "\\midrule\n[" not in out
    assert "{[}@click{]} x {[}2pt{]}" in out


def test_markdown_entities_show_as_typed():
    assert md_text("a &amp; b &#60;script&#62; & c") == "a \\&amp; b \\&#60;script\\&#62; & c"


def test_quotes_markdown_escapes_links_images_and_tables():
    from coder.export.quote_formats import to_markdown
    from coder.report.quotes import Quote

    hostile = "[a](javascript:alert(1)) ![i](http://x/i.png) | x | <http://x> &amp;"
    out = to_markdown([Quote(1, "t", "[l](http://x)", hostile, "Role ![r](http://y)", 1.0, False)])
    for raw in ("[a]", "![i]", "[l]", "![r]", " <http", " | x"):
        assert raw not in out
    assert "\\&amp;" in out


# --- personal data in quotes --------------------------------------------------------------------

PEOPLE = ["John O'Brien", "Siân Ní Bhriain", "Mary Smith-Jones"]
ORGANISATIONS = ["Acme Widgets Ltd", "Waltham Forest Council"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("post to SW1A  1AA please", "post to [postcode] please"),
        ("call 07700 900123 ext 45 today", "call [phone] today"),
        ("020 7946 0958 (x123)", "[phone]"),
        ("ring oh seven seven double oh nine hundred one two three", "ring [phone]"),
        ("zero seven seven zero zero nine zero zero one two three", "[phone]"),
        ("Sian said so", "[name] said so"),
        ("acme widgets did it", "[organisation] did it"),
        ("Acme Widgets Limited did it", "[organisation] did it"),
        ("Acme did it", "[organisation] did it"),
        ("My daughter Keira Smith asked", "My daughter [name] asked"),
        ("My manager Zofia approved", "My manager [name] approved"),
        ("Sia\u0302n said so", "[name] said so"),
    ],
)
def test_personal_data_the_second_review_found_is_redacted(text, expected):
    from coder.report.anonymise import Anonymiser

    assert Anonymiser(PEOPLE, ORGANISATIONS + ["Acme Ltd"])(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "one or two things, three at most",
        "one two three four five",
        "we ranked them one, two, three, four, five, six, seven",
        "acme of perfection is not the aim",
        "digital by default, 14 services",
    ],
)
def test_ordinary_words_and_counts_stay(text):
    from coder.report.anonymise import Anonymiser

    assert Anonymiser(PEOPLE, ORGANISATIONS + ["Digital Ltd"])(text) == text


def test_a_long_run_of_number_words_is_linear():
    import time

    from coder.report.anonymise import Anonymiser

    start = time.process_time()
    Anonymiser()("one " * 20000 + "x-")
    assert time.process_time() - start < 2


# --- terminals: click prints a command's error after the printable terminal is gone ----------------


def test_an_error_quoting_a_hostile_file_name_or_label_cannot_drive_the_terminal(gold_copy_path, tmp_path):
    evil = tmp_path / "ev\x1b]0;pwned\x07il\u202e.csv"
    evil.write_text("respondent_id,question,rank,theme\nR002,q13,1,Nowhere\n", encoding="utf-8")
    before = fingerprint(gold_copy_path)
    result = run("codings", "import", gold_copy_path, evil, "--coder", "x", ok=False)
    assert result.exit_code == 1 and fingerprint(gold_copy_path) == before
    assert "Error:" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
