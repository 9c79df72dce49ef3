"""`coder codebook`: show, edit, export and import a codebook (YAML or REFI-QDA .qdc)."""

from __future__ import annotations

from pathlib import Path

import click

from coder.cli.common import (
    _codebook_id,
    db_argument,
    existing_db,
    friendly,
    readonly_db,
    with_codebook_options,
)
from coder.cli.newdb import open_or_create
from coder.codebook import db as theme_ops
from coder.codebook.model import dump_codebook, load_codebook, slugify
from coder.codebook.qdc import dump_qdc, is_qdc, load_any_codebook, load_qdc
from coder.coding.codings import question_codebook
from coder.errors import CoderError
from coder.outputs import write_output


def register(cli: click.Group) -> None:
    cli.add_command(codebook)


@click.group()
def codebook():
    """Show, import, export and edit codebooks."""


@codebook.command(name="show")
@click.argument("source", type=click.Path(dir_okay=False))
@with_codebook_options
@friendly
def codebook_show(source, codebook_id, question):
    """Show a codebook as an indented list: from a YAML or REFI-QDA (.qdc) file, or a database."""
    if Path(source).suffix.casefold() in (".yaml", ".yml", ".qdc"):
        cb = load_any_codebook(source)
    else:
        database = readonly_db(source)
        cb = theme_ops.read_codebook(database, _codebook_id(database, codebook_id, question))
    click.echo(f"{cb.id}: {cb.title} ({cb.kind}, {len(cb.themes)} themes)")
    children: dict[str | None, list] = {}
    for theme in cb.themes:
        children.setdefault(theme.parent, []).append(theme)

    def show(parent, depth):
        for theme in children.get(parent, []):
            extra = f"  [{len(theme.aliases)} aliases]" if theme.aliases else ""
            click.echo(f"{'  ' * depth}- {theme.id}: {theme.label}{extra}")
            show(theme.id, depth + 1)

    show(None, 1)


@codebook.command(name="add")
@db_argument
@click.argument("label")
@with_codebook_options
@click.option("--id", "theme_id", default=None, help="Theme id (default: made from the label).")
@click.option("--description", default="")
@click.option("--parent", default=None, help="Id of the net to nest it under.")
@click.option("--coder", default=None)
@friendly
def codebook_add(db, label, codebook_id, question, theme_id, description, parent, coder):
    """Add a theme labelled LABEL at the end of the codebook."""
    database = existing_db(db)
    theme = theme_ops.add_theme(
        database,
        _codebook_id(database, codebook_id, question),
        label,
        theme_id=theme_id,
        description=description,
        parent=parent,
        coder=coder,
    )
    click.echo(f"Added {theme.id}: {theme.label}")


@codebook.command(name="rename")
@db_argument
@click.argument("theme")
@click.argument("label")
@with_codebook_options
@click.option("--coder", default=None)
@friendly
def codebook_rename(db, theme, label, codebook_id, question, coder):
    """Give theme THEME (id) the new label LABEL; its codings stay."""
    database = existing_db(db)
    renamed = theme_ops.rename_theme(database, _codebook_id(database, codebook_id, question), theme, label, coder)
    click.echo(f"Renamed {renamed.id}: {renamed.label}")


@codebook.command(name="merge")
@db_argument
@click.argument("source")
@click.argument("target")
@with_codebook_options
@click.option("--coder", default=None)
@friendly
def codebook_merge(db, source, target, codebook_id, question, coder):
    """Merge theme SOURCE into TARGET (ids): codings, aliases and children move."""
    database = existing_db(db)
    moved = theme_ops.merge_themes(database, _codebook_id(database, codebook_id, question), source, target, coder)
    click.echo(f"Merged {source} into {target}: {moved} codings moved")


@codebook.command(name="nest")
@db_argument
@click.argument("theme")
@click.argument("parent", required=False)
@with_codebook_options
@click.option("--coder", default=None)
@friendly
def codebook_nest(db, theme, parent, codebook_id, question, coder):
    """Nest THEME under the net PARENT (ids); without PARENT, move it to the top level."""
    database = existing_db(db)
    theme_ops.nest_theme(database, _codebook_id(database, codebook_id, question), theme, parent, coder)
    click.echo(f"{theme} is now under {parent}" if parent else f"{theme} is now at the top level")


@codebook.command(name="export")
@db_argument
@with_codebook_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "qdc"]),
    default=None,
    help="yaml (default) or qdc (REFI-QDA); a FILE ending in .qdc means qdc.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@friendly
def codebook_export(db, codebook_id, question, fmt, output):
    """Write a codebook from DB as YAML (with aliases learnt while coding) or REFI-QDA .qdc.

    A .qdc file (REFI-QDA codebook exchange, read by NVivo, ATLAS.ti, MAXQDA,
    QualCoder) carries the hierarchy, labels, descriptions and colours; keywords
    and aliases travel in YAML only.

    \b
    coder codebook export survey.db --question q14 -o priorities.yaml
    coder codebook export survey.db --question q14 -o priorities-2014.qdc
    """
    if fmt is None:
        fmt = "qdc" if output and is_qdc(output) else "yaml"
    database = readonly_db(db)
    cb = theme_ops.read_codebook(database, _codebook_id(database, codebook_id, question))
    text = dump_qdc(cb) if fmt == "qdc" else dump_codebook(cb)
    if output:
        write_output(output, text, inputs=(db,))
    else:
        click.echo(text, nl=False)


@codebook.command(name="import")
@db_argument
@click.argument("file", type=click.Path(dir_okay=False))
@with_codebook_options
@click.option("--coder", default=None, help="Name recorded in the audit log.")
@friendly
def codebook_import(db, file, codebook_id, question, coder):
    """Load a codebook (YAML or REFI-QDA .qdc) into DB, adding it or updating it by theme id.

    Themes keep their codings across the update. A theme with codings cannot
    be dropped: merge it into another first.

    A .qdc file has no codebook id: it updates the codebook named by --codebook
    or --question, else the one whose id is the file name. Its codes find their
    themes by guid (files coder wrote) or label, and keep their ids, keywords
    and aliases; new codes get ids made from their names.

    \b
    coder codebook import survey.db codebooks/priorities-2014.yaml
    coder codebook import survey.db edited.qdc --question q14
    """
    with open_or_create(db) as database:
        if is_qdc(file):
            target = question_codebook(database, question) if question else codebook_id
            target = target or slugify(Path(file).stem)
            known = theme_ops.read_codebook(database, target) if target in theme_ops.codebook_ids(database) else None
            cb = load_qdc(file, codebook_id=target, known=known)
        else:
            cb = load_codebook(file)
            wanted = question_codebook(database, question) if question else codebook_id
            if wanted and wanted != cb.id:
                raise CoderError(f"the file holds codebook {cb.id!r}, not {wanted!r}", where=file)
        result = theme_ops.replace_codebook(database, cb, coder)
    click.echo(f"Codebook {cb.id}: {result['added']} added, {result['updated']} updated, {result['removed']} removed")
