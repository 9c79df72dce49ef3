"""The `coder` command line: a thin shell that parses options and calls one domain function."""

from __future__ import annotations

import click

from coder import __version__
from coder.cli import (
    code,
    codebook,
    codings,
    quotes,
    reports,
    serve,
    suggestions,
    survey,
    team,
)
from coder.printable import printable_terminal


@click.group()
@click.version_option(__version__, prog_name="coder")
@click.pass_context
def cli(ctx):
    """Qualitative coding of open-ended survey answers.

    \b
    Load a survey export, code its open questions against codebooks,
    and print the report's percentage tables.
    """
    ctx.color = True  # else click strips some escape codes from piped output, and only some (see main)


# Commands that live in their own modules.
for _module in (survey, codings, codebook, suggestions, code, reports, quotes, team, serve):
    _module.register(cli)


def main():
    """The console script. Everything written to a terminal, click's own usage errors too, is made
    printable (answers, labels and file names cannot drive it); pipes and files get the stored text."""
    with printable_terminal():
        cli()


if __name__ == "__main__":  # pragma: no cover
    main()
