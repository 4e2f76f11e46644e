"""Domains load on their first request: a cold start pays only for the routes it serves.

Each domain's routers become a small FastAPI app, built (imports included) the first time a request
for one of its path prefixes arrives. Paths no domain claims go to a catalogue app holding every
router: it serves /openapi.json, /docs and the 404s.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


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
    """ASGI app that builds each domain's app on first use and hands requests to it."""

    def __init__(self, domains: Sequence[Domain], build: Callable[[Sequence[str], bool], FastAPI]) -> None:
        self._domains = list(domains)
        self._build = build
        self._apps: dict[int, FastAPI] = {}

    def _app_for(self, path: str) -> ASGIApp:
        index = next((i for i, d in enumerate(self._domains) if d.claims(path)), -1)
        app = self._apps.get(index)
        if app is None:
            if index >= 0:
                app = self._build(self._domains[index].routers, False)
            else:
                every = tuple(dict.fromkeys(r for d in self._domains for r in d.routers))
                app = self._build(every, True)
            self._apps[index] = app
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app_for(scope.get("path", ""))(scope, receive, send)
