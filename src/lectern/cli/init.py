"""`lectern init`: write what Vercel needs to run Lectern as one Python function, in the current folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lectern.cli.common import CommandError, console

_STYLE = {"created": "green", "updated": "cyan", "appended": "cyan", "replaced": "yellow", "kept": "red"}

NEXT_STEPS = """
Next:
  vercel link                                        # or set VERCEL_PROJECT_ID and VERCEL_ORG_ID
  lectern env set DATABASE_URL --target production   # Neon's pooled URL (or connect Neon on Vercel)
  lectern env generate-secrets --apply --target production
  lectern deploy                                     # a preview, smoke-tested
  lectern deploy --prod                              # production, promoted after its smoke test
"""


def init(
    frontend_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--frontend-origin", help="Origin of the book's site (repeatable); FRONTEND_ORIGINS becomes required."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Vercel project name (default: this folder's name).")
    ] = None,
    region: Annotated[str, typer.Option("--region", help="Vercel region of the function: next to your database.")] = (
        "iad1"
    ),
    force: Annotated[bool, typer.Option("--force", help="Replace files you changed, after showing the diff.")] = False,
) -> None:
    """Write what Vercel needs to run Lectern as one Python function; files you changed stay unless --force.

    The entrypoint api/index.py, vercel.json, pinned requirements.txt, .python-version, env.contract.json,
    .env.example, .vercelignore and .gitignore entries.
    """
    from lectern.deploy.init import InitError, InitOptions, initialise, project_name, python_for_vercel

    root = Path.cwd()
    options = InitOptions(
        name=name or project_name(root.name),
        frontend_origins=tuple(origin.strip().rstrip("/") for origin in frontend_origin or ()),
        region=region,
        force=force,
        python=python_for_vercel(),
    )
    try:
        outcomes = initialise(root, options)
    except (InitError, LookupError) as exc:
        raise CommandError(str(exc)) from None
    for outcome in outcomes:
        style = _STYLE.get(outcome.action, "dim")
        console.print(f"[{style}]{outcome.action:>9}[/{style}]  {outcome.path}", highlight=False)
        if outcome.diff:
            typer.echo(outcome.diff, nl=not outcome.diff.endswith("\n"))
    kept = [o.path for o in outcomes if o.action == "kept"]
    if kept:
        raise CommandError(
            f"left alone because you changed them: {', '.join(kept)} (the diff above shows what init would"
            " write); pass --force to replace them"
        )
    console.print(NEXT_STEPS.rstrip(), highlight=False)
