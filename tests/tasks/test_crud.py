"""Create, read, update and delete one task; soft deletes; hiding; isolation (SPEC §7.5)."""

from __future__ import annotations

import pytest

from support import assert_error
from tasks.helpers import CUID, TASK_KEYS, TIMESTAMP

URL = "/api/v1/tasks"
UNKNOWN_REFS = ["zzzzzzzzzzzzzzzzzzzzzzzz", "99", "0", "99999999999999999999999", "task"]


def tasks_url(onboarding):
    return f"/api/v1/onboardings/{onboarding['id']}/tasks"


# ---- create -----------------------------------------------------------------------------------


def test_create_answers_201_with_the_whole_task(api, onboarding):
    response = api.post(tasks_url(onboarding), json={"title": "  Send the welcome kit  "})
    assert response.status_code == 201, response.text
    task = response.json()
    assert list(task) == TASK_KEYS
    assert CUID.match(task["id"])
    assert task == {
        "object": "task",
        "id": task["id"],
        "display_id": 1,
        "onboarding_id": onboarding["id"],
        "customer_id": onboarding["customer_id"],
        "parent_task_id": None,
        "title": "Send the welcome kit",
        "description": None,
        "assignee_email": None,
        "due_date": None,
        "completed": False,
        "completed_at": None,
        "completed_by": None,
        "position": 0,
        "metadata": {},
        "created_at": task["created_at"],
        "updated_at": task["created_at"],
    }
    assert TIMESTAMP.match(task["created_at"])
    assert api.get(f"{URL}/{task['id']}").json() == task


def test_create_with_every_field(api, onboarding):
    body = {
        "title": "Kickoff call",
        "description": "Agenda: goals, timeline.",
        "assignee_email": "  CSM@Pivotal.example ",
        "due_date": "2027-01-15",
        "position": 7,
        "metadata": {"test": True, "nested": {"a": [1, 2.5, None]}},
    }
    task = api.post(tasks_url(onboarding), json=body).json()
    assert task["description"] == "Agenda: goals, timeline."
    assert task["assignee_email"] == "csm@pivotal.example"
    assert task["due_date"] == "2027-01-15"
    assert task["position"] == 7
    assert task["metadata"] == body["metadata"]
    assert api.get(f"{URL}/{task['display_id']}").json() == task


def test_create_under_an_onboarding_by_display_id(api, make_onboarding):
    make_onboarding()
    second = make_onboarding()
    response = api.post(f"/api/v1/onboardings/{second['display_id']}/tasks", json={"title": "x"})
    assert response.status_code == 201, response.text
    assert response.json()["onboarding_id"] == second["id"]


def test_display_ids_count_per_workspace_across_onboardings(api, make_onboarding, add_task):
    first, second = make_onboarding(), make_onboarding()
    assert [add_task(first["id"])["display_id"] for _ in range(2)] == [1, 2]
    assert add_task(second["id"])["display_id"] == 3


def test_display_ids_are_never_reused(api, add_task):
    add_task()
    last = add_task()
    api.delete(f"{URL}/{last['id']}")
    assert add_task()["display_id"] == 3


@pytest.mark.parametrize("ref", UNKNOWN_REFS)
def test_create_under_unknown_onboarding_is_404(api, onboarding, ref):
    response = api.post(f"/api/v1/onboardings/{ref}/tasks", json={"title": "x"})
    assert_error(response, 404, "onboarding_not_found")


def test_create_under_deleted_onboarding_or_customer_is_404(api, customer, onboarding):
    api.delete(f"/api/v1/onboardings/{onboarding['id']}")
    assert_error(api.post(tasks_url(onboarding), json={"title": "x"}), 404, "onboarding_not_found")
    other = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    api.delete(f"/api/v1/customers/{customer['id']}")
    assert_error(api.post(tasks_url(other), json={"title": "x"}), 404, "onboarding_not_found")


def test_create_under_another_workspaces_onboarding_is_404(other_api, onboarding):
    for ref in (onboarding["id"], onboarding["display_id"]):
        response = other_api.post(f"/api/v1/onboardings/{ref}/tasks", json={"title": "x"})
        assert_error(response, 404, "onboarding_not_found")


@pytest.mark.parametrize(
    "key", ["id", "onboarding_id", "customer_id", "completed_at", "completed_by", "display_id"]
)
def test_read_only_fields_are_unrecognized_keys(api, onboarding, add_task, key):
    response = api.post(tasks_url(onboarding), json={"title": "x", key: "value"})
    assert_error(response, 400, "unrecognized_keys", key)
    task = add_task()
    response = api.patch(f"{URL}/{task['id']}", json={key: "value"})
    assert_error(response, 400, "unrecognized_keys", key)
    assert api.get(f"{URL}/{task['id']}").json() == task


# ---- read -------------------------------------------------------------------------------------


def test_get_by_id_and_display_id(api, add_task):
    add_task()
    second = add_task()
    assert api.get(f"{URL}/{second['id']}").json() == second
    assert api.get(f"{URL}/2").json() == second


@pytest.mark.parametrize("ref", UNKNOWN_REFS)
def test_unknown_task_is_404_everywhere(api, add_task, ref):
    add_task()
    assert_error(api.get(f"{URL}/{ref}"), 404, "task_not_found")
    assert_error(api.patch(f"{URL}/{ref}", json={"title": "x"}), 404, "task_not_found")
    assert_error(api.delete(f"{URL}/{ref}"), 404, "task_not_found")


def test_another_workspaces_task_is_404(api, other_api, add_task):
    task = add_task()
    for ref in (task["id"], task["display_id"]):
        assert_error(other_api.get(f"{URL}/{ref}"), 404, "task_not_found")
        assert_error(other_api.patch(f"{URL}/{ref}", json={"title": "x"}), 404, "task_not_found")
        assert_error(other_api.delete(f"{URL}/{ref}"), 404, "task_not_found")
    assert api.get(f"{URL}/{task['id']}").json() == task


# ---- update -----------------------------------------------------------------------------------


def test_patch_changes_only_the_keys_sent(api, add_task):
    task = add_task(description="d", assignee_email="a@example.com", due_date="2027-02-01")
    body = api.patch(f"{URL}/{task['display_id']}", json={"title": "Renamed"}).json()
    assert body["title"] == "Renamed"
    assert {k: v for k, v in body.items() if k not in ("title", "updated_at")} == {
        k: v for k, v in task.items() if k not in ("title", "updated_at")
    }
    assert body["updated_at"] > task["updated_at"]
    assert body["created_at"] == task["created_at"]
    assert api.get(f"{URL}/{task['id']}").json() == body


def test_patch_null_clears_nullable_fields(api, add_task):
    task = add_task(description="d", assignee_email="a@example.com", due_date="2027-02-01")
    body = api.patch(
        f"{URL}/{task['id']}", json={"description": None, "assignee_email": None, "due_date": None}
    ).json()
    assert (body["description"], body["assignee_email"], body["due_date"]) == (None, None, None)


def test_patch_metadata_replaces_it(api, add_task):
    task = add_task(metadata={"a": 1, "b": 2})
    body = api.patch(f"{URL}/{task['id']}", json={"metadata": {"c": 3}}).json()
    assert body["metadata"] == {"c": 3}


def test_empty_patch_and_same_values_change_nothing(api, db, add_task):
    task = add_task(title="Same", position=3, due_date="2027-01-01", metadata={"k": "v"})
    assert api.patch(f"{URL}/{task['id']}", json={}).json() == task
    same = {"title": " Same ", "position": 3, "due_date": "2027-01-01", "metadata": {"k": "v"}}
    assert api.patch(f"{URL}/{task['id']}", json=same).json() == task
    assert api.get(f"{URL}/{task['id']}").json() == task


def test_patch_position(api, add_task):
    task = add_task()
    assert api.patch(f"{URL}/{task['id']}", json={"position": 42}).json()["position"] == 42


# ---- delete -----------------------------------------------------------------------------------


def test_delete_answers_the_deleted_object_and_hides_the_task(api, onboarding, add_task):
    task = add_task()
    response = api.delete(f"{URL}/{task['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "object": "deleted",
        "id": task["id"],
        "display_id": task["display_id"],
        "deleted": True,
    }
    assert_error(api.get(f"{URL}/{task['id']}"), 404, "task_not_found")
    assert_error(api.patch(f"{URL}/{task['id']}", json={"title": "x"}), 404, "task_not_found")
    assert api.get(tasks_url(onboarding)).json()["data"] == []


def test_second_delete_returns_the_same_body(api, add_task):
    task = add_task()
    first = api.delete(f"{URL}/{task['id']}")
    second = api.delete(f"{URL}/{task['display_id']}")
    assert second.status_code == 200
    assert first.json() == second.json()


# ---- hidden with their onboarding or customer --------------------------------------------------


@pytest.mark.parametrize("parent", ["onboarding", "customer"])
def test_tasks_are_hidden_when_their_onboarding_or_customer_is_deleted(
    api, customer, onboarding, add_task, parent
):
    task = add_task()
    target = onboarding if parent == "onboarding" else customer
    assert api.delete(f"/api/v1/{parent}s/{target['id']}").status_code == 200
    for ref in (task["id"], task["display_id"]):
        assert_error(api.get(f"{URL}/{ref}"), 404, "task_not_found")
        assert_error(api.patch(f"{URL}/{ref}", json={"title": "x"}), 404, "task_not_found")
        assert_error(api.delete(f"{URL}/{ref}"), 404, "task_not_found")
    assert_error(api.get(tasks_url(onboarding)), 404, "onboarding_not_found")


def test_a_deleted_onboarding_hides_only_its_own_tasks(api, make_onboarding, add_task):
    kept, dropped = make_onboarding(), make_onboarding()
    kept_task = add_task(kept["id"])
    dropped_task = add_task(dropped["id"])
    api.delete(f"/api/v1/onboardings/{dropped['id']}")
    assert api.get(f"{URL}/{kept_task['id']}").json() == kept_task
    assert_error(api.get(f"{URL}/{dropped_task['id']}"), 404, "task_not_found")
