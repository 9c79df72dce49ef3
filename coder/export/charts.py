"""A question's table as a horizontal bar chart (PNG or SVG), sized to be read in a report.

Bars run in table order, largest on top and the fold row last, each with its percentage;
the title is the table's and the base is the caption. A net's bar is darker and its label
bold; its children follow it, their labels marked with a dash per level. Drawn headless:
the Agg backend is chosen before anything can import pyplot, and the figure is made without
pyplot, so no window opens and nothing is left in pyplot's global figure list.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from coder.errors import CoderError  # noqa: E402
from coder.export.formats import output_line  # noqa: E402
from coder.outputs import atomic_output  # noqa: E402
from coder.report.tables import Table  # noqa: E402

CHART_FORMATS = ("png", "svg")
BAR_GID = "bar-{index}"  # each bar's id in the SVG, so a reader (or a test) can find them
_COLOUR, _FOLD_COLOUR, _NET_COLOUR = "#2b6a99", "#9aa5ad", "#173b57"


def _wrap(text: str, width: int) -> str:
    text = output_line(text)  # an SVG holding a control character is not XML
    return "\n".join(textwrap.wrap(text, width)) or text


def render_chart(table: Table, path: str | Path, *, inputs: tuple[str | Path, ...] = ()) -> int:
    """Draw `table` to `path` (.png or .svg), written atomically; returns the number of bars drawn.

    `inputs` are the files the command reads (its database): `path` may be none of them.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in CHART_FORMATS:
        raise CoderError(f"a chart is .png or .svg, not {path.suffix or 'no suffix'!r}", where=str(path))
    rows = table.rows
    # Tick labels are right-aligned, so a child is marked by a dash per level rather than by spaces.
    labels = [_wrap("\u2013 " * r.level + r.label, 34) for r in rows]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = 1.9 + 0.3 * max(lines, 2) + 0.12 * len(rows)
    # Labels are plain text: with mathtext on, "$5m and $10m" is parsed as maths (and fails or draws wrong).
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "coder", "font.size": 10, "text.parse_math": False}
    ):
        fig = Figure(figsize=(8, height), dpi=150, layout="constrained")
        ax = fig.add_subplot()
        fig.suptitle(_wrap(table.title, 80), x=0.01, ha="left", fontsize=11, fontweight="bold")
        if rows:
            positions = range(len(rows))
            bars = ax.barh(
                positions,
                [float(r.percent) for r in rows],
                color=[_FOLD_COLOUR if r.folded else _NET_COLOUR if r.net else _COLOUR for r in rows],
                height=0.7,
            )
            top = max(float(r.percent) for r in rows) or 1.0
            for index, (bar, row) in enumerate(zip(bars, rows)):
                bar.set_gid(BAR_GID.format(index=index))
                ax.text(bar.get_width() + top * 0.01, index, f"{row.percent}%", va="center", fontsize=9)
            ax.set_yticks(list(positions), labels)
            for tick, row in zip(ax.get_yticklabels(), rows):
                if row.net:
                    tick.set_fontweight("bold")
            ax.invert_yaxis()  # table order: the first (largest) row on top
            ax.set_xlim(0, top * 1.15)
            ax.margins(y=0.02)
        else:
            ax.text(
                0.5,
                0.5,
                "No themes yet" if table.no_themes else "No coded answers yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_yticks([])
        ax.set_xticks([])
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        base = table.base_text + (f". {table.uncoded_note}" if table.uncoded_note else "")
        fig.supxlabel(_wrap(base, 120), x=0.01, ha="left", fontsize=8.5, color="#444")
        try:
            with atomic_output(path, inputs=inputs) as temporary:
                fig.savefig(temporary, format=fmt, metadata={"Date": None} if fmt == "svg" else {"Software": None})
        except OSError as exc:
            raise CoderError(f"cannot write the chart: {exc.strerror or exc}", where=str(path)) from None
    return len(rows)
