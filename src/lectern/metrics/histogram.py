"""Latency buckets (OpenTelemetry's advised boundaries) and percentiles interpolated from bucket counts."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

# Advised ExplicitBucketBoundaries of http.server.request.duration, in seconds (semantic conventions, stable).
BOUNDS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
# One count per bound, plus the overflow bucket (+Inf).
BUCKETS = len(BOUNDS) + 1


def bucket_index(seconds: float) -> int:
    """The bucket a duration falls in; upper bounds are inclusive, as Prometheus's `le` says."""
    return bisect_left(BOUNDS, seconds)


def quantile(q: float, counts: Sequence[int]) -> float | None:
    """The q-quantile (0 < q ≤ 1) of per-bucket counts, linear within its bucket; None without data.

    As Prometheus's histogram_quantile: the first bucket starts at 0, and a quantile in the
    overflow bucket is reported as the largest finite bound.
    """
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            if index >= len(BOUNDS):
                return BOUNDS[-1]
            lower = BOUNDS[index - 1] if index else 0.0
            return lower + (BOUNDS[index] - lower) * (rank - seen) / count
        seen += count
    return BOUNDS[-1]
