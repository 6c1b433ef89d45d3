"""The resources of ``PivotalApi`` (sync) and ``AsyncPivotalApi`` (async).

Method names mirror the routes (SPEC §11); keyword arguments are the API's field
names (``pivotal.client.params``). Every ``create`` and every other POST sends an
Idempotency-Key: yours (``idempotency_key=``) or a fresh UUID4 kept for its retries.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, TypeVar, Unpack

from pivotal.client import _routes as routes
from pivotal.client._core import Call
from pivotal.client.models import (
    Activity,
    Contact,
    Customer,
    Deleted,
    Event,
    Onboarding,
    PhaseTransition,
    Task,
    WebhookDelivery,
    WebhookEndpoint,
)
from pivotal.client.pagination import AsyncListIterator, ListIterator
from pivotal.client.params import (
    ContactCreateParams,
    ContactListParams,
    ContactUpdateParams,
    CustomerCreateParams,
    CustomerListParams,
    CustomerOnboardingListParams,
    CustomerUpdateParams,
    EventListParams,
    ListParams,
    OnboardingCreateParams,
    OnboardingListParams,
    OnboardingUpdateParams,
    TaskCreateParams,
    TaskListParams,
    TaskUpdateParams,
    WebhookEndpointCreateParams,
    WebhookEndpointUpdateParams,
)

T = TypeVar("T")
Id = str | int


class SyncRunner(Protocol):
    def __call__(self, call: Call[T], /) -> T: ...


class AsyncRunner(Protocol):
    def __call__(self, call: Call[T], /) -> Awaitable[T]: ...


class _SyncResource:
    def __init__(self, run: SyncRunner) -> None:
        self._run = run


class _AsyncResource:
    def __init__(self, run: AsyncRunner) -> None:
        self._run = run


# Sync


class Customers(_SyncResource):
    """``/customers``: filters ``status``, ``slug``, ``domain`` and the integration ids."""

    def list(self, **params: Unpack[CustomerListParams]) -> ListIterator[Customer]:
        return ListIterator(routes.customers_list(params), self._run)

    def create(
        self, *, idempotency_key: str | None = None, **params: Unpack[CustomerCreateParams]
    ) -> Customer:
        return self._run(routes.customers_create(params, idempotency_key))

    def retrieve(self, id: Id) -> Customer:
        return self._run(routes.customers_retrieve(id))

    def update(self, id: Id, **params: Unpack[CustomerUpdateParams]) -> Customer:
        return self._run(routes.customers_update(id, params))

    def delete(self, id: Id) -> Deleted:
        return self._run(routes.customers_delete(id))


class Contacts(_SyncResource):
    """A customer's contacts: ``/customers/{customer_id}/contacts`` and ``/contacts/{id}``."""

    def list(self, customer_id: Id, **params: Unpack[ContactListParams]) -> ListIterator[Contact]:
        return ListIterator(routes.contacts_list(customer_id, params), self._run)

    def create(
        self,
        customer_id: Id,
        *,
        idempotency_key: str | None = None,
        **params: Unpack[ContactCreateParams],
    ) -> Contact:
        return self._run(routes.contacts_create(customer_id, params, idempotency_key))

    def retrieve(self, id: Id) -> Contact:
        return self._run(routes.contacts_retrieve(id))

    def update(self, id: Id, **params: Unpack[ContactUpdateParams]) -> Contact:
        return self._run(routes.contacts_update(id, params))

    def delete(self, id: Id) -> Deleted:
        return self._run(routes.contacts_delete(id))


class Onboardings(_SyncResource):
    """``/onboardings``, a customer's onboardings, and their phase transitions."""

    def list(self, **params: Unpack[OnboardingListParams]) -> ListIterator[Onboarding]:
        return ListIterator(routes.onboardings_list(params), self._run)

    def list_for_customer(
        self, customer_id: Id, **params: Unpack[CustomerOnboardingListParams]
    ) -> ListIterator[Onboarding]:
        return ListIterator(routes.onboardings_list_for_customer(customer_id, params), self._run)

    def create(
        self, *, idempotency_key: str | None = None, **params: Unpack[OnboardingCreateParams]
    ) -> Onboarding:
        return self._run(routes.onboardings_create(params, idempotency_key))

    def retrieve(self, id: Id) -> Onboarding:
        return self._run(routes.onboardings_retrieve(id))

    def update(self, id: Id, **params: Unpack[OnboardingUpdateParams]) -> Onboarding:
        return self._run(routes.onboardings_update(id, params))

    def delete(self, id: Id) -> Deleted:
        return self._run(routes.onboardings_delete(id))

    def transitions(self, id: Id, **params: Unpack[ListParams]) -> ListIterator[PhaseTransition]:
        return ListIterator(routes.onboardings_transitions(id, params), self._run)


class Tasks(_SyncResource):
    """An onboarding's tasks: ``/onboardings/{onboarding_id}/tasks`` and ``/tasks/{id}``."""

    def list(self, onboarding_id: Id, **params: Unpack[TaskListParams]) -> ListIterator[Task]:
        return ListIterator(routes.tasks_list(onboarding_id, params), self._run)

    def create(
        self,
        onboarding_id: Id,
        *,
        idempotency_key: str | None = None,
        **params: Unpack[TaskCreateParams],
    ) -> Task:
        return self._run(routes.tasks_create(onboarding_id, params, idempotency_key))

    def retrieve(self, id: Id) -> Task:
        return self._run(routes.tasks_retrieve(id))

    def update(self, id: Id, **params: Unpack[TaskUpdateParams]) -> Task:
        return self._run(routes.tasks_update(id, params))

    def delete(self, id: Id) -> Deleted:
        return self._run(routes.tasks_delete(id))


class ActivityLog(_SyncResource):
    """``/customers/{customer_id}/activity``: the customer's history, newest first."""

    def list(self, customer_id: Id, **params: Unpack[ListParams]) -> ListIterator[Activity]:
        return ListIterator(routes.activity_list(customer_id, params), self._run)


class Events(_SyncResource):
    """``/events`` of the last 30 days: filters ``type`` and ``created_after``."""

    def list(self, **params: Unpack[EventListParams]) -> ListIterator[Event]:
        return ListIterator(routes.events_list(params), self._run)

    def retrieve(self, id: str) -> Event:
        return self._run(routes.events_retrieve(id))


class WebhookEndpoints(_SyncResource):
    """``/webhook_endpoints``: the secret is in the create and rotate_secret answers only."""

    def list(self, **params: Unpack[ListParams]) -> ListIterator[WebhookEndpoint]:
        return ListIterator(routes.webhook_endpoints_list(params), self._run)

    def create(
        self,
        *,
        idempotency_key: str | None = None,
        **params: Unpack[WebhookEndpointCreateParams],
    ) -> WebhookEndpoint:
        return self._run(routes.webhook_endpoints_create(params, idempotency_key))

    def retrieve(self, id: str) -> WebhookEndpoint:
        return self._run(routes.webhook_endpoints_retrieve(id))

    def update(self, id: str, **params: Unpack[WebhookEndpointUpdateParams]) -> WebhookEndpoint:
        return self._run(routes.webhook_endpoints_update(id, params))

    def delete(self, id: str) -> Deleted:
        return self._run(routes.webhook_endpoints_delete(id))

    def rotate_secret(self, id: str, *, idempotency_key: str | None = None) -> WebhookEndpoint:
        """A new secret (returned here); the old one keeps signing beside it for 24 h."""
        return self._run(routes.webhook_endpoints_rotate_secret(id, idempotency_key))

    def deliveries(self, id: str, **params: Unpack[ListParams]) -> ListIterator[WebhookDelivery]:
        return ListIterator(routes.webhook_endpoints_deliveries(id, params), self._run)


class WebhookDeliveries(_SyncResource):
    """``/webhook_deliveries/{id}/replay``: send a delivery's event again."""

    def replay(self, id: str, *, idempotency_key: str | None = None) -> WebhookDelivery:
        return self._run(routes.webhook_deliveries_replay(id, idempotency_key))


# Async: the same methods; lists are async iterators, the rest coroutines.


class AsyncCustomers(_AsyncResource):
    """``/customers``: filters ``status``, ``slug``, ``domain`` and the integration ids."""

    def list(self, **params: Unpack[CustomerListParams]) -> AsyncListIterator[Customer]:
        return AsyncListIterator(routes.customers_list(params), self._run)

    async def create(
        self, *, idempotency_key: str | None = None, **params: Unpack[CustomerCreateParams]
    ) -> Customer:
        return await self._run(routes.customers_create(params, idempotency_key))

    async def retrieve(self, id: Id) -> Customer:
        return await self._run(routes.customers_retrieve(id))

    async def update(self, id: Id, **params: Unpack[CustomerUpdateParams]) -> Customer:
        return await self._run(routes.customers_update(id, params))

    async def delete(self, id: Id) -> Deleted:
        return await self._run(routes.customers_delete(id))


class AsyncContacts(_AsyncResource):
    """A customer's contacts: ``/customers/{customer_id}/contacts`` and ``/contacts/{id}``."""

    def list(
        self, customer_id: Id, **params: Unpack[ContactListParams]
    ) -> AsyncListIterator[Contact]:
        return AsyncListIterator(routes.contacts_list(customer_id, params), self._run)

    async def create(
        self,
        customer_id: Id,
        *,
        idempotency_key: str | None = None,
        **params: Unpack[ContactCreateParams],
    ) -> Contact:
        return await self._run(routes.contacts_create(customer_id, params, idempotency_key))

    async def retrieve(self, id: Id) -> Contact:
        return await self._run(routes.contacts_retrieve(id))

    async def update(self, id: Id, **params: Unpack[ContactUpdateParams]) -> Contact:
        return await self._run(routes.contacts_update(id, params))

    async def delete(self, id: Id) -> Deleted:
        return await self._run(routes.contacts_delete(id))


class AsyncOnboardings(_AsyncResource):
    """``/onboardings``, a customer's onboardings, and their phase transitions."""

    def list(self, **params: Unpack[OnboardingListParams]) -> AsyncListIterator[Onboarding]:
        return AsyncListIterator(routes.onboardings_list(params), self._run)

    def list_for_customer(
        self, customer_id: Id, **params: Unpack[CustomerOnboardingListParams]
    ) -> AsyncListIterator[Onboarding]:
        call = routes.onboardings_list_for_customer(customer_id, params)
        return AsyncListIterator(call, self._run)

    async def create(
        self, *, idempotency_key: str | None = None, **params: Unpack[OnboardingCreateParams]
    ) -> Onboarding:
        return await self._run(routes.onboardings_create(params, idempotency_key))

    async def retrieve(self, id: Id) -> Onboarding:
        return await self._run(routes.onboardings_retrieve(id))

    async def update(self, id: Id, **params: Unpack[OnboardingUpdateParams]) -> Onboarding:
        return await self._run(routes.onboardings_update(id, params))

    async def delete(self, id: Id) -> Deleted:
        return await self._run(routes.onboardings_delete(id))

    def transitions(
        self, id: Id, **params: Unpack[ListParams]
    ) -> AsyncListIterator[PhaseTransition]:
        return AsyncListIterator(routes.onboardings_transitions(id, params), self._run)


class AsyncTasks(_AsyncResource):
    """An onboarding's tasks: ``/onboardings/{onboarding_id}/tasks`` and ``/tasks/{id}``."""

    def list(self, onboarding_id: Id, **params: Unpack[TaskListParams]) -> AsyncListIterator[Task]:
        return AsyncListIterator(routes.tasks_list(onboarding_id, params), self._run)

    async def create(
        self,
        onboarding_id: Id,
        *,
        idempotency_key: str | None = None,
        **params: Unpack[TaskCreateParams],
    ) -> Task:
        return await self._run(routes.tasks_create(onboarding_id, params, idempotency_key))

    async def retrieve(self, id: Id) -> Task:
        return await self._run(routes.tasks_retrieve(id))

    async def update(self, id: Id, **params: Unpack[TaskUpdateParams]) -> Task:
        return await self._run(routes.tasks_update(id, params))

    async def delete(self, id: Id) -> Deleted:
        return await self._run(routes.tasks_delete(id))


class AsyncActivityLog(_AsyncResource):
    """``/customers/{customer_id}/activity``: the customer's history, newest first."""

    def list(self, customer_id: Id, **params: Unpack[ListParams]) -> AsyncListIterator[Activity]:
        return AsyncListIterator(routes.activity_list(customer_id, params), self._run)


class AsyncEvents(_AsyncResource):
    """``/events`` of the last 30 days: filters ``type`` and ``created_after``."""

    def list(self, **params: Unpack[EventListParams]) -> AsyncListIterator[Event]:
        return AsyncListIterator(routes.events_list(params), self._run)

    async def retrieve(self, id: str) -> Event:
        return await self._run(routes.events_retrieve(id))


class AsyncWebhookEndpoints(_AsyncResource):
    """``/webhook_endpoints``: the secret is in the create and rotate_secret answers only."""

    def list(self, **params: Unpack[ListParams]) -> AsyncListIterator[WebhookEndpoint]:
        return AsyncListIterator(routes.webhook_endpoints_list(params), self._run)

    async def create(
        self,
        *,
        idempotency_key: str | None = None,
        **params: Unpack[WebhookEndpointCreateParams],
    ) -> WebhookEndpoint:
        return await self._run(routes.webhook_endpoints_create(params, idempotency_key))

    async def retrieve(self, id: str) -> WebhookEndpoint:
        return await self._run(routes.webhook_endpoints_retrieve(id))

    async def update(
        self, id: str, **params: Unpack[WebhookEndpointUpdateParams]
    ) -> WebhookEndpoint:
        return await self._run(routes.webhook_endpoints_update(id, params))

    async def delete(self, id: str) -> Deleted:
        return await self._run(routes.webhook_endpoints_delete(id))

    async def rotate_secret(
        self, id: str, *, idempotency_key: str | None = None
    ) -> WebhookEndpoint:
        """A new secret (returned here); the old one keeps signing beside it for 24 h."""
        return await self._run(routes.webhook_endpoints_rotate_secret(id, idempotency_key))

    def deliveries(
        self, id: str, **params: Unpack[ListParams]
    ) -> AsyncListIterator[WebhookDelivery]:
        return AsyncListIterator(routes.webhook_endpoints_deliveries(id, params), self._run)


class AsyncWebhookDeliveries(_AsyncResource):
    """``/webhook_deliveries/{id}/replay``: send a delivery's event again."""

    async def replay(self, id: str, *, idempotency_key: str | None = None) -> WebhookDelivery:
        return await self._run(routes.webhook_deliveries_replay(id, idempotency_key))
