"""Prometheus text exposition (format 0.0.4) of the summed request metrics."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from lectern.metrics.counts import MICROS, Series
from lectern.metrics.histogram import BOUNDS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "lectern_"
Labels = tuple[tuple[str, str], ...]


def escape_label_value(value: str) -> str:
    """Backslash, double quote and line feed escaped, as the text format requires."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    """Numbers as Go prints them (1.0, 0.005, +Inf), so `le` labels match what Prometheus clients emit."""
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.1f}" if value.is_integer() else repr(value)


def _labels(labels: Labels) -> str:
    return "{" + ",".join(f'{name}="{escape_label_value(value)}"' for name, value in labels) + "}"


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, Labels, float]]) -> list[str]:
    lines = [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} {kind}"]
    lines.extend(f"{PREFIX}{name}{suffix}{_labels(labels)} {format_value(value)}" for suffix, labels, value in samples)
    return lines


def _duration_samples(series: Sequence[Series]) -> Iterable[tuple[str, Labels, float]]:
    for s in series:
        labels: Labels = (("route", s.route), ("method", s.method), ("status_class", f"{s.status_class}xx"))
        cumulative = 0
        for bound, count in zip((*BOUNDS, float("inf")), s.tally.buckets, strict=True):
            cumulative += count
            yield "_bucket", (*labels, ("le", format_value(float(bound)))), cumulative
        yield "_sum", labels, s.tally.duration_us / MICROS
        yield "_count", labels, s.tally.requests


def render(series: Sequence[Series]) -> str:
    """Every family with HELP and TYPE lines; totals since the first recorded minute, so counters never go down."""
    requests = [
        ((("route", s.route), ("method", s.method), ("status_class", f"{s.status_class}xx")), s.tally.requests)
        for s in series
    ]
    server_errors: dict[Labels, int] = defaultdict(int)
    client_errors: dict[Labels, int] = defaultdict(int)
    cold_starts: dict[Labels, int] = defaultdict(int)
    init_us: dict[Labels, int] = defaultdict(int)
    for s in series:
        endpoint: Labels = (("route", s.route), ("method", s.method))
        # Zero samples too: a counter that exists before its first increase lets rate() see that increase.
        server_errors[endpoint] += s.tally.requests if s.status_class == 5 else 0
        client_errors[endpoint] += s.tally.requests if s.status_class == 4 else 0
        cold_starts[(("route", s.route),)] += s.tally.cold_starts
        init_us[(("route", s.route),)] += s.tally.init_us
    lines = [
        *_family(
            "http_server_request_duration_seconds",
            "histogram",
            "Duration of HTTP server requests (OpenTelemetry http.server.request.duration), all instances.",
            _duration_samples(series),
        ),
        *_family(
            "http_server_requests_total",
            "counter",
            "HTTP requests answered, all instances.",
            (("", labels, value) for labels, value in requests),
        ),
        *_family(
            "http_server_errors_total",
            "counter",
            "HTTP requests answered with a server error (5xx).",
            (("", labels, value) for labels, value in server_errors.items()),
        ),
        *_family(
            "http_server_client_errors_total",
            "counter",
            "HTTP requests answered with a client error (4xx).",
            (("", labels, value) for labels, value in client_errors.items()),
        ),
        *_family(
            "cold_starts_total",
            "counter",
            "First requests served by a new instance, by the route that woke it.",
            (("", labels, value) for labels, value in cold_starts.items()),
        ),
        *_family(
            "cold_start_init_seconds",
            "summary",
            "Time from importing the app to its first request, summed over cold starts.",
            _init_samples(cold_starts, init_us),
        ),
    ]
    return "\n".join(lines) + "\n"


def _init_samples(cold_starts: dict[Labels, int], init_us: dict[Labels, int]) -> Iterable[tuple[str, Labels, float]]:
    for labels, count in cold_starts.items():
        yield "_sum", labels, init_us[labels] / MICROS
        yield "_count", labels, count
