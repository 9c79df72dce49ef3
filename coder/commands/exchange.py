"""Exchange commands: codings and codebooks in and out of the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import themes as theme_ops
from ..codebook import dump_codebook, load_codebook, slugify
from ..codings import export_codings, question_codebook
from ..errors import CoderError
from ..export.coded_data import export_csv_file, export_xlsx, write_safe_csv
from ..export.refi_qda import dump_qdc, is_qdc, load_qdc
from ..outputs import write_output
from .common import _codebook_id, db_argument, friendly, readonly_db, with_codebook_options
from .newdb import open_or_create


def register(cli: click.Group) -> None:
    for group, command in (("codings", codings_export), ("codebook", codebook_export), ("codebook", codebook_import)):
        parent = cli.commands[group]
        if not isinstance(parent, click.Group):
            raise TypeError(f"coder {group} must be a command group")
        parent.add_command(command)


@click.command(name="export")
@db_argument
@click.option("--question", "-q", default=None, help="Only this question.")
@click.option("--changed", is_flag=True, help="Only answers whose text changed since they were coded.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="csv (default) or xlsx (needs --output); a FILE ending in .xlsx means xlsx.")
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
    elif output:
        count = export_csv_file(database, output, question, changed_only=changed, inputs=(db,))
        click.echo(f"Wrote {count} codings to {output}", err=True)
    else:
        write_safe_csv(export_codings(database, question, changed_only=changed), sys.stdout)


@click.command(name="export")
@db_argument
@with_codebook_options
@click.option("--format", "fmt", type=click.Choice(["yaml", "qdc"]), default=None,
              help="yaml (default) or qdc (REFI-QDA); a FILE ending in .qdc means qdc.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@friendly
def codebook_export(db, codebook_id, question, fmt, output):
    """Write a codebook from DB as YAML (with aliases learnt while coding) or REFI-QDA .qdc.

    A .qdc file (REFI-QDA codebook exchange, read by NVivo, ATLAS.ti, MAXQDA,
    QualCoder) carries the hierarchy, labels, descriptions and colours; keywords
    and aliases travel in YAML only.

    \b
    coder codebook export survey.db --question q14 -o priorities.yaml
    coder codebook export survey.db --question q14 -o priorities-2014.qdc
    """
    if fmt is None:
        fmt = "qdc" if output and is_qdc(output) else "yaml"
    database = readonly_db(db)
    cb = theme_ops.read_codebook(database, _codebook_id(database, codebook_id, question))
    text = dump_qdc(cb) if fmt == "qdc" else dump_codebook(cb)
    if output:
        write_output(output, text, inputs=(db,))
    else:
        click.echo(text, nl=False)


@click.command(name="import")
@db_argument
@click.argument("file", type=click.Path(dir_okay=False))
@with_codebook_options
@click.option("--coder", default=None, help="Name recorded in the audit log.")
@friendly
def codebook_import(db, file, codebook_id, question, coder):
    """Load a codebook (YAML or REFI-QDA .qdc) into DB, adding it or updating it by theme id.

    Themes keep their codings across the update. A theme with codings cannot
    be dropped: merge it into another first.

    A .qdc file has no codebook id: it updates the codebook named by --codebook
    or --question, else the one whose id is the file name. Its codes find their
    themes by guid (files coder wrote) or label, and keep their ids, keywords
    and aliases; new codes get ids made from their names.

    \b
    coder codebook import survey.db codebooks/priorities-2014.yaml
    coder codebook import survey.db edited.qdc --question q14
    """
    with open_or_create(db) as database:
        if is_qdc(file):
            target = question_codebook(database, question) if question else codebook_id
            target = target or slugify(Path(file).stem)
            known = theme_ops.read_codebook(database, target) if target in theme_ops.codebook_ids(database) else None
            cb = load_qdc(file, codebook_id=target, known=known)
        else:
            cb = load_codebook(file)
            wanted = question_codebook(database, question) if question else codebook_id
            if wanted and wanted != cb.id:
                raise CoderError(f"the file holds codebook {cb.id!r}, not {wanted!r}", where=file)
        result = theme_ops.replace_codebook(database, cb, coder)
    click.echo(f"Codebook {cb.id}: {result['added']} added, {result['updated']} updated, {result['removed']} removed")
