"""Entries are written in the transaction of their change: a refused request leaves none."""

from __future__ import annotations

import pytest

from activity.helpers import summary
from support import assert_error


@pytest.fixture
def world(api, customer):
    path = f"/api/v1/customers/{customer['id']}/contacts"
    contact = api.post(path, json={"name": "Ana", "email": "ana@x.example"}).json()
    api.post(path, json={"name": "Bo", "email": "bo@x.example"})
    api.post("/api/v1/customers", json={"name": "Taken", "slug": "taken"})
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    task = api.post(f"/api/v1/onboardings/{onboarding['id']}/tasks", json={"title": "t"}).json()
    return {"customer": customer, "contact": contact, "onboarding": onboarding, "task": task}


def refused_requests(world):
    c, k, o, t = (world[n]["id"] for n in ("customer", "contact", "onboarding", "task"))
    conflicting = {"name": "x", "state": "paused", "waiting_on_customer": True}
    return [
        ("patch", f"/api/v1/customers/{c}", {"slug": "taken", "plan": "x"}, 409, "slug_taken",
         "slug"),
        ("patch", f"/api/v1/customers/{c}", {"plan": "x", "mrr": -1}, 400, "too_small", "mrr"),
        ("patch", f"/api/v1/contacts/{k}", {"title": "x", "email": "bo@x.example"}, 409,
         "email_taken", "email"),
        ("post", f"/api/v1/customers/{c}/contacts", {"name": "D", "email": "ana@x.example"}, 409,
         "email_taken", "email"),
        ("patch", f"/api/v1/onboardings/{o}", conflicting, 400, "conflicting_fields", None),
        ("patch", f"/api/v1/tasks/{t}", {"completed": True, "parent_task_id": t}, 400,
         "invalid_parent", "parent_task_id"),
        ("post", f"/api/v1/onboardings/{o}/tasks", {"title": ""}, 400, "too_small", "title"),
    ]  # fmt: skip


def test_refused_requests_leave_no_entry(api, world):
    before = summary(api, world["customer"])
    for method, path, body, status, code, field in refused_requests(world):
        assert_error(getattr(api, method)(path, json=body), status, code, field)
    assert summary(api, world["customer"]) == before


def test_idempotent_replay_adds_no_entry(api, customer):
    path = f"/api/v1/customers/{customer['id']}/contacts"
    headers = {"Idempotency-Key": "contact-1"}
    body = {"name": "Ana", "email": "ana@x.example"}
    first = api.post(path, json=body, headers=headers)
    replay = api.post(path, json=body, headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == first.content
    assert [e for e, _ in summary(api, customer)] == ["customer.created", "contact.created"]
