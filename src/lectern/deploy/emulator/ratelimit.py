"""A per-token fixed-window rate limit that fills the `x-ratelimit-*` headers on every response."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimitStatus:
    limit: int
    remaining: int
    reset_s: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        """Return the `x-ratelimit-*` headers (reset in epoch seconds)."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_s),
        }


class RateLimiter:
    """Counts requests per token in fixed windows, like Vercel's one-minute buckets."""

    def __init__(self, limit: int = 1000, window_seconds: int = 60) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def _window_start(self, now_ms: int) -> int:
        return now_ms // 1000 // self.window_seconds * self.window_seconds

    def hit(self, key: str, now_ms: int) -> RateLimitStatus:
        """Count one request for `key` and return where the window stands."""
        start = self._window_start(now_ms)
        with self._lock:
            window, used = self._windows.get(key, (start, 0))
            if window != start:
                window, used = start, 0
            exceeded = used >= self.limit
            if not exceeded:
                used += 1
            self._windows[key] = (window, used)
        return RateLimitStatus(self.limit, self.limit - used, start + self.window_seconds, exceeded)

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._windows.clear()
