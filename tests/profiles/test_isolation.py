"""Each reader only ever reads and changes their own profile and preferences."""

from __future__ import annotations

from typing import Any

import jwt
from httpx import AsyncClient

from tests.auth.forged_tokens import OTHER_SECRET, claims_for, signed, with_claims
from tests.auth.problem_checks import assert_problem
from tests.conftest import bearer, signup

ADA_PROFILE = {"display_name": "Ada", "experience_level": "advanced", "goals": "Analytical engines"}
GRACE_PROFILE = {"display_name": "Grace", "experience_level": "intermediate", "goals": "Compilers"}
ADA_PREFERENCES = {"difficulty": "advanced", "language": "en", "topics": ["engines"]}
GRACE_PREFERENCES = {"difficulty": "intermediate", "language": "ur", "topics": ["compilers"]}


def _sub(headers: dict[str, str]) -> str:
    token = headers["Authorization"].removeprefix("Bearer ")
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


async def _state(client: AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    profile = await client.get("/api/profile", headers=headers)
    preferences = await client.get("/api/preferences", headers=headers)
    return {
        "profile": profile.json(),
        "preferences": preferences.json(),
        "etags": (profile.headers["etag"], preferences.headers["etag"]),
    }


async def test_a_readers_token_always_yields_their_own_data(
    client: AsyncClient, reader: dict[str, str], other_reader: dict[str, str]
) -> None:
    await client.put("/api/profile", json=GRACE_PROFILE, headers=other_reader)
    await client.put("/api/preferences", json=GRACE_PREFERENCES, headers=other_reader)

    # Grace wrote first; Ada still sees only her own defaults.
    ada = await _state(client, reader)
    assert ada["profile"]["display_name"] is None
    assert ada["preferences"]["topics"] == []

    await client.put("/api/profile", json=ADA_PROFILE, headers=reader)
    await client.patch("/api/preferences", json=ADA_PREFERENCES, headers=reader)
    # Grace writes again after Ada.
    await client.patch("/api/preferences", json={"answer_length": "long"}, headers=other_reader)

    ada = await _state(client, reader)
    grace = await _state(client, other_reader)
    assert ada["profile"]["display_name"] == "Ada"
    assert ada["preferences"]["topics"] == ["engines"]
    assert ada["preferences"]["answer_length"] == "medium"
    assert grace["profile"]["display_name"] == "Grace"
    assert grace["preferences"]["topics"] == ["compilers"]
    assert grace["preferences"]["answer_length"] == "long"
    me = await client.get("/api/auth/me", headers=reader)
    assert me.json()["email"] == "ada@example.org"


async def test_naming_another_reader_in_the_request_changes_nothing(
    client: AsyncClient, reader: dict[str, str], other_reader: dict[str, str]
) -> None:
    await client.put("/api/profile", json=GRACE_PROFILE, headers=other_reader)
    await client.put("/api/preferences", json=GRACE_PREFERENCES, headers=other_reader)
    grace_before = await _state(client, other_reader)
    grace_id = _sub(other_reader)

    # There are no ids in the URLs; a query parameter or a body member naming Grace does not reach her data.
    read = await client.get("/api/profile", params={"user_id": grace_id}, headers=reader)
    assert read.json()["display_name"] is None
    smuggled = await client.put("/api/profile", json={**ADA_PROFILE, "user_id": grace_id}, headers=reader)
    assert_problem(smuggled, 422, "validation_failed")
    smuggled = await client.patch("/api/preferences", json={"user_id": grace_id, "topics": []}, headers=reader)
    assert_problem(smuggled, 422, "validation_failed")
    assert_problem(await client.get(f"/api/profile/{grace_id}", headers=reader), 404)

    assert await _state(client, other_reader) == grace_before


async def test_a_token_forged_for_another_reader_is_refused_everywhere(
    client: AsyncClient, reader: dict[str, str], other_reader: dict[str, str]
) -> None:
    await client.put("/api/profile", json=GRACE_PROFILE, headers=other_reader)
    await client.put("/api/preferences", json=GRACE_PREFERENCES, headers=other_reader)
    grace_before = await _state(client, other_reader)
    grace_claims = claims_for(_sub(other_reader))
    ada_token = reader["Authorization"].removeprefix("Bearer ")
    forgeries = [
        signed(grace_claims, key=OTHER_SECRET),  # right sub, wrong key
        with_claims(ada_token, grace_claims),  # Ada's genuine signature over Grace's claims
    ]
    for forged in forgeries:
        headers = {"Authorization": f"Bearer {forged}"}
        attempts = [
            await client.get("/api/profile", headers=headers),
            await client.get("/api/preferences", headers=headers),
            await client.put("/api/profile", json=ADA_PROFILE, headers=headers),
            await client.put("/api/preferences", json=ADA_PREFERENCES, headers=headers),
            await client.patch("/api/preferences", json={"topics": ["hijacked"]}, headers=headers),
            await client.get("/api/auth/me", headers=headers),
        ]
        for response in attempts:
            assert_problem(response, 401, "invalid_token")
            assert "Grace" not in response.text
    assert await _state(client, other_reader) == grace_before


async def test_equal_etags_of_two_readers_guard_only_their_own_data(client: AsyncClient) -> None:
    """Both readers' first versions carry the same ETag; a write under Ada's must still touch only Ada's data."""
    ada = bearer(await signup(client, "ada@example.org"))
    grace = bearer(await signup(client, "grace@example.org"))
    ada_saved = await client.put("/api/profile", json=ADA_PROFILE, headers=ada)
    grace_saved = await client.put("/api/profile", json=GRACE_PROFILE, headers=grace)
    assert ada_saved.headers["etag"] == grace_saved.headers["etag"]
    updated = await client.put(
        "/api/profile", json={**ADA_PROFILE, "goals": "Poetry"}, headers={**ada, "If-Match": ada_saved.headers["etag"]}
    )
    assert updated.status_code == 200
    assert (await client.get("/api/profile", headers=grace)).json() == grace_saved.json()
