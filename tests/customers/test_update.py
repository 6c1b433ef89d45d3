"""PATCH /customers/{id}: partial updates, the same field rules, updated_at (SPEC §7.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customers.helpers import (
    INTEGRATION_IDS,
    INVALID_VALUES,
    NON_NULLABLE,
    NULLABLE,
    READ_ONLY,
    STATUSES,
    TIMESTAMP,
    URL,
    NewCustomer,
    many_keys,
)
from support import assert_error


def patch(api: TestClient, customer: dict[str, Any], body: Any) -> Any:
    return api.patch(f"{URL}/{customer['id']}", json=body)


def fetch(api: TestClient, customer: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"{URL}/{customer['id']}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- what changes, and what does not ------------------------------------------------------


def test_empty_patch_changes_nothing(api: TestClient, customer: dict[str, Any]) -> None:
    response = patch(api, customer, {})
    assert response.status_code == 200, response.text
    assert response.json() == customer
    assert fetch(api, customer) == customer


CHANGES = [
    ("name", "Borealis", "Borealis"),
    ("name", "  Borealis  ", "Borealis"),
    ("name", "n" * 255, "n" * 255),
    ("slug", "borealis", "borealis"),
    ("slug", "  borealis-2 ", "borealis-2"),
    ("slug", "s" * 120, "s" * 120),
    ("domain", "borealis.io", "borealis.io"),
    ("domain", "HTTPS://Borealis.IO/", "borealis.io"),
    ("domain", "http://borealis.io/app/", "borealis.io/app"),
    ("plan", "enterprise", "enterprise"),
    ("plan", " p" + "p" * 119 + " ", "p" * 120),
    ("mrr", 0, 0),
    ("mrr", 10**15, 10**15),
    ("monthly_orders", 0, 0),
    ("monthly_orders", 987_654, 987_654),
    *[(field, "  NEW-1  ", "NEW-1") for field in INTEGRATION_IDS],
    *[(field, "z" * 255, "z" * 255) for field in INTEGRATION_IDS],
    ("metadata", {"plan": "x"}, {"plan": "x"}),
    ("metadata", many_keys(50), many_keys(50)),
]


@pytest.mark.many_requests
def test_patch_changes_only_the_field_sent(
    api: TestClient, full_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    for n, (field, value, stored) in enumerate(CHANGES):
        with subtests.test(field=field, value=f"{value!r:.30}"):
            customer = full_customer(f"Subject {n}")
            response = patch(api, customer, {field: value})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body[field] == stored
            for other in customer:
                if other not in (field, "updated_at"):
                    assert body[other] == customer[other], other
            assert body["updated_at"] > customer["updated_at"]
            assert TIMESTAMP.match(body["updated_at"]), body["updated_at"]
            assert fetch(api, customer) == body


def test_patch_status_to_every_value(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    for status in STATUSES:
        with subtests.test(status=status):
            created = new_customer(status="archived" if status != "archived" else "active")
            response = patch(api, created, {"status": status})
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status


def test_patch_several_fields_at_once(api: TestClient, customer: dict[str, Any]) -> None:
    response = patch(
        api, customer, {"name": "Borealis", "status": "at_risk", "mrr": 1, "plan": None}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["status"], body["mrr"], body["plan"]) == (
        "Borealis",
        "at_risk",
        1,
        None,
    )
    assert body["domain"] == customer["domain"]
    assert body["metadata"] == customer["metadata"]


def test_null_clears_a_nullable_field(
    api: TestClient, full_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    for field in NULLABLE:
        with subtests.test(field=field):
            customer = full_customer(f"Clear {field}")
            assert customer[field] is not None
            response = patch(api, customer, {field: None})
            assert response.status_code == 200, response.text
            assert response.json()[field] is None
            assert fetch(api, customer)[field] is None
            assert response.json()["updated_at"] > customer["updated_at"]


def test_renaming_does_not_change_the_slug(api: TestClient, customer: dict[str, Any]) -> None:
    response = patch(api, customer, {"name": "Completely Different"})
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == customer["slug"] == "aurora-cafe"


def test_patch_by_display_id(api: TestClient, customer: dict[str, Any]) -> None:
    response = api.patch(f"{URL}/{customer['display_id']}", json={"plan": "scale"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == customer["id"]
    assert fetch(api, customer)["plan"] == "scale"


def test_patch_answers_the_whole_customer(api: TestClient, customer: dict[str, Any]) -> None:
    body = patch(api, customer, {"plan": "scale"}).json()
    assert list(body) == list(customer)
    assert body["object"] == "customer"
    assert body["id"] == customer["id"]
    assert body["display_id"] == customer["display_id"]
    assert body["created_at"] == customer["created_at"]


# ---- metadata replaces -----------------------------------------------------------------


def test_metadata_patch_replaces_the_whole_object(
    api: TestClient, customer: dict[str, Any]
) -> None:
    assert customer["metadata"] == {"tier": "gold", "seats": 12}
    response = patch(api, customer, {"metadata": {"region": "eu"}})
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == {"region": "eu"}
    assert fetch(api, customer)["metadata"] == {"region": "eu"}


def test_metadata_patch_with_empty_object_clears_it(
    api: TestClient, customer: dict[str, Any]
) -> None:
    response = patch(api, customer, {"metadata": {}})
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == {}
    assert fetch(api, customer)["metadata"] == {}


def test_patched_metadata_is_returned_exactly_as_stored(
    api: TestClient, customer: dict[str, Any]
) -> None:
    metadata = {"z": [1, 2.25, None], "a": {"y": True, "x": "é"}, "m": -3}
    response = patch(api, customer, {"metadata": metadata})
    assert response.status_code == 200, response.text
    assert json.dumps(response.json()["metadata"]) == json.dumps(metadata)
    assert json.dumps(fetch(api, customer)["metadata"]) == json.dumps(metadata)


def test_metadata_patch_limits_are_inclusive(api: TestClient, customer: dict[str, Any]) -> None:
    for metadata in (many_keys(50), {"k" * 40: 1}, {"k": "x" * 8184}):
        response = patch(api, customer, {"metadata": metadata})
        assert response.status_code == 200, response.text
        assert response.json()["metadata"] == metadata


# ---- refused values leave the customer untouched -----------------------------------------


def test_null_for_non_nullable_field_is_invalid_type(
    api: TestClient, customer: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for field in NON_NULLABLE:
        with subtests.test(field=field):
            assert_error(patch(api, customer, {field: None}), 400, "invalid_type", field)
    assert fetch(api, customer) == customer


def test_unknown_keys_are_refused(
    api: TestClient, customer: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for key in ["nme", "Name", "tags", *READ_ONLY]:
        with subtests.test(key=key):
            value: Any = 99 if key == "display_id" else "x"
            assert_error(patch(api, customer, {key: value}), 400, "unrecognized_keys", key)
    assert fetch(api, customer) == customer


def test_unknown_key_beside_valid_ones_changes_nothing(
    api: TestClient, customer: dict[str, Any]
) -> None:
    response = patch(api, customer, {"name": "Borealis", "stauts": "churned"})
    assert_error(response, 400, "unrecognized_keys", "stauts")
    assert fetch(api, customer) == customer


def test_one_invalid_field_beside_valid_ones_changes_nothing(
    api: TestClient, customer: dict[str, Any]
) -> None:
    assert_error(patch(api, customer, {"name": "Borealis", "mrr": -5}), 400, "too_small", "mrr")
    assert fetch(api, customer) == customer


def test_patch_body_must_be_a_json_object(
    api: TestClient, customer: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for raw in (b"[]", b'[{"name": "x"}]', b'"name"', b"3", b"null", b"{name"):
        with subtests.test(body=raw):
            response = api.patch(
                f"{URL}/{customer['id']}",
                content=raw,
                headers={"Content-Type": "application/json"},
            )
            assert_error(response, 400, "invalid_json")
    assert fetch(api, customer) == customer


@pytest.mark.many_requests
def test_patch_refuses_invalid_values(
    api: TestClient, customer: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for field, value, code in INVALID_VALUES:
        with subtests.test(field=field, value=f"{value!r:.40}", code=code):
            assert_error(patch(api, customer, {field: value}), 400, code, field)
    assert fetch(api, customer) == customer


# ---- slug uniqueness on update -----------------------------------------------------------


def test_patch_slug_to_a_taken_slug_is_409(
    api: TestClient, customer: dict[str, Any], new_customer: NewCustomer
) -> None:
    other = new_customer("Borealis")
    assert_error(patch(api, other, {"slug": customer["slug"]}), 409, "slug_taken", "slug")
    assert_error(patch(api, other, {"slug": f" {customer['slug']} "}), 409, "slug_taken", "slug")
    assert fetch(api, other) == other


def test_patch_slug_to_its_own_slug_is_a_no_op(api: TestClient, customer: dict[str, Any]) -> None:
    response = patch(api, customer, {"slug": customer["slug"]})
    assert response.status_code == 200, response.text
    assert response.json() == customer


def test_patch_slug_to_a_deleted_customers_slug(
    api: TestClient, customer: dict[str, Any], new_customer: NewCustomer
) -> None:
    other = new_customer("Borealis")
    assert api.delete(f"{URL}/{customer['id']}").status_code == 200
    response = patch(api, other, {"slug": customer["slug"]})
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == customer["slug"]


def test_old_slug_is_free_after_patch(
    api: TestClient, customer: dict[str, Any], new_customer: NewCustomer
) -> None:
    assert patch(api, customer, {"slug": "renamed"}).status_code == 200
    assert new_customer("Someone", slug="aurora-cafe")["slug"] == "aurora-cafe"
    assert new_customer("Aurora Café", slug="x")["slug"] == "x"
    assert_error(
        api.post(URL, json={"name": "Other", "slug": "renamed"}), 409, "slug_taken", "slug"
    )


def test_patch_slug_taken_in_another_workspace_is_fine(
    api: TestClient, customer: dict[str, Any], new_customer: NewCustomer, other_api: TestClient
) -> None:
    new_customer("Theirs", client=other_api, slug="shared")
    response = patch(api, customer, {"slug": "shared"})
    assert response.status_code == 200, response.text
    assert response.json()["slug"] == "shared"


# ---- updated_at --------------------------------------------------------------------------


def test_updated_at_moves_only_on_a_real_change(api: TestClient, customer: dict[str, Any]) -> None:
    same_values: dict[str, Any] = {field: customer[field] for field in customer}
    for key in ("object", "id", "display_id", "created_at", "updated_at"):
        del same_values[key]
    response = patch(api, customer, same_values)
    assert response.status_code == 200, response.text
    assert response.json() == customer

    changed = patch(api, customer, {"mrr": customer["mrr"] + 1})
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["updated_at"] > customer["updated_at"]
    assert after["created_at"] == customer["created_at"]
    assert fetch(api, customer)["updated_at"] == after["updated_at"]


NO_OP_PATCHES: list[dict[str, Any]] = [
    {"name": "  Aurora Café  "},
    {"domain": "HTTPS://AURORA.com/"},
    {"domain": "http://aurora.com"},
    {"plan": " growth "},
    {"hubspot_company_id": " HS123 "},
    {"slug": " aurora-cafe "},
    {"status": "onboarding"},
    {"mrr": 49_900, "monthly_orders": 1_200},
    {"metadata": {"tier": "gold", "seats": 12}},
]


def test_values_equal_after_normalization_change_nothing(
    api: TestClient, customer: dict[str, Any], subtests: pytest.Subtests
) -> None:
    for body in NO_OP_PATCHES:
        with subtests.test(body=body):
            response = patch(api, customer, body)
            assert response.status_code == 200, response.text
            assert response.json() == customer
            assert fetch(api, customer) == customer


def test_null_on_an_already_null_field_changes_nothing(
    api: TestClient, new_customer: NewCustomer
) -> None:
    created = new_customer("Plain")
    response = patch(api, created, dict.fromkeys(NULLABLE))
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_every_real_change_moves_updated_at_forward(
    api: TestClient, customer: dict[str, Any]
) -> None:
    stamps = [customer["updated_at"]]
    for body in ({"plan": "a"}, {"plan": "b"}, {"status": "churned"}, {"metadata": {}}):
        response = patch(api, customer, body)
        assert response.status_code == 200, response.text
        stamps.append(response.json()["updated_at"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


# ---- not found ---------------------------------------------------------------------------


def test_patch_unknown_customer_is_404(api: TestClient) -> None:
    assert_error(api.patch(f"{URL}/12", json={"plan": "x"}), 404, "customer_not_found")
    assert_error(
        api.patch(f"{URL}/abcdefghijklmnopqrstuvwx", json={"plan": "x"}), 404, "customer_not_found"
    )


def test_patch_deleted_customer_is_404(api: TestClient, customer: dict[str, Any]) -> None:
    assert api.delete(f"{URL}/{customer['id']}").status_code == 200
    for ref in (customer["id"], customer["display_id"]):
        assert_error(api.patch(f"{URL}/{ref}", json={"plan": "x"}), 404, "customer_not_found")
        assert_error(api.patch(f"{URL}/{ref}", json={}), 404, "customer_not_found")


def test_patch_by_slug_is_404(api: TestClient, customer: dict[str, Any]) -> None:
    response = api.patch(f"{URL}/{customer['slug']}", json={"plan": "x"})
    assert_error(response, 404, "customer_not_found")
    assert fetch(api, customer) == customer
