"""When to retry a Vercel request and how long to wait: 429 and 5xx, honouring Retry-After and x-ratelimit-reset."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `attempts` requests at most, and at most `max_total_wait` seconds of waiting between them."""

    attempts: int = 5
    max_total_wait: float = 60.0
    # After a 5xx or a dropped connection without Retry-After: 0.5 s, 1 s, 2 s … up to `backoff_cap`, jittered.
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time


def is_retryable(status: int) -> bool:
    """Tell whether an answer with this status is worth asking again (rate limited, or Vercel's side failed)."""
    return status == 429 or status >= 500


def backoff(policy: RetryPolicy, retry: int) -> float:
    """Exponential backoff for retry number `retry` (1 = first), with jitter so clients spread out."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2.0 ** (retry - 1))
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


def _retry_after(raw: str | None, now: float) -> float | None:
    # RFC 9110: delay-seconds or an HTTP-date.
    if raw is None or not raw.strip():
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _reset_at(raw: Any, now: float) -> float | None:
    # Vercel sends epoch seconds; tolerate milliseconds, and small numbers meaning seconds from now.
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if value > 1e12:
        value /= 1000
    wait = value - now if value > 1e9 else value
    return max(0.0, wait)


def retry_wait(
    policy: RetryPolicy,
    retry: int,
    status: int | None,
    headers: Mapping[str, str],
    error: Mapping[str, Any] | None = None,
) -> float:
    """Seconds to wait before retry number `retry`: Retry-After, else for a 429 the rate-limit reset, else backoff."""
    now = policy.now()
    wait = _retry_after(headers.get("retry-after"), now)
    if wait is None and status == 429:
        wait = _reset_at(headers.get("x-ratelimit-reset"), now)
        if wait is None and error is not None and isinstance(error.get("limit"), Mapping):
            wait = _reset_at(error["limit"].get("reset"), now)
    return backoff(policy, retry) if wait is None else wait
