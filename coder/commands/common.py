"""Pieces every command module shares: error handling, the DB argument, codebook options."""

from __future__ import annotations

import functools

import click

from ..codings import question_codebook
from ..errors import CoderError
from ..store import open_db
from .. import themes as theme_ops


def friendly(func):
    """Turn a CoderError into a clean message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except CoderError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def existing_db(path: str):
    return open_db(path, create=False)


db_argument = click.argument("db", type=click.Path(dir_okay=False))


def _codebook_id(database, codebook_id, question):
    if question:
        return question_codebook(database, question)
    if codebook_id:
        return codebook_id
    ids = theme_ops.codebook_ids(database)
    if len(ids) == 1:
        return ids[0]
    raise CoderError(f"say which codebook with --codebook ID or --question Q (the database has {', '.join(ids)})")


codebook_options = [
    click.option("--codebook", "codebook_id", default=None, help="Codebook id."),
    click.option("--question", "-q", default=None, help="The codebook of this question."),
]


def with_codebook_options(func):
    for option in reversed(codebook_options):
        func = option(func)
    return func


