"""The `cli` fixture: run `lectern …` through CliRunner in a clean environment and an empty folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from lectern.cli import app
from lectern.settings import get_settings
from tests.cli.serving import clear_contract_env

Invoke = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Invoke]:
    """`cli("env", "validate", "--local", env={...})` → click Result. No contract variable leaks in."""
    clear_contract_env(monkeypatch)
    monkeypatch.chdir(tmp_path)  # no stray .env or env.contract.json
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        get_settings.cache_clear()  # commands read settings once per process
        return runner.invoke(app, list(args), env={"COLUMNS": "250", **(env or {})})

    yield invoke
    get_settings.cache_clear()
