"""Every task change writes its events and its activity entries on the customer, in the
same transaction: a refused request leaves neither behind."""

from __future__ import annotations

import pytest

from support import assert_error, auth
from tasks.helpers import events

URL = "/api/v1/tasks"


def activity(api, onboarding, event_prefix="task."):
    """The customer's task entries, oldest first."""
    path = f"/api/v1/customers/{onboarding['customer_id']}/activity"
    body = api.get(path, params={"limit": 100}).json()
    return [a for a in reversed(body["data"]) if a["event_type"].startswith(event_prefix)]


def test_create_update_delete_events(api, db, add_task):
    task = add_task(title="Draft")
    updated = api.patch(f"{URL}/{task['id']}", json={"title": "Final", "position": 4}).json()
    api.delete(f"{URL}/{task['id']}")
    created, changed, deleted = events(db)
    assert created["type"] == "task.created"
    assert created["data"] == {"object": task, "previous_attributes": None}
    assert changed["type"] == "task.updated"
    assert changed["data"] == {
        "object": updated,
        "previous_attributes": {"title": "Draft", "position": 0},
    }
    assert deleted["type"] == "task.deleted"
    assert deleted["data"] == {"object": updated, "previous_attributes": None}
    assert all(e["livemode"] is True and e["api_version"] == "v1" for e in (created, changed))


def test_activity_entries_for_every_change(api, onboarding, add_task):
    task = add_task(title="Draft", due_date="2027-01-01")
    api.patch(f"{URL}/{task['id']}", json={"title": "Final", "due_date": None})
    done = api.patch(f"{URL}/{task['id']}", json={"completed": True}).json()
    api.delete(f"{URL}/{task['id']}")
    entries = activity(api, onboarding)
    assert [e["event_type"] for e in entries] == [
        "task.created",
        "task.updated",
        "task.updated",
        "task.completed",
        "task.deleted",
    ]
    for entry in entries:
        assert entry["customer_id"] == onboarding["customer_id"]
        assert (entry["target_type"], entry["target_id"]) == ("task", task["id"])
        assert (entry["actor"], entry["actor_type"], entry["livemode"]) == (
            "API: CRM sync",
            "api_key",
            True,
        )
    created, renamed, completed_update, completed, deleted = entries
    assert created["changes"] is None and deleted["changes"] is None
    assert renamed["changes"] == {
        "title": {"from": "Draft", "to": "Final"},
        "due_date": {"from": "2027-01-01", "to": None},
    }
    completion = {
        "completed": {"from": False, "to": True},
        "completed_at": {"from": None, "to": done["completed_at"]},
        "completed_by": {"from": None, "to": "API: CRM sync"},
    }
    assert completed_update["changes"] == completion
    assert completed["changes"] == completion


def test_test_key_changes_are_recorded_with_livemode_false(api, keys, db, onboarding, add_task):
    test_key = auth(keys.test)
    task = add_task()
    api.patch(f"{URL}/{task['id']}", json={"completed": True}, headers=test_key)
    entries = activity(api, onboarding)
    assert [(e["event_type"], e["actor"], e["livemode"]) for e in entries] == [
        ("task.created", "API: CRM sync", True),
        ("task.updated", "API: CI", False),
        ("task.completed", "API: CI", False),
    ]
    assert [e["livemode"] for e in events(db)] == [True, False, False]


def test_no_op_patch_records_nothing(api, db, onboarding, add_task):
    task = add_task(title="Same")
    api.patch(f"{URL}/{task['id']}", json={})
    api.patch(f"{URL}/{task['id']}", json={"title": "Same", "completed": False})
    assert [e["event_type"] for e in activity(api, onboarding)] == ["task.created"]
    assert [e["type"] for e in events(db)] == ["task.created"]


def test_metadata_changes_that_python_would_call_equal_are_recorded(api, onboarding, add_task):
    task = add_task(metadata={"flag": 1})
    body = api.patch(f"{URL}/{task['id']}", json={"metadata": {"flag": True}}).json()
    assert body["metadata"] == {"flag": True}
    entry = activity(api, onboarding)[-1]
    assert entry["changes"] == {"metadata": {"from": {"flag": 1}, "to": {"flag": True}}}


@pytest.mark.parametrize(
    "body",
    [
        {"title": "New", "position": -1},  # validation
        {"title": "New", "parent_task_id": "zzzzzzzzzzzzzzzzzzzzzzzz"},  # invalid_parent
        {"completed": True, "parent_task_id": "self"},  # invalid_parent after other changes
    ],
)
def test_refused_patch_leaves_no_activity_and_no_event(api, db, onboarding, add_task, body):
    task = add_task()
    if body.get("parent_task_id") == "self":
        body = {**body, "parent_task_id": task["id"]}
    response = api.patch(f"{URL}/{task['id']}", json=body)
    assert response.status_code == 400
    assert api.get(f"{URL}/{task['id']}").json() == task
    assert [e["event_type"] for e in activity(api, onboarding)] == ["task.created"]
    assert [e["type"] for e in events(db)] == ["task.created"]


def test_refused_create_leaves_no_activity_no_event_and_no_display_id(api, db, onboarding):
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
    response = api.post(path, json={"title": "x", "parent_task_id": "zzzzzzzzzzzzzzzzzzzzzzzz"})
    assert_error(response, 400, "invalid_parent", "parent_task_id")
    assert activity(api, onboarding) == []
    assert events(db) == []
    assert api.post(path, json={"title": "ok"}).json()["display_id"] == 1


def test_idempotent_replay_records_nothing_more(api, db, onboarding):
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
    headers = {"Idempotency-Key": "task-create-1"}
    first = api.post(path, json={"title": "Once"}, headers=headers)
    again = api.post(path, json={"title": "Once"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert len(activity(api, onboarding)) == 1
    assert len(events(db)) == 1
    conflict = api.post(path, json={"title": "Other"}, headers=headers)
    assert_error(conflict, 409, "idempotency_key_reused")
    assert len(activity(api, onboarding)) == 1
