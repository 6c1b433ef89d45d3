"""Contact emails: stored lowercased, unique among the customer's live contacts (SPEC §7.3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from support import assert_error


def post(api, customer_ref, **fields):
    body = {"name": "Someone", **fields}
    return api.post(f"/api/v1/customers/{customer_ref}/contacts", json=body)


def live_emails(api, customer_ref):
    response = api.get(f"/api/v1/customers/{customer_ref}/contacts", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [contact["email"] for contact in response.json()["data"]]


def test_email_is_stored_lowercased(api, customer):
    response = post(api, customer["id"], email="Ada.Lovelace@Example.COM")
    assert response.status_code == 201, response.text
    assert response.json()["email"] == "ada.lovelace@example.com"
    got = api.get(f"/api/v1/contacts/{response.json()['id']}").json()
    assert got["email"] == "ada.lovelace@example.com"


def test_email_is_lowercased_on_patch(api, add_contact):
    contact = add_contact()
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={"email": " GRACE@Navy.Mil "})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "grace@navy.mil"


def test_duplicate_email_on_the_same_customer_is_409(api, customer):
    assert post(api, customer["id"], email="ada@example.com").status_code == 201
    assert_error(post(api, customer["id"], email="ada@example.com"), 409, "email_taken", "email")
    assert live_emails(api, customer["id"]) == ["ada@example.com"]


def test_duplicate_email_is_detected_case_insensitively(api, customer):
    assert post(api, customer["id"], email="Ada@Example.com").status_code == 201
    assert_error(post(api, customer["id"], email="ADA@EXAMPLE.COM"), 409, "email_taken", "email")
    assert_error(
        post(api, customer["id"], email="  ada@example.com  "), 409, "email_taken", "email"
    )
    # via the customer's display id too
    assert_error(
        post(api, customer["display_id"], email="aDa@eXample.com"), 409, "email_taken", "email"
    )
    assert live_emails(api, customer["id"]) == ["ada@example.com"]


def test_same_email_on_another_customer_is_allowed(api, customer, new_customer):
    other = new_customer()
    first = post(api, customer["id"], email="ada@example.com")
    second = post(api, other["id"], email="ADA@example.com")
    assert first.status_code == second.status_code == 201
    assert second.json()["email"] == "ada@example.com"
    assert second.json()["customer_id"] == other["id"]


def test_email_is_free_again_after_the_contact_is_deleted(api, customer):
    first = post(api, customer["id"], email="ada@example.com")
    assert api.delete(f"/api/v1/contacts/{first.json()['id']}").status_code == 200
    again = post(api, customer["id"], email="Ada@Example.com")
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]
    assert live_emails(api, customer["id"]) == ["ada@example.com"]
    # and the new live one blocks a third
    assert_error(post(api, customer["id"], email="ada@example.com"), 409, "email_taken", "email")


def test_patch_to_a_taken_email_is_409(api, add_contact):
    ada = add_contact(email="ada@example.com")
    grace = add_contact(email="grace@example.com")
    assert_error(
        api.patch(f"/api/v1/contacts/{grace['id']}", json={"email": "ADA@example.com"}),
        409,
        "email_taken",
        "email",
    )
    assert_error(
        api.patch(
            f"/api/v1/contacts/{grace['id']}", json={"name": "Changed", "email": "ada@example.com"}
        ),
        409,
        "email_taken",
        "email",
    )
    assert api.get(f"/api/v1/contacts/{grace['id']}").json() == grace
    assert api.get(f"/api/v1/contacts/{ada['id']}").json() == ada


def test_patch_keeping_its_own_email_is_fine(api, add_contact):
    contact = add_contact(email="ada@example.com")
    response = api.patch(
        f"/api/v1/contacts/{contact['id']}", json={"email": "ADA@example.com", "title": "CTO"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "ada@example.com"
    assert response.json()["title"] == "CTO"


def test_patch_to_the_email_of_a_deleted_contact_is_fine(api, add_contact):
    gone = add_contact(email="ada@example.com")
    contact = add_contact(email="grace@example.com")
    assert api.delete(f"/api/v1/contacts/{gone['id']}").status_code == 200
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={"email": "ada@example.com"})
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "ada@example.com"


def test_patch_to_an_email_used_on_another_customer_is_fine(
    api, customer, new_customer, add_contact
):
    other = new_customer()
    add_contact(other["id"], email="ada@example.com")
    contact = add_contact(email="grace@example.com")
    response = api.patch(f"/api/v1/contacts/{contact['id']}", json={"email": "ada@example.com"})
    assert response.status_code == 200, response.text


def test_swapping_emails_through_a_free_one(api, add_contact):
    a = add_contact(email="a@example.com")
    b = add_contact(email="b@example.com")
    assert api.patch(f"/api/v1/contacts/{a['id']}", json={"email": "tmp@example.com"}).is_success
    assert api.patch(f"/api/v1/contacts/{b['id']}", json={"email": "a@example.com"}).is_success
    assert api.patch(f"/api/v1/contacts/{a['id']}", json={"email": "b@example.com"}).is_success
    assert api.get(f"/api/v1/contacts/{a['id']}").json()["email"] == "b@example.com"
    assert api.get(f"/api/v1/contacts/{b['id']}").json()["email"] == "a@example.com"


def test_concurrent_creates_with_one_email_make_one_contact(api, customer):
    def create(i):
        return post(api, customer["id"], name=f"Racer {i}", email=f"Race@Example.com{' ' * i}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(create, range(6)))
    created = [r for r in responses if r.status_code == 201]
    assert len(created) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 201:
            assert_error(response, 409, "email_taken", "email")
    assert live_emails(api, customer["id"]) == ["race@example.com"]
