"""The activity list: newest first, standard cursor pagination, 404s, scopes (SPEC §4, §7.6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from activity.helpers import activity_url, entries
from support import assert_error, auth


def make_entries(api, customer, count):
    for n in range(count):
        response = api.patch(f"/api/v1/customers/{customer['id']}", json={"mrr": n + 1})
        assert response.status_code == 200, response.text


def test_newest_first(api, customer):
    make_entries(api, customer, 3)
    data = api.get(activity_url(customer)).json()["data"]
    assert [e["changes"]["mrr"]["to"] if e["changes"] else None for e in data] == [3, 2, 1, None]
    stamps = [e["created_at"] for e in data]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)


@pytest.mark.many_requests
def test_walking_the_pages_visits_every_entry_once(api, customer):
    make_entries(api, customer, 24)
    everything = api.get(activity_url(customer), params={"limit": 100}).json()["data"]
    assert len(everything) == 25
    for limit in (1, 2, 7, 25):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            body = api.get(activity_url(customer), params=params).json()
            seen += body["data"]
            pages += 1
            if not body["has_more"]:
                assert body["next_cursor"] is None
                break
            assert len(body["data"]) == limit
            assert body["next_cursor"] == body["data"][-1]["created_at"]
            cursor = body["next_cursor"]
        assert seen == everything
        assert pages == -(-25 // limit)  # no empty last page


@pytest.mark.many_requests
def test_walk_while_changes_happen_sees_older_entries_exactly_once(api, customer):
    make_entries(api, customer, 9)
    first = api.get(activity_url(customer), params={"limit": 4}).json()
    make_entries(api, customer, 3)  # newer than the cursor: not part of this walk
    seen = first["data"]
    cursor = first["next_cursor"]
    while cursor:
        body = api.get(activity_url(customer), params={"limit": 4, "cursor": cursor}).json()
        seen += body["data"]
        cursor = body["next_cursor"]
    assert len(seen) == 10 == len({e["id"] for e in seen})
    assert seen[-1]["event_type"] == "customer.created"


def test_cursor_returns_entries_created_strictly_before_it(api, customer):
    make_entries(api, customer, 2)
    newest, middle, oldest = api.get(activity_url(customer)).json()["data"]
    body = api.get(activity_url(customer), params={"cursor": middle["created_at"]}).json()
    assert body["data"] == [oldest]
    body = api.get(activity_url(customer), params={"cursor": "2000-01-01T00:00:00Z"}).json()
    assert body == {"object": "list", "data": [], "has_more": False, "next_cursor": None}
    body = api.get(activity_url(customer), params={"cursor": "2999-01-01T00:00:00+02:00"}).json()
    assert body["data"] == [newest, middle, oldest]


def test_bad_query_parameters(api, customer):
    for limit in ["0", "101", "abc", ""]:
        response = api.get(activity_url(customer), params={"limit": limit})
        assert_error(response, 400, "invalid_parameter", "limit")
    for cursor in ["", "abc", "2026-13-01T00:00:00Z", "1717171717"]:
        response = api.get(activity_url(customer), params={"cursor": cursor})
        assert_error(response, 400, "invalid_string", "cursor")


@pytest.mark.parametrize("ref", ["zzzzzzzzzzzzzzzzzzzzzzzz", "99", "0", "aurora-foods"])
def test_unknown_customer_is_404(api, customer, ref):
    assert_error(api.get(activity_url(ref)), 404, "customer_not_found")


def test_deleted_customer_is_404(api, customer):
    api.delete(f"/api/v1/customers/{customer['id']}")
    assert_error(api.get(activity_url(customer)), 404, "customer_not_found")
    assert_error(api.get(activity_url(str(customer["display_id"]))), 404, "customer_not_found")


def test_another_workspaces_customer_is_404(api, other_api, customer):
    assert_error(other_api.get(activity_url(customer)), 404, "customer_not_found")
    theirs = other_api.post("/api/v1/customers", json={"name": "Globex"}).json()
    assert entries(other_api, theirs)[0]["actor"] == "API: Globex key"
    assert_error(api.get(activity_url(theirs)), 404, "customer_not_found")


def test_needs_read_customers(app, make_key, customer):
    denied = ["read:contacts", "read:onboardings", "read:tasks", "write:customers"]
    with TestClient(app, headers=auth(make_key(scopes=denied))) as client:
        error = assert_error(client.get(activity_url(customer)), 403, "missing_scope")
        assert "read:customers" in error["message"]
    with TestClient(app, headers=auth(make_key(scopes=["read:customers"]))) as client:
        response = client.get(activity_url(customer))
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 1


def test_missing_or_bad_key_is_401(client, customer):
    response = client.get(activity_url(customer))
    assert_error(response, 401, "missing_api_key")
    response = client.get(activity_url(customer), headers=auth("pivotal_" + "x" * 40))
    assert_error(response, 401, "invalid_api_key")
