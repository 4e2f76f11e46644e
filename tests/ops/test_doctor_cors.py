"""The CORS check against real servers over HTTP: a Lectern app with an allow-list lacking an origin or refusing
credentials, and Starlette apps configured the classic wrong ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from lectern.app import create_app
from lectern.ops.doctor.cors import STRANGER, check_cors
from lectern.ops.doctor.sources import LOCAL, Setting
from lectern.settings import Settings
from tests.cli.serving import free_port
from tests.conftest import JWT_SECRET
from tests.deploy.servers import serve_asgi

BOOK = "https://book.example.org"
LOCALHOST = "http://localhost:3000"
MISSING = "https://missing.example.org"


def served_lectern(database_url: str, tmp: Path, **overrides: Any) -> Any:
    """A real Lectern app served by uvicorn on a loopback port (a context manager yielding `127.0.0.1:PORT`)."""
    settings = Settings(
        app_env="test",
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        lectern_data_dir=tmp,
        **overrides,
    )
    return serve_asgi(create_app(settings))


@pytest.fixture
def book_api(database_url: str, clean_database: str, tmp_path: Path) -> Iterator[str]:
    """Lectern allowing the book and localhost, with credentials. (Its shutdown flushes the metrics of the requests
    it served: before clean_database empties the tables, so no other test sees them.)"""
    with served_lectern(database_url, tmp_path, frontend_origins=f"{BOOK},{LOCALHOST}") as host:
        yield f"http://{host}"


def origins(value: str | None, source: str = LOCAL) -> Setting:
    return Setting("FRONTEND_ORIGINS", value, source)


NONE = Setting("GITHUB_PAGES_URL", None, LOCAL)
CREDENTIALS = Setting("CORS_ALLOW_CREDENTIALS", None, LOCAL)


def test_every_configured_origin_passes_a_preflight_and_a_get(book_api: str) -> None:
    report = check_cors(book_api, origins(f"{LOCALHOST},{BOOK}"), NONE, CREDENTIALS, "production")
    assert report.status == "pass", report.details
    assert report.summary == f"2 origin(s) pass a preflight and a GET on {book_api}"
    assert [(o["origin"], o["preflightStatus"], o["getStatus"]) for o in report.facts["origins"]] == [
        (LOCALHOST, 204, 200),
        (BOOK, 204, 200),
    ]


def test_an_origin_missing_from_the_allow_list_is_named_with_the_variable(book_api: str) -> None:
    report = check_cors(book_api, origins(f"{BOOK},{MISSING}"), NONE, CREDENTIALS, "production")
    assert report.status == "fail"
    assert report.summary == f"1 of 2 origin(s) fail on {book_api}: {MISSING}"
    assert f"{MISSING}: the preflight answered 403 cors_origin_refused: the deployment does not allow it" in (
        report.details
    )
    assert f"{MISSING}: the GET sent no Access-Control-Allow-Origin: the deployment does not allow it" in (
        report.details
    )
    assert report.fixes == (
        f"the deployment at {book_api} refuses {MISSING}, which FRONTEND_ORIGINS lists here: give it the same"
        f' FRONTEND_ORIGINS="{BOOK},{MISSING}" (on Vercel: `lectern env set FRONTEND_ORIGINS "{BOOK},{MISSING}"'
        " --target production`, then deploy again)",
    )


def test_an_origin_listed_on_vercel_but_refused_means_an_old_deployment(book_api: str) -> None:
    report = check_cors(book_api, origins(MISSING, "Vercel (preview)"), NONE, CREDENTIALS, "preview")
    assert report.status == "fail"
    assert report.fixes[0] == (
        f"FRONTEND_ORIGINS on Vercel (preview) lists {MISSING}, but the deployment was built before that: deploy"
        " again (`lectern deploy`); a deployment keeps the variables it was built with"
    )


def test_credentials_turned_off_on_the_deployment_are_named(
    database_url: str, clean_database: str, tmp_path: Path
) -> None:
    with served_lectern(database_url, tmp_path, frontend_origins=BOOK, cors_allow_credentials=False) as host:
        report = check_cors(f"http://{host}", origins(BOOK), NONE, CREDENTIALS, "production")
    assert report.status == "fail"
    assert f"{BOOK}: the preflight lacks Access-Control-Allow-Credentials: true" in report.details
    assert "set CORS_ALLOW_CREDENTIALS=true and list exact origins (never *) in FRONTEND_ORIGINS" in report.fixes


def starlette_app(**cors: Any) -> Starlette:
    async def health(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route("/api/health", health), Route("/api/chat", health, methods=["POST"])]
    return Starlette(routes=routes, middleware=[Middleware(CORSMiddleware, **cors)])


def test_any_origin_with_credentials_is_caught() -> None:
    # Starlette echoes the caller's Origin for allow_origins=["*"] with credentials (ops-security.md §4.2).
    app = starlette_app(allow_origins=["*"], allow_credentials=True, allow_methods=["*"], allow_headers=["*"])
    with serve_asgi(app) as host:
        report = check_cors(f"http://{host}", origins(BOOK), NONE, CREDENTIALS, "production")
    assert report.status == "fail"
    assert f"the deployment allows any origin with credentials (echoed {STRANGER})" in report.details
    assert "list the book's exact origins in FRONTEND_ORIGINS instead of *, and deploy again" in report.fixes


def test_a_preflight_without_the_authorization_header_is_caught() -> None:
    app = starlette_app(allow_origins=[BOOK], allow_credentials=True, allow_methods=["GET", "POST"])
    with serve_asgi(app) as host:
        report = check_cors(f"http://{host}", origins(BOOK), NONE, CREDENTIALS, "production")
    assert report.status == "fail"
    # content-type is CORS-safelisted, so Starlette allows it; authorization it does not.
    assert f"{BOOK}: Access-Control-Allow-Headers lacks authorization" in report.details
    assert f"{BOOK}: the preflight answered 400" in report.details
    assert any("answers or rewrites the CORS headers" in fix for fix in report.fixes)


def test_no_url_or_no_server() -> None:
    nowhere = check_cors(None, origins(BOOK), NONE, CREDENTIALS, "production")
    assert nowhere.status == "warn" and nowhere.summary == "not checked: no deployed URL"
    port = free_port()
    down = check_cors(f"http://127.0.0.1:{port}", origins(BOOK), NONE, CREDENTIALS, "production")
    assert down.status == "fail" and down.summary.startswith(f"cannot reach http://127.0.0.1:{port}:")


def test_an_empty_allow_list_warns(book_api: str) -> None:
    report = check_cors(book_api, origins(""), NONE, CREDENTIALS, "production")
    assert report.status == "warn" and report.summary == "FRONTEND_ORIGINS is empty: no browser may call the API"
    assert report.fixes[0].startswith("set FRONTEND_ORIGINS to the book's origins: `lectern env set FRONTEND_ORIGINS")


def test_settings_the_app_would_refuse_fail() -> None:
    report = check_cors("http://127.0.0.1:9", origins("*"), NONE, CREDENTIALS, "production")
    assert report.status == "fail" and "FRONTEND_ORIGINS contains * while CORS_ALLOW_CREDENTIALS is true" in (
        report.summary
    )
    odd = Setting("CORS_ALLOW_CREDENTIALS", "maybe", LOCAL)
    assert (
        "CORS_ALLOW_CREDENTIALS is not true or false"
        in check_cors("http://127.0.0.1:9", origins(BOOK), NONE, odd, "production").summary
    )
