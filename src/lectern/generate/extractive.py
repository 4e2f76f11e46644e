"""Summaries and quizzes without a language model: the page's key sentences, quoted, and cloze questions on them.

Sentences are cut as chat's extractive answers cut them (lectern.chat.extractive: no code, headings or tables).
A key sentence shares many of its words with the rest of the page (the words are PostgreSQL lexemes, so
"rotating" meets "rotate"): the page's central sentences, not its asides. A cloze question blanks a sentence's
rarest word and offers the words blanked in the other questions as the wrong choices.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lectern.chat.extractive import Sentence, candidates
from lectern.generate.markdown import BARE_URL, INLINE_CODE
from lectern.generate.quiz import Place
from lectern.generate.schemas import Quiz, QuizQuestion

# Sentences per summary, by the reader's preferred answer length.
SUMMARY_SENTENCES = {"short": 3, "medium": 5, "long": 8}
SUMMARY_LEAD = "Key sentences from this {what}, quoted (no language model was used):"
QUIZ_LEAD = "Fill in the blanks: each sentence is quoted from the page (no language model was used)."
# The first sentence of a section usually says what the section is about.
OPENING_BONUS = 0.5
MAX_OPTIONS = 4
MIN_WORD_CHARS = 4
BLANK = "_____"
_WORD = re.compile(r"(?<![\w'’-])[^\W\d_](?:[\w'’-]*[^\W_])?(?![\w'’-])")


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    words: frozenset[str]  # its lexemes
    score: float


def score_sentences(sentences: Sequence[Sentence], lexemes: Sequence[set[str]]) -> list[Scored]:
    """Every sentence with lexemes, best first (ties: reading order)."""
    shared = Counter(word for words in lexemes for word in words)
    scored = []
    for sentence, words in zip(sentences, lexemes, strict=True):
        if not words:
            continue
        score = sum(shared[word] - 1 for word in words) / math.sqrt(len(words))
        if sentence.position == 0:
            score += OPENING_BONUS * score
        scored.append(Scored(sentence, frozenset(words), score))
    return sorted(scored, key=lambda s: (-s.score, s.sentence.passage, s.sentence.position))


def in_reading_order(chosen: Sequence[Scored]) -> list[Scored]:
    return sorted(chosen, key=lambda s: (s.sentence.passage, s.sentence.position))


def summary_markdown(chosen: Sequence[Scored], places: Sequence[Place], *, of_section: bool = False) -> str:
    """The chosen sentences in reading order, each followed by a link to its section."""
    lines = [SUMMARY_LEAD.format(what="section" if of_section else "page"), ""]
    for scored in in_reading_order(chosen):
        place = places[scored.sentence.passage]
        where = place.heading or "top of the page"
        link = f" ([{where}]({place.url}))" if place.url else ""
        lines.append(f"- {scored.sentence.text}{link}")
    return "\n".join(lines)


def sentences_of_sections(markdowns: Sequence[str]) -> list[Sentence]:
    """The sentences of each section (a sentence's `passage` is its section's index)."""
    return candidates(markdowns)


def words_of(text: str) -> list[str]:
    """The sentence's words of at least MIN_WORD_CHARS letters, in order, each once; none from code or a URL."""
    prose = BARE_URL.sub(" ", INLINE_CODE.sub(" ", text))
    found = [word for word in _WORD.findall(prose) if len(word) >= MIN_WORD_CHARS]
    return list(dict.fromkeys(found))


def cloze_quiz(
    ranked: Sequence[Scored], word_lexemes: dict[str, set[str]], places: Sequence[Place], count: int
) -> Quiz:
    """Up to `count` cloze questions from the best sentences; each blanks the sentence's rarest word."""
    frequency = Counter(word for scored in ranked for word in scored.words)
    blanks: list[tuple[Scored, str, frozenset[str]]] = []
    used: set[frozenset[str]] = set()
    for scored in ranked:
        best = _rarest_word(scored.sentence.text, word_lexemes, frequency, used)
        if best is not None:
            word, lexeme = best
            blanks.append((scored, word, lexeme))
            used.add(lexeme)
    pool = [(word, lexeme) for _, word, lexeme in blanks]
    questions: list[QuizQuestion] = []
    for scored, word, _ in blanks:
        wrong = _distractors(word, scored.words, pool)
        if not wrong:
            continue
        options = sorted([word, *wrong], key=str.casefold)
        place = places[scored.sentence.passage]
        text = re.sub(rf"(?<![\w'’-]){re.escape(word)}(?![\w'’-])", BLANK, scored.sentence.text, count=1)
        questions.append(
            QuizQuestion(
                question=text,
                options=options,
                answer=options.index(word),
                citation=place.cite(scored.sentence.text),
            )
        )
        if len(questions) == count:
            break
    return Quiz(questions=questions)


def _rarest_word(
    text: str, word_lexemes: dict[str, set[str]], frequency: Counter[str], used: set[frozenset[str]]
) -> tuple[str, frozenset[str]] | None:
    """The word whose lexeme the fewest sentences share (not a stopword, not blanked already); longer wins ties."""
    options = []
    for position, word in enumerate(words_of(text)):
        lexeme = frozenset(word_lexemes.get(word, set()))
        if len(lexeme) != 1 or lexeme in used:
            continue
        options.append((sum(frequency[w] for w in lexeme), -len(word), position, word, lexeme))
    if not options:
        return None
    _, _, _, word, lexeme = min(options)
    return word, lexeme


def _distractors(word: str, sentence_words: frozenset[str], pool: Sequence[tuple[str, frozenset[str]]]) -> list[str]:
    """Other questions' answers that do not occur in this sentence, closest in length first."""
    fitting = [other for other, lexeme in pool if other.casefold() != word.casefold() and not (lexeme & sentence_words)]
    fitting = list(dict.fromkeys(fitting))
    fitting.sort(key=lambda other: (abs(len(other) - len(word)), other.casefold()))
    return fitting[: MAX_OPTIONS - 1]
