"""`lectern env …`: the environment contract locally, and the variables of a Vercel project checked against it.

Values never reach the terminal (only `get --show` prints a readable one) and never reach disk but through
`pull` or `generate-secrets --write`. The Vercel client is imported inside the commands that use it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lectern.cli.common import CommandError, console, load_dotenv
from lectern.cli.vercel_options import (
    ApiOption,
    ScopeOption,
    Target,
    TokenOption,
    linked_project,
)
from lectern.contract import Contract, Variable, load_contract

if TYPE_CHECKING:
    from lectern.deploy.envsync import TargetCheck
    from lectern.deploy.vercel import EnvVariable

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


def _register_vercel_commands() -> None:
    # The Vercel-only commands live in cli/env_vercel.py; they answer under `lectern env` too.
    from lectern.cli import env_vercel

    for command in env_vercel.app.registered_commands:
        app.registered_commands.append(command)


_register_vercel_commands()
