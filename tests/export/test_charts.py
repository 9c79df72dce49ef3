from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from coder.errors import CoderError
from coder.export.charts import render_chart
from coder.report.tables import Row, Table, build_table
from tests.invoke import run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def bar_ids(path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return [el.get("id") for el in root.iter() if (el.get("id") or "").startswith("bar-")]


@pytest.mark.parametrize("question,bars", [("q13", 12), ("q14", 16)])
def test_png_chart_is_valid_with_a_bar_per_row(gold_db, tmp_path, question, bars):
    path = tmp_path / f"{question}.png"
    assert render_chart(build_table(gold_db, question), path) == bars
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    assert width == 1200 and height > 600  # 8 inches at 150 dpi; taller with more rows


@pytest.mark.parametrize("question,bars", [("q13", 12), ("q14", 16)])
def test_svg_chart_has_one_element_per_bar_in_table_order(gold_db, tmp_path, question, bars):
    path = tmp_path / f"{question}.svg"
    table = build_table(gold_db, question)
    assert render_chart(table, path) == bars
    assert bar_ids(path) == [f"bar-{i}" for i in range(bars)]
    text = path.read_text(encoding="utf-8")
    assert table.base_text in text  # the caption, as text (svg.fonttype none)
    assert f"{table.rows[0].percent}%" in text


def test_long_labels_wrap_and_fold_row_is_drawn(tmp_path):
    rows = (
        Row("a", "A very long theme label that would not fit beside its bar at report size", 5, Decimal("50.0")),
        Row("other", "Other", 5, Decimal("50.0"), folded=True),
    )
    table = Table("q1", "Title & more", "Theme", "mentions", 10, 8, 10, 0, rows)
    path = tmp_path / "wrapped.svg"
    assert render_chart(table, path) == 2
    text = path.read_text(encoding="utf-8")
    assert "A very long theme label that would not fit beside its bar at report size" not in text


def test_empty_table_draws_a_note_and_no_bars(tmp_path):
    table = Table("q1", "Nothing yet", "Theme", "respondents", 0, 0, 0, 3, ())
    path = tmp_path / "empty.svg"
    assert render_chart(table, path) == 0
    assert bar_ids(path) == [] and "No coded answers yet" in path.read_text(encoding="utf-8")


def test_chart_refuses_other_formats(gold_db, tmp_path):
    with pytest.raises(CoderError, match=r"chart is \.png or \.svg"):
        render_chart(build_table(gold_db, "q13"), tmp_path / "q13.pdf")


def test_chart_command(gold_db, tmp_path):
    gold_db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db_path = gold_db.conn.execute("PRAGMA database_list").fetchone()[2]
    out = tmp_path / "q14.svg"
    result = run("chart", db_path, "--question", "q14", "--output", str(out), "--min-count", "5")
    assert result.exit_code == 0, result.output
    assert "(13 bars)" in result.output and len(bar_ids(out)) == 13
    result = run("chart", db_path, "--question", "q14", "--output", str(tmp_path / "x.gif"), ok=False)
    assert result.exit_code == 1 and ".png or .svg" in result.output
