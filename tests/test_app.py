"""The outer app routes every documented path to its domain; domains load only when asked."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from lectern.app import DOMAINS
from lectern.web.lazy import Domain, LazyDomains


async def test_every_documented_route_is_served_through_the_outer_app(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert len(schema["paths"]) >= 9
    for path, operations in schema["paths"].items():
        for method in operations:
            response = await client.request(method.upper(), path)
            # Reaching the route means anything but "no such route": 401, 422, 200…
            assert not (response.status_code == 404 and "No route" in response.text), (method, path)
            assert response.status_code != 405, (method, path)


async def test_domains_are_built_on_first_use(app: Any, client: AsyncClient) -> None:
    lazy = next(route.app for route in app.router.routes if isinstance(getattr(route, "app", None), LazyDomains))
    assert lazy._apps == {}
    await client.get("/api/health")
    assert lazy._apps == {}, "liveness must not load any domain"
    await client.get("/api/profile")
    assert len(lazy._apps) == 1


def test_domain_prefixes_match_whole_segments() -> None:
    domain = Domain(("/api/profile",), ("x:y",))
    assert domain.claims("/api/profile")
    assert domain.claims("/api/profile/extra")
    assert not domain.claims("/api/profiles")
    assert not domain.claims("/api/profile-picture")


def test_no_two_domains_claim_one_prefix() -> None:
    prefixes = [p for d in DOMAINS for p in d.prefixes]
    assert len(prefixes) == len(set(prefixes))
