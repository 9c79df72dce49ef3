"""Exchange commands: codings and codebooks in and out of the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import themes as theme_ops
from ..codebook import dump_codebook, load_codebook
from ..codings import export_codings, write_codings_csv
from ..store import open_db
from .common import _codebook_id, db_argument, existing_db, friendly, with_codebook_options


def register(cli: click.Group) -> None:
    cli.commands["codings"].add_command(codings_export)
    cli.commands["codebook"].add_command(codebook_export)
    cli.commands["codebook"].add_command(codebook_import)


@click.command(name="export")
@db_argument
@click.option("--question", "-q", default=None, help="Only this question.")
@click.option("--changed", is_flag=True, help="Only answers whose text changed since they were coded.")
@friendly
def codings_export(db, question, changed):
    """Write codings as CSV to stdout.

    Columns: respondent_id,question,rank,answer,theme,status,coder,score,coded_at
    (theme is the theme label).
    """
    rows = export_codings(existing_db(db), question, changed_only=changed)
    write_codings_csv(rows, sys.stdout)


@click.command(name="export")
@db_argument
@with_codebook_options
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@friendly
def codebook_export(db, codebook_id, question, output):
    """Write a codebook from DB as YAML (with aliases learnt while coding)."""
    database = existing_db(db)
    text = dump_codebook(theme_ops.read_codebook(database, _codebook_id(database, codebook_id, question)))
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@click.command(name="import")
@db_argument
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", default=None, help="Name recorded in the audit log.")
@friendly
def codebook_import(db, file, coder):
    """Load a codebook YAML into DB, adding it or updating it by theme id.

    Themes keep their codings across the update. A theme with codings cannot
    be dropped: merge it into another first.
    """
    database = open_db(db)
    cb = load_codebook(file)
    result = theme_ops.replace_codebook(database, cb, coder)
    click.echo(f"Codebook {cb.id}: {result['added']} added, {result['updated']} updated, {result['removed']} removed")


