"""What the customer's activity shows: every change to it and to its contacts, onboardings
and tasks, with actor, mode and per-field changes (SPEC §7.6)."""

from __future__ import annotations

import re

from sqlalchemy import text

from activity.helpers import ENTRY_KEYS, activity_url, entries, summary
from support import auth

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
ACT_ID = re.compile(r"^act_[a-z][a-z0-9]{23}$")


def test_entry_shape(api, customer):
    response = api.get(activity_url(customer))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"object": "list", "data": body["data"], "has_more": False, "next_cursor": None}
    (entry,) = body["data"]
    assert list(entry) == ENTRY_KEYS
    assert ACT_ID.match(entry["id"])
    assert TIMESTAMP.match(entry["created_at"])
    assert entry == {
        "object": "activity",
        "id": entry["id"],
        "customer_id": customer["id"],
        "actor": "API: CRM sync",
        "actor_type": "api_key",
        "livemode": True,
        "event_type": "customer.created",
        "target_type": "customer",
        "target_id": customer["id"],
        "changes": None,
        "created_at": entry["created_at"],
    }


def test_the_customer_by_display_id(api, customer):
    assert (
        api.get(activity_url(str(customer["display_id"]))).json()
        == api.get(activity_url(customer)).json()
    )


def test_customer_update_records_per_field_changes(api, customer):
    api.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"plan": "enterprise", "mrr": 99_00, "metadata": {"tier": 1}},
    )
    update = entries(api, customer)[-1]
    assert (update["event_type"], update["target_type"]) == ("customer.updated", "customer")
    assert update["changes"] == {
        "plan": {"from": "starter", "to": "enterprise"},
        "mrr": {"from": None, "to": 9900},
        "metadata": {"from": {}, "to": {"tier": 1}},
    }


def test_changes_python_would_call_equal_are_still_recorded(api, customer):
    api.patch(f"/api/v1/customers/{customer['id']}", json={"metadata": {"a": 1, "b": 2}})
    api.patch(f"/api/v1/customers/{customer['id']}", json={"metadata": {"a": True, "b": 2}})
    api.patch(f"/api/v1/customers/{customer['id']}", json={"metadata": {"b": 2, "a": True}})
    changes = [e["changes"] for e in entries(api, customer)[1:]]
    assert changes[1] == {"metadata": {"from": {"a": 1, "b": 2}, "to": {"a": True, "b": 2}}}
    # Same keys, new stored order: the stored value (and what the API returns) changed.
    assert list(changes[2]["metadata"]["to"]) == ["b", "a"]
    assert list(changes[2]["metadata"]["from"]) == ["a", "b"]


def test_contact_changes(api, customer):
    path = f"/api/v1/customers/{customer['id']}/contacts"
    first = api.post(path, json={"name": "Ana", "email": "ana@x.example", "is_primary": True})
    first = first.json()
    second = api.post(path, json={"name": "Bo", "email": "bo@x.example", "is_primary": True})
    second = second.json()
    api.patch(f"/api/v1/contacts/{second['id']}", json={"title": "CTO"})
    api.delete(f"/api/v1/contacts/{second['id']}")
    found = entries(api, customer)[1:]
    assert [(e["event_type"], e["target_type"], e["target_id"]) for e in found] == [
        ("contact.created", "contact", first["id"]),
        ("contact.updated", "contact", first["id"]),  # lost the primary flag
        ("contact.created", "contact", second["id"]),
        ("contact.updated", "contact", second["id"]),
        ("contact.deleted", "contact", second["id"]),
    ]
    assert found[1]["changes"] == {"is_primary": {"from": True, "to": False}}
    assert found[3]["changes"] == {"title": {"from": None, "to": "CTO"}}
    assert found[0]["changes"] is None and found[4]["changes"] is None


def test_onboarding_changes_and_phase_changes(api, customer):
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"name": "Kickoff"})
    api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": "review"})
    api.delete(f"/api/v1/onboardings/{onboarding['id']}")
    found = entries(api, customer)[1:]
    assert [e["event_type"] for e in found] == [
        "onboarding.created",
        "onboarding.updated",
        "onboarding.updated",
        "onboarding.phase_changed",
        "onboarding.deleted",
    ]
    assert all(e["target_id"] == onboarding["id"] for e in found)
    assert found[1]["changes"] == {"name": {"from": None, "to": "Kickoff"}}
    assert found[2]["changes"] == {"phase": {"from": "before_getting_started", "to": "review"}}
    assert found[3]["changes"] == {"phase": {"from": "before_getting_started", "to": "review"}}


def test_task_changes_land_on_the_customer(api, customer):
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    task = api.post(f"/api/v1/onboardings/{onboarding['id']}/tasks", json={"title": "t"}).json()
    api.patch(f"/api/v1/tasks/{task['id']}", json={"completed": True})
    api.delete(f"/api/v1/tasks/{task['id']}")
    assert summary(api, customer)[2:] == [
        ("task.created", task["id"]),
        ("task.updated", task["id"]),
        ("task.completed", task["id"]),
        ("task.deleted", task["id"]),
    ]


def test_entries_of_deleted_children_stay(api, customer):
    contact = api.post(
        f"/api/v1/customers/{customer['id']}/contacts", json={"name": "A", "email": "a@x.example"}
    ).json()
    api.delete(f"/api/v1/contacts/{contact['id']}")
    assert [e for e, _ in summary(api, customer)] == [
        "customer.created",
        "contact.created",
        "contact.deleted",
    ]


def test_only_this_customers_entries(api, customer):
    other = api.post("/api/v1/customers", json={"name": "Other"}).json()
    api.patch(f"/api/v1/customers/{other['id']}", json={"plan": "x"})
    assert summary(api, customer) == [("customer.created", customer["id"])]
    assert summary(api, other) == [
        ("customer.created", other["id"]),
        ("customer.updated", other["id"]),
    ]


def test_actor_and_livemode_follow_the_key(api, keys, make_key, customer):
    test_key = auth(keys.test)
    api.patch(f"/api/v1/customers/{customer['id']}", json={"plan": "pro"}, headers=test_key)
    renamed = auth(make_key(name="Billing job"))
    api.patch(f"/api/v1/customers/{customer['id']}", json={"plan": "max"}, headers=renamed)
    found = entries(api, customer)
    assert [(e["actor"], e["actor_type"], e["livemode"]) for e in found] == [
        ("API: CRM sync", "api_key", True),
        ("API: CI", "api_key", False),
        ("API: Billing job", "api_key", True),
    ]
    # The test key reads the same log.
    assert api.get(activity_url(customer), headers=test_key).json()["data"] == list(reversed(found))


def test_no_op_patches_record_nothing(api, customer):
    api.patch(f"/api/v1/customers/{customer['id']}", json={})
    api.patch(
        f"/api/v1/customers/{customer['id']}", json={"plan": "starter", "name": " Aurora Foods"}
    )
    assert summary(api, customer) == [("customer.created", customer["id"])]


def test_customer_delete_is_recorded(api, db, customer):
    api.delete(f"/api/v1/customers/{customer['id']}")
    with db.transaction(write=False) as conn:
        rows = conn.execute(
            text(
                "SELECT event_type, changes FROM activity"
                " WHERE customer_id = :c ORDER BY created_at"
            ),
            {"c": customer["id"]},
        ).all()
    assert [tuple(r) for r in rows] == [("customer.created", None), ("customer.deleted", None)]
