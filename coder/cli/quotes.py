"""Quote commands: representative, anonymised quotes for report sidebars."""

from __future__ import annotations

import click

from coder.cli.common import db_argument, friendly, readonly_db

FORMATS = ("md", "html", "json")


def register(cli: click.Group) -> None:
    """Attach the quote commands to the `coder` group."""
    cli.add_command(quotes)


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id, e.g. q16.")
@click.option("--theme", "-t", default=None, help="Theme id or label (default: every coded theme, in table order).")
@click.option("--n", "-n", "n", type=click.IntRange(min=1), default=3, show_default=True, help="Quotes per theme.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@friendly
def quotes(db, question, theme, n, fmt):
    """Print representative, anonymised quotes per theme.

    Quotes are answers coded with the theme, central to it and unlike each
    other; answers flagged as quotes (`f` in `coder code`) come first. Names,
    councils, other organisations, emails, phone numbers and postcodes become
    [name], [council], [organisation], [email], [phone], [postcode];
    attribution is role and kind of council.

    \b
    Example:
        coder quotes demo.db --question q16 --n 2
        coder quotes demo.db --question q14 --theme customer-access --format html
    """
    # Imported here: scikit-learn and spaCy would slow down every other command's start.
    from coder.export.quote_formats import to_html, to_json, to_markdown
    from coder.report.quotes import representative_quotes

    found = representative_quotes(readonly_db(db), question, theme, n)
    if not found and fmt != "json":
        what = f"theme {theme!r} of {question}" if theme else question
        click.echo(f"No coded answers for {what}: nothing to quote.", err=True)
        return
    render = {"md": to_markdown, "html": to_html, "json": to_json}[fmt]
    click.echo(render(found), nl=False)
