"""A small book built to test generation (code, links, images, tables, a long page), apps with and without a model
(the OpenAI stand-in over real HTTP), and stand-in replies that play a model: faithful, translating, or breaking
the structure on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from lectern.db.session import Database
from lectern.ingest.index import IngestOptions, ingest_book
from lectern.settings import Settings
from tests.chat.conftest import instance, llm_settings, reader_headers
from tests.generate.replies import (
    URDU_WORD,
    attempts,
    code_tokens,
    faithful,
    into_urdu,
    quiz_reply,
    source_of,
)
from tests.llm.conftest import closed_clients, fast_backoff
from tests.standins.openai_fixtures import openai_standin, openai_standin_server

# Fixtures shared from chat's and the stand-in's conftest files, and the stand-in's replies (tests/generate/replies.py)
# that tests and benchmarks import from here.
__all__ = [
    "URDU_WORD",
    "attempts",
    "closed_clients",
    "code_tokens",
    "fast_backoff",
    "faithful",
    "instance",
    "into_urdu",
    "llm_settings",
    "openai_standin",
    "openai_standin_server",
    "quiz_reply",
    "reader_headers",
    "source_of",
]

BASE_URL = "https://book.example"
TARGET_CHARS = 400
CODE = 'client.refresh(token)  # rotates the token\nprint("done")'
SESSIONS = f"""# Sessions

Readers sign in with a password and get an access token. The [security guide](https://book.example/docs/security)
explains the threat model, and Lectern follows it.

## Refresh tokens

Each refresh token is single-use: call `lectern refresh` to rotate one by hand. Every refresh returns a new token
and the old one stops working.

```python
{CODE}
```

## Storage

| Where | Lifetime |
|---|---|
| memory | the page |
| localStorage | until sign-out |

![Token flow](https://book.example/img/tokens.png)

Lectern keeps tokens in memory unless the site opts into localStorage.
"""
ARM = """# Robot arms

This chapter describes the parts of a robot arm and how they work together.

## Joints

A revolute joint rotates about one axis. A prismatic joint slides along one axis. Most arms chain six joints, from
the base to the wrist.

## Sensors

An encoder measures the angle of a joint. A torque sensor reports the load on the motor. Both report hundreds of
times a second.

## Control

A PID controller drives each joint toward its target angle. It reads the encoder and sets the motor current in a
tight loop.
"""
LONG_SECTIONS = 8


def long_page(sections: int = LONG_SECTIONS) -> str:
    """A page of `sections` sections, each long enough (about 2,500 characters) to be a unit of its own."""
    parts = ["# Field manual\n\nThis manual walks through the robot's subsystems one at a time."]
    for number in range(1, sections + 1):
        sentences = " ".join(
            f"Subsystem {number} step {step} checks the wiring of module {number} before the next test."
            for step in range(30)
        )
        parts.append(f"## Subsystem {number}\n\n{sentences}\n\n```sh\nrun-check --module {number}\n```")
    return "\n\n".join(parts) + "\n"


PAGES = {"guides/sessions.md": SESSIONS, "robotics/arm.md": ARM, "reference/manual.md": long_page()}
MakeSettings = Callable[..., Settings]


def write_book(root: Path, pages: dict[str, str] | None = None) -> Path:
    for relative, text in (pages or PAGES).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


async def ingest(settings: Settings, root: Path) -> None:
    database = Database(settings)
    try:
        report = await ingest_book(
            await database.engine(), root, IngestOptions(base_url=BASE_URL, target_chars=TARGET_CHARS)
        )
        assert report.ok, report.failures
    finally:
        await database.dispose()


@pytest.fixture
async def book(make_settings: MakeSettings, tmp_path: Path) -> Path:
    """The generation book, ingested (the tables are emptied after the test)."""
    root = write_book(tmp_path / "site")
    await ingest(make_settings(), root)
    return root


async def generated(client: AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/generate, which must succeed; its JSON answer."""
    response = await client.post("/api/generate", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
