"""The README and the configuration chapter carry the table generated from the env contract."""

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
