"""Reading our own Prometheus exposition back: every count survives the round trip, and strangers are refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lectern.metrics.counts import Series, Tally
from lectern.metrics.histogram import BUCKETS
from lectern.metrics.prometheus import render
from lectern.ops.exposition import ExpositionError, parse_exposition, parse_samples


def tally(requests: int, cold_starts: int = 0, *, spread: int = 3) -> Tally:
    buckets = [0] * BUCKETS
    for i in range(requests):
        buckets[(i * spread) % BUCKETS] += 1
    return Tally(requests, requests * 12_345, buckets, cold_starts, cold_starts * 600_000)


def as_keyed(series: list[Series]) -> dict[tuple[str, str, int], Tally]:
    return {(s.route, s.method, s.status_class): s.tally for s in series}


def test_every_count_survives_the_round_trip() -> None:
    written = [
        Series("/api/health", "GET", 2, tally(40, cold_starts=2)),
        Series("/api/profile", "GET", 2, tally(7, cold_starts=1)),
        Series("/api/profile", "GET", 4, tally(3)),
        Series("/api/profile", "PUT", 5, tally(1)),
    ]
    read = as_keyed(parse_exposition(render(written)))
    assert set(read) == {(s.route, s.method, s.status_class) for s in written}
    for s in written:
        got = read[(s.route, s.method, s.status_class)]
        assert (got.requests, got.buckets, got.duration_us) == (s.tally.requests, s.tally.buckets, s.tally.duration_us)
    # Cold starts are labelled by route only: they travel with the route's first series.
    assert read[("/api/health", "GET", 2)].cold_starts == 2
    assert read[("/api/profile", "GET", 2)].cold_starts == 1 and read[("/api/profile", "GET", 2)].init_us == 600_000
    assert read[("/api/profile", "GET", 4)].cold_starts == 0


def test_an_exposition_before_any_traffic_has_no_series() -> None:
    assert parse_exposition(render([])) == []


routes = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@settings(derandomize=True, database=None, max_examples=60)
@given(st.lists(routes, min_size=1, max_size=4, unique=True), st.integers(min_value=0, max_value=50))
def test_escaped_label_values_come_back_unchanged(names: list[str], requests: int) -> None:
    written = [Series(name, "GET", 2, tally(requests)) for name in names]
    read = parse_exposition(render(written))
    assert sorted(s.route for s in read) == sorted(names)
    assert all(s.tally.requests == requests for s in read)


def test_samples_with_escapes_and_a_timestamp() -> None:
    (sample,) = parse_samples('m{a="x\\"y\\\\z\\nw",b=""} 2.5 1700000000\n')
    assert sample.labels == (("a", 'x"y\\z\nw'), ("b", ""))
    assert sample.value == 2.5 and sample.label("missing") == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('m{a="x} 1', "not closed"),
        ("m{a=x} 1", 'name="value"'),
        ('m{a="x"} one', "not a number"),
        ("m", "expected a value"),
        ('m{a="\\q"} 1', "unknown escape"),
        ("{} 1", "no metric name"),
    ],
)
def test_malformed_lines_are_named(text: str, message: str) -> None:
    with pytest.raises(ExpositionError, match=message):
        parse_samples(text)


def test_someone_elses_metrics_are_refused() -> None:
    with pytest.raises(ExpositionError, match="no lectern_http_server_request_duration_seconds histogram"):
        parse_exposition("# TYPE up gauge\nup 1\n")
    broken = render([Series("/a", "GET", 2, tally(3))]).replace('le="0.005"', 'le="0.004"')
    with pytest.raises(ExpositionError, match="other bucket bounds"):
        parse_exposition(broken)
