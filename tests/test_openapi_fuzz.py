"""Schemathesis over our own OpenAPI: no 5xx and no response that breaks the published schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import schemathesis.checks
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.schemas import APIOperation

from lectern.app import create_app

EXAMPLES = 15
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
# A well-formed request may still meet a stale If-Match (412): that is the API keeping its promise.
ACCEPTED_VALID = ["2xx", "401", "403", "404", "409", "412", "429"]
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_VALID}}})
# Reported, not yet fixed: request schemas looser than their validators (auth/schemas.py, profiles/schemas.py),
# so schema-valid data gets a 422. Every other check still runs on these operations. Remove once fixed.
# Operations whose validation has a rule JSON Schema cannot say (valid-looking data may be refused).
LOOSER_SCHEMA_THAN_VALIDATOR = {
    "POST /api/auth/signup": "passwords on the built-in common-password list are refused",
}
# Operations whose contract includes a 503: with no language model configured (as here), generation
# answers 503 llm_not_configured. Any other 5xx still fails.
DOCUMENTED_503 = {"POST /api/generate": "llm_not_configured"}


def no_undocumented_server_error(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """Like schemathesis's not_a_server_error, but a documented 503 with its code is the contract."""
    if response.status_code < 500:
        return None
    code = DOCUMENTED_503.get(case.operation.label)
    if response.status_code == 503 and code is not None and response.json().get("code") == code:
        return None
    raise AssertionError(f"{case.operation.label} answered {response.status_code}: {response.text[:300]}")


@pytest.fixture
def fuzzed_app(make_settings: Any) -> Iterator[FastAPI]:
    app = create_app(make_settings())
    yield app
    # Schemathesis runs the app's lifespan on its own event loop; shutting it down disposes the engine there.
    asgi.shutdown_lifespans()


def test_the_api_keeps_its_openapi_promises(fuzzed_app: FastAPI, subtests: pytest.Subtests) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app, config=CONFIG)
    with asgi.get_client(fuzzed_app) as http:
        signed_up = http.post("/api/auth/signup", json={"email": "fuzz@example.org", "password": "fuzzing passphrase"})
    assert signed_up.status_code == 201, signed_up.text
    auth = {"Authorization": f"Bearer {signed_up.json()['access_token']}"}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        has_input = any((operation.body, operation.query, operation.headers, operation.path_parameters))
        # Negative cases need something to break: an operation without input has none.
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_input else (GenerationMode.POSITIVE,)
        for mode in modes:
            with subtests.test(msg=f"{operation.label} ({mode.value})"):
                fuzz(operation, mode, auth)


def fuzz(operation: APIOperation, mode: GenerationMode, auth: dict[str, str]) -> None:
    excluded = []
    additional = []
    if operation.label in LOOSER_SCHEMA_THAN_VALIDATOR or operation.label in DOCUMENTED_503:
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if operation.label in DOCUMENTED_503:
        excluded.append(schemathesis.checks.not_a_server_error)
        additional.append(no_undocumented_server_error)

    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, excluded_checks=excluded, additional_checks=additional)

    call()
