"""Fixtures for the onboarding tests: customers and onboardings made through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

MakeCustomer = Callable[..., dict[str, Any]]
MakeOnboarding = Callable[..., dict[str, Any]]


@pytest.fixture
def make_customer(api: TestClient) -> MakeCustomer:
    """Create a customer of the "acme" workspace: make_customer("Name", **fields)."""
    counter = iter(range(1, 10_000))

    def _make(name: str | None = None, client: TestClient | None = None, **fields: Any) -> dict:
        body = {"name": name or f"Customer {next(counter)}", **fields}
        response = (client or api).post("/api/v1/customers", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _make


@pytest.fixture
def customer(make_customer: MakeCustomer) -> dict[str, Any]:
    return make_customer("Aurora Foods", slug="aurora")


@pytest.fixture
def make_onboarding(api: TestClient, customer: dict[str, Any]) -> MakeOnboarding:
    """Create an onboarding (for ``customer`` unless customer_id is given) and return it."""

    def _make(client: TestClient | None = None, **fields: Any) -> dict:
        body = {"customer_id": customer["id"], **fields}
        response = (client or api).post("/api/v1/onboardings", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _make


@pytest.fixture
def onboarding(make_onboarding: MakeOnboarding) -> dict[str, Any]:
    return make_onboarding(name="Kickoff")
