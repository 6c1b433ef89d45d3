"""At most one primary contact per customer (SPEC §7.3), on create and on PATCH."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest


def primary_flags(api, customer_ref):
    """{contact id: is_primary} for every live contact of the customer, read one by one."""
    response = api.get(f"/api/v1/customers/{customer_ref}/contacts", params={"limit": 100})
    assert response.status_code == 200, response.text
    flags = {}
    for listed in response.json()["data"]:
        single = api.get(f"/api/v1/contacts/{listed['id']}").json()
        assert single["is_primary"] == listed["is_primary"]
        flags[listed["id"]] = single["is_primary"]
    return flags


def primaries(api, customer_ref):
    return [cid for cid, flag in primary_flags(api, customer_ref).items() if flag]


def test_is_primary_defaults_to_false(add_contact):
    assert add_contact()["is_primary"] is False


def test_creating_a_primary_clears_the_previous_one(api, customer, add_contact):
    first = add_contact(is_primary=True)
    plain = add_contact()
    assert first["is_primary"] is True
    second = add_contact(is_primary=True)
    assert second["is_primary"] is True
    assert primary_flags(api, customer["id"]) == {
        first["id"]: False,
        plain["id"]: False,
        second["id"]: True,
    }


def test_creating_a_non_primary_keeps_the_primary(api, customer, add_contact):
    primary = add_contact(is_primary=True)
    add_contact(is_primary=False)
    add_contact()
    assert primaries(api, customer["id"]) == [primary["id"]]


def test_patching_is_primary_true_clears_the_others(api, customer, add_contact):
    a = add_contact(is_primary=True)
    b = add_contact()
    c = add_contact()
    response = api.patch(f"/api/v1/contacts/{c['id']}", json={"is_primary": True})
    assert response.status_code == 200, response.text
    assert response.json()["is_primary"] is True
    assert primary_flags(api, customer["id"]) == {a["id"]: False, b["id"]: False, c["id"]: True}
    # and back again, by display id
    response = api.patch(f"/api/v1/contacts/{a['display_id']}", json={"is_primary": True})
    assert response.json()["is_primary"] is True
    assert primary_flags(api, customer["id"]) == {a["id"]: True, b["id"]: False, c["id"]: False}


def test_patching_the_primary_again_keeps_it(api, customer, add_contact):
    a = add_contact(is_primary=True)
    add_contact()
    response = api.patch(f"/api/v1/contacts/{a['id']}", json={"is_primary": True})
    assert response.status_code == 200
    assert response.json() == a
    assert primaries(api, customer["id"]) == [a["id"]]


def test_unsetting_the_primary_leaves_none(api, customer, add_contact):
    a = add_contact(is_primary=True)
    add_contact()
    response = api.patch(f"/api/v1/contacts/{a['id']}", json={"is_primary": False})
    assert response.status_code == 200
    assert response.json()["is_primary"] is False
    assert primaries(api, customer["id"]) == []


def test_primary_is_per_customer(api, customer, new_customer, add_contact):
    other = new_customer()
    theirs = add_contact(other["id"], is_primary=True)
    mine = add_contact(is_primary=True)
    assert primaries(api, other["id"]) == [theirs["id"]]
    assert primaries(api, customer["id"]) == [mine["id"]]
    newer = add_contact(is_primary=False)
    assert api.patch(f"/api/v1/contacts/{newer['id']}", json={"is_primary": True}).is_success
    assert primaries(api, other["id"]) == [theirs["id"]]
    assert primaries(api, customer["id"]) == [newer["id"]]


def test_other_workspaces_primary_is_untouched(api, other_api, customer, new_customer, add_contact):
    theirs_customer = new_customer(client=other_api)
    theirs = add_contact(theirs_customer["id"], client=other_api, is_primary=True)
    add_contact(is_primary=True)
    assert other_api.get(f"/api/v1/contacts/{theirs['id']}").json()["is_primary"] is True


def test_a_deleted_primary_does_not_count(api, customer, add_contact):
    gone = add_contact(is_primary=True)
    assert api.delete(f"/api/v1/contacts/{gone['id']}").status_code == 200
    assert primaries(api, customer["id"]) == []
    new = add_contact(is_primary=True)
    assert primaries(api, customer["id"]) == [new["id"]]
    listed = api.get(
        f"/api/v1/customers/{customer['id']}/contacts", params={"is_primary": "true"}
    ).json()["data"]
    assert [c["id"] for c in listed] == [new["id"]]


def test_failed_create_does_not_clear_the_primary(api, customer, add_contact):
    primary = add_contact(is_primary=True, email="ada@example.com")
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Dup", "email": "ada@example.com", "is_primary": True},
    )
    assert response.status_code == 409
    assert primaries(api, customer["id"]) == [primary["id"]]


def test_failed_patch_does_not_clear_the_primary(api, customer, add_contact):
    primary = add_contact(is_primary=True, email="ada@example.com")
    other = add_contact(email="grace@example.com")
    response = api.patch(
        f"/api/v1/contacts/{other['id']}", json={"is_primary": True, "email": "ada@example.com"}
    )
    assert response.status_code == 409
    assert primaries(api, customer["id"]) == [primary["id"]]


def test_concurrent_primary_creates_leave_exactly_one(api, customer):
    def create(i):
        return api.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": f"P{i}", "email": f"p{i}@example.com", "is_primary": True},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(8)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    assert len(primaries(api, customer["id"])) == 1


@pytest.mark.many_requests
def test_concurrent_primary_patches_leave_exactly_one(api, customer, add_contact):
    contacts = [add_contact() for _ in range(8)]

    def promote(contact):
        return api.patch(f"/api/v1/contacts/{contact['id']}", json={"is_primary": True})

    for _ in range(3):
        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(promote, contacts))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        assert len(primaries(api, customer["id"])) == 1
        for contact in contacts:
            api.patch(f"/api/v1/contacts/{contact['id']}", json={"is_primary": False})


def test_concurrent_primary_creates_and_patches_leave_exactly_one(api, customer, add_contact):
    existing = [add_contact() for _ in range(4)]

    def work(i):
        if i % 2:
            contact = existing[i // 2]
            return api.patch(f"/api/v1/contacts/{contact['id']}", json={"is_primary": True})
        return api.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": f"N{i}", "email": f"n{i}@example.com", "is_primary": True},
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(work, range(8)))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert len(primaries(api, customer["id"])) == 1
