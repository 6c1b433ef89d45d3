"""Field rules of tasks, on create and on update, with the SPEC's codes (SPEC §3, §7.5)."""

from __future__ import annotations

import pytest

from support import assert_error

URL = "/api/v1/tasks"

INVALID = [
    ("title", None, "invalid_type"),
    ("title", 12, "invalid_type"),
    ("title", "", "too_small"),
    ("title", "   ", "too_small"),
    ("title", "x" * 256, "too_big"),
    ("title", "a\x00b", "invalid_string"),
    ("description", "x" * 10_001, "too_big"),
    ("description", ["x"], "invalid_type"),
    ("assignee_email", "not-an-email", "invalid_string"),
    ("assignee_email", "a@b@example.com", "invalid_string"),
    ("assignee_email", 5, "invalid_type"),
    ("due_date", "2027-02-30", "invalid_string"),
    ("due_date", "2027-1-5", "invalid_string"),
    ("due_date", "2027-01-15T00:00:00Z", "invalid_string"),
    ("due_date", "15/01/2027", "invalid_string"),
    ("due_date", 20270115, "invalid_type"),
    ("completed", "true", "invalid_type"),
    ("completed", 1, "invalid_type"),
    ("completed", None, "invalid_type"),
    ("position", -1, "too_small"),
    ("position", 2**31, "too_big"),
    ("position", 2**70, "too_big"),
    ("position", "1", "invalid_type"),
    ("position", 1.5, "invalid_type"),
    ("position", True, "invalid_type"),
    ("position", None, "invalid_type"),
    ("metadata", None, "invalid_type"),
    ("metadata", [1], "invalid_type"),
    ("metadata", {f"k{i}": i for i in range(51)}, "too_big"),
    ("parent_task_id", "", "too_small"),
    ("parent_task_id", True, "invalid_type"),
    ("parent_task_id", 0, "invalid_type"),
    ("parent_task_id", ["x"], "invalid_type"),
]


def tasks_url(onboarding):
    return f"/api/v1/onboardings/{onboarding['id']}/tasks"


def test_title_is_required(api, onboarding):
    assert_error(api.post(tasks_url(onboarding), json={}), 400, "missing_field", "title")
    response = api.post(tasks_url(onboarding), json={"position": 1})
    assert_error(response, 400, "missing_field", "title")


@pytest.mark.parametrize(("field", "value", "code"), INVALID)
def test_invalid_values_on_create(api, onboarding, field, value, code):
    body = {"title": "ok", field: value}
    assert_error(api.post(tasks_url(onboarding), json=body), 400, code, field)
    assert api.get(tasks_url(onboarding)).json()["data"] == []


@pytest.mark.parametrize(("field", "value", "code"), INVALID)
def test_invalid_values_on_update(api, add_task, field, value, code):
    task = add_task()
    assert_error(api.patch(f"{URL}/{task['id']}", json={field: value}), 400, code, field)
    assert api.get(f"{URL}/{task['id']}").json() == task


def test_unknown_keys_are_refused(api, onboarding, add_task):
    response = api.post(tasks_url(onboarding), json={"title": "x", "assignee": "a@example.com"})
    assert_error(response, 400, "unrecognized_keys", "assignee")
    task = add_task()
    assert_error(
        api.patch(f"{URL}/{task['id']}", json={"done": True}), 400, "unrecognized_keys", "done"
    )


def test_limits_are_inclusive(api, onboarding):
    body = {
        "title": "t" * 255,
        "description": "d" * 10_000,
        "position": 2**31 - 1,
        "due_date": "9999-12-31",
    }
    response = api.post(tasks_url(onboarding), json=body)
    assert response.status_code == 201, response.text
    task = response.json()
    assert (len(task["title"]), len(task["description"])) == (255, 10_000)
    assert task["position"] == 2**31 - 1
    assert task["due_date"] == "9999-12-31"


def test_strings_are_stored_trimmed(api, onboarding):
    body = {"title": "  Title ", "description": "  text  ", "due_date": " 2027-03-04 "}
    task = api.post(tasks_url(onboarding), json=body).json()
    assert (task["title"], task["description"], task["due_date"]) == ("Title", "text", "2027-03-04")


def test_a_bad_request_changes_nothing_even_when_other_fields_are_valid(api, add_task):
    task = add_task()
    response = api.patch(f"{URL}/{task['id']}", json={"title": "New", "position": -5})
    assert_error(response, 400, "too_small", "position")
    assert api.get(f"{URL}/{task['id']}").json() == task


def test_body_must_be_a_json_object(api, onboarding, add_task):
    headers = {"Content-Type": "application/json"}
    for path, send in ((tasks_url(onboarding), api.post), (f"{URL}/{add_task()['id']}", api.patch)):
        assert_error(send(path, content=b"[1]", headers=headers), 400, "invalid_json")
        assert_error(send(path, content=b"{nope", headers=headers), 400, "invalid_json")
        response = send(path, content=b'{"title": "x"}', headers={"Content-Type": "text/plain"})
        assert_error(response, 415, "invalid_content_type")
