"""`lectern env ls|get|set|rm|pull|diff|sync`: a Vercel project's variables, checked against the contract.

Values never reach the terminal (only `get --show` prints a readable one) and never reach disk but
through `pull`. The Vercel client is imported inside the commands that use it. The commands register
on `lectern env` (cli/env.py), beside the local ones.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lectern.cli.common import CommandError, console, err_console
from lectern.cli.vercel_options import (
    ApiOption,
    ScopeOption,
    Target,
    TargetOption,
    TokenOption,
    YesOption,
    confirm,
    linked_project,
    vercel_errors,
)
from lectern.contract import Contract, load_contract

if TYPE_CHECKING:
    from lectern.deploy.envsync import Action, SyncPlan
    from lectern.deploy.vercel import EnvVariable, Project, VercelClient

app = typer.Typer()
FromOption = Annotated[Path, typer.Option("--from", help="The .env file to compare with Vercel.")]


def _contract() -> Contract:
    return load_contract(os.environ)


PruneOption = Annotated[bool, typer.Option("--prune", help="Remove variables that are on Vercel but not in the file.")]
MAX_STDIN_BYTES = 1024 * 1024


def _when(updated_at: int | None) -> str:
    if updated_at is None:
        return ""
    return datetime.fromtimestamp(updated_at / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _masked(record: EnvVariable) -> str:
    return "write-only (sensitive)" if record.sensitive else "hidden (get --show)"


def _targets(record: EnvVariable) -> str:
    branch = f" (branch {record.git_branch})" if record.git_branch else ""
    return ", ".join(record.targets) + branch


def _find(records: list[EnvVariable], name: str, target: Target) -> EnvVariable:
    for record in records:
        if record.key == name and record.git_branch is None:
            return record
    raise CommandError(f"{name} is not set on {target.value}")


@app.command("ls")
def list_variables(
    target: Annotated[
        Target | None, typer.Option("--target", help="Only this Vercel environment.", show_default=False)
    ] = None,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """List the project's variables: name, environments, type, last update. Values stay masked."""
    with linked_project(token, scope, api) as (client, project):
        records = client.list_env(project.id, target=target.value if target else None)
    table = Table(title=f"{project.name}: {target.value if target else 'all environments'}", title_justify="left")
    for column in ("NAME", "environments", "type", "updated", "value"):
        table.add_column(column)
    for record in sorted(records, key=lambda r: (r.key, r.targets)):
        table.add_row(record.key, _targets(record), record.type, _when(record.updated_at), _masked(record))
    console.print(table if records else f"No variables on {target.value if target else 'any environment'}.")


@app.command("get")
def get_variable(
    name: Annotated[str, typer.Argument(help="The variable's name.")],
    show: Annotated[bool, typer.Option("--show", help="Print the value alone (readable variables only).")] = False,
    target: TargetOption = Target.production,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Describe one variable; --show prints its value, which Vercel never returns for a sensitive one."""
    with linked_project(token, scope, api) as (client, project):
        record = _find(client.list_env(project.id, target=target.value), name, target)
        if show:
            if record.sensitive:
                raise CommandError(f"{name} is sensitive on {target.value}: Vercel never returns its value")
            value = client.get_env(project.id, record.id).value
            if value is None:
                raise CommandError(f"Vercel did not return the value of {name}")
            typer.echo(value)
            return
    console.print(
        f"{name}  environments: {_targets(record)}  type: {record.type}  updated: {_when(record.updated_at)}"
        f"  value: {_masked(record)}",
        highlight=False,
    )


def _read_value(name: str) -> str:
    """The value from a hidden prompt on a terminal, else all of stdin (bytes kept as sent)."""
    if sys.stdin.isatty():
        entered: str = typer.prompt(f"Value of {name}", hide_input=True)
        return entered
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise CommandError(f"the value of {name} on stdin is larger than 1 MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"the value of {name} on stdin is not UTF-8 text") from None


@app.command("set")
def set_variable(
    name: Annotated[str, typer.Argument(help="The variable's name.")],
    value: Annotated[
        str | None, typer.Argument(help="The value; omit it to type it hidden or pipe it on stdin.", show_default=False)
    ] = None,
    sensitive: Annotated[
        bool | None,
        typer.Option(
            "--sensitive/--plain",
            help="Store it write-only, or readable (default: sensitive for contract secrets and unknown names).",
            show_default=False,
        ),
    ] = None,
    target: TargetOption = Target.production,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Create or replace a variable on one environment, then read back what Vercel stored."""
    from lectern.deploy.envsync import clean_value, store_variable

    with vercel_errors():
        cleaned = clean_value(name, value if value is not None else _read_value(name))
    if cleaned.warning:
        err_console.print(f"[yellow]warning:[/yellow] {cleaned.warning}", highlight=False)
    with linked_project(token, scope, api) as (client, project):
        stored = store_variable(client, project.id, _contract(), name, cleaned.value, target.value, sensitive=sensitive)
    how = "present (a sensitive value cannot be read back)" if stored.verified_by == "presence" else "same value"
    console.print(f"Stored {name} on {target.value} as {stored.type}; verified: {how}.", highlight=False)
    if stored.type_reason:
        console.print(f"[dim]{name}: {stored.type_reason}[/dim]", highlight=False)
    console.print("[dim]Redeploy for running deployments to see it.[/dim]")


@app.command("rm")
def remove_variable(
    name: Annotated[str, typer.Argument(help="The variable's name.")],
    target: TargetOption = Target.production,
    yes: YesOption = False,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Remove a variable from one environment (other environments keep theirs)."""
    from lectern.deploy.envsync import remove_from_target

    with linked_project(token, scope, api) as (client, project):
        record = _find(client.list_env(project.id, target=target.value), name, target)
        confirm(f"Remove {name} from {target.value} of {project.name}?", yes=yes)
        kept = remove_from_target(client, project.id, record, target.value)
    still = f" (still on {', '.join(kept)})" if kept else ""
    console.print(f"Removed {name} from {target.value}{still}.", highlight=False)


@app.command("pull")
def pull(
    file: Annotated[Path, typer.Option("--file", help="Where to write (mode 0600).")] = Path(".env.vercel"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
    target: TargetOption = Target.production,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Write an environment's readable values to a file: the one command that puts them on disk."""
    from lectern.deploy.envsync import pull_to_file

    with linked_project(token, scope, api) as (client, project):
        title = f"Pulled by lectern from Vercel project {project.name} ({project.id}), {target.value}"
        pulled = pull_to_file(client, project.id, target.value, file, force=force, title=title)
    console.print(f"Wrote {len(pulled.written)} variables to {file} (mode 0600).", highlight=False)
    if pulled.sensitive:
        names = ", ".join(pulled.sensitive)
        err_console.print(f"[yellow]warning:[/yellow] sensitive, so not pulled (write-only on Vercel): {names}")


_ACTION_STYLE = {"add": "green", "change": "yellow", "remove": "red", "invalid": "red", "keep": "cyan"}
_ACTION_ORDER: tuple[Action, ...] = ("invalid", "add", "change", "remove", "keep", "unchanged", "skip")


def _print_plan(plan: SyncPlan, project_name: str, source: Path) -> None:
    table = Table(title=f"{source} → {project_name}: {plan.target}", title_justify="left")
    for column in ("action", "NAME", "type", "note"):
        table.add_column(column)
    for change in sorted(plan.changes, key=lambda c: (_ACTION_ORDER.index(c.action), c.name)):
        style = _ACTION_STYLE.get(change.action, "dim")
        table.add_row(f"[{style}]{change.action}[/{style}]", change.name, change.type, change.note)
    console.print(table)
    counts = {action: len(plan.of(action)) for action in _ACTION_ORDER}
    sensitive = sum(1 for c in plan.of("unchanged") if c.record is not None and c.record.sensitive)
    console.print(
        f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove, "
        f"{counts['unchanged']} unchanged, {counts['keep']} kept (only on Vercel), {counts['skip']} skipped, "
        f"{counts['invalid']} invalid.",
        highlight=False,
    )
    if sensitive:
        console.print(
            f"[dim]{sensitive} sensitive variable(s) compared by presence only: Vercel never returns their values"
            " (`lectern env set` replaces one).[/dim]"
        )


def _local_values(source: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    if not source.is_file():
        raise CommandError(f"{source} does not exist")
    return {k: v for k, v in dotenv_values(source, interpolate=False).items() if v is not None}


@contextmanager
def _sync_plan(
    source: Path, prune: bool, target: Target, token: str | None, scope: str | None, api: str | None
) -> Iterator[tuple[VercelClient, Project, SyncPlan]]:
    """Plan syncing the file's values to the target and print the plan; the project stays linked for applying it."""
    from lectern.deploy.envsync import plan_sync, read_target

    local = _local_values(source)
    with linked_project(token, scope, api) as (client, project):
        plan = plan_sync(local, read_target(client, project.id, target.value), _contract(), target.value, prune=prune)
        _print_plan(plan, project.name, source)
        yield client, project, plan


@app.command("diff")
def diff(
    source: FromOption = Path(".env"),
    prune: PruneOption = False,
    target: TargetOption = Target.production,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Show what `sync` would do: add, change, remove, unchanged. Changes nothing; never prints a value."""
    with _sync_plan(source, prune, target, token, scope, api):
        pass  # printing the plan is all `diff` does


@app.command("sync")
def sync(
    source: FromOption = Path(".env"),
    prune: PruneOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan and stop.")] = False,
    yes: YesOption = False,
    target: TargetOption = Target.production,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Make an environment match a .env file: plan, confirm, apply, verify. Removes only with --prune."""
    from lectern.deploy.envsync import apply_plan

    with _sync_plan(source, prune, target, token, scope, api) as (client, project, plan):
        if invalid := plan.of("invalid"):
            raise CommandError(f"{len(invalid)} value(s) break the contract: fix {source}; nothing was changed")
        if not plan.pending:
            console.print("Nothing to change.")
            return
        if dry_run:
            console.print("Dry run: nothing was changed.")
            return
        confirm(f"Apply {len(plan.pending)} change(s) to {target.value} of {project.name}?", yes=yes)
        apply_plan(client, project.id, plan, report=lambda c: console.print(f"{c.action}: {c.name}", highlight=False))
    console.print(f"Applied and verified {len(plan.pending)} change(s). Redeploy for them to take effect.")
