"""`coder serve`: the coding app for web browsers (coder/tui/serve.py)."""

from __future__ import annotations

from pathlib import Path

import click

from coder.cli.common import db_argument, existing_db, friendly
from coder.coding.codings import question_codebook, question_ids
from coder.errors import CoderError


def register(cli: click.Group) -> None:
    """Attach `serve` to the `coder` group."""
    cli.add_command(serve)


@click.command()
@db_argument
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but a loopback address lets anyone on the network code.",
)
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--question", "-q", default=None, help="Question to code (default: each session's first unfinished one).")
@friendly
def serve(db, host, port, question):
    """Serve the coding app (`coder code`) to web browsers.

    Each browser session asks for the coder's name, then works exactly like
    `coder code`, all on DB at once. Only this machine can connect unless
    --host says otherwise; a colleague elsewhere can tunnel in with
    `ssh -L 8000:127.0.0.1:8000 HOST` and open http://localhost:8000.

    \b
    Example:
        coder serve demo.db --question q14
    """
    from coder.tui.serve import check_port, is_loopback
    from coder.tui.serve import serve as run_server

    database = existing_db(db)
    try:
        if question is not None:
            question_codebook(database, question)
        elif not question_ids(database):
            raise CoderError("the database has no questions: import a survey first", where=db)
    finally:
        database.close()
    check_port(host, port)
    if not is_loopback(host):
        click.echo(
            f"Warning: listening on {host}: anyone who can reach this machine on port {port} "
            "can code in the database; use --host 127.0.0.1 and `ssh -L` to keep it private",
            err=True,
        )
    from coder.coding.history import backup
    from coder.tui.app import autobackup_path

    copy = backup(Path(db), autobackup_path(db))  # once, before any session changes anything
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving the coding app for {db} on http://{shown}:{port} (Ctrl+C stops); a copy from before: {copy}")
    run_server(db, question, host, port)
