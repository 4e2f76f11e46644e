"""Our own Prometheus exposition (`GET /api/metrics`, text format 0.0.4) read back into per-series counts.

A small parser for what lectern.metrics.prometheus writes: `# HELP` and `# TYPE` lines, then samples
`name{label="value",…} number`, label values escaped with `\\\\`, `\\"` and `\\n`.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from lectern.metrics.counts import MICROS, Series, Tally
from lectern.metrics.histogram import BOUNDS
from lectern.metrics.prometheus import PREFIX

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}
DURATION = PREFIX + "http_server_request_duration_seconds"
COLD_STARTS = PREFIX + "cold_starts_total"
INIT_SECONDS = PREFIX + "cold_start_init_seconds"

SeriesKey = tuple[str, str, int]


class ExpositionError(ValueError):
    """The text is not the exposition Lectern writes: the line and what is wrong with it."""


@dataclass(frozen=True)
class Sample:
    """One sample line."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, name: str) -> str:
        return next((value for key, value in self.labels if key == name), "")


def _labels(text: str, start: int, number: int) -> tuple[tuple[tuple[str, str], ...], int]:
    """Parse `{a="x",b="y"}` from text[start] == "{"; returns the labels and the index after `}`."""
    labels: list[tuple[str, str]] = []
    i = start + 1
    while True:
        if text.startswith("}", i):
            return tuple(labels), i + 1
        match = _LABEL_NAME.match(text, i)
        if match is None or not text.startswith('="', match.end()):
            raise ExpositionError(f'line {number}: a label must be name="value"')
        i = match.end() + 2
        value: list[str] = []
        while True:
            if i >= len(text):
                raise ExpositionError(f"line {number}: a label value is not closed")
            char = text[i]
            if char == '"':
                i += 1
                break
            if char == "\\":
                escaped = _ESCAPES.get(text[i + 1 : i + 2])
                if escaped is None:
                    raise ExpositionError(f"line {number}: unknown escape in a label value")
                value.append(escaped)
                i += 2
            else:
                value.append(char)
                i += 1
        labels.append((match.group(), "".join(value)))
        if text.startswith(",", i):
            i += 1
        elif not text.startswith("}", i):
            raise ExpositionError(f"line {number}: expected , or }} after a label")


def _value(token: str, number: int) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ExpositionError(f"line {number}: {token!r} is not a number") from None
    return value


def parse_samples(text: str) -> list[Sample]:
    """Every sample of the exposition, in order; comments and blank lines skipped."""
    samples = []
    # Lines end at \n only: a label value may hold other characters str.splitlines() would break at.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _NAME.match(line)
        if match is None:
            raise ExpositionError(f"line {number}: no metric name")
        end = match.end()
        labels: tuple[tuple[str, str], ...] = ()
        if line.startswith("{", end):
            labels, end = _labels(line, end, number)
        rest = line[end:].split()
        if not rest or len(rest) > 2:  # the value, and an optional timestamp
            raise ExpositionError(f"line {number}: expected a value after the name and labels")
        samples.append(Sample(match.group(), labels, _value(rest[0], number)))
    return samples


def _status_class(text: str) -> int:
    if len(text) == 3 and text[0] in "12345" and text.endswith("xx"):
        return int(text[0])
    raise ExpositionError(f"unexpected status_class {text!r}")


def _counts(value: float) -> int:
    if not math.isfinite(value) or value < 0:
        raise ExpositionError(f"a count of {value} requests")
    return round(value)


def _buckets(cumulative: dict[float, float], key: SeriesKey) -> list[int]:
    bounds = [*(float(b) for b in BOUNDS), math.inf]
    if set(cumulative) != set(bounds):
        raise ExpositionError(f"the histogram of {key[0]} has other bucket bounds than this version of Lectern")
    counts, previous = [], 0
    for bound in bounds:
        running = _counts(cumulative[bound])
        counts.append(running - previous)
        previous = running
    if min(counts) < 0:
        raise ExpositionError(f"the histogram of {key[0]} is not cumulative")
    return counts


def series_from_samples(samples: Iterable[Sample]) -> list[Series]:
    """Per route × method × status class: requests, duration sum and histogram; cold starts go with their route.

    The exposition labels cold starts by route only, so they are added to the route's first series.
    """
    buckets: dict[SeriesKey, dict[float, float]] = defaultdict(dict)
    sums: dict[SeriesKey, float] = {}
    counts: dict[SeriesKey, float] = {}
    cold: dict[str, float] = defaultdict(float)
    init: dict[str, float] = defaultdict(float)
    for sample in samples:
        if sample.name.startswith(DURATION):
            key = (sample.label("route"), sample.label("method"), _status_class(sample.label("status_class")))
            suffix = sample.name[len(DURATION) :]
            if suffix == "_bucket":
                buckets[key][float(sample.label("le"))] = sample.value
            elif suffix == "_sum":
                sums[key] = sample.value
            elif suffix == "_count":
                counts[key] = sample.value
        elif sample.name == COLD_STARTS:
            cold[sample.label("route")] += sample.value
        elif sample.name == INIT_SECONDS + "_sum":
            init[sample.label("route")] += sample.value
    found = []
    for key in sorted(buckets.keys() | counts.keys()):
        tally = Tally(
            requests=_counts(counts.get(key, 0.0)),
            duration_us=round(sums.get(key, 0.0) * MICROS),
            buckets=_buckets(buckets.get(key, {}), key),
        )
        found.append(Series(*key, tally=tally))
    first_of_route: dict[str, Series] = {}
    for series in found:
        first_of_route.setdefault(series.route, series)
    for route in sorted(cold.keys() | init.keys()):
        holder = first_of_route.get(route)
        if holder is None:  # cold starts without a request on record: keep them, as a series of no requests
            holder = first_of_route[route] = Series(route, "", 0, Tally())
            found.append(holder)
        holder.tally.cold_starts += _counts(cold[route])
        holder.tally.init_us += round(init[route] * MICROS)
    return found


def parse_exposition(text: str) -> list[Series]:
    """The series of a `/api/metrics` answer; ExpositionError if it is not Lectern's exposition."""
    # Lectern declares every family, even before any traffic: without this one it is someone else's endpoint.
    if f"# TYPE {DURATION} histogram" not in text:
        raise ExpositionError(f"no {DURATION} histogram in the answer")
    return series_from_samples(parse_samples(text))
