"""`coder code`: the keyboard-first coding app on one question."""

from __future__ import annotations

import getpass

import click

from coder.cli.common import db_argument, existing_db, friendly
from coder.coding.codings import question_codebook
from coder.errors import CoderError


def register(cli: click.Group) -> None:
    cli.add_command(code)


@click.command()
@db_argument
@click.option("--question", "-q", default=None, help="Question to code (default: the first with unconfirmed answers).")
@click.option("--coder", default=None, help="Your name, recorded on every code (default: $USER).")
@click.option("--adjudicate", is_flag=True, help="Decide the overlap answers where coders disagreed.")
@click.option("--ask-coder", is_flag=True, hidden=True, help="Ask for the coder's name first (coder serve's sessions).")
@friendly
def code(db, question, coder, adjudicate, ask_coder):
    """Open the keyboard-first coding app on DB.

    \b
    Keys: 1-9 toggle a suggestion, enter confirm, space accept the top one,
    / search themes, n new theme, s skip, u undo, f flag as quote, tab queue
    order, c codebook, ? help, q quit. Everything is saved as you go.

    With assignments (`coder assign`) a coder sees only their queue and codes
    the overlap sample blind; `--adjudicate` shows the disputed overlap answers
    with every coder's codes side by side, and the decision becomes final.
    """

    from coder.tui import make_app

    database = existing_db(db)
    if question is None:
        question = _first_unfinished(database)
    else:
        question_codebook(database, question)
    database.close()
    if not ask_coder:
        coder = coder or getpass.getuser() or "coder"
    elif coder:
        raise CoderError("--ask-coder asks for the name that --coder gives: choose one")
    # A session of `coder serve` (--ask-coder): the server took the backup once, when it started.
    make_app(db, question, coder, adjudicate=adjudicate, take_backup=not ask_coder).run()


def _first_unfinished(database) -> str:
    from coder.coding.codings import question_ids
    from coder.coding.session import question_progress

    ids = question_ids(database)
    if not ids:
        raise CoderError("the database has no questions: import a survey first")
    for qid in ids:
        progress = question_progress(database, qid)
        if progress.confirmed < progress.total:
            return qid
    return ids[0]
