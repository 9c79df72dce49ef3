"""`coder init`: a first survey spec and empty codebooks from a raw export."""

from __future__ import annotations

from pathlib import Path

import click

from ..survey_init import plan_survey, write_plan
from .common import friendly


def register(cli: click.Group) -> None:
    """Attach `init` to the `coder` group."""
    cli.add_command(init)


@click.command()
@click.argument("export", type=click.Path(dir_okay=False))
@click.option("--output", "-o", "output", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder for survey.yaml and codebooks/ (created if missing).")
@click.option("--encoding", default=None, help="Force a text encoding for CSV (default: UTF-8, then Windows-1252).")
@click.option("--sheet", default=None, help="XLSX: the sheet to read (default: the first).")
@friendly
def init(export, output, encoding, sheet):
    """Write a survey spec and one empty codebook per open question, guessed from EXPORT.

    Each column becomes the respondent id, an open question (free text;
    numbered columns such as q14_priority_1..3 become one question), an
    attribute (short, categorical answers), or is left out (empty or
    constant); the reason for each is printed. No existing file is ever
    overwritten: if one is in the way, nothing is written.

    \b
    Example:
        coder init responses.csv --output my-survey
        coder import survey.db --survey my-survey/survey.yaml --responses responses.csv
    """
    plan = plan_survey(export, encoding=encoding, sheet=sheet)
    click.echo(f"Read {plan.export} ({plan.encoding}): {plan.rows} rows, {len(plan.decisions)} decisions.")
    width = min(40, max((len(d.shown) for d in plan.decisions), default=0))
    for decision in plan.decisions:
        role = decision.role + (f" {decision.question_id}" if decision.question_id else "")
        click.echo(f"  {decision.shown:<{width}}  {role}: {decision.reason}")
    written = write_plan(plan, output)
    spec = written[0]
    click.echo(f"Wrote {spec} and {len(written) - 1} empty codebook(s) in {Path(output) / 'codebooks'}.")
    click.echo("Check the spec (question text, attributes, non_answers), then:")
    click.echo(f"  coder import survey.db --survey {spec} --responses {export}")
