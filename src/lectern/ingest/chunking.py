"""Cut a parsed page into heading-aware chunks that carry their heading path and a deep link.

Sizes count characters of chunk body, about 4 per token: the 800 default is ~200 tokens, the 2x hard maximum ~400.
benchmarks/chunk_size.py chose the default (docs/decisions/0007-chunk-size.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from lectern.ingest.markdown import Paragraph, ParsedPage, Section

DEFAULT_TARGET_CHARS = 800
CHARS_PER_TOKEN = 4
HEADING_SEPARATOR = " › "


@dataclass(frozen=True)
class Chunk:
    """A passage of one page, ready to embed and to index for keyword search."""

    ordinal: int  # position within the page, from 0
    text: str  # the context line, a blank line, then the body
    body: str
    heading_path: tuple[str, ...]  # the page title, then the headings above the body
    anchor: str | None  # None when the body starts at the top of the page
    url: str  # the page URL, plus "#anchor" when there is one

    @property
    def context_line(self) -> str:
        """The heading path as one line: 'Page › Section › Subsection'."""
        return HEADING_SEPARATOR.join(self.heading_path)

    @property
    def char_count(self) -> int:
        """Characters in the full text, context line included."""
        return len(self.text)

    @property
    def token_count(self) -> int:
        """Approximate tokens in the full text."""
        return approximate_tokens(self.text)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the full text, to skip re-embedding unchanged chunks."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def approximate_tokens(text: str) -> int:
    """A tokenizer-free token estimate: one token per four characters, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def chunk_page(
    page: ParsedPage, *, url: str = "", target_chars: int = DEFAULT_TARGET_CHARS, max_chars: int | None = None
) -> list[Chunk]:
    """Cut a page into chunks of about `target_chars`; only a lone code fence may exceed `max_chars`."""
    limit = 2 * target_chars if max_chars is None else max_chars
    if target_chars < 1 or limit < target_chars:
        raise ValueError(f"need 1 <= target_chars <= max_chars, got {target_chars} and {limit}")
    chunks: list[Chunk] = []
    for group in _section_groups(page.sections, target_chars):
        heading_path = (page.title, *_common_path(group))
        anchor = group[0].anchor
        for body in _bodies(group, target_chars, limit):
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    text=f"{HEADING_SEPARATOR.join(heading_path)}\n\n{body}",
                    body=body,
                    heading_path=heading_path,
                    anchor=anchor,
                    url=f"{url}#{quote(anchor)}" if anchor else url,
                )
            )
    return chunks


def _section_groups(sections: tuple[Section, ...], target: int) -> list[list[Section]]:
    """Runs of adjacent small sections under one parent that fit together within the target."""
    groups: list[list[Section]] = []
    size = 0
    for section in sections:
        if groups and _shares_parent(groups[-1][0], section):
            grown = size + 2 + _member_size(section) if size else _member_size(section)
            if grown <= target:
                groups[-1].append(section)
                size = grown
                continue
        groups.append([section])
        size = _blocks_size(section)
    return [group for group in groups if any(section.blocks for section in group)]


def _shares_parent(first: Section, other: Section) -> bool:
    """Whether `other` sits under the parent of `first` (a sibling, or a descendant of either)."""
    return len(_common_prefix(first.path, other.path)) >= len(first.path) - 1


def _common_prefix(left: tuple[str, ...], right: tuple[str, ...]) -> tuple[str, ...]:
    length = 0
    while length < min(len(left), len(right)) and left[length] == right[length]:
        length += 1
    return left[:length]


def _common_path(group: list[Section]) -> tuple[str, ...]:
    path = group[0].path
    for section in group[1:]:
        path = _common_prefix(path, section.path)
    return path


def _blocks_size(section: Section) -> int:
    return sum(len(block.text) + 2 for block in section.blocks) - 2 if section.blocks else 0


def _member_size(section: Section) -> int:
    """Size of a section merged after another one: its heading line, then its blocks."""
    heading = len(_heading_line(section))
    return heading + 2 + _blocks_size(section) if section.blocks else heading


def _heading_line(section: Section) -> str:
    return f"{'#' * section.level} {section.heading}"


def _bodies(group: list[Section], target: int, limit: int) -> list[str]:
    """Chunk bodies for one group: a merged group fits in one; a single section may need several."""
    if len(group) > 1:
        parts = [block.text for block in group[0].blocks]
        for section in group[1:]:
            parts.append(_heading_line(section))
            parts.extend(block.text for block in section.blocks)
        return ["\n\n".join(parts)]
    units: list[str] = []
    for block in group[0].blocks:
        if isinstance(block, Paragraph) and len(block.text) > limit:
            units.extend(_split_long_text(block.text, target))
        else:
            units.append(block.text)
    return _pack(units, target, limit)


def _pack(units: list[str], target: int, limit: int) -> list[str]:
    """Fill chunks up to the target; a chunk under half the target may grow up to the limit."""
    bodies: list[str] = []
    current: list[str] = []
    size = 0
    for unit in units:
        grown = size + 2 + len(unit) if current else len(unit)
        if current and grown > target and not (size < target // 2 and grown <= limit):
            bodies.append("\n\n".join(current))
            current, grown = [], len(unit)
        current.append(unit)
        size = grown
    if current:
        tail = "\n\n".join(current)
        # A short tail joins the chunk before it rather than stand alone, if the limit allows.
        if bodies and len(tail) < target // 4 and len(bodies[-1]) + 2 + len(tail) <= limit:
            bodies[-1] = f"{bodies[-1]}\n\n{tail}"
        else:
            bodies.append(tail)
    return bodies


def _split_long_text(text: str, target: int) -> list[str]:
    """Split an over-long paragraph at line breaks, then at spaces, into pieces within the target."""
    lines = [
        piece
        for line in text.split("\n")
        for piece in ([line] if len(line) <= target else _fill(_words(line, target), " ", target))
    ]
    return _fill(lines, "\n", target)


def _words(line: str, width: int) -> list[str]:
    """The line's words, any longer than `width` cut into pieces."""
    return [word[i : i + width] for word in line.split() for i in range(0, len(word), width)]


def _fill(parts: list[str], separator: str, width: int) -> list[str]:
    """Join parts in order into runs no longer than `width`; a longer part stands alone."""
    runs: list[str] = []
    for part in parts:
        if runs and len(runs[-1]) + len(separator) + len(part) <= width:
            runs[-1] += separator + part
        else:
            runs.append(part)
    return runs
