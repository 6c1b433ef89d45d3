"""GET /onboardings and GET /customers/{customerId}/onboardings: filters, order, pages."""

from __future__ import annotations

import pytest

from onboardings.helpers import PHASES, STATES, parse_ts
from support import assert_error

URL = "/api/v1/onboardings"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def walk(api, url: str, params: dict | None = None, limit: int = 2) -> list[dict]:
    """Every item of a list, following next_cursor page by page."""
    items: list[dict] = []
    query = {**(params or {}), "limit": limit}
    for _ in range(100):
        response = api.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["object"] == "list"
        assert len(page["data"]) <= limit
        items.extend(page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return items
        assert len(page["data"]) == limit
        assert page["next_cursor"] == page["data"][-1]["created_at"]
        query["cursor"] = page["next_cursor"]
    raise AssertionError("pagination did not end")


@pytest.fixture
def two_customers(customer, make_customer):
    return customer, make_customer("Borealis", slug="borealis")


# ---- GET /onboardings -------------------------------------------------------------------


def test_empty_list(api):
    body = api.get(URL).json()
    assert body == {"object": "list", "data": [], "has_more": False, "next_cursor": None}


def test_list_is_newest_first_and_items_match_get(api, make_onboarding):
    made = [make_onboarding(name=f"o{i}") for i in range(3)]
    body = api.get(URL).json()
    assert next(iter(body)) == "object"
    assert [item["id"] for item in body["data"]] == [o["id"] for o in reversed(made)]
    for item in body["data"]:
        assert item == api.get(f"{URL}/{item['id']}").json()
    stamps = [parse_ts(item["created_at"]) for item in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert body["has_more"] is False and body["next_cursor"] is None


def test_list_shows_current_values(api, make_onboarding):
    onboarding = make_onboarding()
    changed = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "review", "notes": "n"})
    assert api.get(URL).json()["data"] == [changed.json()]


def test_filter_by_customer_id_or_display_id(api, make_onboarding, two_customers):
    aurora, borealis = two_customers
    a1 = make_onboarding(customer_id=aurora["id"])
    b1 = make_onboarding(customer_id=borealis["id"])
    a2 = make_onboarding(customer_id=aurora["display_id"])
    assert ids(api.get(URL, params={"customer_id": aurora["id"]})) == [a2["id"], a1["id"]]
    assert ids(api.get(URL, params={"customer_id": str(aurora["display_id"])})) == [
        a2["id"],
        a1["id"],
    ]
    assert ids(api.get(URL, params={"customer_id": borealis["id"]})) == [b1["id"]]
    assert ids(api.get(URL, params={"customer_id": borealis["display_id"]})) == [b1["id"]]
    assert ids(api.get(URL)) == [a2["id"], b1["id"], a1["id"]]


def test_filter_by_customer_never_shows_another_workspaces_rows(
    api, other_api, make_customer, make_onboarding
):
    theirs = make_customer("Globex customer", client=other_api)
    their_onboarding = other_api.post(URL, json={"customer_id": theirs["id"]}).json()
    make_onboarding()
    # Their customer's id, and a display id that exists only in globex.
    other_api.post("/api/v1/customers", json={"name": "Globex second"})
    for ref in (theirs["id"], "2"):
        response = api.get(URL, params={"customer_id": ref})
        if response.status_code == 404:
            assert_error(response, 404, "customer_not_found")
        else:
            assert ids(response) == [], ref
    # And globex's own list shows only its own onboarding.
    assert ids(other_api.get(URL)) == [their_onboarding["id"]]


@pytest.mark.parametrize("phase", PHASES)
def test_filter_by_phase(api, make_onboarding, phase):
    made = {p: make_onboarding(phase=p) for p in PHASES}
    assert ids(api.get(URL, params={"phase": phase})) == [made[phase]["id"]]


def test_filter_by_phase_follows_updates(api, make_onboarding):
    onboarding = make_onboarding()
    assert ids(api.get(URL, params={"phase": "launch"})) == []
    api.patch(f"{URL}/{onboarding['id']}", json={"phase": "launch"})
    assert ids(api.get(URL, params={"phase": "launch"})) == [onboarding["id"]]
    assert ids(api.get(URL, params={"phase": "before_getting_started"})) == []


@pytest.mark.parametrize("state", STATES)
def test_filter_by_state(api, make_onboarding, state):
    made = {s: make_onboarding(state=s) for s in STATES}
    assert ids(api.get(URL, params={"state": state})) == [made[state]["id"]]


def test_filter_by_state_waiting_includes_waiting_on_customer(api, make_onboarding):
    flagged = make_onboarding(waiting_on_customer=True)
    make_onboarding()
    assert ids(api.get(URL, params={"state": "waiting"})) == [flagged["id"]]


def test_filters_combine(api, make_onboarding, two_customers):
    aurora, borealis = two_customers
    match = make_onboarding(customer_id=aurora["id"], phase="review", state="paused")
    make_onboarding(customer_id=aurora["id"], phase="review", state="active")
    make_onboarding(customer_id=aurora["id"], phase="launch", state="paused")
    make_onboarding(customer_id=borealis["id"], phase="review", state="paused")
    params = {"customer_id": aurora["id"], "phase": "review", "state": "paused"}
    assert ids(api.get(URL, params=params)) == [match["id"]]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("phase", "flying"),
        ("phase", "LAUNCH"),
        ("phase", ""),
        ("state", "sleeping"),
        ("state", "Active"),
        ("state", ""),
    ],
)
def test_invalid_enum_filter_is_invalid_parameter(api, make_onboarding, param, value):
    make_onboarding()
    assert_error(api.get(URL, params={param: value}), 400, "invalid_parameter", param)


def test_filters_apply_before_the_page_is_cut(api, make_onboarding):
    launched = []
    for i in range(7):
        phase = "launch" if i % 2 == 0 else "review"
        created = make_onboarding(phase=phase)
        if phase == "launch":
            launched.append(created["id"])
    seen = walk(api, URL, {"phase": "launch"}, limit=1)
    assert [item["id"] for item in seen] == list(reversed(launched))
    assert all(item["phase"] == "launch" for item in seen)


def test_pagination_visits_every_row_once(api, make_onboarding):
    made = [make_onboarding(name=f"o{i}")["id"] for i in range(5)]
    for limit in (1, 2, 3, 5, 100):
        seen = [item["id"] for item in walk(api, URL, limit=limit)]
        assert seen == list(reversed(made)), limit
    first = api.get(URL, params={"limit": 5}).json()
    assert first["has_more"] is False and first["next_cursor"] is None
    first = api.get(URL, params={"limit": 4}).json()
    assert first["has_more"] is True and first["next_cursor"] == first["data"][-1]["created_at"]


def test_cursor_returns_rows_created_strictly_before_it(api, make_onboarding):
    made = [make_onboarding(name=f"o{i}") for i in range(3)]
    cursor = made[1]["created_at"]
    assert ids(api.get(URL, params={"cursor": cursor})) == [made[0]["id"]]
    # Any ISO 8601 offset works as a cursor.
    later = "2999-01-01T02:00:00+02:00"
    assert ids(api.get(URL, params={"cursor": later})) == [o["id"] for o in reversed(made)]
    assert ids(api.get(URL, params={"cursor": "2000-01-01T00:00:00Z"})) == []


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_limit_out_of_range_is_invalid_parameter(api, limit):
    assert_error(api.get(URL, params={"limit": limit}), 400, "invalid_parameter", "limit")


@pytest.mark.parametrize("cursor", ["yesterday", "2026-13-01T00:00:00Z", "12345", "abc"])
def test_bad_cursor_is_invalid_string(api, cursor):
    assert_error(api.get(URL, params={"cursor": cursor}), 400, "invalid_string", "cursor")


def test_deleted_onboardings_are_not_listed(api, make_onboarding, customer):
    kept = make_onboarding(phase="review")
    gone = make_onboarding(phase="review")
    assert api.delete(f"{URL}/{gone['id']}").status_code == 200
    assert ids(api.get(URL)) == [kept["id"]]
    assert ids(api.get(URL, params={"phase": "review"})) == [kept["id"]]
    assert ids(api.get(URL, params={"customer_id": customer["id"]})) == [kept["id"]]
    assert ids(api.get(f"/api/v1/customers/{customer['id']}/onboardings")) == [kept["id"]]


def test_list_is_scoped_to_the_workspace(api, other_api, make_customer, make_onboarding):
    mine = make_onboarding()
    theirs_customer = make_customer("Globex customer", client=other_api)
    theirs = other_api.post(URL, json={"customer_id": theirs_customer["id"]}).json()
    assert ids(api.get(URL)) == [mine["id"]]
    assert ids(other_api.get(URL)) == [theirs["id"]]


# ---- GET /customers/{customerId}/onboardings ---------------------------------------------------


def test_customer_list_by_id_and_display_id(api, make_onboarding, two_customers):
    aurora, borealis = two_customers
    a1 = make_onboarding(customer_id=aurora["id"])
    make_onboarding(customer_id=borealis["id"])
    a2 = make_onboarding(customer_id=aurora["id"])
    expected = [a2["id"], a1["id"]]
    assert ids(api.get(f"/api/v1/customers/{aurora['id']}/onboardings")) == expected
    assert ids(api.get(f"/api/v1/customers/{aurora['display_id']}/onboardings")) == expected
    body = api.get(f"/api/v1/customers/{aurora['id']}/onboardings").json()
    assert body["object"] == "list" and body["has_more"] is False
    assert body["data"][0] == api.get(f"{URL}/{a2['id']}").json()


def test_customer_list_is_empty_for_a_customer_without_onboardings(api, two_customers):
    body = api.get(f"/api/v1/customers/{two_customers[0]['id']}/onboardings").json()
    assert body == {"object": "list", "data": [], "has_more": False, "next_cursor": None}


@pytest.mark.parametrize(
    "ref", ["zzzzzzzzzzzzzzzzzzzzzzzz", "99", "0", "aurora", "99999999999999999999999"]
)
def test_customer_list_for_unknown_customer_is_404(api, customer, ref):
    assert_error(api.get(f"/api/v1/customers/{ref}/onboardings"), 404, "customer_not_found")


def test_customer_list_for_deleted_customer_is_404(api, customer, make_onboarding):
    make_onboarding()
    assert api.delete(f"/api/v1/customers/{customer['id']}").status_code == 200
    for ref in (customer["id"], customer["display_id"]):
        assert_error(api.get(f"/api/v1/customers/{ref}/onboardings"), 404, "customer_not_found")


def test_customer_list_for_another_workspaces_customer_is_404(api, other_api, make_customer):
    theirs = make_customer("Globex customer", client=other_api)
    other_api.post(URL, json={"customer_id": theirs["id"]})
    for ref in (theirs["id"], theirs["display_id"]):
        assert_error(api.get(f"/api/v1/customers/{ref}/onboardings"), 404, "customer_not_found")


def test_customer_list_filters(api, make_onboarding, two_customers):
    aurora, borealis = two_customers
    review_paused = make_onboarding(customer_id=aurora["id"], phase="review", state="paused")
    review_active = make_onboarding(customer_id=aurora["id"], phase="review")
    launch_paused = make_onboarding(customer_id=aurora["id"], phase="launch", state="paused")
    make_onboarding(customer_id=borealis["id"], phase="review", state="paused")
    path = f"/api/v1/customers/{aurora['id']}/onboardings"
    assert ids(api.get(path, params={"phase": "review"})) == [
        review_active["id"],
        review_paused["id"],
    ]
    assert ids(api.get(path, params={"state": "paused"})) == [
        launch_paused["id"],
        review_paused["id"],
    ]
    assert ids(api.get(path, params={"phase": "review", "state": "paused"})) == [
        review_paused["id"]
    ]
    assert ids(api.get(path, params={"phase": "completed"})) == []


@pytest.mark.parametrize(("param", "value"), [("phase", "flying"), ("state", "asleep")])
def test_customer_list_invalid_enum_filter(api, customer, param, value):
    path = f"/api/v1/customers/{customer['id']}/onboardings"
    assert_error(api.get(path, params={param: value}), 400, "invalid_parameter", param)


def test_customer_list_paginates(api, make_onboarding, customer, make_customer):
    other = make_customer("Other")
    made = []
    for i in range(5):
        made.append(make_onboarding(name=f"o{i}")["id"])
        make_onboarding(customer_id=other["id"])
    path = f"/api/v1/customers/{customer['display_id']}/onboardings"
    seen = [item["id"] for item in walk(api, path, limit=2)]
    assert seen == list(reversed(made))
    assert_error(api.get(path, params={"limit": 0}), 400, "invalid_parameter", "limit")
    assert_error(api.get(path, params={"cursor": "soon"}), 400, "invalid_string", "cursor")
