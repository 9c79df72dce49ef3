"""The one error type that carries a message meant for a researcher."""

from __future__ import annotations


class CoderError(Exception):
    """A problem with the user's input or data, explained in plain words.

    The CLI prints the message and exits non-zero; the TUI shows it in a modal.
    ``where`` names the place (file, row, column) so the message can point at it.
    """

    def __init__(self, message: str, *, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


def location(path: object, row: int | None = None, column: str | None = None) -> str:
    """Format a place in an input file the way every error message names it."""
    parts = [str(path)]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)
