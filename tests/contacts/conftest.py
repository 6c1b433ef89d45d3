"""Fixtures for the contacts tests: customers of workspace "acme" and a contact factory."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

NewCustomer = Callable[..., dict[str, Any]]
AddContact = Callable[..., dict[str, Any]]


@pytest.fixture
def new_customer(api: TestClient) -> NewCustomer:
    """new_customer(name="...", client=None, **fields): a created customer (201)."""
    numbers = itertools.count(1)

    def _new(name: str | None = None, client: TestClient | None = None, **fields: Any) -> Any:
        body = {"name": name or f"Customer {next(numbers)}", **fields}
        response = (client or api).post("/api/v1/customers", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _new


@pytest.fixture
def customer(new_customer: NewCustomer) -> dict[str, Any]:
    """A live customer of workspace "acme"."""
    return new_customer("Aurora")


@pytest.fixture
def add_contact(api: TestClient, customer: dict[str, Any]) -> AddContact:
    """add_contact(customer_ref=None, client=None, **fields): a created contact (201).

    Without ``customer_ref`` the contact goes to the ``customer`` fixture; name and email
    default to unique values.
    """
    numbers = itertools.count(1)

    def _add(
        customer_ref: str | int | None = None, client: TestClient | None = None, **fields: Any
    ) -> Any:
        n = next(numbers)
        body = {"name": f"Contact {n}", "email": f"contact{n}@example.com", **fields}
        ref = customer["id"] if customer_ref is None else customer_ref
        response = (client or api).post(f"/api/v1/customers/{ref}/contacts", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _add
