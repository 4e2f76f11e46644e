"""Running `lectern …` in tests: the `cli` fixture (CliRunner, a clean environment, an empty folder) and
`run_main`, through the real entry point."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

import lectern.cli
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


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], env: dict[str, str]
) -> tuple[int, str, str]:
    """`lectern ARGS` through the real entry point with `env` set: exit code, stdout, stderr."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["lectern", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        lectern.cli.main()
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out, captured.err
