"""Every API operation the SDK performs, as a ``Call``: the one place for methods and paths.

The sync and async resources only run these, so both clients always send the same
requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pivotal.client._core import API_PREFIX, Call, ListCall, post, query, segment
from pivotal.client.models import (
    Activity,
    Contact,
    Customer,
    DeepHealth,
    Deleted,
    Event,
    Health,
    Me,
    Onboarding,
    PhaseTransition,
    Task,
    WebhookDelivery,
    WebhookEndpoint,
)


def _path(*parts: str) -> str:
    return API_PREFIX + "".join(parts)


def _id(value: str | int) -> str:
    return "/" + segment(value)


def health() -> Call[Health]:
    return Call("GET", f"{API_PREFIX}/health", Health.from_dict)


def deep_health() -> Call[DeepHealth]:
    # 503 is an answer here (a dependency is failing), not an error to retry.
    return Call("GET", "/api/health/deep", DeepHealth.from_dict, ok_statuses=frozenset({503}))


def me() -> Call[Me]:
    return Call("GET", f"{API_PREFIX}/me", Me.from_dict)


# Customers


def customers_list(params: Mapping[str, Any]) -> ListCall[Customer]:
    return ListCall(_path("/customers"), query(params), Customer.from_dict)


def customers_create(body: Mapping[str, Any], idempotency_key: str | None) -> Call[Customer]:
    return post(_path("/customers"), Customer.from_dict, body, idempotency_key)


def customers_retrieve(id: str | int) -> Call[Customer]:
    return Call("GET", _path("/customers", _id(id)), Customer.from_dict)


def customers_update(id: str | int, body: Mapping[str, Any]) -> Call[Customer]:
    return Call("PATCH", _path("/customers", _id(id)), Customer.from_dict, body=body)


def customers_delete(id: str | int) -> Call[Deleted]:
    return Call("DELETE", _path("/customers", _id(id)), Deleted.from_dict)


# Contacts


def contacts_list(customer_id: str | int, params: Mapping[str, Any]) -> ListCall[Contact]:
    return ListCall(
        _path("/customers", _id(customer_id), "/contacts"), query(params), Contact.from_dict
    )


def contacts_create(
    customer_id: str | int, body: Mapping[str, Any], idempotency_key: str | None
) -> Call[Contact]:
    path = _path("/customers", _id(customer_id), "/contacts")
    return post(path, Contact.from_dict, body, idempotency_key)


def contacts_retrieve(id: str | int) -> Call[Contact]:
    return Call("GET", _path("/contacts", _id(id)), Contact.from_dict)


def contacts_update(id: str | int, body: Mapping[str, Any]) -> Call[Contact]:
    return Call("PATCH", _path("/contacts", _id(id)), Contact.from_dict, body=body)


def contacts_delete(id: str | int) -> Call[Deleted]:
    return Call("DELETE", _path("/contacts", _id(id)), Deleted.from_dict)


# Onboardings


def onboardings_list(params: Mapping[str, Any]) -> ListCall[Onboarding]:
    return ListCall(_path("/onboardings"), query(params), Onboarding.from_dict)


def onboardings_list_for_customer(
    customer_id: str | int, params: Mapping[str, Any]
) -> ListCall[Onboarding]:
    return ListCall(
        _path("/customers", _id(customer_id), "/onboardings"), query(params), Onboarding.from_dict
    )


def onboardings_create(body: Mapping[str, Any], idempotency_key: str | None) -> Call[Onboarding]:
    return post(_path("/onboardings"), Onboarding.from_dict, body, idempotency_key)


def onboardings_retrieve(id: str | int) -> Call[Onboarding]:
    return Call("GET", _path("/onboardings", _id(id)), Onboarding.from_dict)


def onboardings_update(id: str | int, body: Mapping[str, Any]) -> Call[Onboarding]:
    return Call("PATCH", _path("/onboardings", _id(id)), Onboarding.from_dict, body=body)


def onboardings_delete(id: str | int) -> Call[Deleted]:
    return Call("DELETE", _path("/onboardings", _id(id)), Deleted.from_dict)


def onboardings_transitions(id: str | int, params: Mapping[str, Any]) -> ListCall[PhaseTransition]:
    return ListCall(
        _path("/onboardings", _id(id), "/transitions"), query(params), PhaseTransition.from_dict
    )


# Tasks


def tasks_list(onboarding_id: str | int, params: Mapping[str, Any]) -> ListCall[Task]:
    return ListCall(
        _path("/onboardings", _id(onboarding_id), "/tasks"), query(params), Task.from_dict
    )


def tasks_create(
    onboarding_id: str | int, body: Mapping[str, Any], idempotency_key: str | None
) -> Call[Task]:
    path = _path("/onboardings", _id(onboarding_id), "/tasks")
    return post(path, Task.from_dict, body, idempotency_key)


def tasks_retrieve(id: str | int) -> Call[Task]:
    return Call("GET", _path("/tasks", _id(id)), Task.from_dict)


def tasks_update(id: str | int, body: Mapping[str, Any]) -> Call[Task]:
    return Call("PATCH", _path("/tasks", _id(id)), Task.from_dict, body=body)


def tasks_delete(id: str | int) -> Call[Deleted]:
    return Call("DELETE", _path("/tasks", _id(id)), Deleted.from_dict)


# Activity and events


def activity_list(customer_id: str | int, params: Mapping[str, Any]) -> ListCall[Activity]:
    return ListCall(
        _path("/customers", _id(customer_id), "/activity"), query(params), Activity.from_dict
    )


def events_list(params: Mapping[str, Any]) -> ListCall[Event]:
    return ListCall(_path("/events"), query(params), Event.from_dict)


def events_retrieve(id: str) -> Call[Event]:
    return Call("GET", _path("/events", _id(id)), Event.from_dict)


# Webhook endpoints and deliveries


def webhook_endpoints_list(params: Mapping[str, Any]) -> ListCall[WebhookEndpoint]:
    return ListCall(_path("/webhook_endpoints"), query(params), WebhookEndpoint.from_dict)


def webhook_endpoints_create(
    body: Mapping[str, Any], idempotency_key: str | None
) -> Call[WebhookEndpoint]:
    return post(_path("/webhook_endpoints"), WebhookEndpoint.from_dict, body, idempotency_key)


def webhook_endpoints_retrieve(id: str) -> Call[WebhookEndpoint]:
    return Call("GET", _path("/webhook_endpoints", _id(id)), WebhookEndpoint.from_dict)


def webhook_endpoints_update(id: str, body: Mapping[str, Any]) -> Call[WebhookEndpoint]:
    path = _path("/webhook_endpoints", _id(id))
    return Call("PATCH", path, WebhookEndpoint.from_dict, body=body)


def webhook_endpoints_delete(id: str) -> Call[Deleted]:
    return Call("DELETE", _path("/webhook_endpoints", _id(id)), Deleted.from_dict)


def webhook_endpoints_rotate_secret(id: str, idempotency_key: str | None) -> Call[WebhookEndpoint]:
    path = _path("/webhook_endpoints", _id(id), "/rotate_secret")
    return post(path, WebhookEndpoint.from_dict, None, idempotency_key)


def webhook_endpoints_deliveries(id: str, params: Mapping[str, Any]) -> ListCall[WebhookDelivery]:
    return ListCall(
        _path("/webhook_endpoints", _id(id), "/deliveries"),
        query(params),
        WebhookDelivery.from_dict,
    )


def webhook_deliveries_replay(id: str, idempotency_key: str | None) -> Call[WebhookDelivery]:
    path = _path("/webhook_deliveries", _id(id), "/replay")
    return post(path, WebhookDelivery.from_dict, None, idempotency_key)
