"""Contacts over HTTP (SPEC §7.3 with §1-§4): shape, lookups, updates, deletes, isolation,
scopes and the request conventions."""

from __future__ import annotations

import re

import pytest

from support import assert_error, auth

CUID = re.compile(r"^[a-z][a-z0-9]{23}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FIELDS = {
    "object",
    "id",
    "display_id",
    "customer_id",
    "name",
    "email",
    "title",
    "phone",
    "is_primary",
    "labels",
    "metadata",
    "created_at",
    "updated_at",
}
ALL_SCOPES = [
    f"{action}:{resource}"
    for resource in ("customers", "contacts", "onboardings", "tasks", "webhooks")
    for action in ("read", "write")
]


def list_ids(client, customer_ref, **params):
    response = client.get(f"/api/v1/customers/{customer_ref}/contacts", params=params)
    assert response.status_code == 200, response.text
    return [contact["id"] for contact in response.json()["data"]]


# ---- create and the object's shape --------------------------------------------------------


def test_create_minimal_contact_returns_201_with_defaults(api, customer):
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Ada Lovelace", "email": "ada@example.com"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert next(iter(body)) == "object"
    assert set(body) >= FIELDS
    assert body["object"] == "contact"
    assert CUID.match(body["id"])
    assert body["display_id"] == 1
    assert body["customer_id"] == customer["id"]
    assert body["name"] == "Ada Lovelace"
    assert body["email"] == "ada@example.com"
    assert body["title"] is None
    assert body["phone"] is None
    assert body["is_primary"] is False
    assert body["labels"] == []
    assert body["metadata"] == {}
    assert TIMESTAMP.match(body["created_at"])
    assert body["updated_at"] == body["created_at"]


def test_create_with_every_field(api, customer):
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={
            "name": "Grace Hopper",
            "email": "grace@navy.example.com",
            "title": "Rear Admiral",
            "phone": "+1 555 0100",
            "is_primary": True,
            "labels": ["champion", "billing"],
            "metadata": {"test": True, "source": "crm"},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Grace Hopper"
    assert body["email"] == "grace@navy.example.com"
    assert body["title"] == "Rear Admiral"
    assert body["phone"] == "+1 555 0100"
    assert body["is_primary"] is True
    assert body["labels"] == ["champion", "billing"]
    assert body["metadata"] == {"test": True, "source": "crm"}


def test_create_by_customer_display_id_gives_canonical_customer_id(api, customer):
    response = api.post(
        f"/api/v1/customers/{customer['display_id']}/contacts",
        json={"name": "Ada", "email": "ada@example.com"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == customer["id"]


def test_get_returns_the_created_object(api, add_contact):
    created = add_contact(title="CTO", labels=["a"], metadata={"k": "v"})
    response = api.get(f"/api/v1/contacts/{created['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == created


def test_display_ids_are_per_workspace_across_customers_and_never_reused(
    api, new_customer, add_contact
):
    first_customer = new_customer()
    second_customer = new_customer()
    a = add_contact(first_customer["id"])
    b = add_contact(second_customer["id"])
    assert (a["display_id"], b["display_id"]) == (1, 2)
    assert api.delete(f"/api/v1/contacts/{b['id']}").status_code == 200
    c = add_contact(first_customer["id"])
    assert c["display_id"] == 3


def test_display_ids_are_separate_per_workspace(
    api, other_api, customer, add_contact, new_customer
):
    mine = add_contact()
    theirs_customer = new_customer(client=other_api)
    theirs = add_contact(theirs_customer["id"], client=other_api)
    assert mine["display_id"] == theirs["display_id"] == 1
    assert api.get("/api/v1/contacts/1").json()["id"] == mine["id"]
    assert other_api.get("/api/v1/contacts/1").json()["id"] == theirs["id"]


def test_created_at_is_strictly_increasing(add_contact):
    stamps = [add_contact()["created_at"] for _ in range(5)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5


def test_test_mode_key_uses_the_same_data(api, client, keys, customer):
    response = client.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Tess", "email": "tess@example.com", "metadata": {"test": True}},
        headers=auth(keys.test),
    )
    assert response.status_code == 201, response.text
    assert api.get(f"/api/v1/contacts/{response.json()['id']}").json() == response.json()
    # validation is identical in test mode
    assert_error(
        client.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": "Tess", "email": "tess@example.com"},
            headers=auth(keys.test),
        ),
        409,
        "email_taken",
        "email",
    )


# ---- lookups: id or display_id --------------------------------------------------------------


def test_get_by_display_id_equals_get_by_id(api, add_contact):
    add_contact()
    contact = add_contact()
    by_display = api.get(f"/api/v1/contacts/{contact['display_id']}")
    assert by_display.status_code == 200
    assert by_display.json() == contact


@pytest.mark.parametrize(
    "ref",
    [
        "999",
        "0",
        "99999999999999999999999999",
        "zzzzzzzzzzzzzzzzzzzzzzzz",
        "12abc",
        "contact-1",
        "%20",
    ],
)
def test_unknown_contact_is_404_on_every_method(api, add_contact, ref):
    add_contact()
    assert_error(api.get(f"/api/v1/contacts/{ref}"), 404, "contact_not_found")
    assert_error(
        api.patch(f"/api/v1/contacts/{ref}", json={"title": "x"}), 404, "contact_not_found"
    )
    assert_error(api.delete(f"/api/v1/contacts/{ref}"), 404, "contact_not_found")


def test_digits_with_leading_zeros_are_a_display_id(api, add_contact):
    contact = add_contact()
    assert api.get("/api/v1/contacts/001").json() == contact


def test_non_ascii_digits_are_not_a_display_id(api, add_contact):
    add_contact()
    assert_error(api.get("/api/v1/contacts/\u0661"), 404, "contact_not_found")


def test_a_customer_id_is_not_a_contact_id(api, customer, add_contact):
    add_contact()
    assert_error(api.get(f"/api/v1/contacts/{customer['id']}"), 404, "contact_not_found")


@pytest.mark.parametrize("ref", ["999", "0", "zzzzzzzzzzzzzzzzzzzzzzzz", "aurora"])
def test_unknown_customer_is_404_on_create_and_list(api, customer, ref):
    assert customer["slug"] == "aurora"  # slugs are not accepted in paths
    assert_error(
        api.post(
            f"/api/v1/customers/{ref}/contacts", json={"name": "Ada", "email": "ada@example.com"}
        ),
        404,
        "customer_not_found",
    )
    assert_error(api.get(f"/api/v1/customers/{ref}/contacts"), 404, "customer_not_found")
    assert list_ids(api, customer["id"]) == []


# ---- update ---------------------------------------------------------------------------------


def test_patch_changes_only_the_sent_fields(api, add_contact):
    contact = add_contact(title="CTO", phone="123", labels=["a"], metadata={"k": 1})
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={"title": "CEO"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "CEO"
    assert body["updated_at"] > contact["updated_at"]
    unchanged = {k: v for k, v in body.items() if k not in ("title", "updated_at")}
    assert unchanged == {k: v for k, v in contact.items() if k not in ("title", "updated_at")}
    assert api.get(f"/api/v1/contacts/{contact['id']}").json() == body


def test_patch_every_writable_field(api, add_contact):
    contact = add_contact()
    response = api.patch(
        f"/api/v1/contacts/{contact['id']}",
        json={
            "name": "New Name",
            "email": "New@Example.com",
            "title": "VP",
            "phone": "555",
            "is_primary": True,
            "labels": ["x", "y"],
            "metadata": {"m": [1, 2]},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "New Name"
    assert body["email"] == "new@example.com"
    assert body["title"] == "VP"
    assert body["phone"] == "555"
    assert body["is_primary"] is True
    assert body["labels"] == ["x", "y"]
    assert body["metadata"] == {"m": [1, 2]}
    assert body["id"] == contact["id"]
    assert body["display_id"] == contact["display_id"]
    assert body["customer_id"] == contact["customer_id"]
    assert body["created_at"] == contact["created_at"]


def test_patch_by_display_id(api, add_contact):
    add_contact()
    contact = add_contact()
    response = api.patch(f"/api/v1/contacts/{contact['display_id']}", json={"name": "Renamed"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == contact["id"]
    assert api.get(f"/api/v1/contacts/{contact['id']}").json()["name"] == "Renamed"


def test_empty_patch_changes_nothing(api, add_contact):
    contact = add_contact(title="CTO")
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={})
    assert response.status_code == 200, response.text
    assert response.json() == contact


def test_patch_with_the_same_values_keeps_updated_at(api, add_contact):
    contact = add_contact(title="CTO", labels=["a", "b"], metadata={"k": "v"})
    response = api.patch(
        f"/api/v1/contacts/{contact['id']}",
        json={
            "name": contact["name"],
            "email": contact["email"].upper(),
            "title": " CTO ",
            "labels": ["a", "b", "a"],
            "metadata": {"k": "v"},
            "is_primary": False,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == contact


def test_patch_null_clears_nullable_fields(api, add_contact):
    contact = add_contact(title="CTO", phone="123")
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={"title": None, "phone": None})
    assert response.status_code == 200, response.text
    assert response.json()["title"] is None
    assert response.json()["phone"] is None
    assert api.get(f"/api/v1/contacts/{contact['id']}").json()["title"] is None


def test_create_accepts_null_for_nullable_fields(api, customer):
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Ada", "email": "ada@example.com", "title": None, "phone": None},
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] is None
    assert response.json()["phone"] is None


def test_customer_id_is_not_writable(api, new_customer, customer, add_contact):
    other = new_customer()
    contact = add_contact()
    assert_error(
        api.patch(f"/api/v1/contacts/{contact['id']}", json={"customer_id": other["id"]}),
        400,
        "unrecognized_keys",
        "customer_id",
    )
    assert_error(
        api.patch(
            f"/api/v1/contacts/{contact['id']}",
            json={"name": "Moved", "customer_id": other["id"]},
        ),
        400,
        "unrecognized_keys",
        "customer_id",
    )
    assert api.get(f"/api/v1/contacts/{contact['id']}").json() == contact
    assert list_ids(api, other["id"]) == []
    assert list_ids(api, customer["id"]) == [contact["id"]]


def test_failed_patch_changes_nothing(api, add_contact):
    contact = add_contact(title="CTO")
    assert_error(
        api.patch(f"/api/v1/contacts/{contact['id']}", json={"title": "CEO", "name": ""}),
        400,
        "too_small",
        "name",
    )
    assert api.get(f"/api/v1/contacts/{contact['id']}").json() == contact


def test_failed_create_creates_nothing(api, customer):
    assert_error(
        api.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": "Ada", "email": "ada@example.com", "labels": [""]},
        ),
        400,
        "too_small",
        "labels.0",
    )
    assert list_ids(api, customer["id"]) == []


# ---- delete ---------------------------------------------------------------------------------


def test_delete_soft_deletes_and_hides_the_contact(api, customer, add_contact):
    keep = add_contact()
    contact = add_contact()
    response = api.delete(f"/api/v1/contacts/{contact['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "object": "deleted",
        "id": contact["id"],
        "display_id": contact["display_id"],
        "deleted": True,
    }
    assert_error(api.get(f"/api/v1/contacts/{contact['id']}"), 404, "contact_not_found")
    assert_error(api.get(f"/api/v1/contacts/{contact['display_id']}"), 404, "contact_not_found")
    assert_error(
        api.patch(f"/api/v1/contacts/{contact['id']}", json={"title": "x"}),
        404,
        "contact_not_found",
    )
    assert list_ids(api, customer["id"]) == [keep["id"]]
    assert api.get(f"/api/v1/contacts/{keep['id']}").json() == keep


def test_second_delete_answers_the_same_body(api, add_contact):
    contact = add_contact()
    first = api.delete(f"/api/v1/contacts/{contact['id']}")
    second = api.delete(f"/api/v1/contacts/{contact['id']}")
    third = api.delete(f"/api/v1/contacts/{contact['display_id']}")
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json() == second.json() == third.json()


def test_delete_by_display_id(api, add_contact):
    add_contact()
    contact = add_contact()
    response = api.delete(f"/api/v1/contacts/{contact['display_id']}")
    assert response.status_code == 200
    assert response.json()["id"] == contact["id"]
    assert_error(api.get(f"/api/v1/contacts/{contact['id']}"), 404, "contact_not_found")


# ---- a deleted customer hides its contacts ----------------------------------------------------


def test_deleting_the_customer_hides_its_contacts_from_every_read(
    api, new_customer, customer, add_contact
):
    contact = add_contact()
    other_customer = new_customer()
    survivor = add_contact(other_customer["id"])
    assert api.delete(f"/api/v1/customers/{customer['id']}").status_code == 200

    assert_error(api.get(f"/api/v1/contacts/{contact['id']}"), 404, "contact_not_found")
    assert_error(api.get(f"/api/v1/contacts/{contact['display_id']}"), 404, "contact_not_found")
    assert_error(api.get(f"/api/v1/customers/{customer['id']}/contacts"), 404, "customer_not_found")
    assert_error(
        api.get(f"/api/v1/customers/{customer['display_id']}/contacts"),
        404,
        "customer_not_found",
    )
    assert_error(
        api.get(f"/api/v1/customers/{customer['id']}/contacts", params={"email": contact["email"]}),
        404,
        "customer_not_found",
    )
    assert_error(
        api.patch(f"/api/v1/contacts/{contact['id']}", json={"title": "x"}),
        404,
        "contact_not_found",
    )
    assert_error(
        api.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": "Late", "email": "late@example.com"},
        ),
        404,
        "customer_not_found",
    )
    # the other customer's contacts are untouched
    assert api.get(f"/api/v1/contacts/{survivor['id']}").json() == survivor
    assert list_ids(api, other_customer["id"]) == [survivor["id"]]


def test_a_new_customer_with_the_freed_slug_does_not_see_old_contacts(
    api, new_customer, customer, add_contact
):
    add_contact()
    assert api.delete(f"/api/v1/customers/{customer['id']}").status_code == 200
    reborn = new_customer("Aurora")
    assert reborn["slug"] == customer["slug"]
    assert list_ids(api, reborn["id"]) == []


# ---- workspaces are isolated ------------------------------------------------------------------


def test_another_workspace_cannot_see_or_change_a_contact(api, other_api, customer, add_contact):
    contact = add_contact()
    for ref in (contact["id"], contact["display_id"]):
        assert_error(other_api.get(f"/api/v1/contacts/{ref}"), 404, "contact_not_found")
        assert_error(
            other_api.patch(f"/api/v1/contacts/{ref}", json={"name": "Hacked"}),
            404,
            "contact_not_found",
        )
        assert_error(other_api.delete(f"/api/v1/contacts/{ref}"), 404, "contact_not_found")
    assert api.get(f"/api/v1/contacts/{contact['id']}").json() == contact


def test_another_workspace_cannot_use_the_customer(api, other_api, customer, add_contact):
    add_contact()
    for ref in (customer["id"], customer["display_id"]):
        assert_error(other_api.get(f"/api/v1/customers/{ref}/contacts"), 404, "customer_not_found")
        assert_error(
            other_api.post(
                f"/api/v1/customers/{ref}/contacts",
                json={"name": "Spy", "email": "spy@globex.example.com"},
            ),
            404,
            "customer_not_found",
        )
    assert len(list_ids(api, customer["id"])) == 1


def test_same_email_in_another_workspace_is_fine(other_api, add_contact, new_customer):
    add_contact(email="ada@example.com")
    theirs = new_customer(client=other_api)
    contact = add_contact(theirs["id"], client=other_api, email="ada@example.com")
    assert contact["email"] == "ada@example.com"


# ---- scopes (§2.1) and authentication (§2) -----------------------------------------------------


def test_read_only_key_can_read_but_not_write(client, make_key, customer, add_contact):
    contact = add_contact()
    headers = auth(make_key(scopes=["read:contacts"], name="reader"))
    got = client.get(f"/api/v1/contacts/{contact['id']}", headers=headers)
    assert got.status_code == 200 and got.json() == contact
    listed = client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=headers)
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["data"]] == [contact["id"]]

    error = assert_error(
        client.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": "Ada", "email": "ada@example.com"},
            headers=headers,
        ),
        403,
        "missing_scope",
    )
    assert "write:contacts" in error["message"]
    assert_error(
        client.patch(f"/api/v1/contacts/{contact['id']}", json={"name": "x"}, headers=headers),
        403,
        "missing_scope",
    )
    assert_error(
        client.delete(f"/api/v1/contacts/{contact['id']}", headers=headers),
        403,
        "missing_scope",
    )
    # nothing changed
    assert client.get(f"/api/v1/contacts/{contact['id']}", headers=headers).json() == contact
    listed = client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=headers)
    assert len(listed.json()["data"]) == 1


def test_key_without_read_contacts_cannot_read(client, make_key, customer, add_contact):
    contact = add_contact()
    scopes = [scope for scope in ALL_SCOPES if scope != "read:contacts"]
    headers = auth(make_key(scopes=scopes, name="writer"))
    error = assert_error(
        client.get(f"/api/v1/contacts/{contact['id']}", headers=headers), 403, "missing_scope"
    )
    assert "read:contacts" in error["message"]
    assert_error(
        client.get(f"/api/v1/contacts/{contact['display_id']}", headers=headers),
        403,
        "missing_scope",
    )
    assert_error(
        client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=headers),
        403,
        "missing_scope",
    )
    # the scope check does not depend on whether the contact exists
    assert_error(client.get("/api/v1/contacts/999", headers=headers), 403, "missing_scope")
    # reading customers is a different scope and still works
    assert client.get(f"/api/v1/customers/{customer['id']}", headers=headers).status_code == 200


def test_customer_scopes_do_not_grant_contact_access(client, make_key, customer):
    headers = auth(make_key(scopes=["read:customers", "write:customers"], name="customers"))
    assert_error(
        client.post(
            f"/api/v1/customers/{customer['id']}/contacts",
            json={"name": "Ada", "email": "ada@example.com"},
            headers=headers,
        ),
        403,
        "missing_scope",
    )
    assert_error(
        client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=headers),
        403,
        "missing_scope",
    )


def test_scope_is_checked_before_the_body(client, make_key, customer):
    headers = auth(make_key(scopes=["read:contacts"], name="reader"))
    assert_error(
        client.post(
            f"/api/v1/customers/{customer['id']}/contacts", json={"bogus": 1}, headers=headers
        ),
        403,
        "missing_scope",
    )


def test_write_only_key_can_create(client, make_key, customer, api):
    headers = auth(make_key(scopes=["write:contacts"], name="writer"))
    response = client.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Ada", "email": "ada@example.com"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert api.get(f"/api/v1/contacts/{response.json()['id']}").json() == response.json()


def test_requests_without_a_key_are_401(client, customer, add_contact):
    contact = add_contact()
    requests = [
        ("GET", f"/api/v1/customers/{customer['id']}/contacts", None),
        ("POST", f"/api/v1/customers/{customer['id']}/contacts", {"name": "A", "email": "a@b.co"}),
        ("GET", f"/api/v1/contacts/{contact['id']}", None),
        ("PATCH", f"/api/v1/contacts/{contact['id']}", {"name": "x"}),
        ("DELETE", f"/api/v1/contacts/{contact['id']}", None),
    ]
    for method, url, body in requests:
        assert_error(client.request(method, url, json=body), 401, "missing_api_key")
        assert_error(
            client.request(method, url, json=body, headers=auth("pivotal_" + "A" * 40)),
            401,
            "invalid_api_key",
        )


# ---- request conventions (§1, §3) --------------------------------------------------------------


def test_request_id_is_echoed(api, customer, add_contact):
    contact = add_contact()
    response = api.get(f"/api/v1/contacts/{contact['id']}", headers={"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    error = assert_error(
        api.get("/api/v1/contacts/999", headers={"X-Request-Id": "req-404"}),
        404,
        "contact_not_found",
    )
    assert error["request_id"] == "req-404"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/contacts/{contact}"),
        ("POST", "/api/v1/contacts/{contact}"),
        ("PUT", "/api/v1/customers/{customer}/contacts"),
        ("DELETE", "/api/v1/customers/{customer}/contacts"),
        ("PATCH", "/api/v1/customers/{customer}/contacts"),
    ],
)
def test_wrong_method_is_405(api, customer, add_contact, method, path):
    contact = add_contact()
    url = path.format(contact=contact["id"], customer=customer["id"])
    assert_error(api.request(method, url, json={}), 405, "method_not_allowed")


def test_body_must_be_json(api, customer, add_contact):
    contact = add_contact()
    create_url = f"/api/v1/customers/{customer['id']}/contacts"
    patch_url = f"/api/v1/contacts/{contact['id']}"
    for method, url in (("POST", create_url), ("PATCH", patch_url)):
        assert_error(
            api.request(method, url, content=b"name=Ada", headers={"Content-Type": "text/plain"}),
            415,
            "invalid_content_type",
        )
        assert_error(
            api.request(
                method, url, content=b'{"name": ', headers={"Content-Type": "application/json"}
            ),
            400,
            "invalid_json",
        )
        assert_error(
            api.request(
                method,
                url,
                content=b'["name", "email"]',
                headers={"Content-Type": "application/json"},
            ),
            400,
            "invalid_json",
        )
    assert api.get(patch_url).json() == contact


def test_json_with_charset_is_accepted(api, customer):
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        content=b'{"name": "Ada", "email": "ada@example.com"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


def test_body_over_one_mebibyte_is_413(api, customer):
    big = {"name": "Ada", "email": "ada@example.com", "title": "x" * (1024 * 1024)}
    assert_error(
        api.post(f"/api/v1/customers/{customer['id']}/contacts", json=big),
        413,
        "body_too_large",
    )
