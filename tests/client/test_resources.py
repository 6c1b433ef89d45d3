"""Every SDK method once, against a real server on each engine (SPEC §11).

Tasks, activity, events and webhooks are served by newer routers: their tests skip,
naming the missing route, when the server under test does not serve it yet.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from client.helpers import WEBHOOK_ROUTES, require_routes
from pivotal import PivotalApi
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
from pivotal.errors import NotFoundError

pytestmark = pytest.mark.slow


def test_me_and_health(sdk: PivotalApi) -> None:
    me = sdk.me()
    assert isinstance(me, Me) and me.object == "me" and me.livemode is True
    assert me.api_key.name == "SDK" and me.api_key.mode == "live"
    assert me.api_key.rate_limit.limit == 100_000 and me.api_key.rate_limit.window_seconds == 60
    assert me.organization.slug == "acme" and me.organization.id.startswith("org_")

    health = sdk.health()
    assert isinstance(health, Health) and health.status == "ok"
    assert health.timestamp.tzinfo is not None and health.version
    deep = sdk.health(deep=True)
    assert isinstance(deep, DeepHealth) and deep.status == "ok"
    assert deep.checks["database"] == "ok"


def test_customers(sdk: PivotalApi) -> None:
    created = sdk.customers.create(
        name="Aurora Café",
        domain="https://Aurora.example/",
        plan="starter",
        mrr=49_900,
        hubspot_company_id="HS-1",
        metadata={"test": True},
    )
    assert isinstance(created, Customer) and created.object == "customer"
    assert created.display_id == 1 and created.slug == "aurora-cafe"
    assert created.domain == "aurora.example" and created.status == "active"
    assert created.metadata == {"test": True}
    assert isinstance(created.created_at, datetime) and created.created_at.tzinfo is not None
    assert created.to_dict()["created_at"].endswith("Z")
    other = sdk.customers.create(name="Borealis", status="onboarding")

    assert sdk.customers.retrieve(created.id) == created
    assert sdk.customers.retrieve(created.display_id).id == created.id

    updated = sdk.customers.update(created.id, plan=None, mrr=99_000)
    assert updated.plan is None and updated.mrr == 99_000 and updated.name == "Aurora Café"
    assert sdk.customers.update(created.id) == updated  # no keys: nothing changes

    assert [c.id for c in sdk.customers.list()] == [other.id, created.id]  # newest first
    assert [c.id for c in sdk.customers.list(hubspot_company_id="HS-1")] == [created.id]
    assert [c.id for c in sdk.customers.list(status="onboarding")] == [other.id]
    assert [c.id for c in sdk.customers.list(domain="https://aurora.example")] == [created.id]

    deleted = sdk.customers.delete(created.id)
    assert isinstance(deleted, Deleted) and deleted.deleted is True
    assert (deleted.id, deleted.display_id) == (created.id, created.display_id)
    with pytest.raises(NotFoundError):
        sdk.customers.retrieve(created.id)


def test_contacts(sdk: PivotalApi) -> None:
    customer = sdk.customers.create(name="Aurora")
    ana = sdk.contacts.create(
        customer.display_id,
        name="Ana Ruiz",
        email="Ana@Aurora.example",
        is_primary=True,
        labels=["billing", "billing", "exec"],
    )
    assert isinstance(ana, Contact) and ana.object == "contact"
    assert ana.customer_id == customer.id and ana.email == "ana@aurora.example"
    assert ana.labels == ["billing", "exec"] and ana.is_primary is True
    ben = sdk.contacts.create(customer.id, name="Ben", email="ben@aurora.example", title="CTO")

    assert sdk.contacts.retrieve(ana.id) == ana
    assert [c.id for c in sdk.contacts.list(customer.id)] == [ben.id, ana.id]
    assert [c.id for c in sdk.contacts.list(customer.id, is_primary=True)] == [ana.id]
    assert [c.id for c in sdk.contacts.list(customer.id, email="ben@aurora.example")] == [ben.id]

    promoted = sdk.contacts.update(ben.display_id, is_primary=True, phone="+34 600 000 000")
    assert promoted.is_primary is True and promoted.phone == "+34 600 000 000"
    assert sdk.contacts.retrieve(ana.id).is_primary is False

    assert sdk.contacts.delete(ana.id).deleted is True
    assert [c.id for c in sdk.contacts.list(customer.id)] == [ben.id]


def test_onboardings_and_transitions(sdk: PivotalApi) -> None:
    customer = sdk.customers.create(name="Aurora")
    other = sdk.customers.create(name="Borealis")
    onboarding = sdk.onboardings.create(
        customer_id=customer.display_id, target_launch_date=date(2027, 1, 15), name="Main"
    )
    assert isinstance(onboarding, Onboarding) and onboarding.object == "onboarding"
    assert onboarding.customer_id == customer.id
    assert onboarding.phase == "before_getting_started" and onboarding.state == "active"
    assert onboarding.target_launch_date == datetime(2027, 1, 15, tzinfo=UTC)
    second = sdk.onboardings.create(customer_id=other.id)

    assert sdk.onboardings.retrieve(onboarding.display_id) == onboarding
    moved = sdk.onboardings.update(onboarding.id, phase="program_design")
    assert moved.phase == "program_design"
    launched = sdk.onboardings.update(onboarding.id, phase="launch", waiting_on_customer=True)
    assert launched.state == "waiting" and launched.waiting_on_customer is True

    assert [o.id for o in sdk.onboardings.list()] == [second.id, onboarding.id]
    assert [o.id for o in sdk.onboardings.list(customer_id=customer.display_id)] == [onboarding.id]
    assert [o.id for o in sdk.onboardings.list(phase="launch")] == [onboarding.id]
    assert [o.id for o in sdk.onboardings.list_for_customer(other.id)] == [second.id]
    assert [o.id for o in sdk.onboardings.list_for_customer(customer.id, state="waiting")] == [
        onboarding.id
    ]

    transitions = list(sdk.onboardings.transitions(onboarding.id))
    assert all(isinstance(t, PhaseTransition) for t in transitions)
    assert [(t.from_, t.to) for t in transitions] == [
        ("program_design", "launch"),
        ("before_getting_started", "program_design"),
    ]
    assert (
        transitions[0].actor == "API: SDK" and transitions[0].to_dict()["from"] == "program_design"
    )

    assert sdk.onboardings.delete(second.id).deleted is True
    with pytest.raises(NotFoundError) as caught:
        sdk.onboardings.retrieve(second.id)
    assert caught.value.code == "onboarding_not_found"


def test_tasks(sdk: PivotalApi, served: set[tuple[str, str]]) -> None:
    require_routes(
        served,
        "GET /api/v1/onboardings/{id}/tasks",
        "POST /api/v1/onboardings/{id}/tasks",
        "GET /api/v1/tasks/{id}",
        "PATCH /api/v1/tasks/{id}",
        "DELETE /api/v1/tasks/{id}",
    )
    customer = sdk.customers.create(name="Aurora")
    onboarding = sdk.onboardings.create(customer_id=customer.id)
    kickoff = sdk.tasks.create(
        onboarding.id, title="Kickoff", due_date=date(2027, 1, 2), assignee_email="csm@example.com"
    )
    assert isinstance(kickoff, Task) and kickoff.object == "task"
    assert kickoff.onboarding_id == onboarding.id and kickoff.customer_id == customer.id
    assert kickoff.due_date == date(2027, 1, 2) and kickoff.completed is False
    agenda = sdk.tasks.create(onboarding.display_id, title="Agenda", parent_task_id=kickoff.id)
    assert agenda.parent_task_id == kickoff.id

    assert sdk.tasks.retrieve(kickoff.display_id) == kickoff
    done = sdk.tasks.update(agenda.id, completed=True)
    assert done.completed is True and done.completed_by == "API: SDK"
    assert isinstance(done.completed_at, datetime)

    assert {t.id for t in sdk.tasks.list(onboarding.id)} == {kickoff.id, agenda.id}
    assert [t.id for t in sdk.tasks.list(onboarding.id, completed=True)] == [agenda.id]
    assert sdk.tasks.delete(agenda.id).deleted is True
    assert [t.id for t in sdk.tasks.list(onboarding.id)] == [kickoff.id]


def test_activity(sdk: PivotalApi, served: set[tuple[str, str]]) -> None:
    require_routes(served, "GET /api/v1/customers/{id}/activity")
    customer = sdk.customers.create(name="Aurora", plan="starter")
    sdk.customers.update(customer.id, plan="enterprise")
    entries = list(sdk.activity.list(customer.display_id))
    assert all(isinstance(e, Activity) for e in entries)
    assert [e.event_type for e in entries] == ["customer.updated", "customer.created"]
    latest = entries[0]
    assert latest.id.startswith("act_") and latest.customer_id == customer.id
    assert latest.actor == "API: SDK" and latest.actor_type == "api_key"
    assert latest.changes == {"plan": {"from": "starter", "to": "enterprise"}}


def test_events(sdk: PivotalApi, served: set[tuple[str, str]]) -> None:
    require_routes(served, "GET /api/v1/events", "GET /api/v1/events/{id}")
    before = datetime.now(UTC)
    customer = sdk.customers.create(name="Aurora")
    sdk.customers.update(customer.id, plan="enterprise")

    events = list(sdk.events.list(created_after=before))
    assert [e.type for e in events] == ["customer.updated", "customer.created"]
    updated = events[0]
    assert isinstance(updated, Event) and updated.id.startswith("evt_")
    assert updated.livemode is True and updated.api_version == "v1"
    assert isinstance(updated.data.object, Customer) and updated.data.object.plan == "enterprise"
    assert updated.data.previous_attributes == {"plan": None}
    assert [e.id for e in sdk.events.list(type="customer.created")] == [events[1].id]
    assert sdk.events.retrieve(updated.id) == updated


def test_webhook_endpoints_and_deliveries(sdk: PivotalApi, served: set[tuple[str, str]]) -> None:
    require_routes(served, *WEBHOOK_ROUTES)
    # Nothing listens on the discard port: deliveries fail, which is all this test needs.
    endpoint = sdk.webhook_endpoints.create(
        url="http://127.0.0.1:9/hooks", enabled_events=["customer.created"], description="CRM"
    )
    assert isinstance(endpoint, WebhookEndpoint) and endpoint.id.startswith("ep_")
    assert endpoint.secret is not None and endpoint.secret.startswith("whsec_")
    assert endpoint.enabled_events == ["customer.created"] and endpoint.disabled is False

    fetched = sdk.webhook_endpoints.retrieve(endpoint.id)
    assert fetched.secret is None and fetched.url == endpoint.url
    assert [e.id for e in sdk.webhook_endpoints.list()] == [endpoint.id]
    updated = sdk.webhook_endpoints.update(
        endpoint.id, description="CRM sync", enabled_events=["*"]
    )
    assert updated.description == "CRM sync" and updated.enabled_events == ["*"]

    rotated = sdk.webhook_endpoints.rotate_secret(endpoint.id)
    assert rotated.secret is not None and rotated.secret.startswith("whsec_")
    assert rotated.secret != endpoint.secret

    sdk.customers.create(name="Aurora")
    deadline = time.monotonic() + 15
    while not (deliveries := list(sdk.webhook_endpoints.deliveries(endpoint.id))):
        assert time.monotonic() < deadline, "no delivery was recorded for the endpoint"
        time.sleep(0.2)
    assert all(isinstance(d, WebhookDelivery) for d in deliveries)
    first = deliveries[0]
    assert first.id.startswith("msg_") and first.endpoint_id == endpoint.id

    replay = sdk.webhook_deliveries.replay(first.id)
    assert isinstance(replay, WebhookDelivery) and replay.id != first.id
    assert (replay.event_id, replay.event_type) == (first.event_id, first.event_type)

    assert sdk.webhook_endpoints.delete(endpoint.id).deleted is True
    with pytest.raises(NotFoundError) as caught:
        sdk.webhook_endpoints.retrieve(endpoint.id)
    assert caught.value.code == "webhook_endpoint_not_found"
