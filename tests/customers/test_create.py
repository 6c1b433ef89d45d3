"""POST /customers: defaults, every field's rules, slug derivation and uniqueness (SPEC §7.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customers.helpers import (
    CUID,
    FIELDS,
    INTEGRATION_IDS,
    INVALID_VALUES,
    NULLABLE,
    READ_ONLY,
    SLUG,
    STATUSES,
    TIMESTAMP,
    URL,
    NewCustomer,
    many_keys,
)
from support import assert_error


def listed(api: TestClient) -> list[dict[str, Any]]:
    response = api.get(URL, params={"limit": 100})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


# ---- the created object -----------------------------------------------------------------


def test_minimal_create_answers_201_with_defaults(api: TestClient) -> None:
    response = api.post(URL, json={"name": "Aurora"})
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert list(body) == FIELDS
    assert body["object"] == "customer"
    assert CUID.match(body["id"]), body["id"]
    assert body["display_id"] == 1
    assert body["name"] == "Aurora"
    assert body["slug"] == "aurora"
    assert body["status"] == "active"
    assert body["metadata"] == {}
    for field in NULLABLE:
        assert body[field] is None, field
    assert TIMESTAMP.match(body["created_at"]), body["created_at"]
    assert body["updated_at"] == body["created_at"]


def test_create_with_every_field_stores_and_returns_them(api: TestClient) -> None:
    sent = {
        "name": "Aurora Café",
        "slug": "aurora",
        "domain": "aurora.com",
        "status": "onboarding",
        "plan": "growth",
        "mrr": 49_900,
        "monthly_orders": 1_200,
        "hubspot_company_id": "HS123",
        "hubspot_deal_id": "DEAL9",
        "stripe_customer_id": "cus_abc",
        "intercom_company_id": "ic_42",
        "slack_channel_id": "C0123",
        "metadata": {"tier": "gold", "test": True},
    }
    response = api.post(URL, json=sent)
    assert response.status_code == 201, response.text
    body = response.json()
    for field, value in sent.items():
        assert body[field] == value, field
    fetched = api.get(f"{URL}/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


def test_display_ids_count_up_from_one_and_ids_are_distinct(new_customer: NewCustomer) -> None:
    made = [new_customer() for _ in range(3)]
    assert [c["display_id"] for c in made] == [1, 2, 3]
    assert len({c["id"] for c in made}) == 3
    created = [c["created_at"] for c in made]
    assert created == sorted(created) and len(set(created)) == 3


def test_display_ids_are_per_workspace(new_customer: NewCustomer, other_api: TestClient) -> None:
    new_customer()
    new_customer()
    theirs = new_customer(client=other_api)
    assert theirs["display_id"] == 1


def test_display_id_is_not_reused_after_delete(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer()
    second = new_customer()
    assert api.delete(f"{URL}/{second['id']}").status_code == 200
    assert new_customer()["display_id"] == 3


# ---- name -------------------------------------------------------------------------------


def test_name_is_required(api: TestClient) -> None:
    assert_error(api.post(URL, json={}), 400, "missing_field", "name")
    assert_error(api.post(URL), 400, "missing_field", "name")
    assert_error(api.post(URL, json={"slug": "aurora"}), 400, "missing_field", "name")
    assert listed(api) == []


VALID_NAMES = [
    ("A", "A"),
    ("a" * 255, "a" * 255),
    ("  " + "b" * 255 + "\t", "b" * 255),
    ("  Aurora  ", "Aurora"),
    ("Ünïcødé ☕", "Ünïcødé ☕"),
    ("é" * 255, "é" * 255),
    ("🚀" * 255, "🚀" * 255),
]


def test_valid_names_are_stored_trimmed(api: TestClient, subtests: pytest.Subtests) -> None:
    for n, (name, stored) in enumerate(VALID_NAMES):
        with subtests.test(name=f"{name!r:.30}"):
            response = api.post(URL, json={"name": name, "slug": f"case-{n}"})
            assert response.status_code == 201, response.text
            assert response.json()["name"] == stored
            assert api.get(f"{URL}/{response.json()['id']}").json()["name"] == stored


# ---- every refused value ------------------------------------------------------------------


@pytest.mark.many_requests
def test_create_refuses_invalid_values(api: TestClient, subtests: pytest.Subtests) -> None:
    for field, value, code in INVALID_VALUES:
        with subtests.test(field=field, value=f"{value!r:.40}", code=code):
            assert_error(api.post(URL, json={"name": "Aurora", field: value}), 400, code, field)
    assert listed(api) == []


def test_create_refuses_unknown_keys(api: TestClient, subtests: pytest.Subtests) -> None:
    for key in ["nme", "Name", "customer_id", "tags", " name", *READ_ONLY]:
        with subtests.test(key=key):
            value: Any = 1 if key == "display_id" else "x"
            response = api.post(URL, json={"name": "Aurora", key: value})
            assert_error(response, 400, "unrecognized_keys", key)
    assert listed(api) == []


def test_unknown_empty_key_is_unrecognized(api: TestClient) -> None:
    response = api.post(URL, json={"name": "Aurora", "": "x"})
    assert_error(response, 400, "unrecognized_keys", "")


def test_unknown_key_is_reported_even_when_name_is_valid_and_first(api: TestClient) -> None:
    response = api.post(URL, json={"name": "Aurora", "mrr": 100, "metadta": {"a": 1}})
    assert_error(response, 400, "unrecognized_keys", "metadta")


# ---- slug -------------------------------------------------------------------------------


VALID_SLUGS = [
    ("a", "a"),
    ("7", "7"),
    ("a" * 120, "a" * 120),
    ("aurora-cafe-2", "aurora-cafe-2"),
    ("  aurora  ", "aurora"),
    ("0-0-0", "0-0-0"),
]


def test_valid_explicit_slugs(api: TestClient, subtests: pytest.Subtests) -> None:
    for slug, stored in VALID_SLUGS:
        with subtests.test(slug=slug):
            response = api.post(URL, json={"name": "Something Else", "slug": slug})
            assert response.status_code == 201, response.text
            assert response.json()["slug"] == stored


DERIVED_SLUGS = [
    ("Aurora", "aurora"),
    ("Aurora Café", "aurora-cafe"),
    ("  Aurora Café  ", "aurora-cafe"),
    ("ACME, Inc.", "acme-inc"),
    ("Crème Brûlée & Co", "creme-brulee-co"),
    ("Zürich 2024!", "zurich-2024"),
    ("ÉCOLE Ñandú", "ecole-nandu"),
    ("--Hello__World--", "hello-world"),
    ("a  -  b", "a-b"),
    ("Ünïcödé — Co.", "unicode-co"),
    ("Jalapeño's Grill 🌶", "jalapeno-s-grill"),
    ("x" * 130, "x" * 120),
    ("x" * 119 + " tail", "x" * 119),
    ("x" * 125 + "é", "x" * 120),
]


def test_slug_is_derived_from_name(api: TestClient, subtests: pytest.Subtests) -> None:
    for name, slug in DERIVED_SLUGS:
        with subtests.test(name=f"{name:.30}"):
            response = api.post(URL, json={"name": name})
            assert response.status_code == 201, response.text
            body = response.json()
            assert body["slug"] == slug
            assert SLUG.match(body["slug"]) and len(body["slug"]) <= 120
            # Free the slug again: several names derive the same one.
            assert api.delete(f"{URL}/{body['id']}").status_code == 200


def test_name_with_nothing_left_gives_customer_display_id(
    new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("First")
    new_customer("Second")
    for n, name in enumerate(["!!!", "日本語の会社", "—", "🚀 🚀", "_-_"], start=3):
        with subtests.test(name=name):
            body = new_customer(name)
            assert body["display_id"] == n
            assert body["slug"] == f"customer-{n}"


def test_taken_fallback_slug_is_409(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("First", slug="customer-2")
    assert_error(api.post(URL, json={"name": "!!!"}), 409, "slug_taken", "slug")
    assert len(listed(api)) == 1


def test_explicit_slug_wins_over_derivation(new_customer: NewCustomer) -> None:
    assert new_customer("Aurora Café", slug="aurora")["slug"] == "aurora"


def test_explicit_slug_taken_is_409(api: TestClient, new_customer: NewCustomer) -> None:
    first = new_customer("Aurora", slug="aurora")
    response = api.post(URL, json={"name": "Other", "slug": "aurora"})
    assert_error(response, 409, "slug_taken", "slug")
    assert [c["id"] for c in listed(api)] == [first["id"]]


def test_explicit_slug_taken_after_trimming_is_409(
    api: TestClient, new_customer: NewCustomer
) -> None:
    new_customer("Aurora")
    assert_error(api.post(URL, json={"name": "B", "slug": " aurora "}), 409, "slug_taken", "slug")


def test_derived_slug_taken_is_409(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("Aurora Café")
    assert_error(api.post(URL, json={"name": "AURORA cafe!"}), 409, "slug_taken", "slug")
    assert_error(api.post(URL, json={"name": "Aurora Café"}), 409, "slug_taken", "slug")
    assert len(listed(api)) == 1


def test_derived_slug_colliding_with_explicit_slug_is_409(
    api: TestClient, new_customer: NewCustomer
) -> None:
    new_customer("Something", slug="aurora-cafe")
    assert_error(api.post(URL, json={"name": "Aurora Café"}), 409, "slug_taken", "slug")


def test_explicit_slug_colliding_with_derived_slug_is_409(
    api: TestClient, new_customer: NewCustomer
) -> None:
    new_customer("Aurora Café")
    response = api.post(URL, json={"name": "Other", "slug": "aurora-cafe"})
    assert_error(response, 409, "slug_taken", "slug")


def test_same_name_with_distinct_explicit_slugs_is_fine(new_customer: NewCustomer) -> None:
    a = new_customer("Aurora")
    b = new_customer("Aurora", slug="aurora-2")
    assert (a["slug"], b["slug"]) == ("aurora", "aurora-2")
    assert a["name"] == b["name"] == "Aurora"


def test_slug_is_unique_per_workspace_only(
    new_customer: NewCustomer, other_api: TestClient
) -> None:
    ours = new_customer("Aurora")
    theirs = new_customer("Aurora", client=other_api)
    assert ours["slug"] == theirs["slug"] == "aurora"


def test_slug_is_free_again_after_delete(api: TestClient, new_customer: NewCustomer) -> None:
    old = new_customer("Aurora", slug="aurora")
    assert api.delete(f"{URL}/{old['id']}").status_code == 200
    explicit = new_customer("Another", slug="aurora")
    assert explicit["slug"] == "aurora"
    assert api.delete(f"{URL}/{explicit['id']}").status_code == 200
    derived = new_customer("Aurora")
    assert derived["slug"] == "aurora"
    assert derived["id"] not in (old["id"], explicit["id"])
    assert_error(api.post(URL, json={"name": "Aurora"}), 409, "slug_taken", "slug")


def test_slug_of_another_workspace_deleted_customer_irrelevant(
    new_customer: NewCustomer, other_api: TestClient
) -> None:
    theirs = new_customer("Aurora", client=other_api)
    assert other_api.delete(f"{URL}/{theirs['id']}").status_code == 200
    assert new_customer("Aurora")["slug"] == "aurora"


# ---- domain -----------------------------------------------------------------------------


VALID_DOMAINS = [
    ("aurora.com", "aurora.com"),
    ("Aurora.COM", "aurora.com"),
    ("https://aurora.com", "aurora.com"),
    ("http://aurora.com", "aurora.com"),
    ("https://aurora.com/", "aurora.com"),
    ("aurora.com/", "aurora.com"),
    ("HTTPS://Shop.Aurora.com/", "shop.aurora.com"),
    ("  https://aurora.com/  ", "aurora.com"),
    ("http://aurora.com/shop/", "aurora.com/shop"),
    ("ftp://aurora.com", "ftp://aurora.com"),
    ("d" * 255, "d" * 255),
]


def test_domain_is_normalized(
    new_customer: NewCustomer, api: TestClient, subtests: pytest.Subtests
) -> None:
    for domain, stored in VALID_DOMAINS:
        with subtests.test(domain=f"{domain:.30}"):
            body = new_customer(domain=domain)
            assert body["domain"] == stored
            assert api.get(f"{URL}/{body['id']}").json()["domain"] == stored


def test_domains_need_not_be_unique(new_customer: NewCustomer) -> None:
    a = new_customer("A", domain="aurora.com")
    b = new_customer("B", domain="https://AURORA.com/")
    assert a["domain"] == b["domain"] == "aurora.com"


# ---- status, plan, numbers, integration ids ----------------------------------------------


def test_every_status_is_accepted(new_customer: NewCustomer, subtests: pytest.Subtests) -> None:
    for status in STATUSES:
        with subtests.test(status=status):
            assert new_customer(status=status)["status"] == status


def test_status_error_message_lists_allowed_values(api: TestClient) -> None:
    error = assert_error(
        api.post(URL, json={"name": "Aurora", "status": "paused"}),
        400,
        "invalid_enum_value",
        "status",
    )
    for status in STATUSES:
        assert status in error["message"]


def test_valid_plans(new_customer: NewCustomer, subtests: pytest.Subtests) -> None:
    for plan, stored in [
        ("growth", "growth"),
        ("p" * 120, "p" * 120),
        ("  pro  ", "pro"),
        (" " + "p" * 120, "p" * 120),
    ]:
        with subtests.test(plan=f"{plan:.30}"):
            assert new_customer(plan=plan)["plan"] == stored


def test_valid_non_negative_integers(
    new_customer: NewCustomer, api: TestClient, subtests: pytest.Subtests
) -> None:
    for field in ("mrr", "monthly_orders"):
        for value in (0, 1, 49_900, 10**15, 2**53 + 1, 2**63 - 1):
            with subtests.test(field=field, value=value):
                body = new_customer(**{field: value})
                assert body[field] == value
                assert api.get(f"{URL}/{body['id']}").json()[field] == value


def test_plan_length_counts_characters_not_bytes(api: TestClient) -> None:
    response = api.post(URL, json={"name": "Aurora", "plan": "é" * 120})
    assert response.status_code == 201, response.text
    assert response.json()["plan"] == "é" * 120
    too_long = api.post(URL, json={"name": "Borealis", "plan": "é" * 121})
    assert_error(too_long, 400, "too_big", "plan")


def post_raw(api: TestClient, raw: str) -> Any:
    return api.post(URL, content=raw.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("field", ["mrr", "monthly_orders"])
def test_integers_beyond_storage_are_too_big(api: TestClient, field: str) -> None:
    response = post_raw(api, f'{{"name": "Aurora", "{field}": {2**63}}}')
    assert_error(response, 400, "too_big", field)


def test_integers_beyond_64_bits_are_too_big_not_invalid_type(
    api: TestClient, subtests: pytest.Subtests
) -> None:
    for field in ("mrr", "monthly_orders"):
        for number in (2**64, 10**30):
            with subtests.test(field=field, number=number):
                response = post_raw(api, f'{{"name": "Aurora", "{field}": {number}}}')
                assert_error(response, 400, "too_big", field)
        with subtests.test(field=field, number=-(2**64)):
            response = post_raw(api, f'{{"name": "Aurora", "{field}": {-(2**64)}}}')
            assert_error(response, 400, "too_small", field)


def test_metadata_never_alters_a_huge_integer(api: TestClient) -> None:
    """A JSON integer beyond 64 bits is kept exactly or refused, never turned into a float."""
    big = 12345678901234567890123
    response = post_raw(api, f'{{"name": "Aurora", "metadata": {{"legacy_id": {big}}}}}')
    if response.status_code == 201:
        assert response.json()["metadata"] == {"legacy_id": big}
        assert isinstance(response.json()["metadata"]["legacy_id"], int)
    else:
        error = assert_error(response, 400, response.json()["error"]["code"], "metadata")
        assert error["code"] in ("invalid_type", "too_big"), error
    assert all(isinstance(c["metadata"].get("legacy_id", 0), int) for c in listed(api))


@pytest.mark.parametrize("field", INTEGRATION_IDS)
def test_integration_ids_accept_255_chars_and_are_trimmed(api: TestClient, field: str) -> None:
    response = api.post(URL, json={"name": "Aurora", field: "I" * 255})
    assert response.status_code == 201, response.text
    assert response.json()[field] == "I" * 255
    response = api.post(URL, json={"name": "Aurora 2", field: "☕" * 255})
    assert response.status_code == 201, response.text
    assert response.json()[field] == "☕" * 255
    response = api.post(URL, json={"name": "Borealis", field: "  ID-7  "})
    assert response.status_code == 201, response.text
    assert response.json()[field] == "ID-7"


def test_nullable_fields_accept_explicit_null(api: TestClient) -> None:
    response = api.post(URL, json={"name": "Aurora", **dict.fromkeys(NULLABLE)})
    assert response.status_code == 201, response.text
    body = response.json()
    for field in NULLABLE:
        assert body[field] is None, field


# ---- metadata ---------------------------------------------------------------------------


def test_metadata_is_returned_exactly_as_stored(api: TestClient) -> None:
    metadata = {
        "zeta": 1,
        "alpha": "two",
        "test": True,
        "nothing": None,
        "ratio": 2.5,
        "big": 2**53 + 1,
        "negative": -7,
        "list": [1, "x", None, False, {"deep": [[]]}],
        "nested": {"b": {}, "a": []},
        "unicode": "café ☕ 日本",
        "escapes": 'quote " backslash \\ newline \n nul \u0000 end',
        "": "empty key",
    }
    response = api.post(URL, json={"name": "Aurora", "metadata": metadata})
    assert response.status_code == 201, response.text
    # Compare serialized forms too, so that key order and value types must survive.
    expected = json.dumps(metadata)
    assert json.dumps(response.json()["metadata"]) == expected
    fetched = api.get(f"{URL}/{response.json()['display_id']}").json()
    assert json.dumps(fetched["metadata"]) == expected
    listed_item = api.get(URL).json()["data"][0]
    assert json.dumps(listed_item["metadata"]) == expected


def test_metadata_limits_are_inclusive(api: TestClient) -> None:
    for metadata in (
        many_keys(50),
        {"k" * 40: "forty-char key"},
        {"é" * 40: "forty characters, eighty bytes"},
        {"k": "x" * 8184},  # {"k":"xxx..."} is exactly 8192 bytes of compact JSON
    ):
        response = api.post(URL, json={"name": f"Aurora {len(listed(api))}", "metadata": metadata})
        assert response.status_code == 201, response.text
        assert response.json()["metadata"] == metadata
