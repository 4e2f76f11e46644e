"""What a check finds: pass, warn or fail, a one-line summary, details, concrete fixes and the facts behind them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail"]
_RANK: dict[Status, int] = {"pass": 0, "warn": 1, "fail": 2}


def worst(statuses: Iterable[Status]) -> Status:
    """The most serious status (pass when there is none)."""
    return max(statuses, key=_RANK.__getitem__, default="pass")


@dataclass(frozen=True)
class CheckReport:
    """One check's verdict. Text never holds a secret; `facts` are the structured values `--json` prints."""

    name: str
    status: Status
    summary: str
    details: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "summary": self.summary,
            "details": list(self.details),
            "fixes": list(self.fixes),
            "facts": dict(self.facts),
        }


@dataclass(frozen=True)
class DoctorReport:
    """Every check, in the order they ran."""

    target: str
    checks: tuple[CheckReport, ...]

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "target": self.target, "checks": [c.as_json() for c in self.checks]}
