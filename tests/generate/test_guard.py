"""The structure guard on its own: tokens in and out, the checks, the repairs, and the one promise that matters —
whatever a model writes, nothing the guard accepts restores to changed code or addresses."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lectern.generate.markdown import code_blocks, fenced_spans, structure_of, urls
from lectern.generate.markdown_guard import Expectation, check, code_unchanged, expect, repair
from lectern.generate.placeholders import protect, restore

PAGE = """## Install

Run `pip install lectern`, then read the [guide](https://example.org/guide "Guide") or <https://example.org/faq>.

1. First step:

   ```sh
   lectern init
   ```

| Option | Meaning |
|---|---|
| `--prod` | production |

![Diagram](img/flow.png)

:::tip Remember
Lectern keeps secrets out of logs. See https://example.org/security.
:::
"""


def test_protect_replaces_code_and_addresses_and_restore_gives_them_back() -> None:
    protected = protect(PAGE, inline_code=True, terms={"Lectern": None})

    assert "`" not in protected.text and "https://" not in protected.text and "img/flow.png" not in protected.text
    assert "Lectern" not in protected.text and "lectern init" not in protected.text
    assert restore(protected.text, protected) == PAGE
    assert sorted(set(protected.kinds.values())) == ["code", "inline_code", "term", "url"]
    # The code block's token keeps the list item's indentation; the block itself keeps its own.
    assert re.search(r"^   ⟦\d+⟧$", protected.text, re.M)


def test_a_text_that_already_uses_the_brackets_gets_other_ones() -> None:
    text = "A ⟦1⟧ literal and a [link](https://example.org)."
    protected = protect(text, inline_code=False)

    assert protected.opening != "⟦" and "⟦1⟧ literal" in protected.text
    assert restore(protected.text, protected) == text


def test_glossary_translations_come_back_translated_and_whole_words_only() -> None:
    text = "A refresh token, Refresh Token, and refresh tokens."
    protected = protect(text, inline_code=True, terms={"refresh token": "ریفریش ٹوکن"})

    assert restore(protected.text, protected) == "A ریفریش ٹوکن, ریفریش ٹوکن, and refresh tokens."


def test_the_structure_of_a_page() -> None:
    structure = structure_of(PAGE)

    assert structure.headings == ((2, "Install"),)
    assert structure.tables == ((3, 2),)
    assert structure.admonitions == (":::tip", ":::")
    assert code_blocks(PAGE) == ["```sh\n   lectern init\n   ```"]
    assert urls(PAGE) == [
        "<https://example.org/faq>",
        "https://example.org/guide",
        "https://example.org/security",
        "img/flow.png",
    ]


def guarded(text: str, *, keep_headings: bool = True) -> tuple[str, Expectation]:
    protected = protect(text, inline_code=False)
    return protected.text, expect(protected, keep_headings=keep_headings)


def test_check_names_each_kind_of_breakage() -> None:
    source, expected = guarded(PAGE)
    tokens = re.findall(r"⟦\d+⟧", source)
    code = next(token for token in tokens if re.search(rf"^\s*{re.escape(token)}$", source, re.M))

    assert check(source, expected) == []
    assert f"the token {tokens[0]} is missing" in check(source.replace(tokens[0], ""), expected)
    assert "appears 2 times" in check(source + tokens[0], expected)[0]
    assert "⟦99⟧ is not a token" in check(source + " ⟦99⟧", expected)[0]
    assert "alone on its own line" in check(source.replace(f":\n\n   {code}", f": {code}"), expected)[0]
    assert "the headings changed" in check(source.replace("## Install", "### Install"), expected)[0]
    assert "reworded" in check(source.replace("## Install", "## Setup"), expected)[0]
    assert "the tables changed" in check(source.replace("| `--prod` | production |\n", ""), expected)[0]
    assert "admonitions changed" in check(source.replace(":::tip", ":::note"), expected)[0]
    assert "adds a link" in check(source + "\n\nSee https://evil.example.", expected)[0]
    assert "contains a code block" in check(source + "\n\n```\nx\n```", expected)[-1]


def test_repairs_put_originals_back_where_that_is_unambiguous() -> None:
    source, expected = guarded(PAGE)
    code = next(line.strip() for line in source.splitlines() if re.fullmatch(r"\s*⟦\d+⟧", line))

    rewritten_code = source.replace(code, "```sh\nlectern init --force\n```")
    wrapped = "```markdown\n" + source + "\n```"
    invented = source.replace(
        "First step:", "First step, see [this](https://evil.example) and ![x](https://evil.example/x.png):"
    )
    inline = source.replace(f":\n\n   {code}", f": {code} then go on")
    renamed = source.replace("## Install", "## Setting up")

    for output in (rewritten_code, wrapped, invented, inline, renamed):
        repaired = repair(output, expected)
        assert check(repaired, expected) == [], output
        assert "lectern init --force" not in repaired and "evil" not in repaired
        assert code_unchanged(PAGE, restore(repaired, expected.protected), inline=False)
    assert "this" in repair(invented, expected)  # an invented link keeps its text


def test_code_that_cannot_be_matched_to_its_block_is_not_repaired() -> None:
    source, expected = guarded("Intro.\n\n```\na\n```\n\nMiddle.\n\n```\nb\n```\n")
    two_for_one = re.sub(r"⟦1⟧", "```\nx\n```\n\n```\ny\n```\n\n```\nz\n```", source)

    assert check(repair(two_for_one, expected), expected) != []


# --- The promise, for any text and any answer -------------------------------------------------------------------

WORDS = st.sampled_from(["the", "joint", "rotates", "Lectern", "token", "über", "اردو", "a.b", "(x)", "*em*", "[1]"])
SENTENCE = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
INLINE = st.one_of(
    SENTENCE,
    SENTENCE.map(lambda s: f"`{s}`"),
    st.tuples(SENTENCE, st.sampled_from(["https://a.example/x", "../b.md#c", "/img/d.png"])).map(
        lambda pair: f"[{pair[0]}]({pair[1]})"
    ),
    SENTENCE.map(lambda s: f"![{s}](https://a.example/i.png)"),
    st.just("see https://b.example/page."),
)
CODE = st.tuples(st.sampled_from(["```", "~~~", "````"]), st.sampled_from(["", "py", "sh"]), SENTENCE).map(
    lambda parts: f"{parts[0]}{parts[1]}\n{parts[2]}\n[x](y) `z`\n{parts[0]}"
)
BLOCK = st.one_of(
    st.lists(INLINE, min_size=1, max_size=4).map(" ".join),
    st.tuples(st.integers(1, 4), SENTENCE).map(lambda pair: "#" * pair[0] + " " + pair[1]),
    CODE,
    SENTENCE.map(lambda s: f"| {s} | b |\n|---|---|\n| 1 | 2 |"),
    st.lists(INLINE, min_size=1, max_size=3).map(lambda items: "\n".join(f"- {item}" for item in items)),
)
MARKDOWN = st.lists(BLOCK, min_size=1, max_size=8).map("\n\n".join)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(MARKDOWN, st.booleans())
def test_protecting_then_restoring_gives_the_text_back(text: str, inline_code: bool) -> None:
    protected = protect(text, inline_code=inline_code, terms={"Lectern": None})

    assert restore(protected.text, protected) == text
    assert not fenced_spans(protected.text)


def mutate(text: str, data: st.DataObject) -> str:
    """What a careless model might do to a protected text."""
    tokens = re.findall(r"⟦\d+⟧", text)
    choice = data.draw(st.integers(0, 7))
    token = data.draw(st.sampled_from(tokens)) if tokens else ""
    if choice == 0 and token:
        return text.replace(token, "", 1)
    if choice == 1 and token:
        return text.replace(token, "```\nchanged()\n```", 1)
    if choice == 2 and token:
        return text + "\n\n" + token
    if choice == 3 and token:
        return text.replace(token, "https://changed.example", 1)
    if choice == 4:
        return text + "\n\n```py\nextra()\n```"
    if choice == 5 and token:
        return text.replace(token, f"{token} {token}", 1)
    if choice == 6:
        return text.replace("#", "", 1)
    return text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(MARKDOWN, st.data())
def test_nothing_the_guard_accepts_has_changed_code_or_addresses(text: str, data: st.DataObject) -> None:
    for inline_code in (False, True):
        protected = protect(text, inline_code=inline_code)
        expected = expect(protected, keep_headings=True)
        answer = mutate(protected.text, data)
        repaired = repair(answer, expected)
        if not check(repaired, expected):
            assert code_unchanged(text, restore(repaired, protected), inline=inline_code)
