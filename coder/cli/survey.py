"""The survey step: `coder init` (a first spec and empty codebooks from a raw export), `coder import`
(the export into the database) and `coder questions` (what is there and how far coded)."""

from __future__ import annotations

from pathlib import Path

import click

from coder.cli.common import db_argument, friendly, readonly_db
from coder.cli.newdb import open_or_create
from coder.survey.init import plan_survey, write_plan
from coder.survey.load import import_responses
from coder.survey.spec import load_spec


def register(cli: click.Group) -> None:
    for command in (init, import_, questions):
        cli.add_command(command)


@click.command()
@click.argument("export", type=click.Path(dir_okay=False))
@click.option(
    "--output",
    "-o",
    "output",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for survey.yaml and codebooks/ (created if missing).",
)
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
    if plan.sheet_reason:
        click.echo(f"  Sheet {plan.sheet!r}: {plan.sheet_reason}; the spec names the sheet (`sheet:`).")
    if plan.title_rows:
        click.echo(
            f"  {plan.title_rows} {'row' if plan.title_rows == 1 else 'rows'} above the header skipped: "
            "one cell at most (a title); the header is the first row of several cells, and import reads it so too."
        )
    if plan.header_names == "joined":
        click.echo(
            "  A SurveyMonkey export: 2 header rows (the question, then the option under it); "
            "columns are named 'question - option'."
        )
    elif plan.header_rows > 1:
        click.echo(
            f"  A Qualtrics export: {plan.header_rows} header rows (column names, question wording, import ids); "
            "the wording becomes each question's text."
        )
    width = min(40, max((len(d.shown) for d in plan.decisions), default=0))
    for decision in plan.decisions:
        role = decision.role + (f" {decision.question_id}" if decision.question_id else "")
        click.echo(f"  {decision.shown:<{width}}  {role}: {decision.reason}")
    written = write_plan(plan, output)
    spec = written[0]
    click.echo(f"Wrote {spec} and {len(written) - 1} empty codebook(s) in {Path(output) / 'codebooks'}.")
    click.echo("Check the spec (question text, attributes, non_answers), then:")
    click.echo(f"  coder import survey.db --survey {spec} --responses {export}")


@click.command(name="import")
@db_argument
@click.option("--survey", "survey", required=True, type=click.Path(dir_okay=False), help="Survey spec (YAML).")
@click.option("--responses", required=True, type=click.Path(dir_okay=False), help="Survey export: CSV, XLSX or JSONL.")
@click.option("--encoding", default=None, help="Force a text encoding for CSV (default: UTF-8, then Windows-1252).")
@friendly
def import_(db, survey, responses, encoding):
    """Load a survey export into DB (created if missing, and removed again if the import fails).

    Re-importing the same or an updated export is safe: respondents are
    matched by id, codings are never dropped, and a coded answer whose text
    changed is flagged for review. Any error leaves DB as it was.

    \b
    Example:
        coder import demo.db --survey corpus/local-digital-2014/survey.yaml \\
            --responses corpus/local-digital-2014/responses.csv
    """
    spec = load_spec(survey)
    with open_or_create(db) as database:
        report = import_responses(database, spec, responses, encoding=encoding)
    for line in report.lines():
        click.echo(line)


@click.command()
@db_argument
@friendly
def questions(db):
    """List the open questions in DB with their codebook, base and coding progress.

    non-answers counts the cells the spec's non_answers list kept out of
    every base ("n/a", "not sure", ...): set `non_answers` to code them.
    """
    from coder.coding.codings import question_summaries

    summaries = question_summaries(readonly_db(db))
    # Ids `coder init` makes from long headers are long: the columns widen to keep the numbers aligned.
    qw = max([10, *(len(q.id) for q in summaries)])
    cw = max([24, *(len(q.codebook_id) for q in summaries)])
    click.echo(f"{'question':<{qw}} {'codebook':<{cw}} {'base':<12} {'answers':>8} {'coded':>8} {'non-answers':>11}")
    for q in summaries:
        click.echo(f"{q.id:<{qw}} {q.codebook_id:<{cw}} {q.base:<12} {q.answers:>8} {q.coded:>8} {q.non_answers:>11}")
