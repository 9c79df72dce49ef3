"""Team and recovery commands: assignments, agreement, the log, undo, backups."""

from __future__ import annotations

import json

import click

from ..history import backup as make_backup
from ..history import read_log, undo_last
from .common import db_argument, existing_db, friendly, readonly_db


def register(cli: click.Group) -> None:
    for command in (assign, agreement, log, undo, backup):
        cli.add_command(command)


def _coder_list(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option("--coders", required=True, help="Comma-separated coder names, e.g. ann,bob.")
@click.option("--overlap", type=float, default=0.2, show_default=True,
              help="Fraction of answers every coder codes, blind, for agreement.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random overlap sample.")
@friendly
def assign(db, question, coders, overlap, seed):
    """Give each coder a queue of the question's unconfirmed answers, with a blind overlap sample.

    Once the question has suggestions and 20 confirmed answers, the answers
    outside the overlap sample are dealt in the order that teaches most
    (uncertain, of rarely confirmed themes, no two alike), so every coder gets
    an equal part of the most informative ones, and each coder's queue opens
    in that order; before, they are dealt at random. The overlap sample is
    always random.

    \b
    Example:
        coder assign demo.db --question q14 --coders ann,bob --overlap 0.2
        coder code demo.db --question q14 --coder ann     # in one terminal
        coder code demo.db --question q14 --coder bob     # in another
    """
    from ..team import assign as run_assign

    result = run_assign(existing_db(db), question, _coder_list(coders), overlap, seed=seed)
    shares = ", ".join(f"{c} {n}" for c, n in result.per_coder.items())
    click.echo(f"{question}: {result.answers} answers assigned ({shares}); {result.overlap} in the blind overlap sample")


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option("--coders", default=None, help="Comma-separated coders (default: all with blind codes).")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@friendly
def agreement(db, question, coders, as_json):
    """Inter-coder agreement on the overlap sample.

    Percent agreement and Cohen's kappa (two coders) on each answer's whole set
    of themes; Krippendorff's alpha (nominal, any number of coders) pooled over
    per-theme present/absent decisions, so multi-theme answers count per theme;
    per-theme agreement; and the list of disagreements.
    """
    from ..team import question_agreement

    result = question_agreement(readonly_db(db), question, _coder_list(coders))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return

    def fmt(value):
        return "n/a" if value is None or value != value else f"{value:.3f}"

    click.echo(f"{question}: {len(result.coders)} coders ({', '.join(result.coders)}), {result.units} shared answers")
    click.echo(f"percent agreement {fmt(result.percent)}   Cohen's kappa {fmt(result.kappa)}   "
               f"Krippendorff's alpha {fmt(result.alpha)} (per theme, pooled; on whole sets {fmt(result.alpha_sets)})")
    click.echo(f"{'theme':<28} {'agree':>6} {'kappa':>6} {'alpha':>6} {'used':>5}")
    for t in result.themes:
        click.echo(f"{t.theme:<28} {fmt(t.percent):>6} {fmt(t.kappa):>6} {fmt(t.alpha):>6} {t.units_with_theme:>5}")
    if result.disagreements:
        click.echo(f"{len(result.disagreements)} disagreements (answer id: codes by coder):")
        for unit, codes in result.disagreements[:50]:
            click.echo(f"  {unit}: " + "; ".join(f"{c}: {', '.join(sorted(v)) or '-'}" for c, v in codes.items()))


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
    for entry in read_log(readonly_db(db), coder=coder, action=action, limit=limit):
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
