"""A stand-in for POST /api/generate, registered in the test app only: the route does not exist in Lectern yet.

It answers in the issue's contract: {content, task, source: {page_id, title, url}, language, dir, mode, cached,
model, created_at}; a scripted failure answers as the real one would (503 llm_not_configured, 429 + Retry-After).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from lectern.web.problems import PROBLEM_JSON, problem_body

RTL = {"ar", "fa", "he", "ur"}
PERSONALIZED = "## Your version\n\nThis page, for a **{level}** reader: tokens *rotate*.\n\n- one\n- two\n"
TRANSLATED = {
    "ur": "## سیشن\n\nہر استعمال پر **ریفریش ٹوکن** بدل جاتا ہے۔\n",
    "fr": "## Sessions\n\nLes jetons de rafraîchissement changent à chaque usage.\n",
}


@dataclass
class Failure:
    status: int
    code: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GenerateStub:
    """What the stub received, and what it answers next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    failure: Failure | None = None
    content: str | None = None

    def reset(self) -> None:
        self.requests.clear()
        self.failure = None
        self.content = None

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/api/generate")
        async def generate(request: Request) -> JSONResponse:
            body: dict[str, Any] = await request.json()
            self.requests.append(body)
            if self.failure is not None:
                failure = self.failure
                problem = problem_body(None, failure.status, failure.code, "Stub failure", failure.detail)
                return JSONResponse(problem, failure.status, headers=failure.headers, media_type=PROBLEM_JSON)
            task = body.get("task")
            language = body.get("language") or "en"
            if self.content is not None:
                content = self.content
            elif task == "translate":
                content = TRANSLATED.get(language, "## Translated\n\nText.\n")
            else:
                content = PERSONALIZED.format(level="beginner")
            page = body.get("source", {}).get("page", "")
            return JSONResponse(
                {
                    "content": content,
                    "task": task,
                    "source": {"page_id": str(uuid.uuid4()), "title": "Sessions", "url": f"http://book{page}"},
                    "language": language,
                    "dir": "rtl" if language.split("-")[0] in RTL else "ltr",
                    "mode": "llm",
                    "cached": False,
                    "model": "stub",
                    "created_at": datetime.now(UTC).isoformat(),
                }
            )

        return router

    def install(self, app: FastAPI) -> None:
        """Add the route ahead of the app's catch-all mount of lazy domains, which must stay last."""
        routes = app.router.routes
        mount = routes.pop()
        app.include_router(self.router())
        routes.append(mount)
