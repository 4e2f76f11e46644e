"""`lectern env …`: the environment contract locally, and the variables of a Vercel project checked against it.

Values never reach the terminal (only `get --show` prints a readable one) and never reach disk but through
`pull` or `generate-secrets --write`. The Vercel client is imported inside the commands that use it.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lectern.cli.common import CommandError, console, err_console, load_dotenv
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
from lectern.contract import Contract, Variable, load_contract

if TYPE_CHECKING:
    from lectern.deploy.envsync import Action, SyncPlan, TargetCheck
    from lectern.deploy.vercel import EnvVariable, Project, VercelClient

app = typer.Typer(
    help="Environment variables: the contract, locally and on Vercel (ls, get, set, rm, pull, diff, sync).",
    no_args_is_help=True,
)
RemoteTarget = Annotated[
    Target | None, typer.Option("--target", help="Check this Vercel environment instead.", show_default=False)
]


def _contract() -> Contract:
    return load_contract(os.environ)


def _rule_markdown(var: Variable) -> str:
    # Patterns go in code spans: MDX would read their braces as expressions.
    parts = []
    if var.min_length is not None:
        parts.append(f"at least {var.min_length} characters")
    if var.enum is not None:
        parts.append("one of " + ", ".join(f"`{e}`" for e in var.enum))
    if var.pattern is not None:
        parts.append("matches `" + var.pattern.replace("|", "\\|") + "`")
    return "; ".join(parts) or "any value"


def contract_markdown(contract: Contract) -> str:
    """The contract as a Markdown table (README and docs/configuration.md are generated from it)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Variable | Required | Description | Rule | Default |", "|---|---|---|---|---|"]
    for var in contract.required + contract.optional:
        required = "yes (production)" if var.required and var.local_default else "yes" if var.required else "no"
        default = var.default or (f"local: {var.local_default}" if var.local_default else "")
        name = f"`{var.name}`" + (" (secret)" if var.sensitive else "")
        rule = _rule_markdown(var)
        lines.append(f"| {name} | {required} | {cell(var.description)} | {rule} | {cell(default)} |")
    return "\n".join(lines) + "\n"


@app.command("contract")
def show_contract(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table (for docs).")] = False,
    target: RemoteTarget = None,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """List the required and optional variables with description, owner, rule and default (and type on Vercel)."""
    contract = _contract()
    if markdown:
        if target is not None:
            raise CommandError("--markdown prints the contract itself: drop --target")
        typer.echo(contract_markdown(contract), nl=False)
        return
    on_vercel: dict[str, EnvVariable] | None = None
    if target is not None:
        with linked_project(token, scope, api) as (client, project):
            on_vercel = {r.key: r for r in client.list_env(project.id, target=target.value) if r.git_branch is None}
    extra_columns = [f"on {target.value}"] if target is not None else []
    for title, variables in (("Required", contract.required), ("Optional", contract.optional)):
        table = Table(title=f"{title} variables", show_lines=False, title_justify="left")
        for column in ["NAME", "description", "owner", "rule", "default", *extra_columns]:
            table.add_column(column, overflow="fold")
        for var in variables:
            default = var.default or (f"local: {var.local_default}" if var.local_default else "")
            secret = " (secret)" if var.sensitive else ""
            row = [var.name + secret, var.description, var.owner, var.rule, default]
            if on_vercel is not None:
                row.append(on_vercel[var.name].type if var.name in on_vercel else "-")
            table.add_row(*row)
        console.print(table)
    if on_vercel is not None and (extra := sorted(set(on_vercel) - set(contract.variables))):
        console.print(f"On Vercel but not in the contract: {', '.join(extra)}")


def _read_env_file(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    if not path.is_file():
        raise CommandError(f"{path} does not exist")
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


@app.command()
def validate(
    local: Annotated[bool, typer.Option("--local", help="Validate this machine's environment.")] = False,
    env_file: Annotated[
        Path | None, typer.Option("--env-file", help="Validate this .env file instead of the environment.")
    ] = None,
    production: Annotated[
        bool, typer.Option("--production", help="Apply production rules: no local defaults.")
    ] = False,
    target: RemoteTarget = None,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Check variables against the contract, here or on Vercel (--target). Exit 1 on failure; never a value."""
    if target is not None:
        if local or env_file is not None or production:
            raise CommandError("--target checks Vercel's variables: drop --local, --env-file and --production")
        _validate_target(target, token, scope, api)
        return
    if not local and env_file is None:
        raise CommandError(
            "say what to validate: --local (this environment), --env-file FILE, or --target ENVIRONMENT (Vercel)"
        )
    if env_file is not None:
        values = _read_env_file(env_file)
    else:
        load_dotenv()
        values = dict(os.environ)
    checks = load_contract(values).validate(values, production=production)
    table = Table(title="Environment contract", title_justify="left")
    for column in ("NAME", "required", "status", "reason"):
        table.add_column(column)
    colours = {"valid": "green", "default": "cyan", "unset": "dim", "missing": "red", "invalid": "red"}
    for check in checks:
        colour = colours[check.status]
        table.add_row(
            check.name,
            "yes" if check.required else "no",
            f"[{colour}]{check.status}[/{colour}]",
            check.reason,
        )
    console.print(table)
    failed = [c for c in checks if not c.ok]
    if failed:
        console.print(f"[red]{len(failed)} variable(s) break the contract.[/red]")
        raise typer.Exit(1)
    console.print("[green]All variables satisfy the contract.[/green]")


def generate_value(var: Variable) -> str:
    """A strong random value for a generatable variable (`hex:N` = N random bytes as hex)."""
    kind, _, size = (var.generate or "hex:32").partition(":")
    count = int(size or 32)
    if kind == "hex":
        return secrets.token_hex(count)
    if kind == "urlsafe":
        return secrets.token_urlsafe(count)
    raise CommandError(f"{var.name}: unknown generator {var.generate!r} in the contract")


def _write_env(path: Path, values: dict[str, str]) -> list[str]:
    """Add or replace KEY=value lines in `path` (created with mode 0600); returns the names written."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    remaining = dict(values)
    out = []
    for line in lines:
        key = line.split("=", 1)[0].strip().removeprefix("export ").strip()
        out.append(f"{key}={remaining.pop(key)}" if key in remaining else line)
    out.extend(f"{k}={v}" for k, v in remaining.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(out) + "\n")
    path.chmod(0o600)
    return list(values)


@app.command("generate-secrets")
def generate_secrets(
    write: Annotated[Path | None, typer.Option("--write", help="Add the values to this env file (mode 0600).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Print the values (they are secrets).")] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Store them on Vercel as sensitive values (never printed).")
    ] = False,
    rotate: Annotated[bool, typer.Option("--rotate", help="With --apply: replace secrets already there.")] = False,
    target: Annotated[
        Target, typer.Option("--target", help="With --apply: the Vercel environment.")
    ] = Target.production,
    token: TokenOption = None,
    scope: ScopeOption = None,
    api: ApiOption = None,
) -> None:
    """Generate strong random values for the variables the contract marks generatable."""
    generatable = [v for v in _contract().variables.values() if v.generate or v.generate_command]
    values = {v.name: generate_value(v) for v in generatable}
    if apply:
        if write is not None or show:
            raise CommandError("--apply keeps the secrets on Vercel only: drop --write and --show")
        _store_generated(values, target, rotate, token, scope, api)
        return
    if write is not None:
        names = _write_env(write, values)
        console.print(f"Wrote {', '.join(names)} to {write} (mode 0600).")
    for name, value in values.items():
        console.print(
            f"{name}={value}" if show else f"{name}: generated ({len(value)} characters, hidden; --show prints it)"
        )
    if write is None and not show:
        console.print("[dim]Nothing was stored: use --write .env to keep them.[/dim]")


# --- Vercel: one project, one environment at a time ----------------------------------------------------------

FromOption = Annotated[Path, typer.Option("--from", help="The .env file to compare with Vercel.")]
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


def _sync_plan(
    client: VercelClient, project: Project, local: dict[str, str], source: Path, target: Target, prune: bool
) -> SyncPlan:
    """What syncing the file's values to the target would do, printed as a table."""
    from lectern.deploy.envsync import plan_sync, read_target

    plan = plan_sync(local, read_target(client, project.id, target.value), _contract(), target.value, prune=prune)
    _print_plan(plan, project.name, source)
    return plan


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
    local = _local_values(source)
    with linked_project(token, scope, api) as (client, project):
        _sync_plan(client, project, local, source, target, prune)


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

    local = _local_values(source)
    with linked_project(token, scope, api) as (client, project):
        plan = _sync_plan(client, project, local, source, target, prune)
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


def _print_checks(checks: list[TargetCheck], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("NAME", "required", "status", "rule", "reason"):
        table.add_column(column)
    colours = {"PASS": "green", "FAIL": "red", "MISSING": "red"}
    for check in checks:
        colour = colours[check.verdict]
        required = "yes" if check.required else "no"
        table.add_row(check.name, required, f"[{colour}]{check.verdict}[/{colour}]", check.rule, check.reason)
    console.print(table)


def _validate_target(target: Target, token: str | None, scope: str | None, api: str | None) -> None:
    from lectern.deploy.envsync import check_target, read_target

    contract = _contract()
    with linked_project(token, scope, api) as (client, project):
        checks = check_target(contract, read_target(client, project.id, target.value), target.value)
    _print_checks(checks, f"Environment contract on Vercel: {project.name}, {target.value}")
    failed = [c for c in checks if c.verdict != "PASS"]
    if failed:
        console.print(f"[red]{len(failed)} variable(s) break the contract on {target.value}.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]All variables on {target.value} satisfy the contract.[/green]")


def _store_generated(
    values: dict[str, str], target: Target, rotate: bool, token: str | None, scope: str | None, api: str | None
) -> None:
    from lectern.deploy.envsync import store_generated

    with linked_project(token, scope, api) as (client, project):
        outcomes = store_generated(client, project.id, target.value, values, rotate=rotate)
    for name, outcome in outcomes:
        if outcome == "kept":
            console.print(f"{name}: already on {target.value}, kept (--rotate replaces it).", highlight=False)
        else:
            console.print(f"{name}: {outcome} on {target.value} as sensitive (never shown).", highlight=False)
