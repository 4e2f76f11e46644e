"""Domain errors: each carries its HTTP status and a stable code; one handler renders them."""

from __future__ import annotations


class AppError(Exception):
    """An error a caller can act on, rendered as RFC 9457 problem+json."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"
    # Most errors undo the request's writes; a few must keep them (a failed login is recorded).
    keeps_changes = False

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    title = "Unauthorized"

    def __init__(self, detail: str = "Authentication required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="lectern"'})


class InvalidToken(Unauthorized):
    code = "invalid_token"

    def __init__(self, detail: str = "The access token is missing, malformed, expired or not ours.") -> None:
        super().__init__(detail)
        self.headers["WWW-Authenticate"] = 'Bearer realm="lectern", error="invalid_token"'


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"
    title = "Precondition failed"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class InvalidInput(AppError):
    """Input that passed schema validation but breaks a domain rule (422)."""

    status_code = 422
    code = "invalid_input"
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class ConfigError(Exception):
    """Configuration that cannot work: raised at startup or by the CLI, never a value in the message."""
