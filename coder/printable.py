"""Text made safe to show on a terminal: what a respondent typed cannot drive it.

An answer, label or attribute is data, stored as imported; but written to a
terminal, `ESC ] 0;title BEL` retitles the window, `ESC [2J` blanks it, a
carriage return or backspace overprints what came before. Before it is
shown, text loses every escape sequence (CSI, OSC, DCS, SOS, PM, APC and the
other ESC forms, in 7-bit and 8-bit C1 form) and every C0/C1 control but
newline and tab. A carriage return (alone or before a newline), vertical tab,
form feed and NEL become one newline: they separate lines in the software
that sent them. The Unicode bidi embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069) go too: they can make a terminal or editor
show words in an order other than the stored one ("Trojan source"), and
answers need none of them to show right-to-left text. Text without any of
these passes unchanged.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import TextIO

# A string command (OSC, DCS, SOS, PM, APC) runs to BEL or ST (ESC \ or U+009C); unterminated,
# only its introducer is dropped, so the rest shows as inert text rather than vanishing.
_STRING_END = r"(?:\x07|\x1b\\|\x9c)"
_SEQUENCE = re.compile(
    rf"""
      \x1b\[[0-?]*[ -/]*[@-~]                   # CSI: parameters, intermediates, final byte
    | \x9b[0-?]*[ -/]*[@-~]                     # CSI, 8-bit
    | \x1b[\]PX^_][^\x07\x1b\x9c]*{_STRING_END}  # OSC, DCS, SOS, PM, APC
    | [\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*{_STRING_END}  # the same, 8-bit
    | \x1b[ -/]*[0-~]                           # any other escape sequence (charset, reset, ...)
    """,
    re.VERBOSE,
)
_LINE_BREAK = re.compile(r"\r\n?|[\x0b\x0c\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without escape sequences, controls (but newline and tab) and bidi overrides."""
    if text.isprintable():  # the common case: nothing to remove
        return text
    text = _SEQUENCE.sub("", text)
    text = _LINE_BREAK.sub("\n", text)
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    """`printable` on one line: a label or id with a newline or tab must not break a list apart."""
    return re.sub(r"[\n\t]+", " ", printable(text))


class PrintableStream:
    """A text stream whose writes are made printable; everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        # Anything but text goes to the stream to refuse (click probes for a binary stream with b"").
        self.stream.write(printable(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        if name == "buffer":
            # Bytes written to the buffer would bypass the cleaning (click writes there for bytes).
            raise AttributeError(name)
        return getattr(self.stream, name)


def terminal_stream(stream: TextIO) -> TextIO:
    """What the tool itself writes its own control codes to (a progress bar): the stream under any cleaning."""
    return stream.stream if isinstance(stream, PrintableStream) else stream


@contextlib.contextmanager
def printable_terminal() -> Iterator[None]:
    """While it runs, what is written to a terminal is made printable; a pipe or file gets the text as stored."""
    wrapped = []
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, PrintableStream) and stream.isatty():
            wrapped.append((name, stream))
            setattr(sys, name, PrintableStream(stream))
    try:
        yield
    finally:
        for name, stream in wrapped:
            setattr(sys, name, stream)
