"""Reading the files a researcher edits by hand (survey specs, codebooks) without trusting them.

A broken or hostile file must end in a one-line error at once, not in minutes
of work, gigabytes of memory or a traceback: only regular files are read
(`/dev/zero` never ends), and only up to a size cap; YAML anchors and aliases
are refused (a "billion laughs" file expands exponentially), and so is nesting
deeper than any spec or codebook needs. Every text value has a length cap a
report table can carry, and an error quotes at most a short excerpt of it.
"""

from __future__ import annotations

import codecs
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from coder.errors import CoderError

# 60 times the biggest bundled file (codebooks/departments.yaml, 35 kB with 640+ aliases).
MAX_YAML_BYTES = 2_000_000
MAX_YAML_DEPTH = 20  # a spec nests 5 deep (questions, a question, its fold, the fold's themes)
MAX_ITEMS = 10_000  # themes, questions, keywords, aliases, non-answers, columns
SHORT_TEXT = 200  # ids, labels, aliases, keywords, titles, headers: what a table row or heading can carry
COLUMN_TEXT = 1_000  # column names: some exports use the whole question as the header
LONG_TEXT = 20_000  # descriptions and question wording
EXCERPT = 60
COMMON_ENCODINGS = "utf-8, cp1252 (Excel on Windows), latin-1, utf-16"
# Text codecs by Python's account that no export is written in.
_NOT_FILE_ENCODINGS = {"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"}

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NESTING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)


def shorten(text: str, limit: int = EXCERPT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A value quoted for an error message, cut to `limit` characters with an ellipsis."""
    return repr(shorten(value, limit)) if isinstance(value, str) else shorten(repr(value), limit)


def read_capped(path: str | Path, what: str, limit: int) -> bytes:
    """A regular file's bytes, refusing devices, pipes, directories and anything over `limit` bytes."""
    source = str(path)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise CoderError(f"{what} not found", where=source) from None
    except OSError as exc:
        raise CoderError(f"cannot read {what}: {exc.strerror}", where=source) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "a device or pipe"
        raise CoderError(f"cannot read {what}: this is {kind}, not a file", where=source)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise CoderError(f"cannot read {what}: {exc.strerror}", where=source) from None
    if len(data) > limit:
        raise CoderError(f"{what} is larger than the limit of {limit // 1_000_000} MB", where=source)
    return data


def _yaml_error(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    place = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"not valid YAML: {shorten(problem, 120)}{place}"


def _at_event(source: str, event: yaml.Event) -> str:
    """The file and line an event starts on (the parser marks every event; the stubs allow None)."""
    mark = event.start_mark
    return source if mark is None else f"{source}, line {mark.line + 1}"


def load_yaml(path: str | Path, what: str) -> tuple[Any, str]:
    """Parse a hand-edited YAML file safely; returns the data and the text it came from."""
    source = str(path)
    data = read_capped(path, what, MAX_YAML_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CoderError(f"not UTF-8 text (byte {exc.start})", where=source) from None
    try:
        # Events first: they come one at a time, so an alias or deep nesting stops
        # the read before anything is built.
        depth = 0
        for event in yaml.parse(text, Loader=_YAML_LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise CoderError(
                    "YAML anchors and aliases (&name, *name) are not allowed; write the values out",
                    where=_at_event(source, event),
                )
            if isinstance(event, _NESTING):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise CoderError(f"nested more than {MAX_YAML_DEPTH} levels deep", where=_at_event(source, event))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        return yaml.load(text, Loader=_YAML_LOADER), text
    except yaml.YAMLError as exc:
        raise CoderError(_yaml_error(exc), where=source) from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer of 5,000 digits, a date 2020-13-45
        raise CoderError(f"not valid YAML: {shorten(str(exc), 120)}", where=source) from None


def clean_text(value: Any, where: str | None, what: str, limit: int = SHORT_TEXT, *, multiline: bool = False) -> str:
    """Text a user typed, checked: a string, within `limit`, free of control characters.

    One-line text (labels, ids, titles) has its whitespace runs, newlines
    included, folded to one space: a newline in a label breaks every table.
    """
    if not isinstance(value, str):
        kind = "a number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__
        hint = "; put it in quotes" if kind == "a number" or isinstance(value, bool) else ""
        raise CoderError(f"{what} must be text, found {kind} {excerpt(value)}{hint}", where=where)
    text = value.strip() if multiline else " ".join(value.split())
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and not (multiline and c in "\n\t\r")), None)
    if bad is not None:
        raise CoderError(f"{what} {excerpt(text)} holds a control character (U+{ord(bad):04X})", where=where)
    if len(text) > limit:
        raise CoderError(
            f"{what} is {len(text):,} characters long; the limit is {limit:,} ({excerpt(text)})", where=where
        )
    return text


def check_items(value: list, where: str | None, what: str) -> list:
    if len(value) > MAX_ITEMS:
        raise CoderError(f"{what} has {len(value):,} items; the limit is {MAX_ITEMS:,}", where=where)
    return value


def check_encoding(encoding: object, where: str | None = None) -> str:
    """A text encoding files are written in, or a CoderError that lists common ones."""
    if not isinstance(encoding, str) or not encoding.strip():
        raise CoderError(f"the encoding must be a name such as {COMMON_ENCODINGS}", where=where)
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise CoderError(
            f"unknown encoding {excerpt(encoding)}; common ones are {COMMON_ENCODINGS}", where=where
        ) from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise CoderError(
            f"{excerpt(encoding)} is not a text encoding files are written in; use one such as {COMMON_ENCODINGS}",
            where=where,
        )
    return encoding
