"""Around every API request: scripted faults, rate limit, bearer auth, team scope, the request log."""

from __future__ import annotations

import itertools

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from lectern.deploy.emulator.errors import VercelError, internal_error, missing_token, rate_limited
from lectern.deploy.emulator.faults import ScriptedResponse
from lectern.deploy.emulator.lifecycle import advance
from lectern.deploy.emulator.ratelimit import RateLimitStatus
from lectern.deploy.emulator.request_context import Caller, emulator_state
from lectern.deploy.emulator.state import EmulatorState, RecordedRequest

CONTROL_PREFIX = "/_emulator"
_CODE_FOR_STATUS = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    502: "bad_gateway",
    503: "service_unavailable",
}
_request_numbers = itertools.count(1)


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def _scripted_error(rule: ScriptedResponse, limit: RateLimitStatus) -> VercelError:
    if rule.status == 429:
        error = rate_limited(retry_after=rule.retry_after or 1, total=limit.limit, reset_s=limit.reset_s)
    elif rule.status == 500 and rule.code is None:
        error = internal_error()
    else:
        code = rule.code or _CODE_FOR_STATUS.get(rule.status, "scripted_error")
        error = VercelError(rule.status, code, rule.message or "Scripted failure")
    if rule.message:
        error.message = rule.message
    if rule.retry_after is not None:
        error.headers["Retry-After"] = str(rule.retry_after)
    return error


class VercelApiMiddleware(BaseHTTPMiddleware):
    """Applies, in order: scripted faults, rate limit, auth, scope; then logs the request."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        state = emulator_state(request)
        if request.url.path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        token = _bearer_token(request)
        limit = state.rate_limiter.hit(token or "anonymous", state.now_ms())
        try:
            self._authorize(request, state, token, limit)
            response = await call_next(request)
        except VercelError as error:
            response = error.response()
        exhausted = response.status_code == 429
        headers = RateLimitStatus(limit.limit, 0 if exhausted else limit.remaining, limit.reset_s, exhausted)
        response.headers.update(headers.headers())
        response.headers["x-vercel-id"] = f"iad1::emu-{next(_request_numbers)}"
        state.record(RecordedRequest(request.method, request.url.path, request.url.query, response.status_code))
        return response

    @staticmethod
    def _authorize(request: Request, state: EmulatorState, token: str | None, limit: RateLimitStatus) -> None:
        rule = state.faults.take_response(request.method, request.url.path)
        if rule is not None:
            raise _scripted_error(rule, limit)
        if limit.exceeded:
            raise rate_limited(
                retry_after=max(limit.reset_s - state.now_ms() // 1000, 1), total=limit.limit, reset_s=limit.reset_s
            )
        if token is None:
            raise missing_token()
        team_id = request.query_params.get("teamId") or None
        slug = request.query_params.get("slug") or None
        with state.lock:
            user = state.user_for_token(token)
            owner_id = state.owner_for_scope(user, team_id, slug)
            advance(state)
        request.state.caller = Caller(user=user, owner_id=owner_id, scoped=bool(team_id or slug))
