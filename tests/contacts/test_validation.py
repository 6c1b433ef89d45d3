"""Field rules of contacts (SPEC §7.3, §3 codes), on create and on PATCH."""

from __future__ import annotations

import orjson
import pytest

from support import assert_error

VALID = {"name": "Ada Lovelace", "email": "ada@example.com"}


def long_email(length: int) -> str:
    """A well-formed address of ``length`` characters (local part 64, labels <= 63)."""
    head = "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 63 + "."
    return head + "e" * (length - len(head))


# (body keys, expected code, expected error field), for both create and PATCH.
COMMON_CASES = {
    # name: required, 1-255 after trimming, not null
    "name null": ({"name": None}, "invalid_type", "name"),
    "name number": ({"name": 123}, "invalid_type", "name"),
    "name bool": ({"name": True}, "invalid_type", "name"),
    "name list": ({"name": ["Ada"]}, "invalid_type", "name"),
    "name empty": ({"name": ""}, "too_small", "name"),
    "name whitespace": ({"name": "   \t "}, "too_small", "name"),
    "name 256": ({"name": "n" * 256}, "too_big", "name"),
    "name 256 after trim": ({"name": " " + "n" * 256 + " "}, "too_big", "name"),
    "name NUL": ({"name": "Ada\u0000"}, "invalid_string", "name"),
    # email: required, a valid address, <= 254, not null
    "email null": ({"email": None}, "invalid_type", "email"),
    "email number": ({"email": 42}, "invalid_type", "email"),
    "email object": ({"email": {"address": "a@b.co"}}, "invalid_type", "email"),
    "email empty": ({"email": ""}, "too_small", "email"),
    "email whitespace": ({"email": "   "}, "too_small", "email"),
    "email no at": ({"email": "ada.example.com"}, "invalid_string", "email"),
    "email no domain": ({"email": "ada@"}, "invalid_string", "email"),
    "email no local": ({"email": "@example.com"}, "invalid_string", "email"),
    "email two ats": ({"email": "ada@@example.com"}, "invalid_string", "email"),
    "email space": ({"email": "ada lovelace@example.com"}, "invalid_string", "email"),
    "email plain word": ({"email": "not-an-email"}, "invalid_string", "email"),
    "email display name": ({"email": "Ada <ada@example.com>"}, "invalid_string", "email"),
    "email NUL": ({"email": "ada\u0000@example.com"}, "invalid_string", "email"),
    "email 255": ({"email": long_email(255)}, "too_big", "email"),
    # title: nullable, <= 255
    "title number": ({"title": 7}, "invalid_type", "title"),
    "title bool": ({"title": False}, "invalid_type", "title"),
    "title 256": ({"title": "t" * 256}, "too_big", "title"),
    "title NUL": ({"title": "C\u0000O"}, "invalid_string", "title"),
    # phone: nullable, <= 50
    "phone number": ({"phone": 5550100}, "invalid_type", "phone"),
    "phone 51": ({"phone": "1" * 51}, "too_big", "phone"),
    # is_primary: boolean, not null
    "is_primary null": ({"is_primary": None}, "invalid_type", "is_primary"),
    "is_primary string": ({"is_primary": "true"}, "invalid_type", "is_primary"),
    "is_primary int": ({"is_primary": 1}, "invalid_type", "is_primary"),
    # labels: array of strings, <= 20 items, each 1-50, not null
    "labels null": ({"labels": None}, "invalid_type", "labels"),
    "labels string": ({"labels": "vip"}, "invalid_type", "labels"),
    "labels object": ({"labels": {"0": "vip"}}, "invalid_type", "labels"),
    "labels item number": ({"labels": [1]}, "invalid_type", "labels.0"),
    "labels item null": ({"labels": ["ok", None]}, "invalid_type", "labels.1"),
    "labels item empty": ({"labels": ["ok", ""]}, "too_small", "labels.1"),
    "labels item whitespace": ({"labels": ["ok", "ok2", "   "]}, "too_small", "labels.2"),
    "labels item 51": ({"labels": ["l" * 51]}, "too_big", "labels.0"),
    "labels item list": ({"labels": ["a", ["b"]]}, "invalid_type", "labels.1"),
    "labels item NUL": ({"labels": ["a\u0000"]}, "invalid_string", "labels.0"),
    "labels 21 items": ({"labels": [f"l{i}" for i in range(21)]}, "too_big", "labels"),
    # metadata: object, <= 50 keys, keys <= 40 chars, <= 8 KiB serialized, not null
    "metadata null": ({"metadata": None}, "invalid_type", "metadata"),
    "metadata list": ({"metadata": [1, 2]}, "invalid_type", "metadata"),
    "metadata string": ({"metadata": "{}"}, "invalid_type", "metadata"),
    "metadata 51 keys": ({"metadata": {f"k{i}": i for i in range(51)}}, "too_big", "metadata"),
    "metadata key 41": ({"metadata": {"k" * 41: 1}}, "too_big", "metadata"),
    "metadata over 8 KiB": ({"metadata": {"blob": "x" * 8300}}, "too_big", "metadata"),
    # unknown and read-only keys
    "unknown key": ({"nickname": "Ada"}, "unrecognized_keys", "nickname"),
    "customer_id": ({"customer_id": "abc"}, "unrecognized_keys", "customer_id"),
    "id": ({"id": "abc"}, "unrecognized_keys", "id"),
    "display_id": ({"display_id": 5}, "unrecognized_keys", "display_id"),
    "object": ({"object": "contact"}, "unrecognized_keys", "object"),
    "created_at": ({"created_at": "2026-01-01T00:00:00Z"}, "unrecognized_keys", "created_at"),
    "typo of is_primary": ({"primary": True}, "unrecognized_keys", "primary"),
}


@pytest.mark.parametrize(("override", "code", "field"), COMMON_CASES.values(), ids=COMMON_CASES)
def test_create_rejects(api, customer, override, code, field):
    response = api.post(f"/api/v1/customers/{customer['id']}/contacts", json={**VALID, **override})
    assert_error(response, 400, code, field)


@pytest.mark.parametrize(("override", "code", "field"), COMMON_CASES.values(), ids=COMMON_CASES)
def test_patch_rejects(api, add_contact, override, code, field):
    contact = add_contact(title="CTO", phone="1", labels=["a"], metadata={"k": 1})
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json=override)
    assert_error(response, 400, code, field)
    assert api.get(f"/api/v1/contacts/{contact['id']}").json() == contact


@pytest.mark.parametrize("field", ["name", "email"])
def test_create_requires_name_and_email(api, customer, field):
    body = {k: v for k, v in VALID.items() if k != field}
    assert_error(
        api.post(f"/api/v1/customers/{customer['id']}/contacts", json=body),
        400,
        "missing_field",
        field,
    )


def test_create_with_empty_object_reports_a_missing_field(api, customer):
    response = api.post(f"/api/v1/customers/{customer['id']}/contacts", json={})
    field = response.json()["error"].get("field")
    assert field in ("name", "email")
    assert_error(response, 400, "missing_field", field)


# ---- accepted boundaries and normalization ----------------------------------------------------


def test_boundaries_are_accepted(api, customer):
    email = long_email(254)
    assert len(email) == 254 and len(long_email(255)) == 255
    body = {
        "name": "n" * 255,
        "email": email,
        "title": "t" * 255,
        "phone": "1" * 50,
        "labels": [f"{i:02d}" + "l" * 48 for i in range(20)],
        "metadata": {f"{i:02d}" + "k" * 38: i for i in range(50)},
    }
    response = api.post(f"/api/v1/customers/{customer['id']}/contacts", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    for name, value in body.items():
        assert created[name] == value, name
    assert api.get(f"/api/v1/contacts/{created['id']}").json() == created


def test_boundaries_are_accepted_on_patch(api, add_contact):
    contact = add_contact()
    body = {
        "name": "n" * 255,
        "title": "t" * 255,
        "phone": "1" * 50,
        "labels": [f"{i:02d}" + "l" * 48 for i in range(20)],
        "metadata": {f"{i:02d}" + "k" * 38: i for i in range(50)},
    }
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json=body)
    assert response.status_code == 200, response.text
    for name, value in body.items():
        assert response.json()[name] == value, name


def test_metadata_just_under_8_kib_is_accepted(api, customer):
    metadata = {"blob": "x" * 8000}
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts", json={**VALID, "metadata": metadata}
    )
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == metadata


def test_strings_are_trimmed_before_length_checks_and_stored_trimmed(api, customer):
    body = {
        "name": "  " + "n" * 255 + "\t",
        "email": "  Ada@Example.com \n",
        "title": " " + "t" * 255 + " ",
        "phone": "  " + "1" * 50 + "  ",
        "labels": ["  vip  ", " " + "l" * 50 + " "],
    }
    body["email"] = "  " + long_email(254).upper() + " "
    response = api.post(f"/api/v1/customers/{customer['id']}/contacts", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "n" * 255
    assert created["email"] == long_email(254)
    assert created["title"] == "t" * 255
    assert created["phone"] == "1" * 50
    assert created["labels"] == ["vip", "l" * 50]
    assert api.get(f"/api/v1/contacts/{created['id']}").json() == created


def test_patch_trims_strings(api, add_contact):
    contact = add_contact()
    response = api.patch(
        f"/api/v1/contacts/{contact['id']}",
        json={"name": "  Grace  ", "title": " VP ", "phone": " 555 ", "labels": [" a "]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["title"], body["phone"], body["labels"]) == (
        "Grace",
        "VP",
        "555",
        ["a"],
    )


def test_labels_duplicates_removed_order_kept(api, customer):
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={**VALID, "labels": ["b", "a", "b", "c", "a", " c "]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["labels"] == ["b", "a", "c"]
    contact_id = response.json()["id"]
    assert api.get(f"/api/v1/contacts/{contact_id}").json()["labels"] == ["b", "a", "c"]


def test_labels_patch_replaces_and_dedupes(api, add_contact):
    contact = add_contact(labels=["old", "keep"])
    response = api.patch(
        f"/api/v1/contacts/{contact['id']}", json={"labels": ["z", "keep", "z", "y"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["labels"] == ["z", "keep", "y"]
    cleared = api.patch(f"/api/v1/contacts/{contact['id']}", json={"labels": []})
    assert cleared.json()["labels"] == []


def test_metadata_limit_is_8_kib_of_compact_json(api, customer):
    url = f"/api/v1/customers/{customer['id']}/contacts"
    # {"k":"..."} is 8 bytes plus the value; "é" is two bytes in UTF-8
    at_limit = {"k": "é" * 4092}
    assert len(orjson.dumps(at_limit)) == 8192
    response = api.post(url, json={**VALID, "metadata": at_limit})
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == at_limit
    over = {"k": "é" * 4092 + "x"}
    assert_error(
        api.post(url, json={**VALID, "email": "b@example.com", "metadata": over}),
        400,
        "too_big",
        "metadata",
    )


def test_metadata_strings_may_hold_nul(api, customer):
    metadata = {"raw": "a\u0000b", "k\u0000": 1}
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts", json={**VALID, "metadata": metadata}
    )
    assert response.status_code == 201, response.text
    assert api.get(f"/api/v1/contacts/{response.json()['id']}").json()["metadata"] == metadata


def test_metadata_is_returned_exactly_as_stored(api, customer):
    metadata = {
        "test": True,
        "zeta": 1,
        "alpha": {"nested": [1, 2.5, None, "é", {"deep": False}], "empty": {}},
        "unicode ☃": "日本語",
        "big": 9007199254740993,
        "neg": -3.25,
        "none": None,
    }
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts", json={**VALID, "metadata": metadata}
    )
    assert response.status_code == 201, response.text
    assert response.json()["metadata"] == metadata
    stored = api.get(f"/api/v1/contacts/{response.json()['id']}").json()["metadata"]
    assert stored == metadata
    assert list(stored) == list(metadata)


def test_metadata_patch_replaces_the_stored_object(api, add_contact):
    contact = add_contact(metadata={"a": 1, "b": 2})
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={"metadata": {"c": 3}})
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == {"c": 3}
    emptied = api.patch(f"/api/v1/contacts/{contact['id']}", json={"metadata": {}})
    assert emptied.json()["metadata"] == {}
    assert api.get(f"/api/v1/contacts/{contact['id']}").json()["metadata"] == {}
