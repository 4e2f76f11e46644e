"""Domains load on their first request: a cold start pays only for the routes it serves.

The app starts with its liveness route and, last in its route list, a catch-all `LazyDomains`
mount. A request that reaches the mount names a domain by its path prefix: the domain's routers
are imported and included in the app (ahead of the mount), then the request is routed again. Once
every domain is loaded, the mount answers what no route matched: 404, or 405 with `Allow`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True)
class Domain:
    """Path prefixes and the routers ("module:attribute") that serve them."""

    prefixes: tuple[str, ...]
    routers: tuple[str, ...]

    def claims(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.prefixes)


def load_router(spec: str) -> APIRouter:
    module, _, attribute = spec.partition(":")
    router = getattr(importlib.import_module(module), attribute)
    assert isinstance(router, APIRouter), spec
    return router


class LazyDomains:
    """The catch-all ASGI app that loads domains into `app` on demand."""

    def __init__(self, app: FastAPI, domains: Sequence[Domain]) -> None:
        self._app = app
        self._pending = list(domains)
        self.loaded: list[Domain] = []

    def install(self) -> None:
        """Put the catch-all mount last in the app's routes."""
        self._app.router.routes.append(Mount("", app=self))

    def load(self, domain: Domain) -> None:
        if domain not in self._pending:
            return
        self._pending.remove(domain)
        routes = self._app.router.routes
        mount = routes.pop()  # keep the catch-all last
        for spec in dict.fromkeys(domain.routers):
            self._app.include_router(load_router(spec))
        routes.append(mount)
        self._app.openapi_schema = None
        self.loaded.append(domain)

    def load_all(self) -> None:
        for domain in list(self._pending):
            self.load(domain)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        domain = next((d for d in self._pending if d.claims(path)), None)
        if domain is not None:
            self.load(domain)
        elif self._pending:
            self.load_all()  # an unclaimed path: it may still be some domain's 404 or 405
        else:
            await self._no_route(scope, receive, send)
            return
        await self._app.router(scope, receive, send)

    async def _no_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        # As Starlette's router does: a route matching the path but not the method answers 405.
        for route in self._app.router.routes[:-1]:
            match, child_scope = route.matches(scope)
            if match is Match.PARTIAL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        raise HTTPException(404)
