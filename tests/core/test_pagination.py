"""Cursor pagination on every list endpoint (SPEC §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from support import assert_error, walk

LIST_PATHS = [
    "/api/v1/customers",
    "/api/v1/customers/{c}/contacts",
    "/api/v1/onboardings",
    "/api/v1/customers/{c}/onboardings",
    "/api/v1/onboardings/{o}/transitions",
]


def new_customer(api: Any, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/customers", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def make_customers(
    api: Any, count: int, prefix: str = "Customer", **fields: Any
) -> list[dict[str, Any]]:
    return [new_customer(api, f"{prefix} {i}", **fields) for i in range(count)]


def world(api: Any) -> dict[str, str]:
    customer = new_customer(api, "Parent")
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    return {"c": customer["id"], "o": onboarding["id"]}


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


# ---- limit ------------------------------------------------------------------------------------


def test_default_limit_is_20(api):
    made = make_customers(api, 25)
    body = api.get("/api/v1/customers").json()
    assert len(body["data"]) == 20
    assert body["has_more"] is True
    assert body["next_cursor"] == body["data"][-1]["created_at"]
    assert [c["id"] for c in body["data"]] == [c["id"] for c in reversed(made)][:20]


def test_exactly_full_page_has_no_more(api):
    make_customers(api, 20)
    body = api.get("/api/v1/customers").json()
    assert len(body["data"]) == 20
    assert body["has_more"] is False
    assert body["next_cursor"] is None


def test_limit_bounds_are_accepted(api):
    made = make_customers(api, 3)
    body = api.get("/api/v1/customers", params={"limit": 1}).json()
    assert [c["id"] for c in body["data"]] == [made[-1]["id"]]
    assert body["has_more"] is True
    body = api.get("/api/v1/customers", params={"limit": 100}).json()
    assert len(body["data"]) == 3
    assert body["has_more"] is False
    assert body["next_cursor"] is None


@pytest.mark.many_requests
def test_limit_100_returns_100(api):
    make_customers(api, 101)
    body = api.get("/api/v1/customers", params={"limit": 100}).json()
    assert len(body["data"]) == 100
    assert body["has_more"] is True
    rest = api.get("/api/v1/customers", params={"limit": 100, "cursor": body["next_cursor"]})
    assert len(rest.json()["data"]) == 1
    assert rest.json()["data"][0]["display_id"] == 1


BAD_LIMITS = ["0", "101", "-1", "1000", "abc", "1.5", "1e1", "twenty", ""]
BAD_CURSORS = [
    "",
    "abc",
    "yesterday",
    "1717171717",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-05-26T25:00:00Z",
    "2026-05-26T17:21:09Zjunk",
    "26-05-2026T17:21:09Z",
]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_limit_out_of_range_is_invalid_parameter(api, path):
    path = path.format(**world(api))
    for limit in BAD_LIMITS:
        response = api.get(path, params={"limit": limit})
        assert_error(response, 400, "invalid_parameter", "limit")
    # Also when a valid cursor comes with it.
    response = api.get(path, params={"limit": "0", "cursor": "2026-05-26T17:21:09Z"})
    assert_error(response, 400, "invalid_parameter", "limit")


@pytest.mark.parametrize("path", LIST_PATHS)
def test_cursor_not_iso_is_invalid_string(api, path):
    path = path.format(**world(api))
    for cursor in BAD_CURSORS:
        response = api.get(path, params={"cursor": cursor})
        assert_error(response, 400, "invalid_string", "cursor")


@pytest.mark.parametrize("stray", ["x", "@", "\u0000", " "])
def test_cursor_with_stray_character_is_invalid_string(api, stray):
    response = api.get("/api/v1/customers", params={"cursor": f"2026-05-26T17:21:09{stray}Z"})
    assert_error(response, 400, "invalid_string", "cursor")


def test_newest_first_and_next_cursor(api):
    made = make_customers(api, 7)
    body = api.get("/api/v1/customers", params={"limit": 5}).json()
    assert [c["display_id"] for c in body["data"]] == [7, 6, 5, 4, 3]
    stamps = [parse(c["created_at"]) for c in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len(set(stamps)) == len(stamps), "created_at is unique per workspace and type"
    assert body["has_more"] is True
    assert body["next_cursor"] == body["data"][-1]["created_at"] == made[2]["created_at"]
    second = api.get("/api/v1/customers", params={"limit": 5, "cursor": body["next_cursor"]})
    second_body = second.json()
    assert [c["display_id"] for c in second_body["data"]] == [2, 1]
    assert second_body["has_more"] is False
    assert second_body["next_cursor"] is None


def test_walking_all_pages_visits_each_row_exactly_once(api):
    made = make_customers(api, 45)
    pages = walk(api, "/api/v1/customers", 10)
    assert [len(page) for page in pages] == [10, 10, 10, 10, 5]
    seen = [c["id"] for page in pages for c in page]
    assert len(seen) == len(set(seen)) == 45
    assert seen == [c["id"] for c in reversed(made)]


def test_walk_is_stable_while_rows_are_inserted(api):
    made = make_customers(api, 15)
    first = api.get("/api/v1/customers", params={"limit": 5}).json()
    newer = make_customers(api, 5, prefix="Newer")
    seen = [c["id"] for c in first["data"]]
    cursor = first["next_cursor"]
    while cursor:
        body = api.get("/api/v1/customers", params={"limit": 5, "cursor": cursor}).json()
        seen += [c["id"] for c in body["data"]]
        cursor = body["next_cursor"]
    assert seen == [c["id"] for c in reversed(made)]
    assert not {c["id"] for c in newer} & set(seen)


def test_cursor_returns_items_created_strictly_before_it(api):
    made = make_customers(api, 6)
    pivot = made[3]
    body = api.get("/api/v1/customers", params={"cursor": pivot["created_at"]}).json()
    assert [c["id"] for c in body["data"]] == [made[2]["id"], made[1]["id"], made[0]["id"]]
    # One microsecond later includes the pivot itself.
    later = (parse(pivot["created_at"]) + timedelta(microseconds=1)).isoformat()
    body = api.get("/api/v1/customers", params={"cursor": later}).json()
    assert body["data"][0]["id"] == pivot["id"]


def test_cursor_before_everything_and_after_everything(api):
    made = make_customers(api, 3)
    body = api.get("/api/v1/customers", params={"cursor": "2000-01-01T00:00:00Z"}).json()
    assert body == {"object": "list", "data": [], "has_more": False, "next_cursor": None}
    future = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    body = api.get("/api/v1/customers", params={"cursor": future}).json()
    assert [c["id"] for c in body["data"]] == [c["id"] for c in reversed(made)]


@pytest.mark.parametrize("offset_hours", [2, -5, 0, 5.5, -9.5, 14])
def test_cursor_accepts_any_iso_offset(api, offset_hours):
    made = make_customers(api, 5)
    pivot = parse(made[3]["created_at"])
    zone = timezone(timedelta(hours=offset_hours))
    as_offset = pivot.astimezone(zone).isoformat()
    assert not as_offset.endswith("Z")
    body = api.get("/api/v1/customers", params={"cursor": as_offset}).json()
    assert [c["id"] for c in body["data"]] == [made[2]["id"], made[1]["id"], made[0]["id"]]


def test_cursor_with_plus_two_hours_written_by_hand(api):
    made = make_customers(api, 2)
    stamp = made[1]["created_at"]  # e.g. 2026-05-26T17:21:09.412345Z
    pivot = parse(stamp)
    shifted = pivot.astimezone(timezone(timedelta(hours=2)))
    text = shifted.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+02:00"
    body = api.get("/api/v1/customers", params={"cursor": text}).json()
    assert [c["id"] for c in body["data"]] == [made[0]["id"]]


# ---- filters and deletes ----------------------------------------------------------------------


def test_filters_are_applied_before_the_page_is_cut(api):
    made = []
    for i in range(30):
        status = "churned" if i % 3 == 0 else "active"
        made.append(new_customer(api, f"Customer {i}", status=status))
    churned = [c["id"] for c in reversed(made) if c["status"] == "churned"]
    first = api.get("/api/v1/customers", params={"status": "churned", "limit": 4}).json()
    assert [c["id"] for c in first["data"]] == churned[:4]
    assert first["has_more"] is True
    pages = walk(api, "/api/v1/customers", 4, status="churned")
    assert [len(page) for page in pages] == [4, 4, 2]
    assert [c["id"] for page in pages for c in page] == churned
    # A filter that keeps fewer rows than the limit says there is nothing more.
    assert walk(api, "/api/v1/customers", 20, status="churned") == [
        [api.get(f"/api/v1/customers/{i}").json() for i in churned]
    ]


def test_onboarding_filters_before_the_cut(api):
    customer = new_customer(api, "Parent")
    made = []
    for i in range(12):
        phase = "review" if i % 4 == 0 else "launch"
        response = api.post(
            "/api/v1/onboardings", json={"customer_id": customer["id"], "phase": phase}
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    review = [o["id"] for o in reversed(made) if o["phase"] == "review"]
    for path in ("/api/v1/onboardings", f"/api/v1/customers/{customer['id']}/onboardings"):
        pages = walk(api, path, 2, phase="review")
        assert [o["id"] for page in pages for o in page] == review
        assert [len(page) for page in pages] == [2, 1]


def test_soft_deleted_rows_never_appear(api):
    made = make_customers(api, 12)
    deleted = {made[i]["id"] for i in (0, 4, 5, 11)}
    for customer_id in deleted:
        assert api.delete(f"/api/v1/customers/{customer_id}").status_code == 200
    kept = [c["id"] for c in reversed(made) if c["id"] not in deleted]
    pages = walk(api, "/api/v1/customers", 3)
    assert [c["id"] for page in pages for c in page] == kept
    assert [len(page) for page in pages] == [3, 3, 2]
    # A page cut right at a deleted row still fills up with the live ones.
    body = api.get("/api/v1/customers", params={"limit": 1}).json()
    assert body["data"][0]["id"] == made[10]["id"]


def test_soft_deleted_contacts_and_onboardings_never_appear(api):
    customer = new_customer(api, "Parent")
    contacts = []
    onboardings = []
    for i in range(5):
        contact = api.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": f"Person {i}", "email": f"p{i}@example.com"},
        )
        contacts.append(contact.json())
        onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]})
        onboardings.append(onboarding.json())
    assert api.delete(f"/api/v1/contacts/{contacts[4]['id']}").status_code == 200
    assert api.delete(f"/api/v1/contacts/{contacts[1]['id']}").status_code == 200
    assert api.delete(f"/api/v1/onboardings/{onboardings[2]['id']}").status_code == 200
    pages = walk(api, f"/api/v1/customers/{customer['id']}/contacts", 2)
    assert [c["id"] for page in pages for c in page] == [contacts[i]["id"] for i in (3, 2, 0)]
    expected = [onboardings[i]["id"] for i in (4, 3, 1, 0)]
    for path in ("/api/v1/onboardings", f"/api/v1/customers/{customer['id']}/onboardings"):
        pages = walk(api, path, 2)
        assert [o["id"] for page in pages for o in page] == expected


def test_onboardings_of_a_deleted_customer_never_appear(api):
    kept = new_customer(api, "Kept")
    gone = new_customer(api, "Gone")
    keep = api.post("/api/v1/onboardings", json={"customer_id": kept["id"]}).json()
    api.post("/api/v1/onboardings", json={"customer_id": gone["id"]})
    assert api.delete(f"/api/v1/customers/{gone['id']}").status_code == 200
    pages = walk(api, "/api/v1/onboardings", 1)
    assert [o["id"] for page in pages for o in page] == [keep["id"]]


def test_contacts_and_transitions_paginate(api):
    customer = new_customer(api, "Parent")
    emails = [f"p{i}@example.com" for i in range(7)]
    for email in emails:
        response = api.post(
            f"/api/v1/customers/{customer['id']}/contacts", json={"name": "P", "email": email}
        )
        assert response.status_code == 201
    pages = walk(api, f"/api/v1/customers/{customer['id']}/contacts", 3)
    assert [c["email"] for page in pages for c in page] == list(reversed(emails))
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    phases = ["program_design", "review", "program_buildout", "internal_qa", "launch"]
    for phase in phases:
        response = api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": phase})
        assert response.status_code == 200, response.text
    pages = walk(api, f"/api/v1/onboardings/{onboarding['id']}/transitions", 2)
    assert [t["to"] for page in pages for t in page] == list(reversed(phases))
    assert [len(page) for page in pages] == [2, 2, 1]
