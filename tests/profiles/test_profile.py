"""GET/PUT /api/profile: defaults for a new reader, replace semantics, ETag and If-Match."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient

from tests.auth.problem_checks import assert_problem, error_fields

DEFAULTS = {
    "display_name": None,
    "software_background": "",
    "hardware_background": "",
    "experience_level": "beginner",
    "goals": "",
}
FULL = {
    "display_name": "Ada",
    "software_background": "Python, a little Rust",
    "hardware_background": "Arduino kits",
    "experience_level": "intermediate",
    "goals": "Build a walking robot",
}


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in DEFAULTS}


async def test_a_new_reader_gets_the_defaults_and_an_etag(client: AsyncClient, reader: dict[str, str]) -> None:
    response = await client.get("/api/profile", headers=reader)
    assert response.status_code == 200
    body = response.json()
    assert body == {**DEFAULTS, "updated_at": None}
    assert response.headers["etag"].startswith('"')


async def test_put_replaces_the_whole_profile(client: AsyncClient, reader: dict[str, str]) -> None:
    first = await client.put("/api/profile", json=FULL, headers=reader)
    assert first.status_code == 200
    assert _fields(first.json()) == FULL
    assert datetime.fromisoformat(first.json()["updated_at"])
    read = await client.get("/api/profile", headers=reader)
    assert _fields(read.json()) == FULL
    assert read.headers["etag"] == first.headers["etag"]

    # Replace, not merge: what the second PUT leaves out goes back to its default.
    second = await client.put("/api/profile", json={"goals": "Pass the course"}, headers=reader)
    assert second.status_code == 200
    assert _fields(second.json()) == {**DEFAULTS, "goals": "Pass the course"}
    assert _fields((await client.get("/api/profile", headers=reader)).json()) == {
        **DEFAULTS,
        "goals": "Pass the course",
    }
    assert second.headers["etag"] != first.headers["etag"]


async def test_if_match_with_the_current_etag_succeeds_and_moves_the_etag(
    client: AsyncClient, reader: dict[str, str]
) -> None:
    etag = (await client.get("/api/profile", headers=reader)).headers["etag"]
    saved = await client.put("/api/profile", json=FULL, headers={**reader, "If-Match": etag})
    assert saved.status_code == 200
    assert saved.headers["etag"] != etag
    again = await client.put(
        "/api/profile", json={**FULL, "goals": "More"}, headers={**reader, "If-Match": saved.headers["etag"]}
    )
    assert again.status_code == 200
    assert again.json()["goals"] == "More"
    assert again.headers["etag"] not in (etag, saved.headers["etag"])


async def test_a_stale_if_match_is_412_and_changes_nothing(client: AsyncClient, reader: dict[str, str]) -> None:
    stale = (await client.get("/api/profile", headers=reader)).headers["etag"]
    current = await client.put("/api/profile", json=FULL, headers=reader)
    before = (await client.get("/api/profile", headers=reader)).json()

    refused = await client.put("/api/profile", json={"goals": "overwrite"}, headers={**reader, "If-Match": stale})
    assert_problem(refused, 412, "precondition_failed")

    after = await client.get("/api/profile", headers=reader)
    assert after.json() == before
    assert after.headers["etag"] == current.headers["etag"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**FULL, "nickname": "ada"}, "nickname"),
        ({**FULL, "user_id": "00000000-0000-0000-0000-000000000000"}, "user_id"),
        ({**FULL, "updated_at": "2020-01-01T00:00:00Z"}, "updated_at"),
        ({**FULL, "experience_level": "expert"}, "experience_level"),
        ({**FULL, "experience_level": "Beginner"}, "experience_level"),
        ({**FULL, "display_name": ""}, "display_name"),
        ({**FULL, "display_name": "x" * 101}, "display_name"),
        ({**FULL, "goals": "x" * 2001}, "goals"),
        ({**FULL, "software_background": 42}, "software_background"),
        # PostgreSQL text cannot hold NUL: refused as input, not a server error.
        ({**FULL, "goals": "before\x00after"}, "goals"),
        ({**FULL, "display_name": "Ada\x00"}, "display_name"),
    ],
)
async def test_invalid_profile_is_422_naming_the_field_and_changes_nothing(
    client: AsyncClient, reader: dict[str, str], payload: dict[str, Any], field: str
) -> None:
    saved = await client.put("/api/profile", json=FULL, headers=reader)
    body = assert_problem(await client.put("/api/profile", json=payload, headers=reader), 422, "validation_failed")
    assert field in error_fields(body)
    after = await client.get("/api/profile", headers=reader)
    assert after.json() == saved.json()
    assert after.headers["etag"] == saved.headers["etag"]


async def test_display_name_can_be_cleared(client: AsyncClient, reader: dict[str, str]) -> None:
    await client.put("/api/profile", json=FULL, headers=reader)
    cleared = await client.put("/api/profile", json={**FULL, "display_name": None}, headers=reader)
    assert cleared.status_code == 200
    assert (await client.get("/api/profile", headers=reader)).json()["display_name"] is None


async def test_racing_writes_with_the_same_etag_let_exactly_one_through(
    client: AsyncClient, reader: dict[str, str]
) -> None:
    etag = (await client.put("/api/profile", json=FULL, headers=reader)).headers["etag"]
    goals = [f"goal {i}" for i in range(4)]
    responses = await asyncio.gather(
        *(client.put("/api/profile", json={**FULL, "goals": g}, headers={**reader, "If-Match": etag}) for g in goals)
    )
    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]
    (winner,) = (r for r in responses if r.status_code == 200)
    stored = await client.get("/api/profile", headers=reader)
    assert stored.json() == winner.json()
    assert stored.headers["etag"] == winner.headers["etag"]
