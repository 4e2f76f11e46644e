"""The counts kept for one series (route × method × status class): what the recorder buffers and a row stores."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from lectern.metrics.histogram import BOUNDS, BUCKETS

MICROS = 1_000_000

# One row of request_metrics: (minute, route, method, status class), the minute counted from the epoch
# (seconds // 60). A plain tuple, not a NamedTuple: building one is ten times cheaper, on every request.
MinuteKey = tuple[int, str, str, int]


@dataclass(slots=True)
class Tally:
    """Request count, latency histogram and cold starts; durations in whole microseconds, so sums stay exact."""

    requests: int = 0
    duration_us: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    cold_starts: int = 0
    init_us: int = 0

    def add(self, duration_s: float, cold_start: bool, init_duration_s: float | None) -> None:
        self.requests += 1
        self.duration_us += round(duration_s * MICROS)
        self.buckets[bisect_left(BOUNDS, duration_s)] += 1  # histogram.bucket_index, without the call
        if cold_start:
            self.cold_starts += 1
            self.init_us += round((init_duration_s or 0.0) * MICROS)

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.duration_us += other.duration_us
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.cold_starts += other.cold_starts
        self.init_us += other.init_us


@dataclass(frozen=True, slots=True)
class Series:
    """Counts summed over a time range for one route, method and status class (1 to 5: 1xx to 5xx)."""

    route: str
    method: str
    status_class: int
    tally: Tally
