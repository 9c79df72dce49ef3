"""Representative quotes as a report sidebar shows them: Markdown, HTML and JSON."""

from __future__ import annotations

import html
import json
from dataclasses import asdict

from coder.export.formats import md_text
from coder.report.quotes import Quote


def to_markdown(quotes: list[Quote]) -> str:
    """One block per theme: a bold label, then `> “quote”` and `> — attribution` per quote."""
    blocks: list[str] = []
    current = None
    for quote in quotes:
        if quote.theme_id != current:
            current = quote.theme_id
            blocks.append(f"**{md_text(quote.theme_label)}**\n")
        blocks.append(f"> “{md_text(quote.text)}”\n>\n> — {md_text(quote.attribution)}\n")
    return "\n".join(blocks)


def to_html(quotes: list[Quote]) -> str:
    """A <section> per theme with a <blockquote> per quote; every answer is escaped."""
    out: list[str] = []
    current = None
    for quote in quotes:
        if quote.theme_id != current:
            if current is not None:
                out.append("</section>")
            current = quote.theme_id
            out.append(f'<section class="quotes" data-theme="{html.escape(quote.theme_id)}">')
            out.append(f"  <h3>{html.escape(quote.theme_label, quote=False)}</h3>")
        out.append(f'  <blockquote class="quote" data-answer="{quote.answer_id}">')
        # Text nodes need only <, > and & escaped; "Don't" stays readable in the source.
        out.append(f"    <p>“{html.escape(quote.text, quote=False)}”</p>")
        out.append(f"    <footer>— {html.escape(quote.attribution, quote=False)}</footer>")
        out.append("  </blockquote>")
    if current is not None:
        out.append("</section>")
    return "\n".join(out) + ("\n" if out else "")


def to_json(quotes: list[Quote]) -> str:
    return json.dumps([asdict(q) for q in quotes], ensure_ascii=False, indent=2) + "\n"
