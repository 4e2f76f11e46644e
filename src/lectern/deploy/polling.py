"""Bounded waiting: a deadline, and how often to ask Vercel while a build or an alias change runs."""

from __future__ import annotations

import time
from collections.abc import Callable


class Deadline:
    """A point in time `seconds` from now, on the monotonic clock."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._started = clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed)

    @property
    def expired(self) -> bool:
        return self.remaining <= 0


def poll_delay(elapsed: float) -> float:
    """Seconds until the next look: often at first (short builds), then as Vercel's own client does."""
    if elapsed < 5:
        return 0.2
    if elapsed < 60:
        return 1.0  # the Vercel CLI polls every second for the first 15 s (vercel.md §2.3)
    return 5.0


def pause(deadline: Deadline, sleep: Callable[[float], None] = time.sleep) -> None:
    """Sleep until the next look, never past the deadline."""
    sleep(min(poll_delay(deadline.elapsed), deadline.remaining))
