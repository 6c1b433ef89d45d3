"""Fixtures for the activity tests: a customer of workspace "acme" made through the API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def customer(api: TestClient) -> dict[str, Any]:
    response = api.post("/api/v1/customers", json={"name": "Aurora Foods", "plan": "starter"})
    assert response.status_code == 201, response.text
    return response.json()
