"""Pieces every command module shares: error handling, the DB argument, codebook options."""

from __future__ import annotations

import errno
import functools
import io
import os
import sqlite3
import sys

import click

from coder.codebook import db as theme_ops
from coder.coding.codings import question_codebook
from coder.errors import CoderError
from coder.printable import printable
from coder.store import database_error, open_db


def friendly(func):
    """Turn every error a researcher can meet into one line and exit status 1, never a traceback.

    An SQLite error names the command's database (its DB or SOURCE argument); an OSError the
    file it came from. Every write runs in one transaction, so an interruption leaves none
    half-done.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            _quiet_stdout()  # `coder ... | head`: the reader has all it wanted; no error, no traceback at exit
            raise click.exceptions.Exit(1) from None
        except (CoderError, sqlite3.Error, OSError) as exc:
            # It may quote a file name, a label or a cell: printable wherever it goes (a log, a pipe),
            # not only on a terminal, where the console script cleans everything anyway.
            raise click.ClickException(printable(_message(exc, kwargs.get("db") or kwargs.get("source")))) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; no change was left half-done.", err=True)
            raise click.exceptions.Exit(130) from None

    return wrapper


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit cannot fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (a test runner's buffer): nothing will be flushed to a pipe


def _message(exc: Exception, db: str | None) -> str:
    if isinstance(exc, sqlite3.Error):
        return str(database_error(exc, db))
    if isinstance(exc, OSError):
        return _os_error(exc)
    return str(exc)


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"{where}disk full while writing; the unfinished change was undone (free some space, then run it again)"
    return f"{where}{exc.strerror or exc}"


def existing_db(path: str):
    """A database the command may change: it must exist and be writable."""
    return open_db(path, create=False)


def readonly_db(path: str):
    """A database the command only reads, through a connection that cannot write (it may be shared read-only)."""
    return open_db(path, create=False, readonly=True)


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
