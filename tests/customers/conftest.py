"""Fixtures for the customers tests: a customer factory working through the API."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from customers.helpers import ClientFor, NewCustomer
from support import auth


@pytest.fixture
def new_customer(api: TestClient) -> NewCustomer:
    """new_customer(name=None, client=None, **fields): a created customer (asserts 201)."""
    numbers = itertools.count(1)

    def _new(name: str | None = None, client: TestClient | None = None, **fields: Any) -> Any:
        body = {"name": name or f"Customer {next(numbers)}", **fields}
        response = (client or api).post("/api/v1/customers", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return _new


@pytest.fixture
def full_customer(new_customer: NewCustomer) -> NewCustomer:
    """full_customer(name="Aurora Café", **overrides): a customer with every field set."""

    def _full(name: str = "Aurora Café", **overrides: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "domain": "aurora.com",
            "status": "onboarding",
            "plan": "growth",
            "mrr": 49_900,
            "monthly_orders": 1_200,
            "hubspot_company_id": "HS123",
            "hubspot_deal_id": "DEAL9",
            "stripe_customer_id": "cus_abc",
            "intercom_company_id": "ic_42",
            "slack_channel_id": "C0123",
            "metadata": {"tier": "gold", "seats": 12},
        }
        return new_customer(name, **{**fields, **overrides})

    return _full


@pytest.fixture
def customer(full_customer: NewCustomer) -> dict[str, Any]:
    """A live customer of workspace "acme" with every optional field set."""
    return full_customer()


@pytest.fixture
def client_for(app: FastAPI, make_key: Callable[..., str]) -> Iterator[ClientFor]:
    """client_for(**make_key_args): a TestClient authenticated with a fresh key."""
    clients: list[TestClient] = []

    def _client(**key_args: Any) -> TestClient:
        key = make_key(**key_args)
        test_client = TestClient(app, headers=auth(key), raise_server_exceptions=False)
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield _client
    for test_client in clients:
        test_client.__exit__(None, None, None)
