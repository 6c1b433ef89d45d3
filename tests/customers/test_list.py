"""GET /customers: list shape, newest-first order, pagination and filters (SPEC §4, §7.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customers.helpers import INTEGRATION_IDS, STATUSES, URL, NewCustomer
from support import assert_error


def get_list(api: TestClient, **params: Any) -> dict[str, Any]:
    response = api.get(URL, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = response.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["data"]]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# ---- shape and order ---------------------------------------------------------------------


def test_empty_list(api: TestClient) -> None:
    body = get_list(api)
    assert body == {"object": "list", "data": [], "has_more": False, "next_cursor": None}
    assert next(iter(body)) == "object"


def test_list_is_newest_first_with_full_objects(api: TestClient, new_customer: NewCustomer) -> None:
    made = [new_customer(name) for name in ("A", "B", "C")]
    body = get_list(api)
    assert body["object"] == "list"
    assert body["has_more"] is False
    assert body["next_cursor"] is None
    assert body["data"] == list(reversed(made))
    created = [item["created_at"] for item in body["data"]]
    assert created == sorted(created, reverse=True)


def test_list_order_is_creation_order_not_update_order(
    api: TestClient, new_customer: NewCustomer
) -> None:
    first = new_customer("First")
    new_customer("Second")
    assert api.patch(f"{URL}/{first['id']}", json={"plan": "touched"}).status_code == 200
    assert names(get_list(api)) == ["Second", "First"]


def test_default_limit_is_20(api: TestClient, new_customer: NewCustomer) -> None:
    for n in range(21):
        new_customer(f"C{n:02}")
    page = get_list(api)
    assert len(page["data"]) == 20
    assert page["has_more"] is True
    assert page["next_cursor"] == page["data"][-1]["created_at"]
    rest = get_list(api, cursor=page["next_cursor"])
    assert names(rest) == ["C00"]
    assert rest["has_more"] is False
    assert rest["next_cursor"] is None


def test_walking_pages_visits_every_customer_once_in_order(
    api: TestClient, new_customer: NewCustomer
) -> None:
    made = [new_customer(f"C{n}") for n in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        page = get_list(api, **params)
        pages += 1
        seen.extend(item["id"] for item in page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        assert page["next_cursor"] == page["data"][-1]["created_at"]
        cursor = page["next_cursor"]
    assert pages == 3
    assert seen == [c["id"] for c in reversed(made)]


def test_exact_page_boundary_has_no_more(api: TestClient, new_customer: NewCustomer) -> None:
    for n in range(4):
        new_customer(f"C{n}")
    page = get_list(api, limit=4)
    assert len(page["data"]) == 4
    assert page["has_more"] is False
    assert page["next_cursor"] is None


def test_cursor_returns_items_created_strictly_before_it(
    api: TestClient, new_customer: NewCustomer
) -> None:
    a, b, c = (new_customer(name) for name in ("A", "B", "C"))
    assert names(get_list(api, cursor=b["created_at"])) == ["A"]
    assert names(get_list(api, cursor=a["created_at"])) == []
    later = (parse(c["created_at"]) + timedelta(microseconds=1)).isoformat()
    assert names(get_list(api, cursor=later)) == ["C", "B", "A"]


def test_cursor_accepts_any_offset(api: TestClient, new_customer: NewCustomer) -> None:
    for name in ("A", "B", "C"):
        new_customer(name)
    b = get_list(api)["data"][1]
    shifted = parse(b["created_at"]).astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert names(get_list(api, cursor=shifted.isoformat())) == ["A"]
    naive_utc = parse(b["created_at"]).astimezone(UTC).replace(tzinfo=None).isoformat()
    assert names(get_list(api, cursor=naive_utc)) == ["A"]


def test_limit_bounds_are_inclusive(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("A")
    new_customer("B")
    one = get_list(api, limit="1")
    assert names(one) == ["B"] and one["has_more"] is True
    hundred = get_list(api, limit="100")
    assert names(hundred) == ["B", "A"] and hundred["has_more"] is False


def test_invalid_limit_is_invalid_parameter(api: TestClient, subtests: pytest.Subtests) -> None:
    for limit in ("0", "101", "-1", "abc", "1.5", "", "1e2"):
        with subtests.test(limit=limit):
            response = api.get(URL, params={"limit": limit})
            assert_error(response, 400, "invalid_parameter", "limit")


def test_invalid_cursor_is_invalid_string(api: TestClient, subtests: pytest.Subtests) -> None:
    for cursor in ("yesterday", "abc", "2026-13-01T00:00:00Z", "12345", "-", ""):
        with subtests.test(cursor=cursor):
            response = api.get(URL, params={"cursor": cursor})
            assert_error(response, 400, "invalid_string", "cursor")


# ---- filters -----------------------------------------------------------------------------


def test_status_filter(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    for s in STATUSES:
        new_customer(f"{s} one", status=s)
        new_customer(f"{s} two", status=s)
    for status in STATUSES:
        with subtests.test(status=status):
            page = get_list(api, status=status)
            assert names(page) == [f"{status} two", f"{status} one"]


def test_status_filter_default_status_is_active(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("Defaulted")
    new_customer("Onboarding", status="onboarding")
    assert names(get_list(api, status="active")) == ["Defaulted"]


def test_invalid_status_filter_is_invalid_parameter(
    api: TestClient, subtests: pytest.Subtests
) -> None:
    for status in ("paused", "", "ACTIVE", "active ", "1", "active,churned"):
        with subtests.test(status=status):
            response = api.get(URL, params={"status": status})
            assert_error(response, 400, "invalid_parameter", "status")


def test_slug_filter_is_exact(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("Aurora")
    new_customer("Aurora Café")
    new_customer("Borealis")
    assert names(get_list(api, slug="aurora")) == ["Aurora"]
    assert names(get_list(api, slug="aurora-cafe")) == ["Aurora Café"]
    assert names(get_list(api, slug="auror")) == []
    assert names(get_list(api, slug="aurora-caf")) == []


def test_domain_filter_is_normalized_like_the_field(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("Stored plain", domain="aurora.com")
    new_customer("Stored with scheme", domain="https://Aurora.com/")
    new_customer("Other", domain="aurora.co")
    new_customer("Sub", domain="shop.aurora.com")
    new_customer("None")
    for query in (
        "aurora.com",
        "AURORA.COM",
        "https://aurora.com",
        "http://aurora.com/",
        "HTTPS://Aurora.com/",
        " aurora.com ",
    ):
        with subtests.test(domain=query):
            assert names(get_list(api, domain=query)) == ["Stored with scheme", "Stored plain"]


def test_domain_filter_without_match(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("Aurora", domain="aurora.com")
    assert get_list(api, domain="aurora")["data"] == []
    assert get_list(api, domain="ftp://aurora.com")["data"] == []


def test_integration_id_filters_are_exact(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    for n, field in enumerate(INTEGRATION_IDS):
        new_customer(f"Match {n}", **{field: f"HS{n}23"})
        new_customer(f"Longer {n}", **{field: f"HS{n}234"})
        new_customer(f"Lower {n}", **{field: f"hs{n}23"})
    new_customer("Unset")
    for n, field in enumerate(INTEGRATION_IDS):
        with subtests.test(field=field):
            # Each value exists once per field; other fields holding it must not match.
            assert names(get_list(api, **{field: f"HS{n}23"})) == [f"Match {n}"]
            assert names(get_list(api, **{field: f"hs{n}23"})) == [f"Lower {n}"]
            assert names(get_list(api, **{field: f"HS{n}2"})) == []
            assert names(get_list(api, **{field: "nope"})) == []
            other_field = INTEGRATION_IDS[(n + 1) % len(INTEGRATION_IDS)]
            assert names(get_list(api, **{other_field: f"HS{n}23"})) == []


def test_integration_id_filter_follows_updates(api: TestClient, new_customer: NewCustomer) -> None:
    created = new_customer("Aurora", stripe_customer_id="cus_old")
    patched = api.patch(f"{URL}/{created['id']}", json={"stripe_customer_id": "cus_new"})
    assert patched.status_code == 200
    assert names(get_list(api, stripe_customer_id="cus_old")) == []
    assert names(get_list(api, stripe_customer_id="cus_new")) == ["Aurora"]


def test_filters_combine(api: TestClient, new_customer: NewCustomer) -> None:
    new_customer("A", status="active", domain="aurora.com", hubspot_company_id="H1")
    new_customer("B", status="churned", domain="aurora.com", hubspot_company_id="H1")
    new_customer("C", status="churned", domain="borealis.com", hubspot_company_id="H1")
    new_customer("D", status="churned", domain="aurora.com", hubspot_company_id="H2")
    assert names(get_list(api, status="churned", domain="aurora.com")) == ["D", "B"]
    assert names(get_list(api, status="churned", domain="aurora.com", hubspot_company_id="H1")) == [
        "B"
    ]
    assert names(get_list(api, status="active", slug="b")) == []


def test_filters_apply_before_the_page_is_cut(api: TestClient, new_customer: NewCustomer) -> None:
    for n in range(6):
        new_customer(f"C{n}", status="churned" if n % 2 == 0 else "active")
    first = get_list(api, status="churned", limit=2)
    assert names(first) == ["C4", "C2"]
    assert first["has_more"] is True
    second = get_list(api, status="churned", limit=2, cursor=first["next_cursor"])
    assert names(second) == ["C0"]
    assert second["has_more"] is False
    assert second["next_cursor"] is None
    # The matches fill exactly one page: no next page, although unmatched rows are older.
    active = get_list(api, status="active", limit=3)
    assert names(active) == ["C5", "C3", "C1"]
    assert active["has_more"] is False
    assert active["next_cursor"] is None


def test_list_is_scoped_to_the_workspace(
    api: TestClient, other_api: TestClient, new_customer: NewCustomer
) -> None:
    new_customer("Ours", slug="shared", hubspot_company_id="HS1")
    new_customer("Theirs", client=other_api, slug="shared", hubspot_company_id="HS1")
    assert names(get_list(api)) == ["Ours"]
    assert names(get_list(other_api)) == ["Theirs"]
    assert names(get_list(api, slug="shared")) == ["Ours"]
    assert names(get_list(api, hubspot_company_id="HS1")) == ["Ours"]


def test_deleted_customers_never_appear(api: TestClient, new_customer: NewCustomer) -> None:
    made = [new_customer(f"C{n}") for n in range(5)]
    for gone in (made[1], made[3]):
        assert api.delete(f"{URL}/{gone['id']}").status_code == 200
    assert names(get_list(api)) == ["C4", "C2", "C0"]
    first = get_list(api, limit=2)
    assert names(first) == ["C4", "C2"]
    assert first["has_more"] is True
    assert names(get_list(api, limit=2, cursor=first["next_cursor"])) == ["C0"]


def test_filter_value_with_nul_is_invalid_parameter(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("Aurora")
    for param in ("slug", "domain", *INTEGRATION_IDS):
        with subtests.test(param=param):
            response = api.get(f"{URL}?{param}=aurora%00x")
            assert_error(response, 400, "invalid_parameter", param)


def test_empty_filter_value_matches_nothing(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("Aurora", domain="aurora.com", **dict.fromkeys(INTEGRATION_IDS, "X1"))
    new_customer("Borealis")
    for param in ("slug", "domain", *INTEGRATION_IDS):
        with subtests.test(param=param):
            assert get_list(api, **{param: ""})["data"] == []
