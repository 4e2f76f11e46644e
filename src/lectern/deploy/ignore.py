"""Which files an upload leaves out: the Vercel CLI's default list plus `.vercelignore`, in gitignore syntax."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The Vercel CLI's default ignores (vercel.md §3.2). `.env` is not among them: `.vercelignore` adds it.
DEFAULT_IGNORES = (
    ".hg",
    ".git",
    ".gitmodules",
    ".svn",
    ".cache",
    ".next",
    ".now",
    ".vercel",
    ".npmignore",
    ".dockerignore",
    ".gitignore",
    ".*.swp",
    ".DS_Store",
    ".wafpicke-*",
    ".lock-wscript",
    ".env.local",
    ".env.*.local",
    ".venv",
    ".yarn/cache",
    ".pnp*",
    "npm-debug.log",
    "config.gypi",
    "node_modules",
    "__pycache__",
    "venv",
    "CVS",
)


def _translate(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("(?:/.*)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and (end := glob.find("]", i + 1)) > i:
            body = glob[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    """One gitignore line: a path pattern, maybe only for folders, maybe re-including (`!`)."""

    pattern: re.Pattern[str]
    negated: bool
    folders_only: bool

    @classmethod
    def parse(cls, line: str) -> Rule | None:
        text = line.rstrip("\n").rstrip()
        if not text or text.startswith("#"):
            return None
        negated = text.startswith("!")
        text = text[1:] if negated else text
        folders_only = text.endswith("/")
        text = text.rstrip("/")
        if not text:
            return None
        # A slash anywhere but the end anchors the pattern to the project root; else it matches at any depth.
        anchored = "/" in text
        body = _translate(text.lstrip("/"))
        regex = ("^" if anchored else "^(?:.*/)?") + body + "$"
        return cls(re.compile(regex), negated, folders_only)


class IgnoreRules:
    """The rules in order; the last rule that matches a path decides, as in git."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.rules = [rule for line in lines if (rule := Rule.parse(line)) is not None]

    @classmethod
    def for_project(cls, root: Path) -> IgnoreRules:
        """Vercel's defaults, then `.vercelignore` (or the older `.nowignore`) when the project has one."""
        lines = list(DEFAULT_IGNORES)
        for name in (".vercelignore", ".nowignore"):
            path = root / name
            if path.is_file():
                lines += path.read_text(encoding="utf-8").splitlines()
                break
        return cls(lines)

    def ignores(self, relative: str, *, folder: bool) -> bool:
        """Whether `relative` (a POSIX path from the project root) stays out of the upload."""
        ignored = False
        for rule in self.rules:
            if rule.folders_only and not folder:
                continue
            if rule.pattern.match(relative):
                ignored = not rule.negated
        return ignored
