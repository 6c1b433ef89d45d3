"""GET and DELETE /customers/{id}: lookups by id and display id, isolation, soft delete."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from customers.helpers import URL, NewCustomer
from support import assert_error

# ---- lookups -----------------------------------------------------------------------------


def test_get_by_id_and_by_display_id_answer_the_same(
    api: TestClient, customer: dict[str, Any]
) -> None:
    by_id = api.get(f"{URL}/{customer['id']}")
    by_display_id = api.get(f"{URL}/{customer['display_id']}")
    assert by_id.status_code == by_display_id.status_code == 200
    assert by_id.headers["content-type"] == "application/json; charset=utf-8"
    assert by_id.json() == by_display_id.json() == customer


def test_display_id_lookup_finds_the_right_customer(
    api: TestClient, new_customer: NewCustomer
) -> None:
    made = [new_customer(f"Customer {n}") for n in range(1, 13)]
    for created in made:
        response = api.get(f"{URL}/{created['display_id']}")
        assert response.status_code == 200
        assert response.json()["id"] == created["id"]


def test_display_id_with_leading_zeros_is_still_a_display_id(
    api: TestClient, customer: dict[str, Any]
) -> None:
    response = api.get(f"{URL}/0001")
    assert response.status_code == 200, response.text
    assert response.json() == customer


def test_slug_in_path_is_an_id_lookup_and_404(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("Aurora")
    assert_error(api.get(f"{URL}/aurora"), 404, "customer_not_found")


UNKNOWN_REFS = [
    "2",
    "0",
    "-1",
    "999999",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999",
    "abcdefghijklmnopqrstuvwx",
    "cus_123",
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE: not ASCII digits, so an id lookup
    "1.0",
    "1e0",
    "+1",
    "%201",
]


def test_unknown_refs_are_customer_not_found(
    api: TestClient, customer: dict[str, Any], subtests: pytest.Subtests
) -> None:
    assert customer["display_id"] == 1
    for ref in UNKNOWN_REFS:
        with subtests.test(ref=ref):
            assert_error(api.get(f"{URL}/{ref}"), 404, "customer_not_found")
            response = api.patch(f"{URL}/{ref}", json={"plan": "x"})
            assert_error(response, 404, "customer_not_found")
            assert_error(api.delete(f"{URL}/{ref}"), 404, "customer_not_found")
    assert api.get(f"{URL}/{customer['id']}").json() == customer


def test_id_with_nul_character_is_customer_not_found(
    api: TestClient, customer: dict[str, Any]
) -> None:
    ref = f"{customer['id']}%00"
    assert_error(api.get(f"{URL}/{ref}"), 404, "customer_not_found")
    assert_error(api.patch(f"{URL}/{ref}", json={"plan": "x"}), 404, "customer_not_found")
    assert_error(api.delete(f"{URL}/{ref}"), 404, "customer_not_found")
    assert api.get(f"{URL}/{customer['id']}").json() == customer


def test_id_lookup_is_exact(api: TestClient, customer: dict[str, Any]) -> None:
    assert_error(api.get(f"{URL}/{customer['id'].upper()}"), 404, "customer_not_found")
    assert_error(api.get(f"{URL}/{customer['id'][:-1]}"), 404, "customer_not_found")
    assert_error(api.get(f"{URL}/{customer['id']}x"), 404, "customer_not_found")


# ---- another workspace -------------------------------------------------------------------


def test_another_workspaces_customer_is_not_found(
    api: TestClient, other_api: TestClient, customer: dict[str, Any]
) -> None:
    for ref in (customer["id"], customer["display_id"]):
        assert_error(other_api.get(f"{URL}/{ref}"), 404, "customer_not_found")
        assert_error(
            other_api.patch(f"{URL}/{ref}", json={"name": "Hijacked"}), 404, "customer_not_found"
        )
        assert_error(other_api.delete(f"{URL}/{ref}"), 404, "customer_not_found")
    assert other_api.get(URL).json()["data"] == []
    assert api.get(f"{URL}/{customer['id']}").json() == customer


def test_display_ids_resolve_within_the_callers_workspace(
    api: TestClient, other_api: TestClient, new_customer: NewCustomer
) -> None:
    ours = new_customer("Ours")
    theirs = new_customer("Theirs", client=other_api)
    assert ours["display_id"] == theirs["display_id"] == 1
    assert api.get(f"{URL}/1").json()["id"] == ours["id"]
    assert other_api.get(f"{URL}/1").json()["id"] == theirs["id"]
    assert_error(api.get(f"{URL}/{theirs['id']}"), 404, "customer_not_found")


# ---- soft delete -------------------------------------------------------------------------


def test_delete_answers_the_deleted_object(api: TestClient, customer: dict[str, Any]) -> None:
    response = api.delete(f"{URL}/{customer['id']}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body == {
        "object": "deleted",
        "id": customer["id"],
        "display_id": customer["display_id"],
        "deleted": True,
    }
    assert next(iter(body)) == "object"


def test_delete_by_display_id(api: TestClient, customer: dict[str, Any]) -> None:
    response = api.delete(f"{URL}/{customer['display_id']}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == customer["id"]
    assert_error(api.get(f"{URL}/{customer['id']}"), 404, "customer_not_found")


def test_deleted_customer_is_hidden_from_every_read(
    api: TestClient, customer: dict[str, Any], new_customer: NewCustomer
) -> None:
    kept = new_customer("Kept")
    assert api.delete(f"{URL}/{customer['id']}").status_code == 200
    for ref in (customer["id"], customer["display_id"]):
        assert_error(api.get(f"{URL}/{ref}"), 404, "customer_not_found")
        assert_error(api.patch(f"{URL}/{ref}", json={"plan": "x"}), 404, "customer_not_found")
    assert [c["id"] for c in api.get(URL).json()["data"]] == [kept["id"]]
    for query in (
        {"slug": customer["slug"]},
        {"domain": customer["domain"]},
        {"status": customer["status"]},
        {"hubspot_company_id": customer["hubspot_company_id"]},
    ):
        assert api.get(URL, params=query).json()["data"] == [], query


def test_second_delete_returns_the_same_body(api: TestClient, customer: dict[str, Any]) -> None:
    first = api.delete(f"{URL}/{customer['id']}")
    assert first.status_code == 200, first.text
    for ref in (customer["id"], customer["display_id"], customer["id"]):
        again = api.delete(f"{URL}/{ref}")
        assert again.status_code == 200, again.text
        assert again.json() == first.json()


def test_second_delete_still_finds_the_old_customer_after_its_slug_is_reused(
    api: TestClient, customer: dict[str, Any], new_customer: NewCustomer
) -> None:
    first = api.delete(f"{URL}/{customer['id']}").json()
    successor = new_customer("Aurora Café")
    assert successor["slug"] == customer["slug"]
    assert api.delete(f"{URL}/{customer['display_id']}").json() == first
    assert api.get(f"{URL}/{successor['id']}").json() == successor


def test_delete_in_another_workspace_leaves_ours_alone(
    api: TestClient, other_api: TestClient, customer: dict[str, Any]
) -> None:
    assert_error(other_api.delete(f"{URL}/{customer['id']}"), 404, "customer_not_found")
    assert api.get(f"{URL}/{customer['id']}").json() == customer
    second = api.delete(f"{URL}/{customer['id']}")
    assert second.status_code == 200
    assert_error(other_api.delete(f"{URL}/{customer['id']}"), 404, "customer_not_found")


def test_delete_never_existing_customer_is_404(api: TestClient) -> None:
    assert_error(api.delete(f"{URL}/1"), 404, "customer_not_found")
    assert_error(api.delete(f"{URL}/nosuchcustomerid00000000"), 404, "customer_not_found")
