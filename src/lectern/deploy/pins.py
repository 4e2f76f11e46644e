"""Exact pins for Vercel: Lectern's runtime dependencies resolved from this machine's installed distributions.

Markers are evaluated for the function's platform (CPython on Linux x86_64, the Python of `.python-version`),
not for this machine. `packaging` is not a runtime dependency of Lectern, so the small marker grammar is here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[(?P<extras>[^\]]*)\])?"
    r"\s*(?P<spec>[^;]*?)\s*(?:;(?P<marker>.*))?$"
)
_TOKEN = re.compile(
    r"\s*(\(|\)|'[^']*'|\"[^\"]*\"|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|[A-Za-z_][A-Za-z0-9_.]*)"
)
_VERSION_VARIABLES = frozenset({"python_version", "python_full_version", "implementation_version"})


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Requirement:
    """One requirement line: name, extras, version specifier and environment marker."""

    name: str
    extras: frozenset[str]
    specifier: str
    marker: str | None

    @property
    def key(self) -> str:
        return normalize(self.name)

    @classmethod
    def parse(cls, line: str) -> Requirement | None:
        """Read `name[extras] spec; marker`; None for anything else (options, URLs, paths)."""
        match = _REQUIREMENT.match(line)
        if match is None or "@" in match["spec"] or "/" in match["spec"]:
            return None
        extras = frozenset(normalize(e) for e in (match["extras"] or "").split(",") if e.strip())
        marker = (match["marker"] or "").strip() or None
        return cls(match["name"], extras, match["spec"].strip(), marker)


@dataclass(frozen=True)
class Platform:
    """Where the function runs: Vercel's Linux x86_64 image with CPython `python_version`."""

    python_version: str = "3.12"

    def variables(self, extra: str) -> dict[str, str]:
        full = f"{self.python_version}.0"
        return {
            "python_version": self.python_version,
            "python_full_version": full,
            "implementation_version": full,
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": "x86_64",
            "os_name": "posix",
            "platform_release": "",
            "platform_version": "",
            "extra": extra,
        }


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:4])


def _compare(left: str, op: str, right: str, *, as_version: bool) -> bool:
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    if op == "===":
        return left == right
    if not as_version:
        return {"==": left == right, "!=": left != right}.get(op, False)
    a, b = _version(left), _version(right)
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    if op == "~=":
        prefix = len(_version(right)) - 1
        return a >= b and a[:prefix] == b[:prefix]
    outcomes = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    return outcomes[op]


class _MarkerReader:
    """Recursive descent over `or`, `and`, parentheses and `value op value`."""

    def __init__(self, text: str, variables: dict[str, str]) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if t]
        self.position = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ValueError("marker ends early")
        self.position += 1
        return token

    def expression(self) -> bool:
        result = self.conjunction()
        while self.peek() == "or":
            self.take()
            result = self.conjunction() or result
        return result

    def conjunction(self) -> bool:
        result = self.atom()
        while self.peek() == "and":
            self.take()
            result = self.atom() and result
        return result

    def atom(self) -> bool:
        if self.peek() == "(":
            self.take()
            result = self.expression()
            if self.take() != ")":
                raise ValueError("unbalanced parentheses")
            return result
        left, op, right = self.take(), " ".join(self.take().split()), self.take()
        as_version = op == "~=" or bool({left, right} & _VERSION_VARIABLES)
        a, b = self.value(left), self.value(right)
        if "extra" in (left, right):
            a, b = normalize(a), normalize(b)
        return _compare(a, op, b, as_version=as_version)

    def value(self, token: str) -> str:
        if token[:1] in ("'", '"'):
            return token[1:-1]
        if token not in self.variables:
            raise ValueError(f"unknown marker variable {token}")
        return self.variables[token]


def marker_applies(marker: str | None, platform: Platform, extras: Iterable[str] = ()) -> bool:
    """Whether a requirement with this marker is installed on `platform` when `extras` were asked for."""
    if marker is None:
        return True
    for extra in ("", *extras):
        reader = _MarkerReader(marker, platform.variables(extra))
        if reader.expression():
            return True
    return False


@dataclass(frozen=True)
class Pin:
    """An exact pin, or a name with no version when the distribution is not installed here."""

    name: str
    version: str | None

    @property
    def line(self) -> str:
        return f"{self.name}=={self.version}" if self.version else self.name


def _distribution(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _requirements(dist: metadata.Distribution) -> Iterator[Requirement]:
    for line in dist.requires or []:
        requirement = Requirement.parse(line)
        if requirement is not None:
            yield requirement


def runtime_pins(root: str = "lectern", platform: Platform | None = None) -> list[Pin]:
    """Every distribution `root` needs on `platform`, pinned to the version installed here (root excluded)."""
    platform = platform or Platform()
    top = _distribution(root)
    if top is None:
        raise LookupError(f"{root} is not installed in this Python")
    asked: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    pending: list[tuple[metadata.Distribution | None, frozenset[str]]] = [(top, frozenset())]
    # Each visit can only add extras, so the loop ends; the bound guards against broken metadata.
    for _ in range(10_000):
        if not pending:
            break
        dist, extras = pending.pop()
        if dist is None:
            continue
        for requirement in _requirements(dist):
            if requirement.key == normalize(root) or not marker_applies(requirement.marker, platform, extras):
                continue
            known = asked.get(requirement.key)
            if known is not None and requirement.extras <= known:
                continue
            asked.setdefault(requirement.key, set()).update(requirement.extras)
            names.setdefault(requirement.key, requirement.name)
            pending.append((_distribution(requirement.name), frozenset(asked[requirement.key])))
    pins = []
    for key in sorted(asked):
        dist = _distribution(names[key])
        name = str(dist.metadata["Name"]) if dist is not None else names[key]
        pins.append(Pin(name, dist.version if dist is not None else None))
    return pins


def read_pins(path: Path) -> list[Requirement]:
    """The requirements of a requirements.txt (options, includes, URLs and paths are left out)."""
    found = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement.parse(line)
        if requirement is not None:
            found.append(requirement)
    return found


def exact_version(requirement: Requirement) -> str | None:
    """The version of an `==` pin, else None."""
    match = re.fullmatch(r"==\s*([A-Za-z0-9.+!-]+)", requirement.specifier)
    return match[1] if match else None


@dataclass(frozen=True)
class InstalledSize:
    """Bytes a distribution occupies once installed (bytecode left out: uv installs none by default)."""

    name: str
    version: str | None
    size: int | None


def installed_size(name: str) -> InstalledSize:
    """The size of the distribution installed here, from its RECORD (stat where RECORD gives no size)."""
    dist = _distribution(name)
    if dist is None:
        return InstalledSize(name, None, None)
    total = 0
    for file in dist.files or []:
        parts = file.parts
        if "__pycache__" in parts or str(file).endswith(".pyc"):
            continue
        if file.size is not None:
            total += file.size
            continue
        try:
            total += Path(str(file.locate())).stat().st_size
        except OSError:
            continue
    return InstalledSize(str(dist.metadata["Name"]), dist.version, total)
