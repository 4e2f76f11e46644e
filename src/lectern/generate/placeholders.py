"""Opaque tokens for what a model must not change: code blocks, inline code, link and image addresses, glossary
terms. The model sees `⟦3⟧` where the text had a URL, copies the token, and the original goes back afterwards."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from lectern.generate.markdown import (
    AUTOLINK,
    INLINE_CODE,
    LINK_DESTINATION,
    REFERENCE_DEFINITION,
    bare_urls,
    prose_segments,
)

Kind = Literal["code", "inline_code", "url", "term"]
# Bracket pairs rare in books; the first one the text does not use becomes the tokens' brackets.
_BRACKETS = (("⟦", "⟧"), ("⟪", "⟫"), ("⦃", "⦄"), ("⟬", "⟭"))


@dataclass(frozen=True)
class Protected:
    """A text with tokens in place of what must survive, and what each token stands for."""

    text: str
    opening: str
    closing: str
    originals: dict[str, str] = field(default_factory=dict)  # token -> the text it replaced
    restored: dict[str, str] = field(default_factory=dict)  # token -> the text it becomes (a term's translation)
    kinds: dict[str, Kind] = field(default_factory=dict)

    @property
    def pattern(self) -> re.Pattern[str]:
        """Any token of this text's bracket form, known or invented."""
        return re.compile(re.escape(self.opening) + r"\d{1,5}" + re.escape(self.closing))

    def tokens(self, kind: Kind | None = None) -> list[str]:
        """The tokens in the order they were made, all or of one kind."""
        return [token for token, found in self.kinds.items() if kind is None or found == kind]


class _Builder:
    def __init__(self, text: str) -> None:
        self.opening, self.closing = next(
            ((a, b) for a, b in _BRACKETS if a not in text and b not in text),
            (_BRACKETS[0][0] * 2, _BRACKETS[0][1] * 2),
        )
        self.originals: dict[str, str] = {}
        self.restored: dict[str, str] = {}
        self.kinds: dict[str, Kind] = {}

    def token(self, original: str, kind: Kind, restored: str | None = None) -> str:
        token = f"{self.opening}{len(self.originals) + 1}{self.closing}"
        self.originals[token] = original
        self.restored[token] = original if restored is None else restored
        self.kinds[token] = kind
        return token


def protect(markdown: str, *, inline_code: bool, terms: Mapping[str, str | None] | None = None) -> Protected:
    """Replace code blocks and addresses (and, if asked, inline code and glossary terms) with tokens.

    `terms` maps a glossary term to its translation, or to None to keep it as written; terms match whole words,
    ignoring case, the longest first.
    """
    builder = _Builder(markdown)
    pieces: list[str] = []
    segments = prose_segments(markdown)
    for number, (start, end) in enumerate(segments):
        pieces.append(_protect_prose(markdown[start:end], builder, inline_code=inline_code, terms=terms or {}))
        if number < len(segments) - 1:
            code_end = segments[number + 1][0]
            pieces.append(builder.token(markdown[end:code_end], "code"))
    return Protected(
        "".join(pieces), builder.opening, builder.closing, builder.originals, builder.restored, builder.kinds
    )


def _protect_prose(text: str, builder: _Builder, *, inline_code: bool, terms: Mapping[str, str | None]) -> str:
    if inline_code:
        return _protect_addresses(
            INLINE_CODE.sub(lambda m: builder.token(m.group(0), "inline_code"), text), builder, terms
        )
    # Addresses inside inline code are code, not links: only the stretches between code spans are searched.
    out: list[str] = []
    position = 0
    for match in INLINE_CODE.finditer(text):
        out.append(_protect_addresses(text[position : match.start()], builder, terms))
        out.append(match.group(0))
        position = match.end()
    out.append(_protect_addresses(text[position:], builder, terms))
    return "".join(out)


def _protect_addresses(text: str, builder: _Builder, terms: Mapping[str, str | None]) -> str:
    text = LINK_DESTINATION.sub(lambda m: m.group(1) + builder.token(m.group(2), "url"), text)
    text = AUTOLINK.sub(lambda m: builder.token(m.group(0), "url"), text)
    text = REFERENCE_DEFINITION.sub(lambda m: m.group(1) + builder.token(m.group(2), "url"), text)
    out: list[str] = []
    position = 0
    for start, end in bare_urls(text):
        out.append(text[position:start])
        out.append(builder.token(text[start:end], "url"))
        position = end
    out.append(text[position:])
    text = "".join(out)
    return _protect_terms(text, builder, terms) if terms else text


def _protect_terms(text: str, builder: _Builder, terms: Mapping[str, str | None]) -> str:
    by_case = {term.casefold(): translation for term, translation in terms.items()}
    alternatives = "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def replace(match: re.Match[str]) -> str:
        translation = by_case.get(match.group(0).casefold())
        return builder.token(match.group(0), "term", translation)

    return pattern.sub(replace, text)


def restore(text: str, protected: Protected) -> str:
    """Put back what each known token stands for (unknown tokens are left for the checks to catch)."""
    return protected.pattern.sub(lambda match: protected.restored.get(match.group(0), match.group(0)), text)
