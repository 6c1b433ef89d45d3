"""One level of subtasks: parent rules on create and update, and deletes that cascade."""

from __future__ import annotations

import pytest

from support import assert_error
from tasks.helpers import events

URL = "/api/v1/tasks"


def tasks_url(onboarding):
    return f"/api/v1/onboardings/{onboarding['id']}/tasks"


@pytest.mark.parametrize("form", ["id", "display_id", "display_id_string"])
def test_subtask_takes_the_parents_id_or_display_id(api, onboarding, add_task, form):
    add_task()
    parent = add_task()
    ref = {"id": parent["id"], "display_id": 2, "display_id_string": "2"}[form]
    child = api.post(tasks_url(onboarding), json={"title": "child", "parent_task_id": ref})
    assert child.status_code == 201, child.text
    assert child.json()["parent_task_id"] == parent["id"]


def test_subtasks_are_listed_with_the_other_tasks(api, onboarding, add_task):
    parent = add_task()
    child = add_task(parent_task_id=parent["id"])
    listed = api.get(tasks_url(onboarding)).json()["data"]
    assert [(t["id"], t["parent_task_id"]) for t in listed] == [
        (parent["id"], None),
        (child["id"], parent["id"]),
    ]


def test_a_subtask_cannot_have_subtasks(api, onboarding, add_task):
    parent = add_task()
    child = add_task(parent_task_id=parent["id"])
    response = api.post(tasks_url(onboarding), json={"title": "x", "parent_task_id": child["id"]})
    assert_error(response, 400, "invalid_parent", "parent_task_id")
    other = add_task()
    response = api.patch(f"{URL}/{other['id']}", json={"parent_task_id": child["id"]})
    assert_error(response, 400, "invalid_parent", "parent_task_id")


def parent_refs(api, make_onboarding, add_task, other_api):
    """Parent references that name no live task of the onboarding under test."""
    deleted = add_task()
    api.delete(f"{URL}/{deleted['id']}")
    elsewhere = add_task(make_onboarding()["id"])
    customer = other_api.post("/api/v1/customers", json={"name": "Globex"}).json()
    foreign_onboarding = other_api.post(
        "/api/v1/onboardings", json={"customer_id": customer["id"]}
    ).json()
    foreign = other_api.post(
        f"/api/v1/onboardings/{foreign_onboarding['id']}/tasks", json={"title": "theirs"}
    ).json()
    return {
        "unknown id": "zzzzzzzzzzzzzzzzzzzzzzzz",
        "unknown display id": 999,
        "huge display id": "99999999999999999999999",
        "deleted task": deleted["id"],
        "task of another onboarding": elsewhere["id"],
        "task of another workspace": foreign["id"],
    }


def test_parent_must_be_a_live_task_of_the_same_onboarding(
    api, other_api, onboarding, make_onboarding, add_task
):
    task = add_task()
    for ref in parent_refs(api, make_onboarding, add_task, other_api).values():
        response = api.post(tasks_url(onboarding), json={"title": "x", "parent_task_id": ref})
        assert_error(response, 400, "invalid_parent", "parent_task_id")
        response = api.patch(f"{URL}/{task['id']}", json={"parent_task_id": ref})
        assert_error(response, 400, "invalid_parent", "parent_task_id")
    assert api.get(f"{URL}/{task['id']}").json() == task


def test_a_task_cannot_be_its_own_parent(api, add_task):
    task = add_task()
    for ref in (task["id"], task["display_id"]):
        response = api.patch(f"{URL}/{task['id']}", json={"parent_task_id": ref})
        assert_error(response, 400, "invalid_parent", "parent_task_id")


def test_a_task_with_subtasks_cannot_become_a_subtask(api, add_task):
    parent = add_task()
    add_task(parent_task_id=parent["id"])
    other = add_task()
    response = api.patch(f"{URL}/{parent['id']}", json={"parent_task_id": other["id"]})
    assert_error(response, 400, "invalid_parent", "parent_task_id")


def test_a_task_whose_subtasks_are_deleted_can_become_a_subtask(api, add_task):
    parent = add_task()
    child = add_task(parent_task_id=parent["id"])
    api.delete(f"{URL}/{child['id']}")
    other = add_task()
    response = api.patch(f"{URL}/{parent['id']}", json={"parent_task_id": other["display_id"]})
    assert response.status_code == 200, response.text
    assert response.json()["parent_task_id"] == other["id"]


def test_patch_moves_and_clears_the_parent(api, add_task):
    first, second = add_task(), add_task()
    child = add_task(parent_task_id=first["id"])
    moved = api.patch(f"{URL}/{child['id']}", json={"parent_task_id": second["id"]}).json()
    assert moved["parent_task_id"] == second["id"]
    cleared = api.patch(f"{URL}/{child['id']}", json={"parent_task_id": None}).json()
    assert cleared["parent_task_id"] is None
    again = api.patch(f"{URL}/{child['id']}", json={"parent_task_id": None}).json()
    assert again == cleared


def test_sending_the_same_parent_changes_nothing(api, add_task):
    parent = add_task()
    child = add_task(parent_task_id=parent["id"])
    body = api.patch(f"{URL}/{child['id']}", json={"parent_task_id": parent["display_id"]}).json()
    assert body == child


def test_deleting_a_parent_deletes_its_subtasks(api, db, onboarding, add_task):
    parent = add_task()
    children = [add_task(parent_task_id=parent["id"]) for _ in range(2)]
    already_gone = add_task(parent_task_id=parent["id"])
    api.delete(f"{URL}/{already_gone['id']}")
    bystander = add_task()
    assert api.delete(f"{URL}/{parent['id']}").json()["id"] == parent["id"]
    for task in (parent, *children):
        assert_error(api.get(f"{URL}/{task['id']}"), 404, "task_not_found")
    assert [t["id"] for t in api.get(tasks_url(onboarding)).json()["data"]] == [bystander["id"]]
    deleted = [e["data"]["object"]["id"] for e in events(db, "task.deleted")]
    assert deleted == [already_gone["id"], parent["id"], *(c["id"] for c in children)]
    activity = api.get(f"/api/v1/customers/{onboarding['customer_id']}/activity").json()["data"]
    deleted_entries = [a["target_id"] for a in activity if a["event_type"] == "task.deleted"]
    assert sorted(deleted_entries) == sorted(deleted)
    # A second delete of the parent emits nothing more.
    api.delete(f"{URL}/{parent['id']}")
    assert len(events(db, "task.deleted")) == 4


def test_null_parent_makes_a_top_level_task(api, onboarding):
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
    response = api.post(path, json={"title": "top", "parent_task_id": None})
    assert response.status_code == 201, response.text
    assert response.json()["parent_task_id"] is None
