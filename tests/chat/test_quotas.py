"""Chat quotas per reader and per client address, kept in Postgres: 429 with Retry-After, shared by instances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import Response

from lectern.chat.quotas import client_address
from tests.chat.conftest import instance, reader_headers
from tests.web.checks import assert_problem

QUESTION = {"message": "How do refresh tokens rotate?"}


def assert_quota_refusal(response: Response) -> None:
    assert_problem(response, 429, "rate_limited")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 2 * 3600, retry_after


async def test_a_reader_gets_429_past_their_hourly_quota(make_settings: Any, book: Path) -> None:
    settings = make_settings(chat_quota_per_reader_per_hour=2, chat_quota_per_ip_per_hour=100)
    async with instance(settings) as client:
        first = await reader_headers(client, "first@example.org")
        second = await reader_headers(client, "second@example.org")
        for _ in range(2):
            assert (await client.post("/api/chat", json=QUESTION, headers=first)).status_code == 200
        refused = await client.post("/api/chat", json=QUESTION, headers=first)
        streamed = await client.post("/api/chat", json={**QUESTION, "stream": True}, headers=first)
        other_reader = await client.post("/api/chat", json=QUESTION, headers=second)

    assert_quota_refusal(refused)
    assert "2 questions" in refused.json()["detail"]
    assert_quota_refusal(streamed)
    assert other_reader.status_code == 200


async def test_an_address_gets_429_past_its_quota_shared_by_every_instance(make_settings: Any, book: Path) -> None:
    settings = make_settings(chat_quota_per_ip_per_hour=3)
    async with instance(settings, peer="203.0.113.7") as one, instance(settings, peer="203.0.113.7") as two:
        assert (await one.post("/api/chat", json=QUESTION)).status_code == 200
        assert (await two.post("/api/chat", json=QUESTION)).status_code == 200
        assert (await one.post("/api/chat", json=QUESTION)).status_code == 200
        assert_quota_refusal(await two.post("/api/chat", json=QUESTION))
        assert_quota_refusal(await one.post("/api/chat", json=QUESTION))
    async with instance(settings, peer="203.0.113.8") as elsewhere:
        assert (await elsewhere.post("/api/chat", json=QUESTION)).status_code == 200


async def test_signed_in_readers_count_toward_their_address_too(make_settings: Any, book: Path) -> None:
    settings = make_settings(chat_quota_per_reader_per_hour=10, chat_quota_per_ip_per_hour=1)
    async with instance(settings) as client:
        headers = await reader_headers(client)
        assert (await client.post("/api/chat", json=QUESTION, headers=headers)).status_code == 200
        assert_quota_refusal(await client.post("/api/chat", json=QUESTION))


async def test_x_forwarded_for_is_ignored_off_vercel(make_settings: Any, book: Path) -> None:
    async with instance(make_settings(chat_quota_per_ip_per_hour=1)) as client:
        first = await client.post("/api/chat", json=QUESTION, headers={"X-Forwarded-For": "198.51.100.1"})
        spoofed = await client.post("/api/chat", json=QUESTION, headers={"X-Forwarded-For": "198.51.100.2"})
    assert first.status_code == 200
    assert_quota_refusal(spoofed)


async def test_on_vercel_the_first_forwarded_address_counts(make_settings: Any, book: Path) -> None:
    settings = make_settings(chat_quota_per_ip_per_hour=1, vercel_env="preview")
    async with instance(settings, peer="10.0.0.1") as one, instance(settings, peer="10.0.0.2") as two:
        first = await one.post("/api/chat", json=QUESTION, headers={"X-Forwarded-For": "198.51.100.1, 10.9.9.9"})
        other_client = await one.post("/api/chat", json=QUESTION, headers={"X-Forwarded-For": "198.51.100.2"})
        same_client = await two.post("/api/chat", json=QUESTION, headers={"X-Forwarded-For": "198.51.100.1"})
    assert first.status_code == 200
    assert other_client.status_code == 200
    assert_quota_refusal(same_client)


async def test_a_quota_of_zero_is_off(make_settings: Any, book: Path) -> None:
    settings = make_settings(chat_quota_per_reader_per_hour=0, chat_quota_per_ip_per_hour=0)
    async with instance(settings) as client:
        headers = await reader_headers(client)
        for _ in range(3):
            assert (await client.post("/api/chat", json=QUESTION, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("forwarded", "peer", "trusted", "expected"),
    [
        ("198.51.100.1, 10.0.0.1", "10.0.0.2", True, "198.51.100.1"),
        ("198.51.100.1", "10.0.0.2", False, "10.0.0.2"),
        ("not an address", "10.0.0.2", True, "10.0.0.2"),
        (None, "2001:db8:1:2:3:4:5:6", False, "2001:db8:1:2::/64"),
        (None, "::ffff:192.0.2.1", False, "192.0.2.1"),
        (None, None, False, "unknown"),
    ],
)
def test_client_address(forwarded: str | None, peer: str | None, trusted: bool, expected: str) -> None:
    assert client_address(forwarded, peer, trust_forwarded_for=trusted) == expected


async def test_the_other_ipv6_addresses_of_a_network_share_its_quota(make_settings: Any, book: Path) -> None:
    settings = make_settings(chat_quota_per_ip_per_hour=1)
    async with instance(settings, peer="2001:db8::1") as one, instance(settings, peer="2001:db8::2") as two:
        assert (await one.post("/api/chat", json=QUESTION)).status_code == 200
        assert_quota_refusal(await two.post("/api/chat", json=QUESTION))
