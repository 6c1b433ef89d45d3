"""Completing a task records when and by whom; un-completing clears both (SPEC §7.5)."""

from __future__ import annotations

from support import auth
from tasks.helpers import events

URL = "/api/v1/tasks"


def test_completing_sets_completed_at_and_completed_by(api, add_task):
    task = add_task()
    body = api.patch(f"{URL}/{task['id']}", json={"completed": True}).json()
    assert body["completed"] is True
    assert body["completed_by"] == "API: CRM sync"
    assert body["completed_at"] == body["updated_at"]
    assert body["completed_at"] > task["created_at"]
    assert api.get(f"{URL}/{task['id']}").json() == body


def test_completed_by_names_a_test_key_too(api, keys, add_task):
    task = add_task()
    body = api.patch(
        f"{URL}/{task['id']}", json={"completed": True}, headers=auth(keys.test)
    ).json()
    assert body["completed_by"] == "API: CI"


def test_uncompleting_clears_completed_at_and_completed_by(api, add_task):
    task = add_task()
    api.patch(f"{URL}/{task['id']}", json={"completed": True})
    body = api.patch(f"{URL}/{task['id']}", json={"completed": False}).json()
    assert (body["completed"], body["completed_at"], body["completed_by"]) == (False, None, None)


def test_completing_twice_keeps_the_first_completion(api, keys, db, add_task):
    task = add_task()
    first = api.patch(f"{URL}/{task['id']}", json={"completed": True}).json()
    second = api.patch(
        f"{URL}/{task['id']}", json={"completed": True}, headers=auth(keys.test)
    ).json()
    assert second == first
    assert [e["type"] for e in events(db)] == ["task.created", "task.updated", "task.completed"]


def test_create_completed(api, db, add_task):
    task = add_task(completed=True)
    assert task["completed"] is True
    assert task["completed_at"] == task["created_at"]
    assert task["completed_by"] == "API: CRM sync"
    created, completed = events(db)
    assert (created["type"], completed["type"]) == ("task.created", "task.completed")
    assert created["data"] == {"object": task, "previous_attributes": None}
    assert completed["data"] == {"object": task, "previous_attributes": None}


def test_create_not_completed_explicitly(db, add_task):
    task = add_task(completed=False)
    assert (task["completed"], task["completed_at"], task["completed_by"]) == (False, None, None)
    assert [e["type"] for e in events(db)] == ["task.created"]


def test_completion_events(api, db, add_task):
    task = add_task()
    done = api.patch(f"{URL}/{task['id']}", json={"completed": True, "title": "Done"}).json()
    undone = api.patch(f"{URL}/{task['id']}", json={"completed": False}).json()
    created, updated, completed, reopened = events(db)
    assert [created["type"], updated["type"], completed["type"], reopened["type"]] == [
        "task.created",
        "task.updated",
        "task.completed",
        "task.updated",
    ]
    assert updated["data"] == {
        "object": done,
        "previous_attributes": {
            "title": task["title"],
            "completed": False,
            "completed_at": None,
            "completed_by": None,
        },
    }
    assert completed["data"] == {
        "object": done,
        "previous_attributes": {"completed": False, "completed_at": None, "completed_by": None},
    }
    assert reopened["data"] == {
        "object": undone,
        "previous_attributes": {
            "completed": True,
            "completed_at": done["completed_at"],
            "completed_by": "API: CRM sync",
        },
    }
    assert all(e["livemode"] is True for e in (created, updated, completed, reopened))


def test_completed_filter(api, onboarding, add_task):
    open_task, done_task = add_task(), add_task(completed=True)
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"

    def ids(params):
        return [t["id"] for t in api.get(path, params=params).json()["data"]]

    assert ids({"completed": "true"}) == [done_task["id"]]
    assert ids({"completed": "false"}) == [open_task["id"]]
    assert ids({}) == [open_task["id"], done_task["id"]]
    api.patch(f"{URL}/{open_task['id']}", json={"completed": True})
    assert ids({"completed": "true"}) == [open_task["id"], done_task["id"]]
    assert ids({"completed": "false"}) == []
