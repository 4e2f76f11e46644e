"""OpenTelemetry's buckets, and percentiles interpolated from them within one bucket of the truth."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lectern.metrics.counts import Tally
from lectern.metrics.histogram import BOUNDS, BUCKETS, bucket_index, quantile


def test_the_bounds_are_opentelemetrys_advised_ones() -> None:
    assert BOUNDS == (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
    assert BUCKETS == 15


@pytest.mark.parametrize(
    ("seconds", "index"),
    [(0.0, 0), (0.005, 0), (0.0050001, 1), (0.01, 1), (0.3, 7), (10, 13), (10.5, 14), (3600, 14)],
)
def test_upper_bounds_are_inclusive_like_le(seconds: float, index: int) -> None:
    assert bucket_index(seconds) == index


def test_quantiles_interpolate_linearly_within_the_bucket() -> None:
    counts = [0] * BUCKETS
    counts[bucket_index(0.3)] = 10  # ten requests in (0.25, 0.5]
    assert quantile(0.5, counts) == pytest.approx(0.375)
    assert quantile(1.0, counts) == pytest.approx(0.5)
    assert quantile(0.1, counts) == pytest.approx(0.275)


def test_first_bucket_starts_at_zero_and_overflow_reports_the_last_bound() -> None:
    counts = [0] * BUCKETS
    counts[0] = 4
    assert quantile(0.5, counts) == pytest.approx(0.0025)
    counts = [0] * BUCKETS
    counts[-1] = 3
    assert quantile(0.99, counts) == 10


def test_no_data_no_quantile() -> None:
    assert quantile(0.95, [0] * BUCKETS) is None


def true_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@pytest.mark.parametrize(
    ("mu", "sigma"),
    [(math.log(0.03), 0.6), (math.log(0.2), 0.9), (math.log(1.5), 0.5)],
)
def test_p95_of_a_known_distribution_is_within_one_bucket(mu: float, sigma: float) -> None:
    rng = random.Random(20261126)
    durations = [rng.lognormvariate(mu, sigma) for _ in range(5_000)]
    tally = Tally()
    for d in durations:
        tally.add(d, False, None)
    for q in (0.5, 0.95, 0.99):
        estimate = quantile(q, tally.buckets)
        assert estimate is not None
        assert abs(bucket_index(estimate) - bucket_index(true_quantile(durations, q))) <= 1, q


@settings(derandomize=True, database=None)
@given(st.lists(st.integers(min_value=0, max_value=1_000), min_size=BUCKETS, max_size=BUCKETS))
def test_quantiles_grow_with_q_and_stay_within_the_bounds(counts: list[int]) -> None:
    values = [quantile(q, counts) for q in (0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)]
    if sum(counts) == 0:
        assert values == [None] * len(values)
        return
    numbers = [v for v in values if v is not None]
    assert numbers == sorted(numbers)
    assert all(0 <= v <= BOUNDS[-1] for v in numbers)
