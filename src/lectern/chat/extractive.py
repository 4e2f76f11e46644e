"""Answers without a language model: the passages' sentences that share the most rare words with the question.

Words are compared as PostgreSQL lexemes (the analysis the search index uses: 'english' stems and drops
stopwords), so "rotating tokens" meets "tokens rotate". Each sentence is followed by its passage's marker.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Sentences per answer length.
SENTENCES = {"short": 2, "medium": 3, "long": 5}
MAX_SENTENCE_CHARS = 400
MAX_CANDIDATES = 400

NOT_COVERED = "The book does not cover this: no passage of the book matches the question."
LEAD = "The most relevant sentences from the book:"
LEAD_TIMEOUT = "The language model did not answer in time, so here are the most relevant sentences from the book:"
LEAD_UNAVAILABLE = (
    "The language model is not available right now, so here are the most relevant sentences from the book:"
)

_FENCED_CODE = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.M | re.S)
_HEADING = re.compile(r"^#{1,6}\s.*$", re.M)
_TABLE_ROW = re.compile(r"^\s*\|.*$", re.M)
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", re.M)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_BLANK_LINES = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? before a blank and a capital, digit or quote (so "e.g. this" stays whole), or at
# the full stops of scripts that need no blank after them.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])|(?<=[。！？।])\s*")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Sentence:
    passage: int  # index of its passage, best first
    position: int  # order within the passage
    text: str


def sentences_of(body: str) -> list[str]:
    """The prose sentences of a passage body: code, headings and tables left out, Markdown marks removed."""
    text = _FENCED_CODE.sub("\n\n", body)
    text = _HEADING.sub("", text)
    text = _TABLE_ROW.sub("", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    found: list[str] = []
    for block in _BLANK_LINES.split(text):
        for item in _LIST_MARK.split(block):  # list items end their sentences
            for piece in _SENTENCE_END.split(item):
                sentence = _WHITESPACE.sub(" ", piece).strip()
                if len(sentence.split()) < 3:
                    continue
                if len(sentence) > MAX_SENTENCE_CHARS:
                    sentence = sentence[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"
                found.append(sentence)
    return found


def candidates(bodies: Sequence[str]) -> list[Sentence]:
    """Every passage's sentences, in passage order, at most MAX_CANDIDATES; repeated sentences once."""
    seen: set[str] = set()
    found: list[Sentence] = []
    for index, body in enumerate(bodies):
        for position, text in enumerate(sentences_of(body)):
            key = text.casefold()
            if key not in seen:
                seen.add(key)
                found.append(Sentence(index, position, text))
    return found[:MAX_CANDIDATES]


def pick(sentences: Sequence[Sentence], lexemes: Sequence[set[str]], question: set[str], count: int) -> list[Sentence]:
    """The `count` sentences sharing the rarest question lexemes, back in reading order.

    A lexeme weighs more the fewer candidate sentences hold it (IDF); earlier passages win ties. With no
    sentence sharing a lexeme, the first sentences of the best passage stand in.
    """
    total = len(sentences)
    frequency: dict[str, int] = {}
    for words in lexemes:
        for word in words & question:
            frequency[word] = frequency.get(word, 0) + 1
    scored = []
    for sentence, words in zip(sentences, lexemes, strict=True):
        score = sum(math.log(1 + total / frequency[word]) for word in words & question)
        if score > 0:
            scored.append((-score, sentence.passage, sentence.position, sentence))
    chosen = [entry[3] for entry in sorted(scored, key=lambda entry: entry[:3])[:count]]
    if not chosen:
        chosen = [s for s in sentences if s.passage == sentences[0].passage][:count] if sentences else []
    return sorted(chosen, key=lambda s: (s.passage, s.position))


def compose(chosen: Sequence[Sentence], ids: Sequence[str], lead: str = LEAD) -> str:
    """The answer: a lead line, then a paragraph per passage, each sentence followed by its marker."""
    if not chosen:
        return NOT_COVERED
    paragraphs: list[str] = []
    current = -1
    for sentence in chosen:
        marked = f"{sentence.text} [{ids[sentence.passage]}]"
        if sentence.passage == current:
            paragraphs[-1] += " " + marked
        else:
            paragraphs.append(marked)
            current = sentence.passage
    return "\n\n".join([lead, *paragraphs])
