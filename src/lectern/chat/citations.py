"""Citation markers in answers: [1], [2, 3]. A marker naming no given passage is removed, whole or in part.

Models invent numbers (onyx#1543: [5] and [7] with four sources). Markers are checked outside fenced code
only, so `items[9]` in a code sample stays as written. Streams are checked as they arrive: text that may
still become a marker is held back until it is complete.
"""

from __future__ import annotations

import re
from collections.abc import Collection

FENCE = "```"
_MARKER = re.compile(r"[ \t]*\[(\s*\d{1,3}(?:\s*,\s*\d{1,3})*\s*)\]")
# What a stream must hold back: trailing blanks, a '[' that may open a marker, or backticks that may open a fence.
_UNFINISHED = re.compile(r"(?:[ \t]*\[[\d,\s]{0,24}|[ \t]+|`+)\Z")


def _rewrite_prose(text: str, known: Collection[str]) -> str:
    def keep_known(match: re.Match[str]) -> str:
        ids = [part.strip() for part in match.group(1).split(",")]
        kept = list(dict.fromkeys(i for i in ids if i in known))
        if not kept:
            return ""  # with the blank before it: "claim [9]." becomes "claim."
        blank = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip(" \t"))]
        return f"{blank}[{', '.join(kept)}]"

    return _MARKER.sub(keep_known, text)


def _rewrite(text: str, known: Collection[str], in_code: bool) -> tuple[str, bool]:
    """Rewrite markers outside code fences; returns the text and whether it ends inside a fence."""
    pieces = text.split(FENCE)
    for index, piece in enumerate(pieces):
        if not in_code:
            pieces[index] = _rewrite_prose(piece, known)
        if index < len(pieces) - 1:
            in_code = not in_code
    return FENCE.join(pieces), in_code


def keep_known_markers(text: str, known: Collection[str]) -> str:
    """The answer with every marker limited to the given ids (markers that keep none are removed)."""
    return _rewrite(text, known, in_code=False)[0]


def strip_markers(text: str) -> str:
    """The answer without any marker (earlier answers sent as history cite passages no longer given)."""
    return keep_known_markers(text, ())


def cited_ids(text: str) -> list[str]:
    """The ids the answer's markers name, in order of first use (outside code fences)."""
    found: list[str] = []
    for index, piece in enumerate(text.split(FENCE)):
        if index % 2 == 0:
            for match in _MARKER.finditer(piece):
                found.extend(part.strip() for part in match.group(1).split(","))
    return list(dict.fromkeys(found))


class MarkerFilter:
    """Checks markers in a streamed answer: feed() the model's pieces, then flush() at the end."""

    def __init__(self, known: Collection[str]) -> None:
        self._known = frozenset(known)
        self._held = ""
        self._in_code = False

    def feed(self, piece: str) -> str:
        """The text that can be sent now; a possible marker at the end waits for the next piece."""
        text = self._held + piece
        unfinished = _UNFINISHED.search(text)
        cut = unfinished.start() if unfinished else len(text)
        self._held = text[cut:]
        ready, self._in_code = _rewrite(text[:cut], self._known, self._in_code)
        return ready

    def flush(self) -> str:
        """What was held back, checked as final (an unclosed '[' is plain text)."""
        text, self._held = self._held, ""
        ready, self._in_code = _rewrite(text, self._known, self._in_code)
        return ready
