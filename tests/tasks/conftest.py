"""Fixtures for the task tests: a customer, an onboarding and a task factory, via HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

AddTask = Callable[..., dict[str, Any]]


@pytest.fixture
def customer(api: TestClient) -> dict[str, Any]:
    response = api.post("/api/v1/customers", json={"name": "Aurora Foods"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def make_onboarding(api: TestClient, customer: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    def _make(customer_id: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {"customer_id": customer_id or customer["id"], **fields}
        response = api.post("/api/v1/onboardings", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _make


@pytest.fixture
def onboarding(make_onboarding: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_onboarding(name="Kickoff")


@pytest.fixture
def add_task(api: TestClient, onboarding: dict[str, Any]) -> AddTask:
    """add_task(onboarding_ref=None, client=None, **fields): a created task (201)."""
    numbers = itertools.count(1)

    def _add(
        onboarding_ref: str | int | None = None, client: TestClient | None = None, **fields: Any
    ) -> Any:
        body = {"title": f"Task {next(numbers)}", **fields}
        ref = onboarding["id"] if onboarding_ref is None else onboarding_ref
        response = (client or api).post(f"/api/v1/onboardings/{ref}/tasks", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _add
