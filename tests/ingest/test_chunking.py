"""Heading-aware chunking: whole code fences, heading paths, deep links, sizes and merging."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lectern.ingest.chunking import Chunk, approximate_tokens, chunk_page
from lectern.ingest.markdown import CodeFence, parse_page
from lectern.ingest.tree import page_url, read_tree

SITE = Path(__file__).parent / "fixtures" / "site"
PAGE_URL = "https://book.example.com/docs/guide"


def chunks_of(source: str, **sizes: int) -> list[Chunk]:
    return chunk_page(parse_page(source, file_stem="guide"), url=PAGE_URL, **sizes)


def words(count: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(count))


def test_each_fixture_fence_sits_byte_for_byte_in_exactly_one_chunk() -> None:
    book = read_tree(SITE)
    for source_page in book.pages:
        # Byte for byte as the site shows it: Docusaurus's magic comment lines are not code.
        source = re.sub(r"(?m)^[ \t]*// highlight-[a-z-]+\n", "", (SITE / source_page.source_path).read_text())
        fences = [b for s in source_page.page.sections for b in s.blocks if isinstance(b, CodeFence)]
        for target in (40, 200, 1200):
            chunks = chunk_page(source_page.page, url=page_url(source_page), target_chars=target)
            for fence in fences:
                assert fence.text in source
                holders = [chunk for chunk in chunks if fence.text in chunk.text]
                assert len(holders) == 1, (source_page.source_path, target, fence.text)
                assert fence.language is not None
                assert fence.text.split("\n", 1)[0].lstrip("`~").startswith(fence.language)


def test_a_chunk_starts_with_its_context_line() -> None:
    source = "# Guide\n\nIntro.\n\n## Install\n\n### On Linux\n\n" + words(30) + "\n"
    chunks = chunks_of(source, target_chars=200)

    linux = chunks[-1]
    assert linux.heading_path == ("Guide", "Install", "On Linux")
    assert linux.context_line == "Guide › Install › On Linux"
    assert linux.text == f"Guide › Install › On Linux\n\n{linux.body}"
    assert linux.body == words(30)


def test_urls_deep_link_to_the_heading_anchor() -> None:
    source = (
        "# Guide\n\n" + words(40) + "\n\n## Set up {#setup}\n\n" + words(40, "x") + "\n\n## Set up\n\n" + words(40, "y")
    )
    chunks = chunks_of(source, target_chars=300)

    assert [(chunk.anchor, chunk.url) for chunk in chunks] == [
        (None, PAGE_URL),  # text under the page title is the top of the page
        ("setup", f"{PAGE_URL}#setup"),
        ("set-up", f"{PAGE_URL}#set-up"),
    ]


def test_text_before_the_first_heading_has_no_anchor() -> None:
    chunks = chunks_of("Preamble text.\n\n## Later\n\n" + words(100), target_chars=300)
    assert (chunks[0].anchor, chunks[0].url, chunks[0].heading_path) == (None, PAGE_URL, ("guide",))


def test_fixture_chunks_link_to_their_page_and_heading() -> None:
    book = read_tree(SITE)
    intro = next(page for page in book.pages if page.source_path == "docs/intro.md")

    chunks = chunk_page(intro.page, url=page_url(intro, base_url="https://book.example.com"), target_chars=60)

    assert chunks[0].url == "https://book.example.com/docs/"
    assert {chunk.url for chunk in chunks[1:]} >= {
        "https://book.example.com/docs/#custom-overview",
        "https://book.example.com/docs/#examples-2",
    }
    examples = next(chunk for chunk in chunks if chunk.anchor == "examples-2")
    assert examples.context_line == "Welcome to Lectern › Examples › Examples"


def test_long_sections_split_at_paragraph_boundaries() -> None:
    paragraphs = [words(30, f"p{n}w") for n in range(8)]  # about 200 characters each
    chunks = chunks_of("## Long\n\n" + "\n\n".join(paragraphs), target_chars=500)

    assert len(chunks) > 1
    assert all(chunk.heading_path == ("guide", "Long") and chunk.anchor == "long" for chunk in chunks)
    assert all(len(chunk.body) <= 500 for chunk in chunks)
    pieces = [piece for chunk in chunks for piece in chunk.body.split("\n\n")]
    assert pieces == paragraphs  # whole paragraphs, in order


def test_an_oversized_fence_becomes_its_own_chunk() -> None:
    fence = "```python\n" + "\n".join(f"value_{i} = {i}" for i in range(200)) + "\n```"
    chunks = chunks_of(f"## Code\n\nBefore the code.\n\n{fence}\n\nAfter the code.\n", target_chars=300)

    assert [chunk.body for chunk in chunks] == ["Before the code.", fence, "After the code."]
    assert len(chunks[1].body) > 600  # over the hard maximum, yet whole


def test_an_oversized_paragraph_is_split_at_lines_then_spaces() -> None:
    paragraph = words(400)
    chunks = chunks_of(paragraph, target_chars=300)

    assert len(chunks) > 1
    assert all(len(chunk.body) <= 600 for chunk in chunks)
    assert " ".join(chunk.body for chunk in chunks).split() == paragraph.split()


def test_tiny_sections_under_one_parent_merge() -> None:
    source = "## Setup\n\nSetup intro.\n\n### Linux\n\nUse apt.\n\n### macOS\n\nUse brew.\n\n## Usage\n\n" + words(80)
    chunks = chunks_of(source, target_chars=200)

    setup = chunks[0]
    assert setup.body == "Setup intro.\n\n### Linux\n\nUse apt.\n\n### macOS\n\nUse brew."
    assert (setup.heading_path, setup.anchor) == (("guide", "Setup"), "setup")
    assert chunks[1].heading_path == ("guide", "Usage")


def test_sibling_sections_merge_under_their_common_parent() -> None:
    source = "## Setup\n\n" + words(50) + "\n\n### Linux\n\nUse apt.\n\n### macOS\n\nUse brew.\n"
    chunks = chunks_of(source, target_chars=300)

    assert [chunk.heading_path for chunk in chunks] == [("guide", "Setup"), ("guide", "Setup")]
    assert chunks[1].body == "Use apt.\n\n### macOS\n\nUse brew."
    assert chunks[1].anchor == "linux"  # the link goes to where the chunk's text starts


def test_sections_under_different_parents_do_not_merge() -> None:
    source = "## A\n\n" + words(50) + "\n\n### A1\n\nSmall.\n\n## B\n\n" + words(50, "b") + "\n\n### B1\n\nTiny.\n"
    chunks = chunks_of(source, target_chars=300)

    # A1 cannot join B (another parent); B1, a child of B, can.
    assert [chunk.heading_path for chunk in chunks] == [("guide", "A"), ("guide", "A", "A1"), ("guide", "B")]
    assert chunks[1].body == "Small."
    assert chunks[2].body.endswith("\n\n### B1\n\nTiny.")


def test_a_small_page_is_one_chunk_at_the_default_size() -> None:
    chunks = chunks_of("# Guide\n\nShort intro.\n\n## One\n\nFirst.\n\n## Two\n\nSecond.\n")
    assert [chunk.body for chunk in chunks] == ["Short intro.\n\n## One\n\nFirst.\n\n## Two\n\nSecond."]
    assert chunks[0].context_line == "Guide"


def test_ordinals_counts_and_hash() -> None:
    chunks = chunks_of("## A\n\n" + words(100) + "\n\n## B\n\n" + words(100, "b"), target_chars=300)

    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.char_count == len(chunk.text)
        assert chunk.token_count == approximate_tokens(chunk.text) == -(-len(chunk.text) // 4)
    assert len({chunk.content_hash for chunk in chunks}) == len(chunks)


def test_empty_page_has_no_chunks() -> None:
    assert chunks_of("---\ntitle: Empty\n---\n\nimport X from 'x';\n") == []


@pytest.mark.parametrize(("target", "maximum"), [(0, None), (500, 400)])
def test_sizes_are_checked(target: int, maximum: int | None) -> None:
    with pytest.raises(ValueError, match="target_chars"):
        chunks_of("Text.", target_chars=target, max_chars=maximum)  # type: ignore[arg-type]


# --- property: fences are never split and no text is lost -------------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
_PARAGRAPH = st.lists(st.lists(_WORD, min_size=1, max_size=12).map(" ".join), min_size=1, max_size=4).map("\n".join)
_CODE_LINE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 =()+-*#:", max_size=40)
_FENCE_BODY = st.lists(_CODE_LINE, min_size=0, max_size=30)
_HEADING = st.tuples(st.integers(min_value=2, max_value=4), st.lists(_WORD, min_size=1, max_size=4).map(" ".join))
_BLOCK = st.one_of(
    st.tuples(st.just("paragraph"), _PARAGRAPH),
    st.tuples(st.just("fence"), _FENCE_BODY),
    st.tuples(st.just("heading"), _HEADING),
)


@settings(max_examples=75, deadline=None)
@given(blocks=st.lists(_BLOCK, min_size=1, max_size=25), target=st.integers(min_value=40, max_value=800))
def test_fences_stay_whole_and_every_paragraph_survives(blocks: list[tuple[str, object]], target: int) -> None:
    parts: list[str] = []
    paragraphs: list[str] = []
    fences: list[str] = []
    for kind, content in blocks:
        if kind == "paragraph":
            assert isinstance(content, str)
            paragraphs.append(content)
            parts.append(content)
        elif kind == "fence":
            assert isinstance(content, list)
            fence = "\n".join([f'```python title="f{len(fences)}.py"', *content, "```"])  # unique first line
            fences.append(fence)
            parts.append(fence)
        else:
            assert isinstance(content, tuple)
            parts.append("#" * content[0] + " " + content[1])
    chunks = chunk_page(parse_page("\n\n".join(parts), file_stem="doc"), url=PAGE_URL, target_chars=target)
    bodies = [chunk.body for chunk in chunks]

    for fence in fences:
        assert sum(body.count(fence) for body in bodies) == 1
    joined = "\n\n".join(bodies)
    position = 0
    for paragraph in paragraphs:
        if len(paragraph) <= 2 * target:
            assert any(paragraph in body for body in bodies)
            found = joined.find(paragraph, position)
            assert found >= 0  # in order
            position = found + len(paragraph)
        else:
            assert " ".join(paragraph.split()) in " ".join(joined.split())
    for body in bodies:
        assert len(body) <= 2 * target or body in fences
