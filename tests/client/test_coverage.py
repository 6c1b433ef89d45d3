"""The SDK and the served API cannot drift apart: every operation in the OpenAPI document
has an SDK method that sends exactly that request, every SDK method is in the table
below, and the keyword arguments are the operation's own field and parameter names."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pivotal import AsyncPivotalApi, PivotalApi
from pivotal.client import params as p
from pivotal.client.pagination import AsyncListIterator, ListIterator


@dataclass(frozen=True)
class Op:
    sdk: str  # the SDK method
    call: Callable[[Any], Any]  # the same code drives PivotalApi and AsyncPivotalApi
    route: str  # "METHOD /path" as SPEC writes it, under /api/v1 unless it starts /api/
    body: type | None = None  # the TypedDict of its keyword arguments
    query: type | None = None

    @property
    def method(self) -> str:
        return self.route.split(" ", 1)[0]

    @property
    def path(self) -> str:
        path = self.route.split(" ", 1)[1]
        return path if path.startswith("/api/") else f"/api/v1{path}"


OPS = [
    Op("health", lambda a: a.health(), "GET /health"),
    Op("health", lambda a: a.health(deep=True), "GET /api/health/deep"),
    Op("me", lambda a: a.me(), "GET /me"),
    Op(
        "customers.list", lambda a: a.customers.list(), "GET /customers", query=p.CustomerListParams
    ),
    Op(
        "customers.create",
        lambda a: a.customers.create(name="A"),
        "POST /customers",
        body=p.CustomerCreateParams,
    ),
    Op("customers.retrieve", lambda a: a.customers.retrieve("c1"), "GET /customers/{id}"),
    Op(
        "customers.update",
        lambda a: a.customers.update("c1", plan=None),
        "PATCH /customers/{id}",
        body=p.CustomerUpdateParams,
    ),
    Op("customers.delete", lambda a: a.customers.delete(7), "DELETE /customers/{id}"),
    Op(
        "contacts.list",
        lambda a: a.contacts.list("c1"),
        "GET /customers/{customerId}/contacts",
        query=p.ContactListParams,
    ),
    Op(
        "contacts.create",
        lambda a: a.contacts.create("c1", name="A", email="a@x.example"),
        "POST /customers/{customerId}/contacts",
        body=p.ContactCreateParams,
    ),
    Op("contacts.retrieve", lambda a: a.contacts.retrieve("k1"), "GET /contacts/{id}"),
    Op(
        "contacts.update",
        lambda a: a.contacts.update("k1", title="CEO"),
        "PATCH /contacts/{id}",
        body=p.ContactUpdateParams,
    ),
    Op("contacts.delete", lambda a: a.contacts.delete("k1"), "DELETE /contacts/{id}"),
    Op(
        "onboardings.list",
        lambda a: a.onboardings.list(),
        "GET /onboardings",
        query=p.OnboardingListParams,
    ),
    Op(
        "onboardings.list_for_customer",
        lambda a: a.onboardings.list_for_customer("c1"),
        "GET /customers/{customerId}/onboardings",
        query=p.CustomerOnboardingListParams,
    ),
    Op(
        "onboardings.create",
        lambda a: a.onboardings.create(customer_id=1),
        "POST /onboardings",
        body=p.OnboardingCreateParams,
    ),
    Op("onboardings.retrieve", lambda a: a.onboardings.retrieve("o1"), "GET /onboardings/{id}"),
    Op(
        "onboardings.update",
        lambda a: a.onboardings.update("o1", phase="review"),
        "PATCH /onboardings/{id}",
        body=p.OnboardingUpdateParams,
    ),
    Op("onboardings.delete", lambda a: a.onboardings.delete("o1"), "DELETE /onboardings/{id}"),
    Op(
        "onboardings.transitions",
        lambda a: a.onboardings.transitions("o1"),
        "GET /onboardings/{id}/transitions",
        query=p.ListParams,
    ),
    Op(
        "tasks.list",
        lambda a: a.tasks.list("o1"),
        "GET /onboardings/{id}/tasks",
        query=p.TaskListParams,
    ),
    Op(
        "tasks.create",
        lambda a: a.tasks.create("o1", title="T"),
        "POST /onboardings/{id}/tasks",
        body=p.TaskCreateParams,
    ),
    Op("tasks.retrieve", lambda a: a.tasks.retrieve("t1"), "GET /tasks/{id}"),
    Op(
        "tasks.update",
        lambda a: a.tasks.update("t1", completed=True),
        "PATCH /tasks/{id}",
        body=p.TaskUpdateParams,
    ),
    Op("tasks.delete", lambda a: a.tasks.delete("t1"), "DELETE /tasks/{id}"),
    Op(
        "activity.list",
        lambda a: a.activity.list("c1"),
        "GET /customers/{id}/activity",
        query=p.ListParams,
    ),
    Op("events.list", lambda a: a.events.list(), "GET /events", query=p.EventListParams),
    Op("events.retrieve", lambda a: a.events.retrieve("evt_1"), "GET /events/{id}"),
    Op(
        "webhook_endpoints.list",
        lambda a: a.webhook_endpoints.list(),
        "GET /webhook_endpoints",
        query=p.ListParams,
    ),
    Op(
        "webhook_endpoints.create",
        lambda a: a.webhook_endpoints.create(url="https://x.example", enabled_events=["*"]),
        "POST /webhook_endpoints",
        body=p.WebhookEndpointCreateParams,
    ),
    Op(
        "webhook_endpoints.retrieve",
        lambda a: a.webhook_endpoints.retrieve("ep_1"),
        "GET /webhook_endpoints/{id}",
    ),
    Op(
        "webhook_endpoints.update",
        lambda a: a.webhook_endpoints.update("ep_1", disabled=True),
        "PATCH /webhook_endpoints/{id}",
        body=p.WebhookEndpointUpdateParams,
    ),
    Op(
        "webhook_endpoints.delete",
        lambda a: a.webhook_endpoints.delete("ep_1"),
        "DELETE /webhook_endpoints/{id}",
    ),
    Op(
        "webhook_endpoints.rotate_secret",
        lambda a: a.webhook_endpoints.rotate_secret("ep_1"),
        "POST /webhook_endpoints/{id}/rotate_secret",
    ),
    Op(
        "webhook_endpoints.deliveries",
        lambda a: a.webhook_endpoints.deliveries("ep_1"),
        "GET /webhook_endpoints/{id}/deliveries",
        query=p.ListParams,
    ),
    Op(
        "webhook_deliveries.replay",
        lambda a: a.webhook_deliveries.replay("msg_1"),
        "POST /webhook_deliveries/{id}/replay",
    ),
]

ANSWER = {"object": "list", "data": [], "has_more": False, "next_cursor": None}


def _shape(path: str) -> str:
    """A path template with its parameter names erased: /customers/{} either way."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(_shape(path)).replace(r"\{\}", "[^/]+") + "$")


def _record(op: Op, flavour: str) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ANSWER)

    transport = httpx.MockTransport(handler)
    if flavour == "sync":
        with PivotalApi(
            api_key="pivotal_x",
            base_url="http://sdk.test",
            http_client=httpx.Client(transport=transport),
        ) as api:
            result = op.call(api)
            if isinstance(result, ListIterator):
                result.first_page()
    else:

        async def drive() -> None:
            async with httpx.AsyncClient(transport=transport) as http:
                api = AsyncPivotalApi(
                    api_key="pivotal_x", base_url="http://sdk.test", http_client=http
                )
                result = op.call(api)
                if isinstance(result, AsyncListIterator):
                    await result.first_page()
                else:
                    await result

        asyncio.run(drive())
    return seen


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
def test_each_sdk_method_sends_its_route(op: Op, flavour: str) -> None:
    (request,) = _record(op, flavour)
    assert request.method == op.method
    assert _pattern(op.path).match(request.url.path), request.url.path
    assert request.headers["authorization"] == "Bearer pivotal_x"
    key = request.headers.get("idempotency-key")
    assert (key is not None) == (op.method == "POST"), "every POST, and only POSTs, carry a key"


def _public_methods(obj: object, prefix: str = "") -> set[str]:
    names = set()
    for name in dir(obj):
        if name.startswith("_") or name in {
            "close",
            "api_key",
            "base_url",
            "timeout",
            "max_retries",
        }:
            continue
        value = getattr(obj, name)
        if inspect.ismethod(value):
            names.add(prefix + name)
        elif not prefix:
            names |= _public_methods(value, f"{name}.")
    return names


def test_the_table_names_every_sdk_method_and_both_clients_match() -> None:
    sync = PivotalApi(api_key="pivotal_x")
    asynchronous = AsyncPivotalApi(api_key="pivotal_x")
    try:
        assert _public_methods(sync) == {op.sdk for op in OPS}
        assert _public_methods(asynchronous) == {op.sdk for op in OPS}
        for op in OPS:
            *resource, method = op.sdk.split(".")
            owner_sync = getattr(sync, resource[0]) if resource else sync
            owner_async = getattr(asynchronous, resource[0]) if resource else asynchronous
            sync_params = inspect.signature(getattr(owner_sync, method)).parameters
            async_params = inspect.signature(getattr(owner_async, method)).parameters
            assert sync_params == async_params, op.sdk
    finally:
        sync.close()
        asyncio.run(asynchronous.close())


def _served(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    document = client.get("/api/v1/openapi.json").json()
    _served.document = document  # type: ignore[attr-defined]
    return {
        (method.upper(), _shape(path)): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def test_every_served_operation_has_an_sdk_method(client: TestClient) -> None:
    served = _served(client)
    covered = {(op.method, _shape(op.path)) for op in OPS}
    missing = sorted(f"{m} {path}" for m, path in served if (m, path) not in covered)
    assert not missing, f"operations without an SDK method: {missing}"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def test_keyword_arguments_are_the_served_field_names(client: TestClient) -> None:
    served = _served(client)
    document = _served.document  # type: ignore[attr-defined]
    checked = 0
    for op in OPS:
        operation = served.get((op.method, _shape(op.path)))
        if operation is None:
            continue  # not served yet: nothing to compare with
        if op.body is not None:
            content = operation["requestBody"]["content"]["application/json"]["schema"]
            schema = _resolve(document, content)
            assert (
                set(schema["properties"]) == op.body.__required_keys__ | op.body.__optional_keys__
            ), op.sdk
            assert set(schema.get("required", [])) == set(op.body.__required_keys__), op.sdk
            checked += 1
        if op.query is not None:
            names = {q["name"] for q in operation.get("parameters", []) if q["in"] == "query"}
            assert names == op.query.__required_keys__ | op.query.__optional_keys__, op.sdk
            checked += 1
    assert checked >= 11  # at least those of customers, contacts and onboardings
