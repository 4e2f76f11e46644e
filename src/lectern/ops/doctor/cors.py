"""Check 4, CORS: from each configured frontend origin, a real preflight (OPTIONS with Origin,
Access-Control-Request-Method and Access-Control-Request-Headers: authorization, content-type) and a simple GET
against the deployed URL. Says which header or origin is missing and which variable to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lectern.errors import ConfigError
from lectern.ops.doctor.report import CheckReport, Status, worst
from lectern.ops.doctor.sources import LOCAL, Setting
from lectern.ops.http import TIMEOUT_SECONDS, problem_code, user_agent

if TYPE_CHECKING:
    import httpx

    from lectern.web.cors import CORSPolicy

NAME = "cors"
# What the widget sends: a signed-in JSON POST to the chat.
PREFLIGHT_PATH = "/api/chat"
PREFLIGHT_METHOD = "POST"
REQUEST_HEADERS = ("authorization", "content-type")
SIMPLE_PATH = "/api/health"
# An origin nobody lists (.invalid never resolves): a deployment that allows it allows every site.
STRANGER = "https://lectern-doctor-probe.invalid"
_TRUE = ("1", "true", "yes", "on", "t", "y")
_FALSE = ("0", "false", "no", "off", "f", "n")


@dataclass(frozen=True)
class Expected:
    """What the configuration asks for: the listed origins, whether `*` is listed, whether credentials are on."""

    origins: tuple[str, ...]
    allow_any: bool
    credentials: bool
    listed: tuple[str, ...]  # FRONTEND_ORIGINS' entries as written


def expected_policy(origins: Setting, pages: Setting, credentials: Setting) -> Expected:
    """Parse the settings as the app does (CORSPolicy); ConfigError names the variable at fault."""
    from lectern.settings import Settings
    from lectern.web.cors import CORSPolicy

    raw = (credentials.value or "true").strip().lower()
    if raw not in (*_TRUE, *_FALSE):
        raise ConfigError("CORS_ALLOW_CREDENTIALS is not true or false")
    # model_construct: only these three fields matter, and nothing else of this shell's environment is read.
    settings = Settings.model_construct(
        frontend_origins=origins.value or "",
        github_pages_url=pages.value or None,
        cors_allow_credentials=raw in _TRUE,
    )
    policy: CORSPolicy = CORSPolicy.from_settings(settings)
    listed = tuple(e.strip() for e in (origins.value or "").split(",") if e.strip())
    return Expected(tuple(sorted(policy.origins)), policy.allow_any, policy.credentials, listed)


@dataclass(frozen=True)
class Problem:
    """One thing a browser would refuse (fail) or a weakness (warn); `kind` picks the fix."""

    status: Status
    kind: str  # refused, origin, credentials, methods, headers, vary, stranger
    text: str
    origin: str | None = None


def _values(response: httpx.Response, name: str) -> set[str]:
    return {v.strip().lower() for v in response.headers.get(name, "").split(",") if v.strip()}


def judge_allowed(origin: str, kind: str, response: httpx.Response, expected: Expected) -> list[Problem]:
    """What is wrong with an answer to `origin`, which the configuration allows."""
    allow_origin = response.headers.get("access-control-allow-origin")
    if allow_origin is None:
        refused = problem_code(response) == "cors_origin_refused"
        why = (
            f"answered {response.status_code} cors_origin_refused" if refused else "sent no Access-Control-Allow-Origin"
        )
        return [Problem("fail", "refused", f"{origin}: the {kind} {why}: the deployment does not allow it", origin)]
    problems = []
    if allow_origin not in (origin, "*"):
        problems.append(
            Problem("fail", "origin", f"{origin}: the {kind} answered Access-Control-Allow-Origin: {allow_origin}")
        )
    if expected.credentials and allow_origin == "*":
        problems.append(Problem("fail", "credentials", f"{origin}: the {kind} allows * with credentials"))
    if expected.credentials and response.headers.get("access-control-allow-credentials", "").lower() != "true":
        problems.append(
            Problem("fail", "credentials", f"{origin}: the {kind} lacks Access-Control-Allow-Credentials: true")
        )
    if allow_origin != "*" and "origin" not in _values(response, "vary"):
        problems.append(Problem("warn", "vary", f"{origin}: the {kind} lacks Vary: Origin (caches may mix origins)"))
    if kind == "preflight":
        if not 200 <= response.status_code < 300:
            problems.append(Problem("fail", "methods", f"{origin}: the preflight answered {response.status_code}"))
        methods = {m.upper() for m in _values(response, "access-control-allow-methods")}
        if PREFLIGHT_METHOD not in methods and "*" not in methods:
            problems.append(
                Problem("fail", "methods", f"{origin}: Access-Control-Allow-Methods lacks {PREFLIGHT_METHOD}")
            )
        headers = _values(response, "access-control-allow-headers")
        missing = [h for h in REQUEST_HEADERS if h not in headers and "*" not in headers]
        if missing:
            problems.append(
                Problem("fail", "headers", f"{origin}: Access-Control-Allow-Headers lacks {', '.join(missing)}")
            )
    return problems


def judge_stranger(response: httpx.Response, expected: Expected) -> list[Problem]:
    """A preflight from an origin nobody lists must not be allowed (unless `*` is listed, without credentials)."""
    allow_origin = response.headers.get("access-control-allow-origin")
    if allow_origin is None or expected.allow_any:
        return []
    credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
    if allow_origin == STRANGER and credentials:
        return [Problem("fail", "stranger", f"the deployment allows any origin with credentials (echoed {STRANGER})")]
    return [Problem("warn", "stranger", f"the deployment allows an origin nobody lists ({STRANGER}: {allow_origin})")]


def _preflight(http: httpx.Client, origin: str) -> httpx.Response:
    return http.options(
        PREFLIGHT_PATH,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": PREFLIGHT_METHOD,
            "Access-Control-Request-Headers": ", ".join(REQUEST_HEADERS),
        },
    )


def _fixes(problems: list[Problem], origins: Setting, expected: Expected, target: str, url: str) -> list[str]:
    kinds = {p.kind for p in problems}
    fixes = []
    refused = sorted({p.origin for p in problems if p.kind == "refused" and p.origin})
    if refused:
        value = ",".join(expected.listed)
        names = ", ".join(refused)
        if origins.source == LOCAL:
            fixes.append(
                f"the deployment at {url} refuses {names}, which FRONTEND_ORIGINS lists here: give it the same "
                f'FRONTEND_ORIGINS="{value}" (on Vercel: `lectern env set FRONTEND_ORIGINS "{value}" --target '
                f"{target}`, then deploy again)"
            )
        else:
            deploy = "lectern deploy --prod" if target == "production" else "lectern deploy"
            fixes.append(
                f"FRONTEND_ORIGINS on {origins.source} lists {names}, but the deployment was built before that: "
                f"deploy again (`{deploy}`); a deployment keeps the variables it was built with"
            )
    if "credentials" in kinds:
        fixes.append("set CORS_ALLOW_CREDENTIALS=true and list exact origins (never *) in FRONTEND_ORIGINS")
    if kinds & {"methods", "headers", "origin"}:
        fixes.append(
            "something in front of the app (vercel.json `headers`, a proxy) answers or rewrites the CORS headers: "
            "remove it; Lectern answers preflights itself"
        )
    if "stranger" in kinds:
        fixes.append("list the book's exact origins in FRONTEND_ORIGINS instead of *, and deploy again")
    if "vary" in kinds and not fixes:
        fixes.append("make whatever sets Access-Control-Allow-Origin also send Vary: Origin")
    return fixes


def check_cors(
    base_url: str | None,
    origins: Setting,
    pages: Setting,
    credentials: Setting,
    target: str,
    *,
    headers: dict[str, str] | None = None,
) -> CheckReport:
    """Preflight and GET from every configured origin, and a preflight from an origin nobody lists."""
    import httpx

    # An unset CORS_ALLOW_CREDENTIALS is its default, not news: its note only when another value was used.
    notes = tuple(f"note: {s.note}" for s in (origins, credentials) if s.note and (s is origins or s.value))
    if base_url is None:
        return CheckReport(
            NAME, "warn", "not checked: no deployed URL", notes, ("pass --url with the deployment's address",)
        )
    try:
        expected = expected_policy(origins, pages, credentials)
    except ConfigError as exc:
        return CheckReport(NAME, "fail", f"the CORS settings ({origins.source}) are refused: {exc}", notes)
    checked = [*expected.origins] or ([STRANGER] if expected.allow_any else [])
    problems: list[Problem] = []
    results: list[dict[str, Any]] = []
    base_headers = {"User-Agent": user_agent("doctor"), **(headers or {})}
    with httpx.Client(base_url=base_url, headers=base_headers, timeout=TIMEOUT_SECONDS) as http:
        try:
            for origin in checked:
                preflight = _preflight(http, origin)
                simple = http.get(SIMPLE_PATH, headers={"Origin": origin})
                found = judge_allowed(origin, "preflight", preflight, expected)
                found += judge_allowed(origin, "GET", simple, expected)
                problems += found
                results.append(
                    {
                        "origin": origin,
                        "preflightStatus": preflight.status_code,
                        "getStatus": simple.status_code,
                        "problems": [p.text for p in found],
                    }
                )
            stranger = judge_stranger(_preflight(http, STRANGER), expected)
        except httpx.HTTPError as exc:
            reason = str(exc).strip() or type(exc).__name__
            return CheckReport(
                NAME, "fail", f"cannot reach {base_url}: {reason}", notes, ("check --url and that it is deployed",)
            )
    problems += stranger
    facts = {"url": base_url, "origins": results, "credentials": expected.credentials, "source": origins.source}
    listed = ", ".join(checked) or "none"
    details = (*notes, f"origins from FRONTEND_ORIGINS ({origins.source}): {listed}", *(p.text for p in problems))
    fixes = _fixes(problems, origins, expected, target, base_url)
    if not checked:
        fixes.insert(
            0,
            f'set FRONTEND_ORIGINS to the book\'s origins: `lectern env set FRONTEND_ORIGINS "https://book.example.org"'
            f" --target {target}`, then deploy again",
        )
        status = worst(["warn", *(p.status for p in problems)])
        return CheckReport(
            NAME, status, "FRONTEND_ORIGINS is empty: no browser may call the API", details, tuple(fixes), facts
        )
    status = worst(p.status for p in problems)
    failing = sorted({r["origin"] for r in results if r["problems"]})
    if status == "pass":
        summary = f"{len(checked)} origin(s) pass a preflight and a GET on {base_url}"
    elif failing:
        summary = f"{len(failing)} of {len(checked)} origin(s) fail on {base_url}: {', '.join(failing)}"
    else:
        summary = f"the origins pass on {base_url}, with a warning"
    return CheckReport(NAME, status, summary, details, tuple(fixes), facts)
