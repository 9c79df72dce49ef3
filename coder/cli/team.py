"""Team and recovery commands: assignments, agreement, the log, undo, backups."""

from __future__ import annotations

import json

import click

from coder.cli.common import db_argument, existing_db, friendly, readonly_db
from coder.coding.agreement import POOLED_KAPPA_NOTE
from coder.coding.history import backup as make_backup
from coder.coding.history import read_log, undo_last
from coder.printable import one_line
from coder.safe_input import shorten


def register(cli: click.Group) -> None:
    for command in (assign, agreement, log, undo, backup):
        cli.add_command(command)


def _coder_list(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option("--coders", required=True, help="Comma-separated coder names, e.g. ann,bob.")
@click.option(
    "--overlap",
    type=float,
    default=0.2,
    show_default=True,
    help="Fraction of answers every coder codes, blind, for agreement.",
)
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
    from coder.coding.team import assign as run_assign

    result = run_assign(existing_db(db), question, _coder_list(coders) or [], overlap, seed=seed)
    shares = ", ".join(f"{c} {n}" for c, n in result.per_coder.items())
    click.echo(
        f"{question}: {result.answers} answers assigned ({shares}); {result.overlap} in the blind overlap sample"
    )


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option("--coders", default=None, help="Comma-separated coders (default: all with blind codes).")
@click.option(
    "--level",
    default=None,
    metavar="top|N",
    help="Map every theme to its net at this depth first (1 = top; the codebook's parent links).",
)
@click.option("--json", "as_json", is_flag=True, help="Print every statistic and disagreement as JSON.")
@friendly
def agreement(db, question, coders, level, as_json):
    """Inter-coder agreement on the answers two or more coders coded blind.

    \b
    On whole theme sets (one label per answer = its set of themes):
      percent agreement, Cohen's kappa, Krippendorff's alpha.
    Per theme (present/absent on each answer), themes no coder used left out:
      Cohen's kappa per theme, their mean, and the pooled kappa (De Vries et
      al. 2008: the 2x2 tables of all themes summed, then one kappa; the form
      most papers report); Krippendorff's alpha (nominal) per theme and pooled.
    Kappa is for two coders: with more, it is given per pair; alpha takes any
    number. Undefined statistics (no variation) print as n/a with the reason.
    --level top (or N) rolls every theme up to its net at that depth first.

    \b
    Example:
        coder agreement survey.db --question q14 --coders ann,bob --level top
    """
    from coder.coding.team import question_agreement

    result = question_agreement(readonly_db(db), question, _coder_list(coders), level, shown_db=db)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    for line in agreement_lines(result):
        click.echo(line)


STATISTIC = {"cohen_kappa": "Cohen's kappa", "krippendorff_alpha": "Krippendorff's alpha"}
THEME_WIDTH = 40  # a longer theme id is cut, so the table stays readable on a terminal


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def agreement_lines(result) -> list[str]:
    """The report as terminal lines: every statistic named, n/a with its reason, a per-theme table."""
    stats = result.stats
    two = len(stats.coders) == 2
    fmt = _fmt

    def stat(name, value, key, note=""):
        why = stats.notes.get(key)
        extra = f"  ({why})" if value is None and why else (f"  ({note})" if note else "")
        return f"  {name:<38} {fmt(value):>6}{extra}"

    level = (
        "as coded"
        if result.level is None
        else f"rolled up to level {result.level}" + (" (top)" if result.level == 1 else "")
    )
    coders = ", ".join(one_line(c) for c in stats.coders)
    lines = [
        f"{one_line(result.question)}: {len(stats.coders)} coders ({coders}), "
        f"{stats.units} answers coded by at least two; themes {level}",
        "Whole theme sets (one label per answer = its set of themes):",
        stat("percent agreement" + ("" if two else " (mean over pairs)"), stats.percent, "percent_agreement"),
    ]
    if two:
        lines.append(stat("Cohen's kappa", stats.kappa, "cohen_kappa_sets"))
    lines += [
        stat("Krippendorff's alpha (nominal)", stats.alpha_sets, "krippendorff_alpha_sets"),
        f"Per theme (present/absent on each answer; {len(stats.themes)} themes used):",
    ]
    if two:
        defined = sum(1 for t in stats.themes if t.kappa is not None)
        lines += [
            stat("pooled Cohen's kappa", stats.kappa_pooled, "cohen_kappa_pooled", POOLED_KAPPA_NOTE),
            stat(
                "mean of per-theme Cohen's kappas",
                stats.kappa_mean,
                "cohen_kappa_mean_per_theme",
                f"over the {defined} of {len(stats.themes)} themes where kappa is defined",
            ),
        ]
    lines.append(stat("pooled Krippendorff's alpha (nominal)", stats.alpha, "krippendorff_alpha_pooled"))
    if not two:
        lines.append("Cohen's kappa is for two coders; per pair (answers both coded):")
        for p in stats.pairs:
            lines.append(
                f"  {one_line(p.name)}: {p.units} answers, percent agreement {fmt(p.percent)}, "
                f"kappa on sets {fmt(p.kappa_sets)}, pooled kappa {fmt(p.kappa_pooled)}, "
                f"mean per-theme kappa {fmt(p.kappa_mean)}"
            )
    lines += theme_table(stats)
    if stats.disagreements:
        lines += disagreement_lines(result)
    return lines


def theme_table(stats) -> list[str]:
    """Per-theme rows aligned to the longest theme id (cut at THEME_WIDTH) and the widest header."""
    two = len(stats.coders) == 2
    names = {t.theme: shorten(one_line(t.theme), THEME_WIDTH - 1) for t in stats.themes}
    kappas = (
        [("kappa", {t.theme: t.kappa for t in stats.themes})]
        if two
        else [(f"kappa {one_line(p.name)}", p.theme_kappa) for p in stats.pairs]
    )
    headers = ["agree", *(h for h, _ in kappas), "alpha", "used"]
    widths = [max(6, len(h)) for h in headers]
    first = max([len("theme"), *(len(n) for n in names.values())])

    def row(cells):
        return "  " + "  ".join([cells[0].ljust(first), *(c.rjust(w) for c, w in zip(cells[1:], widths))])

    fmt = _fmt
    lines = [row(["theme", *headers])]
    undefined = []
    for t in stats.themes:
        cells = [
            names[t.theme],
            fmt(t.percent),
            *(fmt(k[t.theme]) for _, k in kappas),
            fmt(t.alpha),
            str(t.units_with_theme),
        ]
        lines.append(row(cells))
        for key, why in t.notes.items():
            undefined.append(f"  n/a: {names[t.theme]}, {STATISTIC[key]}: {why}")
        if not two:
            for p in stats.pairs:
                if t.theme in p.theme_notes:
                    undefined.append(
                        f"  n/a: {names[t.theme]}, Cohen's kappa {one_line(p.name)}: {p.theme_notes[t.theme]}"
                    )
    return lines + undefined


def disagreement_lines(result, limit: int = 50) -> list[str]:
    """One line per disagreement: respondent id, column, the answer shortened, each coder's themes."""
    shown = result.stats.disagreements[:limit]
    refs = {unit: result.answers[unit] for unit, _ in shown}
    respondents = {u: shorten(one_line(r.respondent_id), 24) for u, r in refs.items()}
    columns = {u: shorten(one_line(r.column), 24) for u, r in refs.items()}
    rw = max(len("respondent"), *(len(v) for v in respondents.values()))
    cw = max(len("column"), *(len(v) for v in columns.values()))
    more = f"; the first {limit}, --json lists all" if len(result.stats.disagreements) > limit else ""
    count = len(result.stats.disagreements)
    lines = [
        f"{count} disagreement{'s' * (count != 1)}{more}:",
        f"  {'respondent'.ljust(rw)}  {'column'.ljust(cw)}  answer / themes by coder",
    ]
    for unit, codes in shown:
        text = shorten(one_line(refs[unit].text), 50)
        themes = "; ".join(
            f"{one_line(c)}: {', '.join(one_line(t) for t in sorted(v)) or '-'}" for c, v in codes.items()
        )
        lines.append(f'  {respondents[unit].ljust(rw)}  {columns[unit].ljust(cw)}  "{text}"  {themes}')
    return lines


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
            click.echo(
                f"{entry.id:>6} {entry.at} {entry.coder or '-':<10} {entry.action:<16} {entry.target:<28} "
                f"{_short(entry.before)} -> {_short(entry.after)}"
            )


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
