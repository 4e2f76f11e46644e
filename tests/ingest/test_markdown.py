"""Parsing one Markdown/MDX document: front matter, MDX syntax, admonitions, fences and heading anchors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lectern.ingest.markdown import (
    CodeFence,
    FrontMatterError,
    Paragraph,
    ParsedPage,
    heading_slug,
    parse_page,
    plain_heading,
    split_number_prefix,
)

SITE = Path(__file__).parent / "fixtures" / "site"


def parse_fixture(relative: str) -> ParsedPage:
    path = SITE / relative
    return parse_page(path.read_text(encoding="utf-8"), file_stem=path.stem, mdx=path.suffix == ".mdx")


def paragraphs(page: ParsedPage) -> list[str]:
    return [block.text for section in page.sections for block in section.blocks if isinstance(block, Paragraph)]


def fences(page: ParsedPage) -> list[CodeFence]:
    return [block for section in page.sections for block in section.blocks if isinstance(block, CodeFence)]


# --- front matter ---------------------------------------------------------------------------------------


def test_front_matter_fields_are_read() -> None:
    page = parse_fixture("docs/intro.md")

    assert page.doc_id == "welcome"
    assert page.title == "Welcome to Lectern"
    assert page.slug == "/"
    assert page.sidebar_position == 1
    assert page.description == "What this book covers and how to read it."
    assert page.keywords == ("lectern", "docusaurus", "rag")
    assert (page.draft, page.unlisted) == (False, False)


def test_draft_and_unlisted_flags_are_read() -> None:
    assert parse_fixture("docs/02-guides/draft-notes.md").draft is True
    unlisted = parse_fixture("docs/02-guides/writing-docs.md")
    assert (unlisted.unlisted, unlisted.draft, unlisted.slug) == (True, False, "writing")


def test_keywords_may_be_a_block_list() -> None:
    assert parse_fixture("docs/01-getting-started/01-install.mdx").keywords == ("install", "pip")


def test_content_hash_is_the_sha256_of_the_source_text() -> None:
    text = (SITE / "docs/intro.md").read_text(encoding="utf-8")
    assert parse_page(text, file_stem="intro").content_hash == hashlib.sha256(text.encode()).hexdigest()


def test_front_matter_does_not_leak_into_the_body() -> None:
    text = parse_fixture("docs/intro.md").cleaned_text()
    assert "sidebar_position" not in text
    assert "---" not in text


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("---\ntitle: [never closed\n---\nBody\n", "invalid YAML front matter at line 2"),
        ("---\ntitle: Lost\n\nBody without a closing line\n", "never closed"),
        ("---\n- a\n- list\n---\nBody\n", "must be a mapping"),
        ("---\ntitle: [a, b]\n---\n", "'title' must be text"),
        ("---\nsidebar_position: first\n---\n", "'sidebar_position' must be a number"),
        ("---\ndraft: maybe\n---\n", "'draft' must be true or false"),
        ("---\nkeywords: {a: 1}\n---\n", "'keywords' must be a list"),
        ("---\nid: guides/intro\n---\n", "must not contain '/'"),
    ],
)
def test_broken_front_matter_raises_a_clear_error(source: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=message.replace("[", r"\[")):
        parse_page(source, file_stem="page")


def test_the_broken_fixture_raises() -> None:
    with pytest.raises(FrontMatterError, match="line 2"):
        parse_fixture("docs/broken-front-matter.md")


def test_empty_front_matter_and_crlf_line_endings_are_fine() -> None:
    page = parse_page("---\n---\r\n# Title\r\n\r\nBody.\r\n", file_stem="page")
    assert (page.title, paragraphs(page)) == ("Title", ["Body."])


# --- title and id -----------------------------------------------------------------------------------------


def test_title_falls_back_to_the_first_h1() -> None:
    assert parse_fixture("docs/01-getting-started/02-configure.md").title == "Configure"


def test_title_falls_back_to_the_file_name_without_its_number_prefix() -> None:
    page = parse_page("Just text.\n", file_stem="03-getting-help")
    assert (page.doc_id, page.title) == ("getting-help", "getting-help")


def test_parse_number_prefixes_false_keeps_the_prefix() -> None:
    page = parse_page("---\nparse_number_prefixes: false\n---\nText.\n", file_stem="01-intro")
    assert page.doc_id == "01-intro"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("01-intro", ("intro", 1)),
        ("1-My Doc", ("My Doc", 1)),
        ("003 - Tutorial Easy", ("Tutorial Easy", 3)),
        ("10_setup", ("setup", 10)),
        ("2.tips", ("tips", 2)),
        ("intro", ("intro", None)),
        ("2021-01-31-release", ("2021-01-31-release", None)),  # date-like names keep their digits
        ("1.2-changes", ("1.2-changes", None)),  # version-like too
        ("a1-doc", ("a1-doc", None)),
    ],
)
def test_split_number_prefix_follows_docusaurus(name: str, expected: tuple[str, int | None]) -> None:
    assert split_number_prefix(name) == expected


# --- MDX syntax -----------------------------------------------------------------------------------------


def test_import_and_export_lines_are_dropped() -> None:
    text = parse_fixture("docs/01-getting-started/01-install.mdx").cleaned_text()

    assert "import" not in text
    assert "@theme" not in text
    assert "VersionBadge," not in text  # the inside of the multi-line import
    assert "minimumPython" not in text


def test_an_unbalanced_export_stops_at_the_first_blank_line() -> None:
    page = parse_page("export const broken = {\n  a: 1,\n\nProse survives.\n", file_stem="page")
    assert paragraphs(page) == ["Prose survives."]


def test_prose_that_starts_with_import_is_kept() -> None:
    page = parse_page("import the module before you call it.\n", file_stem="page")
    assert paragraphs(page) == ["import the module before you call it."]


def test_mdx_and_html_comments_are_dropped() -> None:
    text = parse_fixture("docs/01-getting-started/01-install.mdx").cleaned_text()
    assert "reviewers" not in text
    assert "screenshots" not in text


def test_comments_inside_a_line_or_across_lines_keep_the_text_around_them() -> None:
    source = "Keep {/* not this */} this.\n\nStart <!-- hidden\nstill hidden\n--> end.\n\n`<!-- code -->` stays.\n"
    assert paragraphs(parse_page(source, file_stem="page")) == [
        "Keep  this.",
        "Start",
        "end.",
        "`<!-- code -->` stays.",
    ]


def test_tabs_keep_their_text_labelled_by_tab() -> None:
    page = parse_fixture("docs/01-getting-started/01-install.mdx")
    texts = paragraphs(page)

    assert "macOS: Install Python with Homebrew first." in texts
    assert "Linux: Use your distribution's package manager." in texts
    assert "Tab" not in page.cleaned_text()


def test_details_keep_summary_and_body() -> None:
    page = parse_fixture("docs/01-getting-started/01-install.mdx")
    texts = paragraphs(page)

    assert "Why Python 3.11?" in texts
    assert "Startup is faster, which matters on serverless functions." in texts
    assert "details>" not in page.cleaned_text()
    assert "summary" not in page.cleaned_text()


def test_unknown_components_are_dropped_but_not_the_text_around_them() -> None:
    page = parse_fixture("docs/01-getting-started/01-install.mdx")
    texts = paragraphs(page)

    assert "Before you start, check your Python.  You need Python 3.11 or newer." in texts
    assert "Text after the card stays." in texts
    text = page.cleaned_text()
    assert "Sponsored" not in text
    assert "card body" not in text
    assert "VersionBadge" not in text


def test_nested_components_and_fences_inside_a_dropped_component_go_with_it() -> None:
    source = "Before.\n\n<Demo>\n<Demo>inner</Demo>\n\n```js\nhidden()\n```\n</Demo>\n\nAfter.\n"
    page = parse_page(source, file_stem="page")
    assert paragraphs(page) == ["Before.", "After."]
    assert fences(page) == []


def test_html_elements_keep_their_text_and_autolinks_keep_their_address() -> None:
    source = 'Press <kbd>Ctrl</kbd> or see <a href="/x">the guide</a> at <https://example.com>.\n'
    assert paragraphs(parse_page(source, file_stem="page")) == ["Press Ctrl or see the guide at https://example.com."]


def test_line_breaks_keep_table_rows_whole_and_svg_is_dropped() -> None:
    source = "| Option | Notes |\n|---|---|\n| a | one<br/>two |\n\n<svg><path d='M0'/></svg>Icon text.\n"
    assert paragraphs(parse_page(source, file_stem="page")) == [
        "| Option | Notes |\n|---|---|\n| a | one two |",
        "Icon text.",
    ]


def test_a_stray_less_than_sign_does_not_swallow_prose() -> None:
    source = "Use x <y when it's small.\n\nThe 'next' paragraph > stays.\n"
    assert paragraphs(parse_page(source, file_stem="page")) == [
        "Use x <y when it's small.",
        "The 'next' paragraph > stays.",
    ]


def test_kept_components_can_be_configured() -> None:
    source = "Say <Highlight color='green'>hello</Highlight> twice.\n"
    kept = frozenset({"Highlight"})
    assert paragraphs(parse_page(source, file_stem="page", kept_components=kept)) == ["Say hello twice."]
    assert paragraphs(parse_page(source, file_stem="page")) == ["Say  twice."]


def test_tags_inside_inline_code_are_text() -> None:
    source = 'Wrap content in `<TabItem value="a">` tags.\n'
    assert paragraphs(parse_page(source, file_stem="page")) == ['Wrap content in `<TabItem value="a">` tags.']


def test_mdx_code_block_fences_are_unwrapped_as_mdx() -> None:
    source = (
        "````mdx-code-block\nimport Tabs from '@theme/Tabs';\n\n<Tabs>\n<TabItem value=\"npm\">\n\n"
        "```bash\nnpm i\n```\n\n</TabItem>\n</Tabs>\n````\n"
    )
    page = parse_page(source, file_stem="page")
    assert paragraphs(page) == ["npm:"]
    assert [fence.text for fence in fences(page)] == ["```bash\nnpm i\n```"]


def test_mdx_expressions_are_dropped_and_string_literals_keep_their_text() -> None:
    texts = paragraphs(parse_fixture("docs/01-getting-started/01-install.mdx"))

    assert "This page is about , and MDX writes a less-than sign as < in text." in texts
    assert "frontMatter" not in " ".join(texts)


def test_math_is_kept_as_written_braces_included() -> None:
    texts = paragraphs(parse_fixture("docs/01-getting-started/01-install.mdx"))

    assert "Startup grows as $t \\approx a \\cdot n^{2}$ for $n$ modules, while prices such as $5 stay prose." in texts
    assert "$$\nt_{cold} = t_{load} + t_{connect}\n$$" in texts


@pytest.mark.parametrize(
    ("front_matter", "mdx", "expected"),
    [
        ("", False, "A set {1, 2} and {x} stay."),  # a .md file: Markdown, braces are text
        ("", True, "A set  and  stay."),  # an .mdx file: expressions
        ("---\nformat: mdx\n---\n", False, "A set  and  stay."),
        ("---\nformat: md\n---\n", True, "A set {1, 2} and {x} stay."),
    ],
)
def test_braces_are_expressions_only_in_mdx(front_matter: str, mdx: bool, expected: str) -> None:
    page = parse_page(front_matter + "A set {1, 2} and {x} stay.\n", file_stem="page", mdx=mdx)
    assert paragraphs(page) == [expected]


def test_an_unclosed_brace_or_dollar_in_mdx_is_text() -> None:
    source = "Open { brace.\n\nClosed } later.\n\nCosts $5 and $10 <b>now</b>.\n"
    assert paragraphs(parse_page(source, file_stem="page", mdx=True)) == [
        "Open { brace.",
        "Closed } later.",
        "Costs $5 and $10 now.",
    ]


def test_heading_ids_survive_expression_removal() -> None:
    page = parse_page("## Setup {#install-step}\n\nText {note}.\n", file_stem="page", mdx=True)
    assert (page.sections[0].heading, page.sections[0].anchor, paragraphs(page)) == (
        "Setup",
        "install-step",
        ["Text ."],
    )


# --- admonitions ------------------------------------------------------------------------------------------


def test_admonitions_become_labelled_text() -> None:
    texts = paragraphs(parse_fixture("docs/intro.md"))

    assert "Note: Notes are kept as labelled text." in texts
    assert "Warning (Mind the gap): Warnings keep their bracketed title." in texts
    assert "Tip (Older title syntax): Tips keep their old-style title." in texts


def test_nested_admonitions_with_a_longer_outer_fence() -> None:
    page = parse_fixture("docs/intro.md")
    admonitions = next(section for section in page.sections if section.heading == "Admonitions")
    texts = [block.text for block in admonitions.blocks]

    assert texts[-3:] == ["Info (Outer box): Outer box text.", "Danger: Nested danger text.", "Outer box tail."]
    assert ":::" not in page.cleaned_text()


def test_an_admonition_starting_with_a_list_or_fence_keeps_its_label_on_its_own_line() -> None:
    source = ":::caution[Heads up]\n- one\n- two\n:::\n\n:::tip\n```sh\nls\n```\n:::\n"
    page = parse_page(source, file_stem="page")
    assert [block.text for block in page.sections[0].blocks] == [
        "Caution (Heads up):",
        "- one\n- two",
        "Tip:",
        "```sh\nls\n```",
    ]


# --- code fences ----------------------------------------------------------------------------------------


def test_code_fences_are_kept_byte_for_byte_with_their_language() -> None:
    path = SITE / "docs/01-getting-started/02-configure.md"
    source = path.read_text(encoding="utf-8")
    found = fences(parse_page(source, file_stem=path.stem))

    assert [fence.language for fence in found] == ["yaml", "markdown"]
    for fence in found:
        assert fence.text in source
    assert found[0].text.startswith('```yaml title="lectern.yml" {2}\n')
    assert found[1].text.startswith("~~~~markdown\n") and found[1].text.endswith("\n~~~~")
    assert "```python\n# not a heading, just a comment" in found[1].text


def test_nothing_inside_a_fence_is_read_as_markdown() -> None:
    page = parse_fixture("docs/01-getting-started/02-configure.md")

    assert [section.heading for section in page.sections] == ["Configure", "Showing fences in fences"]
    assert ":::note\nNot an admonition either.\n:::" in fences(page)[1].text
    assert "Back to prose after the tildes." in paragraphs(page)


def test_mermaid_and_live_code_blocks_stay_fences_with_their_language() -> None:
    found = fences(parse_fixture("docs/01-getting-started/01-install.mdx"))

    assert [fence.language for fence in found] == ["mermaid", "jsx", "bash"]
    assert found[0].text == "```mermaid\ngraph LR\n  install --> verify\n```"
    assert found[1].text == "```jsx live\nfunction Version() {\n  return <span>{'3.11'}</span>;\n}\n```"


@pytest.mark.parametrize(
    ("fence", "shown"),
    [
        ("```js\na()\n// highlight-next-line\nb()\n /* highlight-start */\nc()\n//highlight-end\n```", "a()\nb()\nc()"),
        # A comment syntax the language does not have is code: Python keeps `//`, JavaScript keeps `#`.
        ("```python\n# highlight-next-line\nx = 1\n// highlight-next-line\n```", "x = 1\n// highlight-next-line"),
        ("```js\n# highlight-next-line\nx\n```", "# highlight-next-line\nx"),
        ("```\n<!-- highlight-start -->\nplain\n# highlight-end\n```", "plain"),  # no language: every usual syntax
        ("```js {2}\n// highlight-next-line\nx\n```", "// highlight-next-line\nx"),  # line ranges: code as written
        ("```js\nx // highlight-next-line\n```", "x // highlight-next-line"),  # only a line of its own
    ],
)
def test_magic_comment_lines_are_removed_as_docusaurus_shows_the_code(fence: str, shown: str) -> None:
    [found] = fences(parse_page(fence + "\n", file_stem="page"))
    opening, closing = fence.split("\n")[0], "```"
    assert found.text == f"{opening}\n{shown}\n{closing}"


def test_an_unclosed_fence_runs_to_the_end() -> None:
    page = parse_page("Intro.\n\n```python\nprint(1)\n\n# still code\n", file_stem="page")
    assert [fence.text for fence in fences(page)] == ["```python\nprint(1)\n\n# still code"]


def test_a_fence_without_a_language() -> None:
    assert fences(parse_page("```\nplain\n```\n", file_stem="page"))[0].language is None


# --- headings -------------------------------------------------------------------------------------------


def test_heading_anchors_explicit_and_slugged_with_duplicates() -> None:
    page = parse_fixture("docs/intro.md")
    anchors = [(section.heading, section.anchor) for section in page.sections[1:]]

    assert anchors == [
        ("Overview", "custom-overview"),
        ("Reading the book", "reading"),
        ("Examples", "examples"),
        ("Examples", "examples-1"),
        ("Examples", "examples-2"),
        ("Admonitions", "admonitions"),
    ]


def test_heading_paths_follow_levels() -> None:
    page = parse_fixture("docs/intro.md")
    assert [section.path for section in page.sections[1:]] == [
        ("Overview",),
        ("Reading the book",),
        ("Examples",),
        ("Examples",),
        ("Examples", "Examples"),
        ("Admonitions",),
    ]


def test_the_title_h1_is_the_top_of_the_page() -> None:
    title = parse_fixture("docs/intro.md").sections[0]

    assert (title.level, title.heading, title.anchor, title.path) == (1, "Welcome to Lectern", None, ())
    assert title.blocks == (Paragraph("Lectern answers questions from your book, with citations."),)


def test_an_h1_that_differs_from_the_front_matter_title_is_an_ordinary_heading() -> None:
    page = parse_page("---\ntitle: Intro\n---\n# Welcome aboard\n\nHi.\n", file_stem="intro")
    section = page.sections[0]
    assert (page.title, section.anchor, section.path) == ("Intro", "welcome-aboard", ("Welcome aboard",))


def test_setext_headings_and_thematic_breaks() -> None:
    page = parse_page("Big title\n=========\n\nText.\n\nPart two\n---\n\nMore.\n\n***\n\nEnd.\n", file_stem="p")
    assert [(s.level, s.heading, s.anchor) for s in page.sections] == [
        (1, "Big title", None),
        (2, "Part two", "part-two"),
    ]
    assert paragraphs(page) == ["Text.", "More.", "End."]


def test_translated_headings_keep_their_letters_in_anchors() -> None:
    page = parse_fixture("i18n/fr/docusaurus-plugin-content-docs/current/intro.md")
    assert page.sections[-1].anchor == "aperçu-général"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hello World", "hello-world"),
        ("Step 2: Install!", "step-2-install"),
        ("C++ & Rust", "c--rust"),
        ("snake_case name", "snake_case-name"),
        ("🚀 Launch", "-launch"),
        ("What's new?", "whats-new"),
        ("Ⓐ circled", "ⓐ-circled"),
        ("Aperçu général", "aperçu-général"),
    ],
)
def test_heading_slug_is_github_style(text: str, slug: str) -> None:
    assert heading_slug(text) == slug


def test_plain_heading_strips_inline_markdown() -> None:
    assert plain_heading("Install `my_tool` **now** via [pip](https://pypi.org) &amp; _more_") == (
        "Install my_tool now via pip & more"
    )


# --- robustness -------------------------------------------------------------------------------------------

_SYNTAX = st.sampled_from(
    [*"ab #:`~<>/{}*_-=[]()!'\"\n\\|.", "\n\n", "é", "<Tabs>", "</Tabs>", "<TabItem label='x'>", "</TabItem>"]
    + ["<Card>", "</Card>", ":::note", "::::tip[T]", ":::", "```js", "```", "~~~~", "{/*", "*/}", "<!--", "-->"]
    + ["import X from 'y'\n", "export const a = {\n", "---\n", "## H {#id}\n", "<details>", "<summary>"]
)


@settings(max_examples=150, deadline=None)
@given(text=st.lists(_SYNTAX, max_size=60).map("".join))
def test_any_text_parses_or_fails_with_a_front_matter_error(text: str) -> None:
    try:
        page = parse_page(text, file_stem="page")
    except FrontMatterError:
        return
    for fence in fences(page):
        assert fence.text in text.replace("\r\n", "\n").replace("\r", "\n")
