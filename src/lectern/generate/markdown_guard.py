"""The guard around a rewritten text: what the model's output must keep, the checks, and the repairs.

The source goes to the model with tokens in place of code and addresses (placeholders.py). The output must hold
every token exactly once, code-block tokens alone on their lines, no code or address of its own, and the
source's headings, tables and admonitions. Repairs put the originals back where that is unambiguous (a code
block the model rewrote, a heading it renamed, a link it invented); anything else is reported, so the caller
can ask again and, failing that, keep the original text. After restoring, `code_unchanged` is the last word.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lectern.generate.markdown import (
    AUTOLINK,
    HEADING,
    Structure,
    code_blocks,
    fenced_spans,
    inline_code,
    lines_of,
    multiset_equal,
    structure_of,
    urls,
)
from lectern.generate.placeholders import Protected

# A Markdown answer wrapped whole in a code fence, as models sometimes send it.
_WRAPPED = re.compile(r"\A\s*(`{3,}|~{3,})[ \t]*(?:markdown|md)?[ \t]*\n(.*)\n[ \t]*\1[ \t]*\Z", re.S | re.I)
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:[ \t]+\"[^\"]*\")?\)")


@dataclass(frozen=True)
class Expectation:
    """What the output of one protected text must keep."""

    protected: Protected
    structure: Structure
    heading_lines: tuple[str, ...]
    keep_headings: bool  # the heading lines themselves, not only their levels (a rewrite in the same language)


def expect(protected: Protected, *, keep_headings: bool) -> Expectation:
    headings = tuple(line.text for line in lines_of(protected.text) if not line.in_code and HEADING.match(line.text))
    return Expectation(protected, structure_of(protected.text), headings, keep_headings)


def check(output: str, expected: Expectation) -> list[str]:
    """What the output breaks, in words the model can act on; empty when it keeps everything."""
    protected = expected.protected
    counts = Counter(protected.pattern.findall(output))
    problems = [f"the token {token} is missing" for token in protected.tokens() if counts[token] == 0]
    problems += [
        f"the token {token} appears {counts[token]} times" for token in protected.tokens() if counts[token] > 1
    ]
    problems += [f"{token} is not a token of the text" for token in counts if token not in protected.originals]
    for token in protected.tokens("code"):
        if counts[token] and not any(line.strip() == token for line in output.splitlines()):
            problems.append(f"the code block token {token} must stand alone on its own line")
    if fenced_spans(output):
        problems.append("the answer contains a code block: code is only ever written as its token")
    if _added_addresses(output, protected):
        problems.append("the answer adds a link or address that the text does not have")
    problems += _structure_problems(structure_of(output), expected)
    return problems


def _structure_problems(found: Structure, expected: Expectation) -> list[str]:
    want = expected.structure
    problems = []
    if found.heading_levels != want.heading_levels:
        levels = ", ".join(str(level) for level in want.heading_levels) or "none"
        problems.append(f"the headings changed: keep every heading, at the same levels ({levels})")
    elif expected.keep_headings and found.headings != want.headings:
        problems.append("a heading was reworded: keep every heading line exactly as written")
    if found.tables != want.tables:
        shapes = "; ".join(f"{rows} rows of {columns} columns" for rows, columns in want.tables) or "no table"
        problems.append(f"the tables changed: keep each table's rows and columns ({shapes})")
    if found.admonitions != want.admonitions:
        problems.append("the admonitions changed: keep every ::: line and its keyword")
    return problems


def _added_addresses(output: str, protected: Protected) -> list[str]:
    return [url for url in urls(output) if not protected.pattern.fullmatch(url.strip("<>"))]


def repair(output: str, expected: Expectation) -> str:
    """The output with what can be put back unambiguously put back; whatever else is wrong stays for `check`."""
    protected = expected.protected
    unwrapped = _WRAPPED.match(output)
    if unwrapped and not fenced_spans(protected.text):
        output = unwrapped.group(2)
    output = _original_code_back(output, protected)
    output = _code_tokens_alone(output, protected)
    output = _LINK.sub(lambda match: _without_added_link(match, protected), output)
    output = AUTOLINK.sub(lambda match: match.group(0) if protected.pattern.fullmatch(match.group(0)) else "", output)
    if expected.keep_headings:
        output = _original_headings_back(output, expected)
    # Code is all tokens here, so collapsing blank lines cannot touch it.
    return _BLANK_RUN.sub("\n\n", output).strip("\n")


def _original_code_back(output: str, protected: Protected) -> str:
    """Code the model wrote in place of code-block tokens becomes the tokens again; code it added goes."""
    spans = fenced_spans(output)
    if not spans:
        return output
    present = set(protected.pattern.findall(output))
    missing = [token for token in protected.tokens("code") if token not in present]
    if missing and len(missing) != len(spans):
        return output  # which block was which is not clear: left for check, and a new answer
    for number, (start, end) in reversed(list(enumerate(spans))):
        output = output[:start] + (missing[number] if missing else "") + output[end:]
    return output


def _code_tokens_alone(output: str, protected: Protected) -> str:
    """Each code-block token on a line of its own (text around it moves to the lines before and after), once."""
    code = set(protected.tokens("code"))
    seen: set[str] = set()
    lines: list[str] = []
    for line in output.split("\n"):
        tokens = [token for token in protected.pattern.findall(line) if token in code]
        if not tokens:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        rest = line
        for token in tokens:
            before, _, rest = rest.partition(token)
            if before.strip():
                lines.extend([before.rstrip(), ""])
            if token not in seen:
                lines.append(indent + token)
                seen.add(token)
            if rest.strip():
                lines.append("")
        if rest.strip():
            lines.append(indent + rest.strip())
    return "\n".join(lines)


def _without_added_link(match: re.Match[str], protected: Protected) -> str:
    """A link or image whose address is not a token was invented: keep a link's text, drop an image."""
    if protected.pattern.fullmatch(match.group(3)):
        return match.group(0)
    return "" if match.group(1) else match.group(2)


def _original_headings_back(output: str, expected: Expectation) -> str:
    """When the headings kept their levels but not their words, the original heading lines go back."""
    found = [
        (line, len(heading[1]))
        for line in lines_of(output)
        if not line.in_code and (heading := HEADING.match(line.text))
    ]
    if tuple(level for _, level in found) != expected.structure.heading_levels:
        return output
    for (line, _), original in reversed(list(zip(found, expected.heading_lines, strict=True))):
        output = output[: line.start] + original + output[line.start + len(line.text) :]
    return output


def code_unchanged(source: str, result: str, *, inline: bool) -> bool:
    """The last word: the result has the source's code blocks byte for byte and in order, its addresses, and (with
    `inline`) its inline code; nothing else passes."""
    if code_blocks(source) != code_blocks(result):
        return False
    if inline and not multiset_equal(inline_code(source), inline_code(result)):
        return False
    return multiset_equal(urls(source), urls(result))
