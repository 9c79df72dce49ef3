"""Quote commands: representative, anonymised quotes for report sidebars (to come)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach the quote commands to the `coder` group."""
