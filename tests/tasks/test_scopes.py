"""Task endpoints need read:tasks / write:tasks (SPEC §2.1)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support import assert_error, auth

URL = "/api/v1/tasks"


def client_with(app, make_key, scopes):
    return TestClient(app, headers=auth(make_key(scopes=scopes)), raise_server_exceptions=False)


def test_read_only_key_reads_but_cannot_write(app, make_key, onboarding, add_task):
    task = add_task()
    with client_with(app, make_key, ["read:tasks"]) as reader:
        assert reader.get(f"{URL}/{task['id']}").json() == task
        listed = reader.get(f"/api/v1/onboardings/{onboarding['id']}/tasks")
        assert listed.status_code == 200, listed.text
        for response in (
            reader.post(f"/api/v1/onboardings/{onboarding['id']}/tasks", json={"title": "x"}),
            reader.patch(f"{URL}/{task['id']}", json={"title": "x"}),
            reader.delete(f"{URL}/{task['id']}"),
        ):
            error = assert_error(response, 403, "missing_scope")
            assert "write:tasks" in error["message"]


def test_key_without_task_scopes_is_refused(app, make_key, onboarding, add_task):
    task = add_task()
    scopes = ["read:onboardings", "write:onboardings", "read:customers", "write:customers"]
    with client_with(app, make_key, scopes) as other:
        for response in (
            other.get(f"{URL}/{task['id']}"),
            other.get(f"/api/v1/onboardings/{onboarding['id']}/tasks"),
        ):
            error = assert_error(response, 403, "missing_scope")
            assert "read:tasks" in error["message"]
        response = other.post(f"/api/v1/onboardings/{onboarding['id']}/tasks", json={"title": "x"})
        assert_error(response, 403, "missing_scope")


def test_scope_is_checked_before_the_body_and_the_lookup(app, make_key, onboarding):
    with client_with(app, make_key, ["read:tasks"]) as reader:
        response = reader.post("/api/v1/onboardings/nope/tasks", content=b"{bad json")
        assert_error(response, 403, "missing_scope")
        response = reader.patch(f"{URL}/nope", json={"title": ""})
        assert_error(response, 403, "missing_scope")


def test_write_only_key_writes_but_cannot_read(app, make_key, onboarding):
    with client_with(app, make_key, ["write:tasks"]) as writer:
        path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
        created = writer.post(path, json={"title": "x"})
        assert created.status_code == 201, created.text
        task = created.json()
        assert writer.patch(f"{URL}/{task['id']}", json={"title": "y"}).status_code == 200
        assert_error(writer.get(f"{URL}/{task['id']}"), 403, "missing_scope")
        assert writer.delete(f"{URL}/{task['id']}").status_code == 200
