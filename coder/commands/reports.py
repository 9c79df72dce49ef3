"""Report commands: tables (and, as they grow, charts and report folders)."""

from __future__ import annotations

import click

from ..tables import build_table, to_csv, to_markdown
from .common import db_argument, existing_db, friendly


def register(cli: click.Group) -> None:
    cli.add_command(table)


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id, e.g. q13.")
@click.option("--format", "fmt", type=click.Choice(["md", "csv"]), default="md", show_default=True)
@click.option("--base", type=click.Choice(["mentions", "respondents"]), default=None,
              help="Percentage base (default: the spec's base for the question).")
@click.option("--all-themes", is_flag=True, help="Also list themes nobody mentioned (0%).")
@friendly
def table(db, question, fmt, base, all_themes):
    """Print a question's percentage table.

    Rows run by count, ties in codebook order, the fold ("Other") row last.
    `--format csv` prints exactly `theme,count,percent`.

    \b
    Example:
        coder table demo.db --question q13 --format csv
    """
    built = build_table(existing_db(db), question, base, include_empty=all_themes)
    click.echo(to_csv(built) if fmt == "csv" else to_markdown(built), nl=False)


