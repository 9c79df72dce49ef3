"""Report commands: tables in every format, crosstabs, wave comparisons, charts and report folders."""

from __future__ import annotations

from pathlib import Path

import click

from coder.cli.common import db_argument, friendly, readonly_db
from coder.errors import CoderError
from coder.outputs import write_output
from coder.report.tables import (
    Comparison,
    Crosstab,
    Table,
    build_crosstab,
    build_table,
    compare_table,
    read_previous_csv,
)

FORMATS = ["md", "csv", "xlsx", "html", "latex", "json"]


def register(cli: click.Group) -> None:
    cli.add_command(table)
    cli.add_command(chart)
    cli.add_command(report)


def table_options(func):
    """The options every table-drawing command shares."""
    for option in reversed(
        [
            click.option("--question", "-q", required=True, help="Question id, e.g. q13."),
            click.option(
                "--base",
                type=click.Choice(["mentions", "respondents"]),
                default=None,
                help="Percentage base (default: the spec's base for the question).",
            ),
            click.option("--all-themes", is_flag=True, help="Also list themes nobody mentioned (0%)."),
            click.option(
                "--min-count",
                type=click.IntRange(min=0),
                default=0,
                help='Fold themes counted fewer than N times into the fold row (or an "Other" row).',
            ),
            click.option(
                "--no-nets",
                "no_nets",
                is_flag=True,
                help="Print the flat table: no net rows for a codebook's parent themes.",
            ),
        ]
    ):
        func = option(func)
    return func


@click.command()
@db_argument
@table_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to FILE instead of stdout (required for xlsx).",
)
@click.option("--by", "by", default=None, metavar="ATTRIBUTE", help="Crosstab by a respondent attribute, e.g. role.")
@click.option(
    "--compare",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PREVIOUS",
    help="Compare with an earlier wave's `coder table --format csv` output.",
)
@click.option("--previous-label", default="2013", show_default=True, help="Column heading for the earlier wave.")
@click.option("--current-label", default="2014", show_default=True, help="Column heading for this wave.")
@friendly
def table(db, question, base, all_themes, min_count, no_nets, fmt, output, by, compare, previous_label, current_label):
    """Print a question's percentage table.

    Rows run by count, ties in codebook order, the fold ("Other") row last.
    A codebook with nets (themes with a parent) runs in codebook order with
    each net's row above its indented children; --no-nets prints it flat.
    `--format csv` prints exactly `theme,count,percent` (with nets, then
    `level,net`); every other format prints the base under the table.

    \b
    Examples:
        coder table demo.db --question q13 --format csv
        coder table demo.db --question q14 --by role --format xlsx -o q14-role.xlsx
        coder table demo.db --question q14 --compare q14-2013.csv
    """
    from coder.export.formats import render

    if by and compare:
        raise CoderError("--by and --compare do not combine: give one of them")
    if fmt == "xlsx" and not output:
        raise CoderError("xlsx is a binary file: give --output FILE.xlsx")
    database = readonly_db(db)
    options = dict(include_empty=all_themes, min_count=min_count, nets=not no_nets)
    shape: Table | Crosstab | Comparison
    if by:
        shape = build_crosstab(database, question, by, base, **options)
    elif compare:
        shape = compare_table(
            build_table(database, question, base, **options),
            read_previous_csv(compare),
            previous_label=previous_label,
            current_label=current_label,
            source=Path(compare).name,
        )
    else:
        shape = build_table(database, question, base, **options)
    content = render(shape, fmt)
    if output is None:
        click.echo(content, nl=False)
        return
    write_output(output, content, inputs=(db, compare) if compare else (db,))
    click.echo(f"Wrote {output}", err=True)


@click.command()
@db_argument
@table_options
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="FILE.png or FILE.svg.")
@friendly
def chart(db, question, base, all_themes, min_count, no_nets, output):
    """Draw a question's table as a horizontal bar chart (PNG or SVG).

    Bars in table order (largest on top, the fold row last), each with its
    percentage; the title is the table's and the base is the caption. Net
    bars are darker with bold labels, their children beneath (--no-nets: flat).

    \b
    Example:
        coder chart demo.db --question q14 --output q14.png
    """
    from coder.export.charts import render_chart

    built = build_table(
        readonly_db(db), question, base, include_empty=all_themes, min_count=min_count, nets=not no_nets
    )
    bars = render_chart(built, output, inputs=(db,))
    click.echo(f"Wrote {output} ({bars} bars)")


@click.command()
@db_argument
@click.option(
    "--output", "-o", required=True, type=click.Path(file_okay=False), help="Folder to write (created if missing)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace a non-empty DIR that coder report wrote (it holds .coder-report); any other is refused.",
)
@friendly
def report(db, output, force):
    """Write a report folder: every question's table, chart and quotes, with an index.

    Each question gets its table as md, csv, xlsx, html, tex and json, a chart
    as png and svg, and (when coder.report.quotes is installed) representative quotes;
    index.md and index.html embed every table and link every file. Written
    all or nothing: a failure leaves no half-written folder. The folder is
    marked with a .coder-report file; --force replaces only a marked folder
    (never a symbolic link, nor one holding the database or the current
    directory), so it cannot delete a folder coder did not write.

    \b
    Example:
        coder report demo.db --output report/
    """
    from coder.export.folder import write_report

    written = write_report(readonly_db(db), output, force=force)
    click.echo(f"Wrote {len(written.files)} files for {len(written.questions)} questions to {output}")
    if written.quotes_note:
        click.echo(written.quotes_note)
