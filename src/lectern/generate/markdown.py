"""What a Markdown text is made of, as far as generation must keep it: fenced code, inline code, link and image
addresses, headings, tables and admonitions. Line-based and forgiving, like CommonMark for these constructs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_FENCE_OPEN = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_FENCE_CLOSE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*$")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_TABLE_ROW = re.compile(r"^[ \t]*\|")
_TABLE_DELIMITER = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
_ADMONITION = re.compile(r"^[ \t]*(:{3,})[ \t]*([A-Za-z][\w-]*)?")
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
# [text](destination "title") and ![alt](destination): the destination may hold one level of parentheses.
LINK_DESTINATION = re.compile(r"(\]\()[ \t]*(<[^<>\n]*>|(?:[^\s()<>]|\([^\s()]*\))+)")
AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^<>\s]+>", re.I)
REFERENCE_DEFINITION = re.compile(r"^( {0,3}\[[^\]\n]+\]:[ \t]*)(\S+)", re.M)
BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]`]+", re.I)
_URL_TRAILER = ".,;:!?'\""
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass(frozen=True)
class Line:
    """One line of a text: where it starts, its text without the line break, and the fenced code block it belongs
    to (numbered from 0; None for prose)."""

    start: int
    text: str
    block: int | None

    @property
    def in_code(self) -> bool:
        return self.block is not None


def lines_of(text: str) -> list[Line]:
    """Every line, marking those of fenced code blocks (fence lines included); an unclosed fence runs to the end."""
    found: list[Line] = []
    position = 0
    blocks = 0
    fence: tuple[str, int] | None = None  # the open fence's character and length
    # Only \n ends a line (str.splitlines would also cut at U+2028 and form feeds, which Markdown keeps).
    for raw in _LINE.findall(text):
        line = raw.rstrip("\r\n")
        if fence is None:
            opener = _FENCE_OPEN.match(line)
            # A backtick fence's info string cannot hold a backtick (that line is inline code instead).
            if opener and not (opener[2][0] == "`" and "`" in opener[3]):
                fence = (opener[2][0], len(opener[2]))
                blocks += 1
                found.append(Line(position, line, blocks - 1))
            else:
                found.append(Line(position, line, None))
        else:
            found.append(Line(position, line, blocks - 1))
            closer = _FENCE_CLOSE.match(line)
            if closer and closer[1][0] == fence[0] and len(closer[1]) >= fence[1]:
                fence = None
        position += len(raw)
    return found


def fenced_spans(text: str) -> list[tuple[int, int]]:
    """Each fenced code block as (start, end) offsets: from its opening fence's first marker character to the end
    of its last line (the indentation before the opening fence stays outside)."""
    spans: dict[int, tuple[int, int]] = {}
    for line in lines_of(text):
        if line.block is None:
            continue
        end = line.start + len(line.text)
        if line.block in spans:
            spans[line.block] = (spans[line.block][0], end)
        else:
            spans[line.block] = (line.start + len(line.text) - len(line.text.lstrip(" \t")), end)
    return list(spans.values())


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks, verbatim, in order."""
    return [text[start:end] for start, end in fenced_spans(text)]


def prose_segments(text: str) -> list[tuple[int, int]]:
    """The (start, end) stretches between fenced code blocks."""
    segments: list[tuple[int, int]] = []
    position = 0
    for start, end in fenced_spans(text):
        segments.append((position, start))
        position = end
    segments.append((position, len(text)))
    return segments


def bare_urls(text: str) -> list[tuple[int, int]]:
    """Spans of bare URLs in prose, without the punctuation that ends the sentence around them."""
    spans = []
    for match in BARE_URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILER)
        spans.append((match.start(), match.start() + len(url)))
    return spans


def urls(text: str) -> list[str]:
    """Every address outside code: link and image destinations, autolinks, reference definitions, bare URLs."""
    found: list[str] = []
    for start, end in prose_segments(text):
        prose = INLINE_CODE.sub("", text[start:end])
        for pattern, group in ((LINK_DESTINATION, 2), (AUTOLINK, 0), (REFERENCE_DEFINITION, 2)):
            for match in pattern.finditer(prose):
                found.append(match.group(group))
            prose = pattern.sub(" ", prose)
        found.extend(prose[a:b] for a, b in bare_urls(prose))
    return sorted(found)


def inline_code(text: str) -> list[str]:
    """Inline code spans outside code blocks, sorted."""
    return sorted(match.group(0) for a, b in prose_segments(text) for match in INLINE_CODE.finditer(text[a:b]))


@dataclass(frozen=True)
class Structure:
    """The shape a rewritten text must keep."""

    headings: tuple[tuple[int, str], ...]  # (level, text) in order
    tables: tuple[tuple[int, int], ...]  # (rows, columns) of each table, in order
    admonitions: tuple[str, ...]  # ':::note' openers and ':::' closers, in order

    @property
    def heading_levels(self) -> tuple[int, ...]:
        return tuple(level for level, _ in self.headings)


def structure_of(text: str) -> Structure:
    """Headings, tables and admonitions outside fenced code."""
    headings: list[tuple[int, str]] = []
    tables: list[tuple[int, int]] = []
    admonitions: list[str] = []
    rows: list[str] = []

    def end_table() -> None:
        if len(rows) >= 2 and _TABLE_DELIMITER.match(rows[1]):
            tables.append((len(rows), _cells(rows[1])))
        rows.clear()

    for line in lines_of(text):
        if not line.in_code and _TABLE_ROW.match(line.text):
            rows.append(line.text)
            continue
        end_table()
        if line.in_code:
            continue
        if heading := HEADING.match(line.text):
            headings.append((len(heading[1]), heading[2].strip()))
        elif admonition := _ADMONITION.match(line.text):
            admonitions.append(":::" + (admonition[2] or "").lower())
    end_table()
    return Structure(tuple(headings), tuple(tables), tuple(admonitions))


def _cells(delimiter_row: str) -> int:
    return len(delimiter_row.strip().strip("|").split("|"))


def multiset_equal(left: list[str], right: list[str]) -> bool:
    return Counter(left) == Counter(right)
