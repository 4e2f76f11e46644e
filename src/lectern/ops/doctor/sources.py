"""Where the doctor's settings come from: the target's variables on Vercel when a project is linked and Vercel
returns them, else the local environment. Values stay in memory; only names and sources reach the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lectern.deploy.vercel.models import EnvVariable

LOCAL = "the local environment"


@dataclass(frozen=True)
class Setting:
    """A variable's value (None when unknown), where it was read, and what the user should know about that."""

    name: str
    value: str | None = field(repr=False)
    source: str
    note: str | None = None


@dataclass(frozen=True)
class Environment:
    """The target's variables on Vercel (None without a linked project, or when reading them failed) and ours."""

    target: str
    local: Mapping[str, str] = field(repr=False)
    remote: Mapping[str, EnvVariable] | None = field(default=None, repr=False)
    remote_error: str | None = None

    @property
    def vercel(self) -> str:
        return f"Vercel ({self.target})"

    def setting(self, name: str) -> Setting:
        """The target's value when Vercel returns it; otherwise the local one, saying why."""
        local = self.local.get(name) or None
        if self.remote is None:
            why = f"Vercel's variables could not be read ({self.remote_error})" if self.remote_error else None
            return Setting(name, local, LOCAL, f"{why}: used the local {name}" if why and local else why)
        record = self.remote.get(name)
        if record is not None and record.value is not None:
            return Setting(name, record.value, self.vercel)
        if record is not None:
            why = f"{name} is sensitive on {self.vercel}, so Vercel does not return it"
        else:
            why = f"{name} is not set on {self.vercel}"
        if local is None:
            return Setting(name, None, self.vercel, why)
        return Setting(name, local, LOCAL, f"{why}: used the local {name} instead")
