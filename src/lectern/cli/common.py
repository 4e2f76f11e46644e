"""What every command shares: .env loading, and our one error type turned into one line and exit 1."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import typer
from rich.console import Console

from lectern.errors import ConfigError


def _width(stream: object) -> int | None:
    """Rich's width for `stream`: the terminal's, else COLUMNS, else wide enough for whole ids and URLs."""
    # Piped into a CI log or a file, Rich would wrap at 80 columns and cut deployment ids in tables,
    # ids the user then needs for `lectern rollback`. get_terminal_size honours COLUMNS first.
    if getattr(stream, "isatty", lambda: False)():
        return None
    return shutil.get_terminal_size(fallback=(160, 24)).columns


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr), soft_wrap=True)


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit code 1."""


def load_dotenv(path: Path = Path(".env")) -> None:
    """Read KEY=VALUE lines from `path` into the environment, never overriding what is already set."""
    if not path.is_file():
        return
    from dotenv import dotenv_values

    for key, value in dotenv_values(path).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value


def run_command(app: typer.Typer) -> None:
    """Run the Typer app; our errors become one red line and exit 1, never a traceback."""
    try:
        # Without standalone mode Click returns the code of a `typer.Exit` instead of exiting.
        code = app(standalone_mode=False)
    except (CommandError, ConfigError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: unknown command, bad option value…
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)
