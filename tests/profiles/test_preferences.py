"""GET/PUT/PATCH /api/preferences: defaults, replace versus merge, canonical language tags, ETag and If-Match."""

from __future__ import annotations

import asyncio
from typing import Any

import hypothesis
import pytest
from httpx import AsyncClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tests.auth.problem_checks import assert_problem, error_fields

DEFAULTS: dict[str, Any] = {
    "difficulty": "beginner",
    "language": "en",
    "learning_style": "mixed",
    "topics": [],
    "answer_length": "medium",
}
CUSTOM: dict[str, Any] = {
    "difficulty": "advanced",
    "language": "ur",
    "learning_style": "hands_on",
    "topics": ["ROS 2", "kinematics"],
    "answer_length": "short",
}
# (as sent, as stored): tags come back in BCP 47's canonical case.
LANGUAGES = [
    ("en", "en"),
    ("EN", "en"),
    ("ur", "ur"),
    ("UR", "ur"),
    ("pt-BR", "pt-BR"),
    ("pt-br", "pt-BR"),
    ("PT-br", "pt-BR"),
    ("zh-hant-tw", "zh-Hant-TW"),
    ("sr-LATN", "sr-Latn"),
    ("es-419", "es-419"),
    ("EN-gb-OXENDICT", "en-GB-oxendict"),
]
INVALID = [
    ({"difficulty": "expert"}, "difficulty"),
    ({"difficulty": "Advanced"}, "difficulty"),
    ({"learning_style": "auditory"}, "learning_style"),
    ({"learning_style": "hands-on"}, "learning_style"),
    ({"answer_length": "huge"}, "answer_length"),
    ({"language": "english"}, "language"),
    ({"language": "en_US"}, "language"),
    ({"language": "e"}, "language"),
    ({"language": "en-"}, "language"),
    ({"language": ""}, "language"),
    ({"topics": "robotics"}, "topics"),
    ({"topics": [""]}, "topics.0"),
    ({"topics": ["ok", "x" * 61]}, "topics.1"),
    ({"topics": ["nul\x00byte"]}, "topics.0"),
    ({"topics": [f"t{i}" for i in range(51)]}, "topics"),
    ({"theme": "dark"}, "theme"),
    ({"user_id": "00000000-0000-0000-0000-000000000000"}, "user_id"),
]


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in DEFAULTS}


async def test_a_new_reader_gets_the_defaults_and_an_etag(client: AsyncClient, reader: dict[str, str]) -> None:
    response = await client.get("/api/preferences", headers=reader)
    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "updated_at": None}
    assert response.headers["etag"]


async def test_put_replaces_and_omitted_fields_return_to_defaults(client: AsyncClient, reader: dict[str, str]) -> None:
    saved = await client.put("/api/preferences", json=CUSTOM, headers=reader)
    assert saved.status_code == 200
    assert _fields(saved.json()) == CUSTOM
    assert saved.json()["updated_at"] is not None
    assert _fields((await client.get("/api/preferences", headers=reader)).json()) == CUSTOM

    replaced = await client.put("/api/preferences", json={"answer_length": "long"}, headers=reader)
    assert _fields(replaced.json()) == {**DEFAULTS, "answer_length": "long"}
    read = await client.get("/api/preferences", headers=reader)
    assert _fields(read.json()) == {**DEFAULTS, "answer_length": "long"}
    assert read.headers["etag"] == replaced.headers["etag"] != saved.headers["etag"]


async def test_patch_changes_only_the_fields_given(client: AsyncClient, reader: dict[str, str]) -> None:
    await client.put("/api/preferences", json=CUSTOM, headers=reader)
    patched = await client.patch("/api/preferences", json={"difficulty": "intermediate", "topics": []}, headers=reader)
    assert patched.status_code == 200
    expected = {**CUSTOM, "difficulty": "intermediate", "topics": []}
    assert _fields(patched.json()) == expected
    assert _fields((await client.get("/api/preferences", headers=reader)).json()) == expected


async def test_patch_on_a_new_reader_merges_onto_the_defaults(client: AsyncClient, reader: dict[str, str]) -> None:
    patched = await client.patch("/api/preferences", json={"language": "pt-br"}, headers=reader)
    assert patched.status_code == 200
    assert _fields(patched.json()) == {**DEFAULTS, "language": "pt-BR"}


@pytest.mark.parametrize(("sent", "stored"), LANGUAGES)
async def test_language_tags_are_stored_in_canonical_case(
    client: AsyncClient, reader: dict[str, str], sent: str, stored: str
) -> None:
    response = await client.put("/api/preferences", json={**CUSTOM, "language": sent}, headers=reader)
    assert response.status_code == 200, response.text
    assert response.json()["language"] == stored
    assert (await client.get("/api/preferences", headers=reader)).json()["language"] == stored


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("change", "field"), INVALID)
async def test_invalid_preferences_are_422_naming_the_field_and_change_nothing(
    client: AsyncClient, reader: dict[str, str], method: str, change: dict[str, Any], field: str
) -> None:
    saved = await client.put("/api/preferences", json=CUSTOM, headers=reader)
    payload = {**CUSTOM, **change} if method == "PUT" else change
    body = assert_problem(await client.request(method, "/api/preferences", json=payload, headers=reader), 422)
    assert field in error_fields(body), body
    after = await client.get("/api/preferences", headers=reader)
    assert after.json() == saved.json()
    assert after.headers["etag"] == saved.headers["etag"]


@pytest.mark.parametrize("field", list(DEFAULTS))
async def test_patch_with_an_explicit_null_is_422_and_changes_nothing(
    client: AsyncClient, reader: dict[str, str], field: str
) -> None:
    saved = await client.put("/api/preferences", json=CUSTOM, headers=reader)
    refused = await client.patch("/api/preferences", json={field: None}, headers=reader)
    assert error_fields(assert_problem(refused, 422, "validation_failed")) == {field}
    assert (await client.get("/api/preferences", headers=reader)).json() == saved.json()


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: AsyncClient, reader: dict[str, str], method: str
) -> None:
    stale = (await client.get("/api/preferences", headers=reader)).headers["etag"]
    await client.put("/api/preferences", json=CUSTOM, headers=reader)
    before = await client.get("/api/preferences", headers=reader)
    refused = await client.request(
        method, "/api/preferences", json={"difficulty": "intermediate"}, headers={**reader, "If-Match": stale}
    )
    assert_problem(refused, 412, "precondition_failed")
    after = await client.get("/api/preferences", headers=reader)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_the_current_if_match_succeeds_and_moves_the_etag(
    client: AsyncClient, reader: dict[str, str], method: str
) -> None:
    current = (await client.put("/api/preferences", json=CUSTOM, headers=reader)).headers["etag"]
    saved = await client.request(
        method, "/api/preferences", json={"difficulty": "intermediate"}, headers={**reader, "If-Match": current}
    )
    assert saved.status_code == 200
    assert saved.json()["difficulty"] == "intermediate"
    assert saved.headers["etag"] != current
    # The ETag it just replaced is now stale.
    again = await client.request(
        method, "/api/preferences", json={"difficulty": "advanced"}, headers={**reader, "If-Match": current}
    )
    assert_problem(again, 412, "precondition_failed")


# Hypothesis keeps the one signed-up reader across examples, so each patch lands on the state the last one left.
EXAMPLES = hypothesis.settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_topic = st.text(min_size=1, max_size=60).filter(lambda t: "\x00" not in t)
PATCHES = st.fixed_dictionaries(
    {},
    optional={
        "difficulty": st.sampled_from(["beginner", "intermediate", "advanced"]),
        "language": st.sampled_from(LANGUAGES),
        "learning_style": st.sampled_from(["visual", "reading", "hands_on", "mixed"]),
        "topics": st.lists(_topic, max_size=5),
        "answer_length": st.sampled_from(["short", "medium", "long"]),
    },
)


@EXAMPLES
@given(patch=PATCHES)
async def test_patch_equals_the_previous_state_merged_with_the_patch(
    client: AsyncClient, reader: dict[str, str], patch: dict[str, Any]
) -> None:
    before = _fields((await client.get("/api/preferences", headers=reader)).json())
    sent = {name: value[0] if name == "language" else value for name, value in patch.items()}
    expected = {**before, **{name: value[1] if name == "language" else value for name, value in patch.items()}}
    response = await client.patch("/api/preferences", json=sent, headers=reader)
    assert response.status_code == 200, response.text
    assert _fields(response.json()) == expected
    assert _fields((await client.get("/api/preferences", headers=reader)).json()) == expected


_SEPARATORS = st.sampled_from(["-", "_", " ", ".", "/", "@", "\x00", "é", "ß", "\n"])
_ALNUM = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
# Strings that break RFC 5646's grammar whatever else they hold.
NOT_BCP47 = st.one_of(
    # A character outside letters, digits and hyphens.
    st.builds(lambda a, sep, b: a + sep + b, _ALNUM, _SEPARATORS.filter(lambda s: s != "-"), _ALNUM),
    # An empty subtag: leading, trailing or doubled hyphen.
    st.builds(lambda a: "-" + a, _ALNUM),
    st.builds(lambda a: a + "-", _ALNUM),
    st.builds(lambda a, b: a + "--" + b, _ALNUM, _ALNUM),
    # A primary language subtag with a digit in it.
    st.builds(lambda a, d, b: a + d + b, st.text(alphabet="abc", max_size=2), st.sampled_from("0123456789"), _ALNUM),
    # A subtag longer than eight characters.
    st.builds(
        lambda a, b: a + "-" + b,
        st.sampled_from(["en", "pt", "zh"]),
        st.text(alphabet="abcdefgh", min_size=9, max_size=20),
    ),
    # A one-letter primary subtag (only x and i, for private and grandfathered tags, may stand alone).
    st.sampled_from("abcdefghjklmnopqrstuvwyz"),
)


@EXAMPLES
@given(tag=NOT_BCP47)
async def test_a_string_that_is_not_a_bcp47_tag_is_refused_and_changes_nothing(
    client: AsyncClient, reader: dict[str, str], tag: str
) -> None:
    before = await client.get("/api/preferences", headers=reader)
    response = await client.patch("/api/preferences", json={"language": tag}, headers=reader)
    assert error_fields(assert_problem(response, 422, "validation_failed")) == {"language"}
    after = await client.get("/api/preferences", headers=reader)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


async def test_racing_patches_lose_no_accepted_change(client: AsyncClient, reader: dict[str, str]) -> None:
    await client.put("/api/preferences", json=CUSTOM, headers=reader)
    patches: list[dict[str, Any]] = [
        {"difficulty": "intermediate"},
        {"learning_style": "visual"},
        {"topics": ["control"]},
        {"answer_length": "long"},
    ]
    responses = await asyncio.gather(*(client.patch("/api/preferences", json=p, headers=reader) for p in patches))
    accepted = [p for p, r in zip(patches, responses, strict=True) if r.status_code == 200]
    for response in responses:
        if response.status_code != 200:
            assert_problem(response, 412, "precondition_failed")
    assert accepted
    stored = _fields((await client.get("/api/preferences", headers=reader)).json())
    for patch in accepted:
        assert stored.items() >= patch.items()
