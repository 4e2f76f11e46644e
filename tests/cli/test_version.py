"""`lectern --version`, in process and as the installed console script."""

from __future__ import annotations

import subprocess

import lectern
from tests.cli.fixtures import Invoke
from tests.cli.serving import LECTERN, clean_env


def test_version(cli: Invoke) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"lectern {lectern.__version__}"


def test_version_from_the_installed_command() -> None:
    done = subprocess.run(
        [str(LECTERN), "--version"], capture_output=True, text=True, timeout=30, env=clean_env(), check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lectern {lectern.__version__}"
    assert done.stderr == ""


def test_no_arguments_shows_the_commands(cli: Invoke) -> None:
    result = cli()
    for command in ("serve", "db", "env"):
        assert command in result.output
