"""Calling a provider patiently within a time budget: retries with backoff that honour Retry-After.

One call (a completion, the opening of a stream, one embeddings batch) gets LLM_TIMEOUT_SECONDS in total,
attempts and waits included, so a serverless function never outlives its own limit waiting on a provider.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from lectern.llm.config import Provider
from lectern.llm.errors import LLMTimeout, LLMUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)

# What the official SDK retries too: request timeout, lock timeout, rate limit, and every server error.
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Backoff when the provider names no wait: 0.5 s, 1 s, 2 s … up to 8 s, each shortened by up to a quarter.
INITIAL_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
HINTS = {
    401: "check the API key",
    403: "check the API key's permissions",
    404: "check the model name and the base URL",
}


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed, in words safe to log (never the provider's message)."""

    reason: str
    retryable: bool
    status: int | None = None
    retry_after: float | None = None
    timed_out: bool = False


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a provider asks for: retry-after-ms, or Retry-After in seconds or as an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        return seconds if seconds >= 0 else None
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def classify(exc: BaseException) -> Failure | None:
    """What an exception from the SDK means for retrying; None when it is not a provider failure."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return Failure("timeout", retryable=False, timed_out=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retryable = status in RETRYABLE_STATUSES or status >= 500
        return Failure(f"HTTP {status}", retryable, status, retry_after_seconds(exc.response.headers))
    if isinstance(exc, openai.APIConnectionError):
        return Failure("connection error", retryable=True)
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return Failure("malformed answer", retryable=True)
    if isinstance(exc, openai.APIError):
        return Failure("error event", retryable=False)
    return None


def backoff_seconds(failures: int) -> float:
    """Exponential backoff after the n-th failure, with jitter so instances do not retry in step."""
    base = min(INITIAL_BACKOFF_SECONDS * 2.0 ** (failures - 1), MAX_BACKOFF_SECONDS)
    return base * random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not a secret


def timed_out(what: str, provider: Provider) -> LLMTimeout:
    return LLMTimeout(f"{what} at {provider.host} did not answer within {provider.timeout_seconds:g} s.")


def unavailable(what: str, provider: Provider, failure: Failure, attempts: int) -> LLMUnavailable:
    detail = f"{what} at {provider.host} failed: {failure.reason}"
    if attempts > 1:
        detail += f" after {attempts} attempts"
    hint = HINTS.get(failure.status or 0)
    return LLMUnavailable(detail + (f"; {hint}." if hint else "."))


def as_llm_error(exc: BaseException, what: str, provider: Provider) -> LLMTimeout | LLMUnavailable | None:
    """The Lectern error for a provider failure that will not be retried (None: not a provider failure)."""
    failure = classify(exc)
    if failure is None:
        return None
    return timed_out(what, provider) if failure.timed_out else unavailable(what, provider, failure, 1)


async def call_with_retries(attempt: Callable[[], Awaitable[T]], provider: Provider, *, what: str) -> T:
    """Await `attempt()` until it succeeds, retrying 429, 5xx, dropped connections and malformed answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + provider.timeout_seconds
    attempts = 0
    while True:
        attempts += 1
        try:
            async with asyncio.timeout_at(deadline):
                return await attempt()
        except TimeoutError:
            raise timed_out(what, provider) from None
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if failure.timed_out:
                raise timed_out(what, provider) from None
        if not failure.retryable or attempts > provider.max_retries:
            raise unavailable(what, provider, failure, attempts)
        wait = failure.retry_after if failure.retry_after is not None else backoff_seconds(attempts)
        if loop.time() + wait >= deadline:
            log.warning(
                "%s at %s: %s; a retry in %.2f s would pass the time budget", what, provider.host, failure.reason, wait
            )
            raise unavailable(what, provider, failure, attempts)
        log.warning(
            "%s at %s: %s; retry %d of %d in %.2f s",
            what,
            provider.host,
            failure.reason,
            attempts,
            provider.max_retries,
            wait,
        )
        await asyncio.sleep(wait)
