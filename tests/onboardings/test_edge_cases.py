"""Inputs at the edges: NUL characters, unrepresentable date-times, huge JSON integers,
and concurrent writers. None of them may end in a 500 (SPEC §1.1, §3)."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest

from onboardings.helpers import PHASES
from support import assert_error

URL = "/api/v1/onboardings"

# ---- NUL characters --------------------------------------------------------------------


def test_customer_id_with_nul_is_invalid_string(api, customer):
    for value in ("ab\x00c", f"{customer['id']}\x00", "\x00"):
        response = api.post(URL, json={"customer_id": value})
        assert_error(response, 400, "invalid_string", "customer_id")


def test_text_fields_with_nul_are_invalid_string(api, customer, onboarding):
    for field in ("name", "template_id", "csm_id", "notes"):
        response = api.post(URL, json={"customer_id": customer["id"], field: "a\x00b"})
        assert_error(response, 400, "invalid_string", field)
        response = api.patch(f"{URL}/{onboarding['id']}", json={field: "a\x00b"})
        assert_error(response, 400, "invalid_string", field)


def test_metadata_may_hold_nul_inside_json_strings(api, customer):
    response = api.post(URL, json={"customer_id": customer["id"], "metadata": {"a": "x\x00y"}})
    assert response.status_code == 201, response.text
    assert api.get(f"{URL}/{response.json()['id']}").json()["metadata"] == {"a": "x\x00y"}


def test_onboarding_path_with_nul_is_404(api, onboarding):
    ref = "ab%00c"
    assert_error(api.get(f"{URL}/{ref}"), 404, "onboarding_not_found")
    assert_error(api.patch(f"{URL}/{ref}", json={"name": "x"}), 404, "onboarding_not_found")
    assert_error(api.delete(f"{URL}/{ref}"), 404, "onboarding_not_found")
    assert_error(api.get(f"{URL}/{ref}/transitions"), 404, "onboarding_not_found")


def test_customer_path_with_nul_is_404(api, customer):
    response = api.get("/api/v1/customers/ab%00c/onboardings")
    assert_error(response, 404, "customer_not_found")


def test_query_parameter_with_nul_is_invalid_parameter(api, onboarding):
    response = api.get(URL, params={"customer_id": "ab\x00c"})
    assert_error(response, 400, "invalid_parameter", "customer_id")


# ---- date-times that UTC cannot represent ----------------------------------------------------


@pytest.mark.parametrize("field", ["started_at", "target_launch_date"])
def test_date_time_outside_years_1_to_9999_in_utc_is_invalid_string(api, customer, field):
    for value in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"):
        response = api.post(URL, json={"customer_id": customer["id"], field: value})
        assert_error(response, 400, "invalid_string", field)


def test_latest_representable_date_time_round_trips(api, customer):
    value = "9999-12-31T23:59:59.999999Z"
    for field in ("started_at", "target_launch_date"):
        response = api.post(URL, json={"customer_id": customer["id"], field: value})
        assert response.status_code == 201, response.text
        assert response.json()[field] == value


def test_years_before_1000_render_with_four_digits(api, customer):
    body = {"customer_id": customer["id"], "started_at": "0999-05-01T00:00:00.000001Z"}
    response = api.post(URL, json={**body, "target_launch_date": "0001-01-01"})
    assert response.status_code == 201, response.text
    assert response.json()["started_at"] == "0999-05-01T00:00:00.000001Z"
    assert response.json()["target_launch_date"] == "0001-01-01T00:00:00.000000Z"


# ---- JSON integers beyond 64 bits --------------------------------------------------------------


def test_huge_reminder_frequency_is_too_big(api, customer):
    response = api.post(
        URL, json={"customer_id": customer["id"], "reminder_frequency_days": 10**30}
    )
    assert_error(response, 400, "too_big", "reminder_frequency_days")


def test_huge_customer_display_id_is_404(api, customer):
    assert_error(api.post(URL, json={"customer_id": 10**30}), 404, "customer_not_found")


def test_largest_64_bit_integers_are_handled(api, customer):
    big = 2**63 - 1
    response = api.post(URL, json={"customer_id": customer["id"], "reminder_frequency_days": big})
    assert_error(response, 400, "too_big", "reminder_frequency_days")
    assert_error(api.post(URL, json={"customer_id": big}), 404, "customer_not_found")
    assert_error(api.post(URL, json={"customer_id": 2**63}), 404, "customer_not_found")


# ---- concurrent writers ------------------------------------------------------------------------


def test_concurrent_creates_get_distinct_display_ids(api, customer):
    def create(_: int):
        return api.post(URL, json={"customer_id": customer["id"]})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(16)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    assert sorted(r.json()["display_id"] for r in responses) == list(range(1, 17))
    listed = api.get(URL, params={"limit": 100}).json()["data"]
    assert len(listed) == 16
    assert len({item["created_at"] for item in listed}) == 16


def test_concurrent_phase_changes_write_a_consistent_history(api, onboarding):
    targets = PHASES[1:] * 2

    def move(phase: str):
        return api.patch(f"{URL}/{onboarding['id']}", json={"phase": phase})

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(move, targets))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    history = api.get(f"{URL}/{onboarding['id']}/transitions", params={"limit": 100}).json()
    chain = list(reversed(history["data"]))
    assert 1 <= len(chain) <= len(targets)
    assert chain[0]["from"] == "before_getting_started"
    for earlier, later in itertools.pairwise(chain):
        assert later["from"] == earlier["to"]
    for record in chain:
        assert record["from"] != record["to"]
    final = api.get(f"{URL}/{onboarding['id']}").json()
    assert final["phase"] == chain[-1]["to"]
    assert (final["completed_at"] is not None) == (final["phase"] == "completed")
