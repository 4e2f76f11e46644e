"""X-Request-ID: the caller's when it is a sane token, else one we generate; problems repeat it."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.web.checks import assert_problem

GENERATED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@pytest.mark.parametrize("given", ["abc123", "req-2024.05:edge_1", "x" * 128])
async def test_a_sane_caller_id_is_echoed(client: AsyncClient, given: str) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize(
    "given",
    ["x" * 129, "has space", "semi;colon", "<script>alert(1)</script>", "slash/path", 'quote"d', "ünïcode"],
)
async def test_an_unsafe_caller_id_is_replaced(client: AsyncClient, given: str) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": given.encode()})
    replaced = response.headers["x-request-id"]
    assert replaced != given
    assert GENERATED.fullmatch(replaced)


async def test_an_empty_caller_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": ""})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_generated_ids_are_unique(client: AsyncClient) -> None:
    ids = {(await client.get("/api/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(GENERATED.fullmatch(i) for i in ids)


async def test_problem_body_carries_the_callers_id(client: AsyncClient) -> None:
    response = await client.get("/api/missing", headers={"X-Request-ID": "trace-404"})
    body = assert_problem(response, 404, "not_found")
    assert body["request_id"] == "trace-404"


async def test_problem_body_carries_the_generated_id(client: AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={}, headers={"X-Request-ID": "bad id"})
    body = assert_problem(response, 422, "validation_failed")
    assert body["request_id"] == response.headers["x-request-id"] != "bad id"


async def test_preflight_and_413_carry_an_id(client: AsyncClient) -> None:
    preflight = await client.options(
        "/api/auth/login",
        headers={"Origin": "https://refused.example", "Access-Control-Request-Method": "POST", "X-Request-ID": "pf-1"},
    )
    assert assert_problem(preflight, 403, "cors_origin_refused")["request_id"] == "pf-1"
    too_large = await client.post(
        "/api/auth/login", content=b"x" * 2_000_000, headers={"content-type": "application/json", "X-Request-ID": "big"}
    )
    assert assert_problem(too_large, 413, "payload_too_large")["request_id"] == "big"
