"""``AsyncPivotalApi``: every method once against a real server, on each engine."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from client.helpers import WEBHOOK_ROUTES, require_routes
from live_server import LiveServer
from pivotal import AsyncPivotalApi
from pivotal.client.models import Customer, Page, WebhookDelivery
from pivotal.errors import NotFoundError

pytestmark = pytest.mark.slow


def test_core_resources(live: LiveServer, sdk_key: str) -> None:
    async def scenario() -> None:
        async with AsyncPivotalApi(api_key=sdk_key, base_url=live.base_url) as api:
            me, health, deep = await asyncio.gather(api.me(), api.health(), api.health(deep=True))
            assert me.api_key.name == "SDK" and health.status == "ok" and deep.status == "ok"

            customer = await api.customers.create(name="Aurora", hubspot_company_id="HS-9")
            other = await api.customers.create(name="Borealis")
            assert await api.customers.retrieve(customer.display_id) == customer
            assert (await api.customers.update(customer.id, plan="pro")).plan == "pro"
            assert [c.id async for c in api.customers.list()] == [other.id, customer.id]
            page = await api.customers.list(hubspot_company_id="HS-9").first_page()
            assert isinstance(page, Page) and [c.id for c in page] == [customer.id]
            assert page.has_more is False and page.next_cursor is None

            contact = await api.contacts.create(customer.id, name="Ana", email="ana@x.example")
            assert await api.contacts.retrieve(contact.id) == contact
            changed = await api.contacts.update(contact.id, title="CEO")
            assert changed.title == "CEO"
            assert [c.id async for c in api.contacts.list(customer.id)] == [contact.id]
            assert (await api.contacts.delete(contact.id)).deleted is True

            onboarding = await api.onboardings.create(customer_id=customer.id)
            assert await api.onboardings.retrieve(onboarding.id) == onboarding
            moved = await api.onboardings.update(onboarding.id, phase="review")
            assert moved.phase == "review"
            assert [o.id async for o in api.onboardings.list()] == [onboarding.id]
            listed = [o.id async for o in api.onboardings.list_for_customer(customer.display_id)]
            assert listed == [onboarding.id]
            transitions = [t async for t in api.onboardings.transitions(onboarding.id)]
            assert [(t.from_, t.to) for t in transitions] == [("before_getting_started", "review")]
            assert (await api.onboardings.delete(onboarding.id)).deleted is True

            assert (await api.customers.delete(other.id)).deleted is True
            with pytest.raises(NotFoundError):
                await api.customers.retrieve(other.id)

    asyncio.run(scenario())


def test_newer_resources(live: LiveServer, sdk_key: str, served: set[tuple[str, str]]) -> None:
    require_routes(
        served,
        "GET /api/v1/onboardings/{id}/tasks",
        "POST /api/v1/onboardings/{id}/tasks",
        "GET /api/v1/tasks/{id}",
        "PATCH /api/v1/tasks/{id}",
        "DELETE /api/v1/tasks/{id}",
        "GET /api/v1/customers/{id}/activity",
        "GET /api/v1/events",
        "GET /api/v1/events/{id}",
        *WEBHOOK_ROUTES,
    )

    async def scenario() -> None:
        async with AsyncPivotalApi(api_key=sdk_key, base_url=live.base_url) as api:
            before = datetime.now(UTC)
            customer = await api.customers.create(name="Aurora")
            onboarding = await api.onboardings.create(customer_id=customer.id)
            task = await api.tasks.create(onboarding.id, title="Kickoff")
            assert await api.tasks.retrieve(task.id) == task
            assert (await api.tasks.update(task.id, completed=True)).completed is True
            assert [t.id async for t in api.tasks.list(onboarding.id)] == [task.id]
            assert (await api.tasks.delete(task.id)).deleted is True

            activity = [a.event_type async for a in api.activity.list(customer.id)]
            assert activity[-1] == "customer.created" and "task.deleted" in activity

            events = [
                e async for e in api.events.list(created_after=before, type="customer.created")
            ]
            assert len(events) == 1 and isinstance(events[0].data.object, Customer)
            assert await api.events.retrieve(events[0].id) == events[0]

            endpoint = await api.webhook_endpoints.create(
                url="http://127.0.0.1:9/hooks", enabled_events=["*"]
            )
            assert (await api.webhook_endpoints.retrieve(endpoint.id)).url == endpoint.url
            assert [e.id async for e in api.webhook_endpoints.list()] == [endpoint.id]
            disabled = await api.webhook_endpoints.update(endpoint.id, disabled=True)
            assert disabled.disabled is True
            rotated = await api.webhook_endpoints.rotate_secret(endpoint.id)
            assert rotated.secret and rotated.secret != endpoint.secret
            deadline = time.monotonic() + 15
            while not (
                deliveries := [d async for d in api.webhook_endpoints.deliveries(endpoint.id)]
            ):
                assert time.monotonic() < deadline, "no delivery was recorded (webhook.ping)"
                await asyncio.sleep(0.2)
            replay = await api.webhook_deliveries.replay(deliveries[0].id)
            assert isinstance(replay, WebhookDelivery) and replay.event_id == deliveries[0].event_id
            assert (await api.webhook_endpoints.delete(endpoint.id)).deleted is True

    asyncio.run(scenario())
