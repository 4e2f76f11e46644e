"""The README and the demo book: the generated contract table, the Quickstart CI runs, prose valid as MDX."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lectern.cli.env import contract_markdown
from lectern.contract import builtin_contract

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md"])
def test_contract_table_is_current(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    match = re.search(r"<!-- contract:start -->\n(.*?)<!-- contract:end -->", text, re.S)
    assert match, f"{document} lost its contract markers"
    assert match.group(1) == contract_markdown(builtin_contract()), (
        f"{document} is stale: paste the output of `lectern env contract --markdown` between the markers"
    )


def test_every_contract_variable_is_documented() -> None:
    table = contract_markdown(builtin_contract())
    for name in builtin_contract().variables:
        assert f"`{name}`" in table


def test_readme_quickstart_has_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make (\w+)", quickstart, re.M)
    assert commands == ["run", "test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _prose(markdown: str) -> str:
    """The text outside front matter, code fences and inline code, where MDX reads braces as expressions."""
    body = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    body = re.sub(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", "", body, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).+?(?<!`)\1(?!`)", "", body, flags=re.S)


@pytest.mark.parametrize("page", sorted((ROOT / "docs").rglob("*.md")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_demo_book_has_no_bare_braces(page: Path) -> None:
    # Docusaurus v3 compiles .md as MDX by default: a brace in prose starts a JavaScript expression and
    # breaks the book's build.
    prose = _prose(page.read_text(encoding="utf-8"))
    assert not re.search(r"[{}]", prose), f"{page.name}: a bare brace in prose; put it in backticks"


def test_bare_braces_are_found_and_code_is_not() -> None:
    assert re.search(r"[{}]", _prose("Use {x} here.\n"))
    assert not re.search(r"[{}]", _prose('Use `{x}` and\n\n```json\n{"a": 1}\n```\n'))
