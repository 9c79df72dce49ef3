"""`coder codings`: codings in and out of the database (CSV or XLSX; long or wide layout)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from coder.cli.common import db_argument, existing_db, friendly, readonly_db
from coder.coding.codings import export_codings, import_codings
from coder.errors import CoderError
from coder.export.coded_data import EXCEL_CELL_CHARS, cut_answers, export_csv_file, export_xlsx, write_safe_csv


def register(cli: click.Group) -> None:
    cli.add_command(codings)


@click.group()
def codings():
    """Export and import codings (CSV or XLSX; long or wide layout)."""


@codings.command(name="import")
@db_argument
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, help="Name recorded as the coder of these codes.")
@click.option(
    "--replace",
    is_flag=True,
    help="Answer cells in FILE get exactly its codes as their final coding, whoever coded them before.",
)
@click.option(
    "--independent",
    is_flag=True,
    help="CODER coded blind: keep the codes as CODER's own too, for agreement and adjudication.",
)
@click.option(
    "--wide",
    is_flag=True,
    help="One row per answer cell, its codes over columns code_1 ... code_N (blank cells skipped).",
)
@click.option(
    "--question", "-q", default=None, help="The question every row codes, for a FILE with no question column."
)
@click.option(
    "--add-themes",
    is_flag=True,
    help="Add the themes FILE names that the codebook lacks ('Net > Theme' adds the net too), in the same transaction.",
)
@friendly
def codings_import(db, file, coder, replace, independent, wide, question, add_themes):
    """Record the codes in FILE as confirmed by CODER.

    FILE is CSV or XLSX. The long layout has a row per code, with at least
    respondent_id,question,rank,theme; --wide reads a row per answer cell
    (respondent_id, question, optional rank, code_1 ... code_N); a themes
    column holds an answer's themes joined by ';', and a workbook as
    `codings export --format xlsx` writes it (a sheet per question, named by
    its id) is read sheet by sheet. A theme is
    its id, its label, or its path: 'Net > Theme' (labels or ids; any depth)
    or 'net-id/theme-id'. An unknown question, answer cell or theme stops
    the import before anything is written. On answers another coder already
    confirmed, CODER's codes are kept as CODER's own (blind) codes: where the
    coders agree the answer settles, where they differ the first coding stays
    and the answer waits for `coder code --adjudicate`. --replace overwrites.
    With --add-themes a theme FILE names that the codebook lacks is added
    (after `coder init`, the coders' files may be the only codebook there is).
    """
    result = import_codings(
        existing_db(db),
        file,
        coder=coder,
        replace=replace,
        independent=independent,
        wide=wide,
        question=question,
        add_themes=add_themes,
    )
    for codebook_id, labels in result["themes_added"].items():
        shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
        click.echo(f"Added {len(labels)} theme(s) to codebook {codebook_id}: {shown}")
    if result["shared"]:
        click.echo(
            f"Warning: {result['shared']} answer cells in {file} were already confirmed by another coder; "
            f"kept {coder}'s codes as their own, not the final coding: {result['agreed']} agree, "
            f"{result['disputed']} differ and wait for `coder code --adjudicate` "
            "(--replace overwrites instead)",
            err=True,
        )
    click.echo(f"Imported {result['codings']} codings on {result['answers']} answer cells as confirmed by {coder}")


@codings.command(name="export")
@db_argument
@click.option("--question", "-q", default=None, help="Only this question.")
@click.option("--changed", is_flag=True, help="Only answers whose text changed since they were coded.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="csv (default) or xlsx (needs --output); a FILE ending in .xlsx means xlsx.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@friendly
def codings_export(db, question, changed, fmt, output):
    """Write codings as CSV to stdout, or as CSV or XLSX to a file.

    CSV columns: respondent_id,question,rank,answer,theme,status,coder,score,coded_at
    (theme is the theme label; one row per code). XLSX: one sheet per question
    with respondent_id, rank, answer, themes (labels joined by "; "), status,
    coder; one row per coded answer. Text that a spreadsheet would run as a
    formula (starting with = + - @) is written with a leading '.

    \b
    coder codings export survey.db --question q14 > q14.csv
    coder codings export survey.db --format xlsx --output codings.xlsx
    """
    if fmt is None:
        fmt = "xlsx" if output and Path(output).suffix.casefold() == ".xlsx" else "csv"
    database = readonly_db(db)
    if fmt == "xlsx":
        if not output:
            raise CoderError("--format xlsx writes a file: give --output FILE.xlsx")
        counts = export_xlsx(database, output, question, changed_only=changed, inputs=(db,))
        click.echo(f"Wrote {sum(counts.values())} coded answers on {len(counts)} sheet(s) to {output}", err=True)
        if cut := cut_answers(database, question, changed_only=changed):
            click.echo(
                f"Warning: {cut} answer(s) over Excel's {EXCEL_CELL_CHARS:,} characters a cell are cut in the "
                "workbook, each with a note saying so; the CSV export (--format csv) has them whole",
                err=True,
            )
    elif output:
        count = export_csv_file(database, output, question, changed_only=changed, inputs=(db,))
        click.echo(f"Wrote {count} codings to {output}", err=True)
    else:
        write_safe_csv(export_codings(database, question, changed_only=changed), sys.stdout)
