"""GET /api/metrics: absent without METRICS_TOKEN, 401 without the right bearer, Prometheus text with it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from lectern.app import create_app
from lectern.metrics.prometheus import escape_label_value, format_value
from lectern.metrics.recorder import MetricsRecorder
from tests.metrics.support import request
from tests.web.checks import assert_problem
from tests.web.fixtures import ClientFactory

TOKEN = "metrics-token-5f0c2a9e7d1b"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LABEL = r'[a-z_]+="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(rf"^(?P<name>[a-z_:]+)(?:\{{(?P<labels>{LABEL}(?:,{LABEL})*)\}})? (?P<value>\S+)$")
FAMILIES = {
    "lectern_http_server_request_duration_seconds": "histogram",
    "lectern_http_server_requests_total": "counter",
    "lectern_http_server_errors_total": "counter",
    "lectern_http_server_client_errors_total": "counter",
    "lectern_cold_starts_total": "counter",
    "lectern_cold_start_init_seconds": "summary",
}


def parse(exposition: str) -> dict[str, str]:
    """`name{labels}` → value, after checking every line against the text format's grammar."""
    samples: dict[str, str] = {}
    types: dict[str, str] = {}
    assert exposition.endswith("\n")
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line.startswith("# HELP "):
            assert len(line.split(" ", 3)) == 4
        else:
            match = SAMPLE.match(line)
            assert match, line
            float(match["value"].replace("+Inf", "inf"))
            assert any(match["name"].startswith(family) for family in types), f"sample before its TYPE: {line}"
            samples[f"{match['name']}{{{match['labels'] or ''}}}"] = match["value"]
    assert types == FAMILIES
    return samples


async def scrape(client: AsyncClient) -> dict[str, str]:
    response = await client.get("/api/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


@pytest.fixture
def app(make_settings: Any) -> FastAPI:
    return create_app(make_settings(metrics_token=TOKEN))


@pytest.fixture
async def client(make_client: ClientFactory, app: FastAPI) -> AsyncClient:
    return await make_client(app=app)


@pytest.fixture
def recorder(app: FastAPI) -> MetricsRecorder:
    metrics = app.state.metrics
    assert isinstance(metrics, MetricsRecorder)
    return metrics


async def test_without_a_token_configured_the_endpoint_answers_404(make_client: ClientFactory) -> None:
    client = await make_client()
    body = assert_problem(await client.get("/api/metrics", headers=AUTH), 404, "not_found")
    unserved = assert_problem(await client.get("/api/nothing-here"), 404, "not_found")
    assert body["title"] == unserved["title"]
    assert "METRICS_TOKEN" in body["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-000000000"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": ""}],
)
async def test_a_missing_or_wrong_bearer_gets_401(client: AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/api/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="lectern"')
    assert response.headers["content-type"] == "application/problem+json"
    assert TOKEN not in response.text


async def test_counts_and_cumulative_buckets(client: AsyncClient, recorder: MetricsRecorder) -> None:
    for seconds in (0.004, 0.005, 0.006, 0.3, 20):
        recorder.record(request(seconds))
    recorder.record(request(0.1, status=503))
    recorder.record(request(0.1, status=404, route="<unmatched>"))
    recorder.record(request(0.07, cold_start=True, init_duration_s=0.25))
    await recorder.flush()

    samples = await scrape(client)

    ok = 'route="/api/health",method="GET",status_class="2xx"'
    buckets = {
        le: samples[f'lectern_http_server_request_duration_seconds_bucket{{{ok},le="{le}"}}']
        for le in ("0.005", "0.01", "0.075", "0.25", "0.5", "10.0", "+Inf")
    }
    assert buckets == {"0.005": "2", "0.01": "3", "0.075": "4", "0.25": "4", "0.5": "5", "10.0": "5", "+Inf": "6"}
    assert float(samples[f"lectern_http_server_request_duration_seconds_sum{{{ok}}}"]) == pytest.approx(20.385)
    assert samples[f"lectern_http_server_request_duration_seconds_count{{{ok}}}"] == "6"
    assert samples[f"lectern_http_server_requests_total{{{ok}}}"] == "6"
    failed = 'route="/api/health",method="GET",status_class="5xx"'
    assert samples[f"lectern_http_server_requests_total{{{failed}}}"] == "1"
    assert samples['lectern_http_server_errors_total{route="/api/health",method="GET"}'] == "1"
    assert samples['lectern_http_server_client_errors_total{route="/api/health",method="GET"}'] == "0"
    assert samples['lectern_http_server_client_errors_total{route="<unmatched>",method="GET"}'] == "1"
    assert samples['lectern_cold_starts_total{route="/api/health"}'] == "1"
    assert samples['lectern_cold_starts_total{route="<unmatched>"}'] == "0"
    assert samples['lectern_cold_start_init_seconds_sum{route="/api/health"}'] == "0.25"
    assert samples['lectern_cold_start_init_seconds_count{route="/api/health"}'] == "1"


async def test_every_family_is_declared_even_before_any_traffic(client: AsyncClient) -> None:
    samples = await scrape(client)
    assert samples == {}


async def test_requests_through_the_app_are_counted(client: AsyncClient, recorder: MetricsRecorder) -> None:
    for _ in range(3):
        await client.get("/api/health")
    await client.get("/api/metrics")  # 401, counted too
    await recorder.flush()
    samples = await scrape(client)
    assert samples['lectern_http_server_requests_total{route="/api/health",method="GET",status_class="2xx"}'] == "3"
    assert samples['lectern_http_server_client_errors_total{route="/api/metrics",method="GET"}'] == "1"


async def test_label_values_are_escaped(client: AsyncClient, recorder: MetricsRecorder) -> None:
    recorder.record(request(route='/api/"quoted"\\back\nslash'))
    await recorder.flush()
    text = (await client.get("/api/metrics", headers=AUTH)).text
    assert 'lectern_cold_starts_total{route="/api/\\"quoted\\"\\\\back\\nslash"} 0\n' in text
    parse(text)


def test_escaping_and_number_formats() -> None:
    assert escape_label_value('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert [format_value(v) for v in (0.005, 1.0, 10.0, 2.5, float("inf"), 3, 0.25)] == [
        "0.005",
        "1.0",
        "10.0",
        "2.5",
        "+Inf",
        "3",
        "0.25",
    ]
