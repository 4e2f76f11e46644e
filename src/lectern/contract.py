"""The environment contract: which variables Lectern reads, their rules, and checks that never reveal a value."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from lectern.errors import ConfigError

Status = Literal["valid", "default", "unset", "missing", "invalid"]


@dataclass(frozen=True)
class Variable:
    """One declared environment variable."""

    name: str
    required: bool
    description: str = ""
    owner: str = ""
    deployer: str = ""
    min_length: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    generate_command: str | None = None
    generate: str | None = None
    example: str | None = None
    default: str | None = None
    sensitive: bool = False
    local_default: str | None = None

    @property
    def rule(self) -> str:
        """The validation rule in words, e.g. 'at least 32 characters'."""
        parts = []
        if self.min_length is not None:
            parts.append(f"at least {self.min_length} characters")
        if self.enum is not None:
            parts.append("one of " + ", ".join(self.enum))
        if self.pattern is not None:
            parts.append(f"matches {self.pattern}")
        return "; ".join(parts) or "any value"

    def problem(self, value: str) -> str | None:
        """The reason code a value breaks the rule, or None when it is valid."""
        if value == "":
            return "empty"
        if self.min_length is not None and len(value) < self.min_length:
            return "too_short"
        if self.enum is not None and value not in self.enum:
            return "not_in_enum"
        if self.pattern is not None and re.search(self.pattern, value) is None:
            return "pattern_mismatch"
        return None


@dataclass(frozen=True)
class Check:
    """The state of one variable in an environment: status and reason, never the value."""

    name: str
    required: bool
    present: bool
    status: Status
    reason: str
    rule: str

    @property
    def ok(self) -> bool:
        return self.status not in ("missing", "invalid")


@dataclass(frozen=True)
class Contract:
    """All declared variables, keyed by name."""

    variables: dict[str, Variable]
    vercel_environments: tuple[str, ...] = ("production", "preview", "development")
    validation_endpoint: str = "/api/health/env"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[Variable]:
        return [v for v in self.variables.values() if v.required]

    @property
    def optional(self) -> list[Variable]:
        return [v for v in self.variables.values() if not v.required]

    def validate(self, env: Mapping[str, str], *, production: bool) -> list[Check]:
        """Check every variable against `env`; in production a missing required variable fails."""
        return [_check(v, env.get(v.name), production=production) for v in self.variables.values()]


def _check(var: Variable, value: str | None, *, production: bool) -> Check:
    def result(status: Status, reason: str) -> Check:
        return Check(var.name, var.required, value is not None, status, reason, var.rule)

    if value is None:
        if var.required and (production or var.local_default is None):
            return result("missing", "missing")
        if var.required:
            return result("default", "local_default")
        return result("default", "default") if var.default is not None else result("unset", "optional")
    reason = var.problem(value)
    return result("invalid", reason) if reason else result("valid", "ok")


def _variable(name: str, spec: Mapping[str, Any], *, required: bool) -> Variable:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"contract: variable {name} must be an object")
    rules = spec.get("validation") or {}
    if not isinstance(rules, Mapping):
        raise ConfigError(f"contract: variable {name} has a 'validation' that is not an object")
    enum = rules.get("enum")
    pattern = rules.get("pattern")
    min_length = rules.get("min_length")
    # A wrong type here would otherwise surface later as a TypeError while validating a value.
    if min_length is not None and (isinstance(min_length, bool) or not isinstance(min_length, int)):
        raise ConfigError(f"contract: variable {name} has a min_length that is not an integer")
    if enum is not None and not isinstance(enum, list):
        raise ConfigError(f"contract: variable {name} has an enum that is not a list")
    if pattern is not None and not isinstance(pattern, str):
        raise ConfigError(f"contract: variable {name} has a pattern that is not a string")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"contract: variable {name} has an invalid pattern ({exc})") from None
    default = spec.get("default")
    return Variable(
        name=name,
        required=required,
        description=str(spec.get("description", "")),
        owner=str(spec.get("owner", "")),
        deployer=str(spec.get("deployer", "")),
        min_length=min_length,
        pattern=pattern,
        enum=tuple(str(e) for e in enum) if enum is not None else None,
        generate_command=spec.get("generate_command"),
        generate=spec.get("generate"),
        example=spec.get("example"),
        default=None if default is None else str(default),
        sensitive=bool(spec.get("sensitive", False)),
        local_default=spec.get("local_default"),
    )


def parse_contract(data: Mapping[str, Any], base: Contract | None = None) -> Contract:
    """Build a contract from the env_contract.json structure, extending `base` when given."""
    variables = dict(base.variables) if base else {}
    groups = data.get("variables") if isinstance(data, Mapping) else None
    if not isinstance(groups, Mapping):
        raise ConfigError("contract: 'variables' must be an object with 'required' and 'optional'")
    for group, required in (("required", True), ("optional", False)):
        members = groups.get(group) or {}
        if not isinstance(members, Mapping):
            raise ConfigError(f"contract: 'variables.{group}' must be an object keyed by variable name")
        for name, spec in members.items():
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
                raise ConfigError(f"contract: {name!r} is not a valid variable name")
            variables[name] = _variable(name, spec, required=required)
    return Contract(
        variables=variables,
        vercel_environments=tuple(
            data.get("vercel_environments") or (base.vercel_environments if base else Contract.vercel_environments)
        ),
        validation_endpoint=str(data.get("validation_endpoint") or "/api/health/env"),
        notes=tuple(data.get("notes") or ()) + (base.notes if base else ()),
    )


def builtin_contract() -> Contract:
    """The contract shipped inside the package."""
    text = resources.files("lectern").joinpath("env_contract.json").read_text(encoding="utf-8")
    return parse_contract(json.loads(text))


def load_contract(env: Mapping[str, str], cwd: Path | None = None) -> Contract:
    """The built-in contract extended by the project's (LECTERN_CONTRACT or ./env.contract.json)."""
    contract = builtin_contract()
    explicit = env.get("LECTERN_CONTRACT")
    path = Path(explicit) if explicit else (cwd or Path.cwd()) / "env.contract.json"
    if not path.is_file():
        if explicit:
            raise ConfigError(f"LECTERN_CONTRACT points to {path}, which does not exist")
        return contract
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"contract {path} is not readable JSON: {exc}") from None
    return parse_contract(data, base=contract)


def failures_message(checks: list[Check]) -> str:
    """One line per failing variable: name, reason and rule; never a value."""
    return "\n".join(f"  {c.name}: {c.reason} (rule: {c.rule})" for c in checks if not c.ok)
