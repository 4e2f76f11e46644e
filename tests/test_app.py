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


async def test_domains_are_loaded_on_first_use(app: Any, client: AsyncClient) -> None:
    domains: LazyDomains = app.state.domains
    assert domains.loaded == []
    assert (await client.get("/api/health")).status_code == 200
    assert domains.loaded == [], "liveness must not load any domain"
    assert (await client.get("/api/profile")).status_code == 401
    assert [d.prefixes for d in domains.loaded] == [("/api/profile", "/api/preferences")]
    assert (await client.get("/api/profile")).status_code == 401, "a loaded domain is not loaded twice"
    assert len(domains.loaded) == 1


async def test_unclaimed_paths_get_404_and_wrong_methods_405(client: AsyncClient) -> None:
    missing = await client.get("/api/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong = await client.delete("/api/profile")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]
    assert (await client.delete("/api/nothing-here")).status_code == 404


def test_domain_prefixes_match_whole_segments() -> None:
    domain = Domain(("/api/profile",), ("x:y",))
    assert domain.claims("/api/profile")
    assert domain.claims("/api/profile/extra")
    assert not domain.claims("/api/profiles")
    assert not domain.claims("/api/profile-picture")


def test_no_two_domains_claim_one_prefix() -> None:
    prefixes = [p for d in DOMAINS for p in d.prefixes]
    assert len(prefixes) == len(set(prefixes))
