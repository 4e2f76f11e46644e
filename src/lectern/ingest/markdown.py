"""Parse one Docusaurus Markdown/MDX document into front matter fields and headed sections of clean text.

MDX noise (imports, comments, JSX, `{expressions}`) is removed, admonitions become labelled text, code fences
and math stay verbatim.
"""

from __future__ import annotations

import hashlib
import html
import re
import textwrap
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import TypeAlias

from lectern.ingest.magic_comments import shown_code

# Components whose children are book text; every other JSX component is dropped with its children.
DEFAULT_KEPT_COMPONENTS = frozenset({"Tabs", "TabItem"})


class FrontMatterError(ValueError):
    """The YAML front matter cannot be read or has a field of the wrong type."""


@dataclass(frozen=True)
class Paragraph:
    """Prose between blank lines, cleaned of MDX syntax."""

    text: str


@dataclass(frozen=True)
class CodeFence:
    """A fenced code block as written, fence lines and info string included, less Docusaurus's magic comments."""

    text: str
    language: str | None


Block: TypeAlias = Paragraph | CodeFence


@dataclass(frozen=True)
class Section:
    """The blocks under one heading; level 0 holds the text before the first heading."""

    level: int
    heading: str
    anchor: str | None  # None for text that sits at the top of the page
    path: tuple[str, ...]  # headings from the outermost down to this one, page title excluded
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ParsedPage:
    """One document: its front matter fields, its sections and a hash of its source text."""

    doc_id: str
    title: str
    slug: str | None
    description: str | None
    keywords: tuple[str, ...]
    sidebar_position: float | None
    draft: bool
    unlisted: bool
    sections: tuple[Section, ...]
    content_hash: str
    front_matter: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)

    def cleaned_text(self) -> str:
        """The cleaned body as Markdown: headings, paragraphs and code fences."""
        parts: list[str] = []
        for section in self.sections:
            if section.level:
                parts.append(f"{'#' * section.level} {section.heading}")
            parts.extend(block.text for block in section.blocks)
        return "\n\n".join(parts)


def parse_page(
    text: str, *, file_stem: str, kept_components: frozenset[str] = DEFAULT_KEPT_COMPONENTS, mdx: bool = False
) -> ParsedPage:
    """Parse one Markdown/MDX document; `file_stem` is its file name without the extension, `mdx` true for .mdx."""
    source = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front_matter, body = _split_front_matter(source)
    strip_prefix = front_matter.get("parse_number_prefixes") is not False
    stem = split_number_prefix(file_stem)[0] if strip_prefix else file_stem
    doc_id = _text_field(front_matter, "id") or stem
    if "/" in doc_id:
        raise FrontMatterError(f"front matter id {doc_id!r} must not contain '/'")
    front_matter_title = _text_field(front_matter, "title")
    prose, fences = _without_code_and_comments(body)
    outline = _Outline(front_matter_title)
    # Braces are expressions only in MDX, which front matter `format: md|mdx` may decide. Docusaurus 3 can read
    # .md files as MDX too, but Markdown written for anything else (and Docusaurus's `markdown.format: 'detect'`)
    # has braces as text: a .md file keeps them.
    mdx = {"md": False, "mdx": True}.get(str(front_matter.get("format")), mdx)
    sections = outline.read(_without_jsx(prose, kept_components, mdx=mdx), fences)
    return ParsedPage(
        doc_id=doc_id,
        title=front_matter_title or outline.first_h1 or doc_id,
        slug=_text_field(front_matter, "slug"),
        description=_text_field(front_matter, "description"),
        keywords=_keywords(front_matter),
        sidebar_position=_number_field(front_matter, "sidebar_position"),
        draft=_flag_field(front_matter, "draft"),
        unlisted=_flag_field(front_matter, "unlisted"),
        sections=sections,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        front_matter=front_matter,
    )


# --- file names ---------------------------------------------------------------------------------------

# Docusaurus leaves date-like (2021-01-31) and version-like (1.2) names alone.
_DATE_OR_VERSION = re.compile(r"(?:\d{2}|\d{4})[-_.]\d{2}(?:[-_.](?:\d{2}|\d{4}))?|\d+[-_.]\d+")
_NUMBER_PREFIX = re.compile(r"(\d+)\s*[-_.]+\s*(.+)", re.DOTALL)


def split_number_prefix(name: str) -> tuple[str, int | None]:
    """Split Docusaurus's ordering prefix off a file or folder name: '01-intro' -> ('intro', 1)."""
    if _DATE_OR_VERSION.match(name):
        return name, None
    match = _NUMBER_PREFIX.fullmatch(name)
    if match is None:
        return name, None
    return match[2], int(match[1])


# --- front matter -------------------------------------------------------------------------------------

_FRONT_MATTER_END = re.compile(r"^---[ \t]*$", re.MULTILINE)


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    first_line, _, rest = text.partition("\n")
    if first_line.rstrip() != "---":
        return {}, text
    end = _FRONT_MATTER_END.search(rest)
    if end is None:
        raise FrontMatterError("front matter opened with '---' is never closed")
    return _load_yaml(rest[: end.start()]), rest[end.end() :].removeprefix("\n")


def _load_yaml(raw: str) -> dict[str, object]:
    try:
        data = load_yaml(raw, first_line=2)
    except ValueError as exc:
        raise FrontMatterError(f"invalid YAML front matter {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"front matter must be a mapping of fields, not {type(data).__name__}")
    return {str(key): value for key, value in data.items()}


def load_yaml(raw: str, *, first_line: int = 1) -> object:
    """Load YAML safely; a syntax error becomes a ValueError naming its line, counted from `first_line`."""
    import yaml  # type: ignore[import-untyped, unused-ignore]

    try:
        return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        # The context mark is where an unclosed construct began, the more useful line to show.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f"at line {mark.line + first_line}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ValueError(f"{where}{problem}") from exc


def _text_field(front_matter: Mapping[str, object], key: str) -> str | None:
    value = front_matter.get(key)
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FrontMatterError(f"front matter field {key!r} must be text, not {type(value).__name__}")
    return str(value)


def _number_field(front_matter: Mapping[str, object], key: str) -> float | None:
    value = front_matter.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FrontMatterError(f"front matter field {key!r} must be a number, not {type(value).__name__}")
    return value


def _flag_field(front_matter: Mapping[str, object], key: str) -> bool:
    value = front_matter.get(key, False)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise FrontMatterError(f"front matter field {key!r} must be true or false, not {value!r}")


def _keywords(front_matter: Mapping[str, object]) -> tuple[str, ...]:
    value = front_matter.get("keywords")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(
        isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
    ):
        return tuple(str(item) for item in value)
    raise FrontMatterError("front matter field 'keywords' must be a list of words")


# --- code fences, ESM lines and comments (line by line) -----------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")
_FENCE_LANGUAGE = re.compile(r"[^\s{]+")
_PLACEHOLDER = "\ue000{}\ue000"
_ESM = re.compile(
    r"""import\s+(?:[\w$]+\s*(?:,|\bfrom\b)|[{*'"])"""
    r"|export\s+(?:default|const|let|var|function|class|async)\b|export\s*[{*]"
)
_STRING_LITERAL = re.compile(r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|`(?:\\.|[^`\\])*`""")
_ATX_START = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_HEADING_ID_COMMENT = re.compile(r"\{/\*\s*#([^\s*]+)\s*\*/\}[ \t]*$")
_COMMENT_OR_CODE = re.compile(r"`+|<!--|\{[ \t]*/\*")
_MDX_COMMENT_END = re.compile(r"\*/[ \t]*\}")
_BACKTICKS = re.compile(r"`+")


def _without_code_and_comments(body: str) -> tuple[str, list[CodeFence]]:
    """Drop ESM lines and comments, and swap each code fence for a placeholder line."""
    lines = body.split("\n")
    out: list[str] = []
    fences: list[CodeFence] = []
    wrappers: list[str] = []  # open `mdx-code-block` fences: their content is MDX, not code
    in_comment: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if in_comment is None:
            fence = _FENCE.match(line)
            if fence and not (fence[1][0] == "`" and "`" in fence[2]):
                marker, info = fence[1], fence[2].strip()
                language_match = _FENCE_LANGUAGE.match(info)
                language = language_match[0] if language_match else None
                if wrappers and not info and _closes_fence(line, wrappers[-1]):
                    wrappers.pop()
                    end = i
                elif language == "mdx-code-block":
                    wrappers.append(marker)
                    end = i
                else:
                    end = i + 1
                    while end < len(lines) and not _closes_fence(lines[end], marker):
                        end += 1
                    code = shown_code(lines[i + 1 : end], info, language)
                    fences.append(CodeFence("\n".join([line, *code, *lines[end : end + 1]]).rstrip("\n"), language))
                    out.append(_PLACEHOLDER.format(len(fences) - 1))
                i = end + 1
                continue
            if _ESM.match(line):
                i = _esm_end(lines, i)
                out.append("")
                continue
            if _ATX_START.match(line):
                line = _HEADING_ID_COMMENT.sub(r"{#\1}", line)
        text, in_comment = _without_comments(line, in_comment)
        out.append(text if text.strip() else "")
        i += 1
    return "\n".join(out), fences


def _closes_fence(line: str, marker: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(marker) and stripped == marker[0] * len(stripped)


def _esm_end(lines: list[str], start: int) -> int:
    """Index of the first line after the import/export statement that starts at `start`."""
    depth = 0
    for j in range(start, len(lines)):
        code = _STRING_LITERAL.sub("", lines[j])
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        if depth <= 0:
            return j + 1
    # Never balanced: take the statement to end at the first blank line rather than eat the page.
    return next((j for j in range(start + 1, len(lines)) if not lines[j].strip()), len(lines))


def _without_comments(line: str, in_comment: str | None) -> tuple[str, str | None]:
    """Remove HTML and MDX comments from one line; `in_comment` carries a comment across lines."""
    kept: list[str] = []
    i = 0
    while True:
        if in_comment == "html":
            close = line.find("-->", i)
            if close < 0:
                return "".join(kept), in_comment
            i, in_comment = close + 3, None
        elif in_comment == "mdx":
            mdx_close = _MDX_COMMENT_END.search(line, i)
            if mdx_close is None:
                return "".join(kept), in_comment
            i, in_comment = mdx_close.end(), None
        found = _COMMENT_OR_CODE.search(line, i)
        if found is None:
            kept.append(line[i:])
            return "".join(kept), None
        kept.append(line[i : found.start()])
        if found[0].startswith("`"):
            i = _code_span_end(line, found.start())
            kept.append(line[found.start() : i])
        else:
            in_comment = "html" if found[0] == "<!--" else "mdx"
            i = found.end()


@cache
def _closing_backticks(count: int) -> re.Pattern[str]:
    return re.compile(rf"(?<!`)`{{{count}}}(?!`)")


def _code_span_end(text: str, start: int) -> int:
    """End of the inline code span opening at `start`, or just past its backticks if it never closes."""
    run = _BACKTICKS.match(text, start)
    assert run is not None
    paragraph_end = text.find("\n\n", run.end())
    closing = _closing_backticks(run.end() - start).search(
        text, run.end(), len(text) if paragraph_end < 0 else paragraph_end
    )
    return closing.end() if closing else run.end()


# --- JSX and HTML (over the whole body, fences already set aside) --------------------------------------

_JSX_SPECIAL = re.compile(r"[`<\\]")
_MDX_SPECIAL = re.compile(r"[`<\\{$]")  # in MDX, also expressions and the math that protects its braces
_TAG_OPEN = re.compile(r"<(/?)([A-Za-z][\w.:-]*)?")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>")
_MAX_TAG_CHARS = 4000
_HEADING_ID = re.compile(r"\{#[^\s{}]+\}")
_STRING_EXPRESSION = re.compile(r"""\{\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|`([^`$\\]*)`)\s*\}""")
_DOLLARS = re.compile(r"\$+")
_DROPPED_HTML = frozenset({"script", "style", "svg"})  # their children are code or drawing, not text
_LABEL_MARK = "\ue001"  # a line that labels the next paragraph, as a TabItem labels its content
_BLOCK_HTML = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt"),
        *("figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li"),
        *("main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th"),
        *("thead", "tr", "ul"),
    }
)


@dataclass(frozen=True)
class _Tag:
    name: str  # "" for a fragment
    closing: bool
    self_closing: bool
    attributes: str
    end: int


def _without_jsx(text: str, kept: frozenset[str], *, mdx: bool) -> str:
    """Drop tags: HTML and kept components keep their children, other components go with theirs.

    With `mdx`, `{…}` expressions go too (their value is only known when the site builds), except a string
    literal, which keeps its text (`{'<'}` is MDX's way to write a less-than sign), and math stays as written.
    """
    specials = _MDX_SPECIAL if mdx else _JSX_SPECIAL
    out: list[str] = []
    i = 0
    while (special := specials.search(text, i)) is not None:
        start = special.start()
        out.append(text[i:start])
        if special[0] == "\\":
            out.append(text[start : start + 2])
            i = start + 2
        elif special[0] == "`":
            i = _code_span_end(text, start)
            out.append(text[start:i])
        elif special[0] == "$":
            # Math (remark-math) is kept as written: its braces and '<' are TeX, not MDX.
            i = _math_end(text, start)
            out.append(text[start:i])
        elif special[0] == "{":
            replacement, i = _expression(text, start)
            out.append(replacement)
        elif (link := _AUTOLINK.match(text, start)) is not None:
            out.append(link[1])
            i = link.end()
        elif (tag := _read_tag(text, start)) is None:
            out.append("<")
            i = start + 1
        else:
            replacement, i = _replace_tag(text, tag, kept)
            out.append(replacement)
    out.append(text[i:])
    return "".join(out)


@cache
def _closing_dollars(count: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![\\$])\${{{count}}}(?!\$)")


def _math_end(text: str, start: int) -> int:
    """End of the `$…$` or `$$…$$` math span opening at `start`, or just past its dollars if it is not one.

    A single dollar follows pandoc's rule, so prices stay prose: no blank after the opening one, none before the
    closing one, and no digit right after it ("$5 and $10").
    """
    run = _DOLLARS.match(text, start)
    assert run is not None
    width = run.end() - start
    paragraph_end = text.find("\n\n", run.end())
    limit = len(text) if paragraph_end < 0 else paragraph_end
    if width > 2 or (width == 1 and text[run.end() : run.end() + 1].isspace()):
        return run.end()
    closing = _closing_dollars(width).search(text, run.end(), limit)
    if closing is None or closing.start() == run.end():
        return run.end()
    if width == 1 and (text[closing.start() - 1].isspace() or text[closing.end() : closing.end() + 1].isdigit()):
        return run.end()
    return closing.end()


def _expression(text: str, start: int) -> tuple[str, int]:
    """What the `{` at `start` leaves in the text, and where reading resumes.

    A heading id (`{#id}`) stays for the outline to read; an unclosed brace, or one whose closing brace lies
    past the paragraph, is text.
    """
    heading_id = _HEADING_ID.match(text, start)
    if heading_id is not None:
        return heading_id[0], heading_id.end()
    end = _expression_end(text, start)
    if end < 0 or text.find("\n\n", start, end) >= 0:
        return "{", start + 1
    literal = _STRING_EXPRESSION.fullmatch(text, start, end)
    return (next((group for group in literal.groups() if group is not None), "") if literal else ""), end


def _replace_tag(text: str, tag: _Tag, kept: frozenset[str]) -> tuple[str, int]:
    """What a tag leaves in the text, and where reading resumes."""
    opening = not (tag.closing or tag.self_closing)
    if tag.name[:1].islower():
        if tag.name in _DROPPED_HTML and opening:
            return "", _matching_close(text, tag) or tag.end
        if tag.name == "br":  # often inside a table row, which a line break would cut in two
            return " ", tag.end
        return ("\n" if tag.name in _BLOCK_HTML else ""), tag.end
    if not tag.name or tag.name in kept:
        label = _attribute(tag.attributes, "label") or _attribute(tag.attributes, "value")
        if tag.name == "TabItem" and opening and label:
            return f"\n\n{_LABEL_MARK}{label}\n", tag.end
        return "", tag.end
    return "", (_matching_close(text, tag) if opening else None) or tag.end


def _read_tag(text: str, start: int) -> _Tag | None:
    """Read the JSX/HTML tag at `start`, or None when that `<` does not open one."""
    opening = _TAG_OPEN.match(text, start)
    assert opening is not None
    name, i = opening[2] or "", opening.end()
    if not name and not text.startswith(">", i):
        return None
    limit = min(len(text), start + _MAX_TAG_CHARS)
    while i < limit:
        char = text[i]
        if char == ">" or text.startswith("/>", i):
            end = i + 1 if char == ">" else i + 2
            return _Tag(name, bool(opening[1]), char == "/", text[opening.end() : i], end)
        if char in "\"'":
            closing = text.find(char, i + 1)
            if closing < 0 or text.find("\n\n", i, closing) >= 0:  # an apostrophe in prose, not a value
                return None
            i = closing + 1
        elif char == "{":
            i = _expression_end(text, i)
            if i < 0:
                return None
        elif char == "<" or text.startswith("\n\n", i):
            return None
        else:
            i += 1
    return None


def _expression_end(text: str, start: int) -> int:
    """End of the `{…}` JavaScript expression opening at `start`, or -1."""
    depth = 0
    i = start
    limit = min(len(text), start + _MAX_TAG_CHARS)
    while i < limit:
        char = text[i]
        if char in "\"'`":
            i = text.find(char, i + 1)
            if i < 0:
                return -1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _matching_close(text: str, tag: _Tag) -> int | None:
    """End of the tag that closes `tag`, counting nested tags of the same name."""
    same_name = re.compile(rf"<(/?){re.escape(tag.name)}(?=[\s/>])")
    depth, i = 1, tag.end
    while (found := same_name.search(text, i)) is not None:
        inner = _read_tag(text, found.start())
        if inner is None:
            i = found.end()
            continue
        i = inner.end
        if inner.closing:
            depth -= 1
            if depth == 0:
                return inner.end
        elif not inner.self_closing:
            depth += 1
    return None


def _attribute(attributes: str, name: str) -> str | None:
    found = re.search(
        rf"""(?:^|\s){name}\s*=\s*(?:"([^"]*)"|'([^']*)'|\{{\s*(?:"([^"]*)"|'([^']*)'|`([^`]*)`)\s*\}})""",
        attributes,
    )
    return next((group for group in found.groups() if group), None) if found else None


# --- sections: headings, admonitions, paragraphs -------------------------------------------------------

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_ADMONITION_OPEN = re.compile(r"[ \t]*(:{3,})([A-Za-z][\w-]*)(?:\[(.*)\])?(?:\{[^}]*\})?(.*)")
_ADMONITION_CLOSE = re.compile(r"[ \t]*(:{3,})[ \t]*")
_PLACEHOLDER_LINE = re.compile("[ \t]*\ue000(\\d+)\ue000[ \t]*")
_LIST_OR_TABLE = re.compile(r"\s*(?:[-*+][ \t]|\d+[.)][ \t]|\||>)")
_EXPLICIT_ID = re.compile(r"[ \t]*\{#([^\s{}]+)\}[ \t]*$")


class _Outline:
    """Builds a page's sections from cleaned lines: headings, admonitions, paragraphs and fences."""

    def __init__(self, front_matter_title: str | None) -> None:
        self.front_matter_title = front_matter_title
        self.first_h1: str | None = None
        self._sections: list[Section] = []
        self._section: tuple[int, str, str | None, tuple[str, ...]] = (0, "", None, ())
        self._trail: list[tuple[int, str]] = []
        self._blocks: list[Block] = []
        self._lines: list[str] = []
        self._label: str | None = None
        self._admonitions: list[int] = []
        self._slugger = HeadingSlugger()

    def read(self, text: str, fences: list[CodeFence]) -> tuple[Section, ...]:
        for line in text.split("\n"):
            self._read_line(line, fences)
        self._end_paragraph()
        self._release_label()
        self._end_section()
        return tuple(self._sections)

    def _read_line(self, line: str, fences: list[CodeFence]) -> None:
        if match := _PLACEHOLDER_LINE.fullmatch(line):
            self._end_paragraph()
            self._release_label()
            self._blocks.append(fences[int(match[1])])
        elif line.startswith(_LABEL_MARK):
            self._end_paragraph()
            self._set_label(line[1:].strip())
        elif match := _ADMONITION_OPEN.fullmatch(line):
            self._end_paragraph()
            self._admonitions.append(len(match[1]))
            title = (match[3] if match[3] is not None else match[4]).strip()
            kind = match[2].capitalize()
            self._set_label(f"{kind} ({title})" if title else kind)
        elif match := _ADMONITION_CLOSE.fullmatch(line):
            self._end_paragraph()
            self._release_label()
            if self._admonitions and len(match[1]) >= self._admonitions[-1]:
                self._admonitions.pop()
        elif match := _ATX.fullmatch(line):
            self._end_paragraph()
            self._start_section(len(match[1]), match[2] or "")
        elif _SETEXT.fullmatch(line) and self._lines and not _LIST_OR_TABLE.match(self._lines[0]):
            heading = " ".join(text.strip() for text in self._lines)
            self._lines = []
            self._start_section(1 if "=" in line else 2, heading)
        elif not line.strip() or _THEMATIC_BREAK.fullmatch(line):
            self._end_paragraph()
        else:
            self._lines.append(line)

    def _set_label(self, label: str) -> None:
        self._release_label()
        self._label = label or None

    def _release_label(self) -> None:
        """A label with no paragraph to prefix stands as its own line."""
        if self._label is not None:
            self._blocks.append(Paragraph(f"{self._label}:"))
            self._label = None

    def _end_paragraph(self) -> None:
        if not self._lines:
            return
        text = textwrap.dedent("\n".join(line.rstrip() for line in self._lines)).strip("\n")
        self._lines = []
        if self._label is not None and not _LIST_OR_TABLE.match(text):
            text = f"{self._label}: {text}"
            self._label = None
        self._release_label()
        self._blocks.append(Paragraph(text))

    def _start_section(self, level: int, raw_heading: str) -> None:
        self._release_label()
        self._end_section()
        explicit = _EXPLICIT_ID.search(raw_heading)
        heading = plain_heading(raw_heading[: explicit.start()] if explicit else raw_heading)
        anchor = explicit[1] if explicit else self._slugger.slug(heading)
        first_heading = all(section.level == 0 for section in self._sections)
        if level == 1 and self.first_h1 is None:
            self.first_h1 = heading
            if first_heading and self.front_matter_title in (None, heading):
                # The page's own title: its text sits at the top of the page, so no anchor and no path.
                self._section = (1, heading, None, ())
                return
        while self._trail and self._trail[-1][0] >= level:
            self._trail.pop()
        self._trail.append((level, heading))
        self._section = (level, heading, anchor, tuple(text for _, text in self._trail))

    def _end_section(self) -> None:
        level, heading, anchor, path = self._section
        if self._blocks or level > 0:
            self._sections.append(Section(level, heading, anchor, path, tuple(self._blocks)))
        self._blocks = []


# --- heading text and anchors -------------------------------------------------------------------------

_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_EMPHASIS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\3(?!\w)")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_STASHED = re.compile("\ue002(\\d+)\ue002")
# github-slugger drops punctuation, symbols, controls and separators, but keeps alphabetic symbols
# such as circled letters, the hyphen, the underscore (connector punctuation) and the plain space.
_SLUG_DROPPED_CATEGORIES = frozenset(
    {"No", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp"}
)
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))


def plain_heading(markdown: str) -> str:
    """A heading's text as a reader sees it: links, emphasis and code marks removed."""
    code_spans: list[str] = []

    def stash(match: re.Match[str]) -> str:
        content = match[2]
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]
        code_spans.append(content)
        return f"\ue002{len(code_spans) - 1}\ue002"

    text = _CODE_SPAN.sub(stash, markdown)
    text = _LINK.sub(r"\1", _IMAGE.sub(r"\1", text))
    text = _EMPHASIS.sub(lambda match: match[2] if match[2] is not None else match[4], text)
    text = html.unescape(_ESCAPED.sub(r"\1", text))
    text = _STASHED.sub(lambda match: code_spans[int(match[1])], text)
    return " ".join(text.split())


@cache
def _kept_in_slug(char: str) -> bool:
    if char in " -" or unicodedata.category(char) not in _SLUG_DROPPED_CATEGORIES:
        return True
    return any(low <= ord(char) <= high for low, high in _ALPHABETIC_SYMBOLS)


def heading_slug(text: str) -> str:
    """The GitHub-style slug Docusaurus gives a heading: 'Step 2: Install!' -> 'step-2-install'."""
    return "".join(char for char in text.lower() if _kept_in_slug(char)).replace(" ", "-")


def is_anchor_of(anchor: str, heading: str) -> bool:
    """Whether `anchor` is the slug Docusaurus gives `heading`, or a numbered repeat of it ('setup-2')."""
    base = heading_slug(heading)
    return anchor == base or re.fullmatch(re.escape(base) + r"-\d+", anchor) is not None


def heading_from_anchor(anchor: str) -> str:
    """A readable heading for a section known only by its anchor: 'install-the-cli' -> 'Install the cli'."""
    words = anchor.replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else anchor


class HeadingSlugger:
    """Hands out a page's heading anchors, numbering repeats: 'setup', 'setup-1', 'setup-2'."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        """The next unique anchor for a heading with this text."""
        base = heading_slug(text)
        anchor = base
        while anchor in self._seen:
            self._seen[base] += 1
            anchor = f"{base}-{self._seen[base]}"
        self._seen[anchor] = 0
        return anchor
