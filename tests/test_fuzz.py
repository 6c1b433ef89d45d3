"""Schemathesis drives every operation of the served OpenAPI document, with valid and
invalid inputs, on both engines: no request may get a 5xx, and every answer must match
the document (status codes, content type, body schema)."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pivotal.app import create_app
from pivotal.config import Settings
from support import auth

# Bounded so the whole suite stays fast; raise it for a deeper run.
EXAMPLES = int(os.environ.get("PIVOTAL_FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The document does not depend on the database, so operations are listed at collection.
_DOCUMENT = create_app(Settings(database_url="sqlite:///unused-by-this-module.db")).openapi()
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
# Invalid inputs exist only for operations that take a body or a query parameter (any
# string is a valid path id: it is looked up and may answer 404).
CASES = [
    pytest.param(f"{method.upper()} {path}", mode, id=f"{method.upper()} {path} {mode.value}")
    for path, methods in _DOCUMENT["paths"].items()
    for method, operation in methods.items()
    for mode in (POSITIVE, NEGATIVE)
    if mode is POSITIVE
    or operation.get("requestBody")
    or any(p["in"] != "path" for p in operation.get("parameters", []))
]


@pytest.fixture
def seeded(app: FastAPI, api: TestClient) -> None:
    """A customer, contact and onboarding at display id 1, so that "1" finds real rows."""
    customer = api.post("/api/v1/customers", json={"name": "Seed"}).json()
    api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Seed", "email": "seed@example.com"},
    )
    api.post("/api/v1/onboardings", json={"customer_id": customer["id"]})


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_no_server_errors_and_answers_match_the_document(
    app: FastAPI, keys: Any, seeded: None, label: str, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operation = schema.find_operation_by_label(label)
    assert operation is not None

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=auth(keys.live))
        case.validate_response(response, checks=CHECKS)

    run()
