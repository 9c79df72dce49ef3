"""Audit and recovery commands: the log, undoing a coder's last change, backups."""

from __future__ import annotations

import json

import click

from ..history import backup as make_backup
from ..history import read_log, undo_last
from .common import db_argument, existing_db, friendly


def register(cli: click.Group) -> None:
    for command in (log, undo, backup):
        cli.add_command(command)


def _short(value) -> str:
    if value is None:
        return "-"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 70 else text[:67] + "..."


@click.command()
@db_argument
@click.option("--coder", default=None, help="Only this coder's changes.")
@click.option("--action", default=None, help="Only actions starting with this, e.g. coding. or theme.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print entries as JSON lines.")
@friendly
def log(db, coder, action, limit, as_json):
    """Show the audit log, newest first: who changed what, when, before and after."""
    for entry in read_log(existing_db(db), coder=coder, action=action, limit=limit):
        if as_json:
            click.echo(json.dumps(entry.__dict__, ensure_ascii=False))
        else:
            click.echo(f"{entry.id:>6} {entry.at} {entry.coder or '-':<10} {entry.action:<16} {entry.target:<28} "
                       f"{_short(entry.before)} -> {_short(entry.after)}")


@click.command()
@db_argument
@click.option("--coder", required=True, help="Whose last coding change to revert.")
@friendly
def undo(db, coder):
    """Revert CODER's last change to an answer's codes (repeat to go further back)."""
    entry = undo_last(existing_db(db), coder)
    click.echo(f"Undid {entry.action} on {entry.target} ({entry.at}): codes are back to {_short(entry.before)}")


@click.command()
@db_argument
@click.argument("file", type=click.Path(dir_okay=False))
@friendly
def backup(db, file):
    """Copy DB to FILE with SQLite's online backup (safe while others are coding)."""
    click.echo(f"Backed up to {make_backup(db, file)}")
