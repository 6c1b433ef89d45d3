"""Listing a customer's contacts: filters and pagination (SPEC §7.3, §4)."""

from __future__ import annotations

import pytest

from support import assert_error


def page(api, customer_ref, **params):
    response = api.get(f"/api/v1/customers/{customer_ref}/contacts", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert next(iter(body)) == "object"
    assert body["object"] == "list"
    return body


def ids(body):
    return [contact["id"] for contact in body["data"]]


def test_empty_list(api, customer):
    assert page(api, customer["id"]) == {
        "object": "list",
        "data": [],
        "has_more": False,
        "next_cursor": None,
    }


def test_list_is_newest_first_and_holds_whole_objects(api, customer, add_contact):
    made = [add_contact(labels=[f"l{i}"], metadata={"i": i}) for i in range(3)]
    body = page(api, customer["id"])
    assert body["data"] == list(reversed(made))
    assert body["has_more"] is False
    assert body["next_cursor"] is None


def test_list_by_customer_display_id(api, customer, add_contact):
    contact = add_contact()
    assert ids(page(api, customer["display_id"])) == [contact["id"]]


def test_list_holds_only_this_customers_live_contacts(api, customer, new_customer, add_contact):
    other = new_customer()
    mine = add_contact()
    add_contact(other["id"])
    gone = add_contact()
    assert api.delete(f"/api/v1/contacts/{gone['id']}").status_code == 200
    assert ids(page(api, customer["id"])) == [mine["id"]]


def test_filter_by_email(api, customer, add_contact):
    add_contact(email="grace@example.com")
    ada = add_contact(email="Ada@Example.com")
    add_contact(email="ada@example.org")
    assert ids(page(api, customer["id"], email="ada@example.com")) == [ada["id"]]
    assert ids(page(api, customer["id"], email="nobody@example.com")) == []


def test_filter_by_email_matches_the_stored_lowercase_form(api, customer, add_contact):
    ada = add_contact(email="ada@example.com")
    assert ids(page(api, customer["id"], email="ADA@Example.COM")) == [ada["id"]]


def test_filter_by_email_ignores_deleted_and_other_customers(
    api, customer, new_customer, add_contact
):
    other = new_customer()
    add_contact(other["id"], email="ada@example.com")
    gone = add_contact(email="ada@example.com")
    api.delete(f"/api/v1/contacts/{gone['id']}")
    assert ids(page(api, customer["id"], email="ada@example.com")) == []
    live = add_contact(email="ada@example.com")
    assert ids(page(api, customer["id"], email="ada@example.com")) == [live["id"]]


@pytest.mark.parametrize(("true", "false"), [("true", "false"), ("1", "0")])
def test_filter_by_is_primary(api, customer, add_contact, true, false):
    a = add_contact()
    b = add_contact(is_primary=True)
    c = add_contact()
    assert ids(page(api, customer["id"], is_primary=true)) == [b["id"]]
    assert ids(page(api, customer["id"], is_primary=false)) == [c["id"], a["id"]]


def test_filters_combine(api, customer, add_contact):
    ada = add_contact(email="ada@example.com", is_primary=True)
    add_contact(email="grace@example.com")
    assert ids(page(api, customer["id"], email="ada@example.com", is_primary="true")) == [ada["id"]]
    assert ids(page(api, customer["id"], email="ada@example.com", is_primary="false")) == []
    assert ids(page(api, customer["id"], email="grace@example.com", is_primary="true")) == []


def test_bad_is_primary_filter_is_400(api, customer):
    assert_error(
        api.get(f"/api/v1/customers/{customer['id']}/contacts", params={"is_primary": "maybe"}),
        400,
        "invalid_parameter",
        "is_primary",
    )


def test_pages_visit_every_contact_once(api, customer, add_contact):
    made = [add_contact() for _ in range(5)]
    expected = [contact["id"] for contact in reversed(made)]
    first = page(api, customer["id"], limit=2)
    assert ids(first) == expected[:2]
    assert first["has_more"] is True
    assert first["next_cursor"] == first["data"][-1]["created_at"]
    second = page(api, customer["id"], limit=2, cursor=first["next_cursor"])
    assert ids(second) == expected[2:4]
    assert second["has_more"] is True
    third = page(api, customer["id"], limit=2, cursor=second["next_cursor"])
    assert ids(third) == expected[4:]
    assert third["has_more"] is False
    assert third["next_cursor"] is None


def test_exact_page_has_no_more(api, customer, add_contact):
    for _ in range(2):
        add_contact()
    body = page(api, customer["id"], limit=2)
    assert len(body["data"]) == 2
    assert body["has_more"] is False
    assert body["next_cursor"] is None


def test_default_limit_is_20(api, customer, add_contact):
    for _ in range(21):
        add_contact()
    body = page(api, customer["id"])
    assert len(body["data"]) == 20
    assert body["has_more"] is True
    rest = page(api, customer["id"], cursor=body["next_cursor"])
    assert len(rest["data"]) == 1
    assert rest["has_more"] is False
    assert len(page(api, customer["id"], limit=100)["data"]) == 21


def test_filters_apply_before_the_page_is_cut(api, customer, add_contact):
    primary = add_contact(is_primary=True)
    for _ in range(3):
        add_contact()
    body = page(api, customer["id"], is_primary="true", limit=1)
    assert ids(body) == [primary["id"]]
    assert body["has_more"] is False
    plain = page(api, customer["id"], is_primary="false", limit=2)
    assert len(plain["data"]) == 2 and plain["has_more"] is True
    rest = page(api, customer["id"], is_primary="false", limit=2, cursor=plain["next_cursor"])
    assert len(rest["data"]) == 1 and rest["has_more"] is False
    assert primary["id"] not in ids(plain) + ids(rest)


def test_cursor_accepts_any_iso_offset(api, customer, add_contact):
    made = [add_contact() for _ in range(3)]
    cursor = made[1]["created_at"].replace("Z", "+00:00")
    assert ids(page(api, customer["id"], cursor=cursor)) == [made[0]["id"]]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", ""])
def test_bad_limit_is_400(api, customer, limit):
    assert_error(
        api.get(f"/api/v1/customers/{customer['id']}/contacts", params={"limit": limit}),
        400,
        "invalid_parameter",
        "limit",
    )


@pytest.mark.parametrize("cursor", ["yesterday", "2026-13-01T00:00:00Z", "12345abc"])
def test_bad_cursor_is_400(api, customer, cursor):
    assert_error(
        api.get(f"/api/v1/customers/{customer['id']}/contacts", params={"cursor": cursor}),
        400,
        "invalid_string",
        "cursor",
    )
