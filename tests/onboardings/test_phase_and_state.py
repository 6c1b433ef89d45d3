"""Phases, states and the waiting_on_customer pairing, on create and on PATCH (SPEC §7.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardings.helpers import PHASES, STATES, parse_ts
from support import assert_error

URL = "/api/v1/onboardings"
NON_WAITING = ["active", "paused", "at_risk"]


def _consistent(body: dict) -> bool:
    return (body["state"] == "waiting") == body["waiting_on_customer"]


# ---- phase -----------------------------------------------------------------------------


@pytest.mark.parametrize("phase", PHASES)
def test_create_with_each_phase(api, customer, phase):
    response = api.post(URL, json={"customer_id": customer["id"], "phase": phase})
    assert response.status_code == 201, response.text
    assert response.json()["phase"] == phase


@pytest.mark.parametrize("value", ["flying", "Launch", "LAUNCH", "", "completed "])
def test_phase_outside_the_enum(api, customer, onboarding, value):
    error = assert_error(
        api.post(URL, json={"customer_id": customer["id"], "phase": value}),
        400,
        "invalid_enum_value",
        "phase",
    )
    # The message lists the allowed values.
    assert "before_getting_started" in error["message"] and "completed" in error["message"]
    assert_error(
        api.patch(f"{URL}/{onboarding['id']}", json={"phase": value}),
        400,
        "invalid_enum_value",
        "phase",
    )


@pytest.mark.parametrize("value", [None, 1, True, ["launch"], {"phase": "launch"}])
def test_phase_of_wrong_type(api, customer, onboarding, value):
    assert_error(
        api.post(URL, json={"customer_id": customer["id"], "phase": value}),
        400,
        "invalid_type",
        "phase",
    )
    assert_error(
        api.patch(f"{URL}/{onboarding['id']}", json={"phase": value}), 400, "invalid_type", "phase"
    )
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


def test_any_phase_may_be_set_skips_and_moves_back(api, onboarding):
    path = ["launch", "review", "completed", "before_getting_started", "internal_qa"]
    for phase in path:
        response = api.patch(f"{URL}/{onboarding['id']}", json={"phase": phase})
        assert response.status_code == 200, response.text
        assert response.json()["phase"] == phase
        assert api.get(f"{URL}/{onboarding['id']}").json()["phase"] == phase


def test_phase_change_leaves_state_alone(api, make_onboarding):
    onboarding = make_onboarding(state="paused")
    body = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "review"}).json()
    assert (body["state"], body["waiting_on_customer"]) == ("paused", False)
    waiting = make_onboarding(waiting_on_customer=True)
    body = api.patch(f"{URL}/{waiting['id']}", json={"phase": "review"}).json()
    assert (body["state"], body["waiting_on_customer"]) == ("waiting", True)


# ---- completed_at ----------------------------------------------------------------------


def test_completed_at_is_set_when_phase_becomes_completed(api, onboarding):
    assert onboarding["completed_at"] is None
    before = datetime.now(UTC)
    body = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "completed"}).json()
    after = datetime.now(UTC)
    assert body["phase"] == "completed"
    completed = parse_ts(body["completed_at"])
    assert before - timedelta(seconds=1) <= completed <= after + timedelta(seconds=1)
    assert api.get(f"{URL}/{onboarding['id']}").json()["completed_at"] == body["completed_at"]


def test_completed_at_is_cleared_when_phase_leaves_completed(api, onboarding):
    api.patch(f"{URL}/{onboarding['id']}", json={"phase": "completed"})
    body = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "launch"}).json()
    assert body["phase"] == "launch"
    assert body["completed_at"] is None
    assert api.get(f"{URL}/{onboarding['id']}").json()["completed_at"] is None


def test_completed_at_is_set_again_on_reentering_completed(api, onboarding):
    first = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "completed"}).json()
    api.patch(f"{URL}/{onboarding['id']}", json={"phase": "review"})
    second = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "completed"}).json()
    assert second["completed_at"] is not None
    assert parse_ts(second["completed_at"]) >= parse_ts(first["completed_at"])


def test_completed_at_is_kept_by_patches_that_stay_completed(api, onboarding):
    done = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "completed"}).json()
    again = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "completed"}).json()
    assert again["completed_at"] == done["completed_at"]
    other = api.patch(f"{URL}/{onboarding['id']}", json={"notes": "wrap-up"}).json()
    assert other["completed_at"] == done["completed_at"]
    state = api.patch(f"{URL}/{onboarding['id']}", json={"state": "paused"}).json()
    assert state["completed_at"] == done["completed_at"]


def test_completed_at_stays_null_for_other_phases(api, onboarding):
    for phase in PHASES[:-1]:
        body = api.patch(f"{URL}/{onboarding['id']}", json={"phase": phase}).json()
        assert body["completed_at"] is None, phase


def test_create_in_completed_phase_sets_completed_at(api, customer):
    body = api.post(URL, json={"customer_id": customer["id"], "phase": "completed"}).json()
    assert body["phase"] == "completed"
    completed = parse_ts(body["completed_at"])
    assert abs(completed - parse_ts(body["created_at"])) <= timedelta(seconds=1)


def test_completed_at_is_not_writable(api, onboarding):
    response = api.patch(f"{URL}/{onboarding['id']}", json={"completed_at": "2026-01-01T00:00:00Z"})
    assert_error(response, 400, "unrecognized_keys", "completed_at")


# ---- state and waiting_on_customer on create ------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_create_with_each_state(api, customer, state):
    body = api.post(URL, json={"customer_id": customer["id"], "state": state}).json()
    assert body["state"] == state
    assert body["waiting_on_customer"] is (state == "waiting")


def test_create_state_waiting_sets_waiting_on_customer(api, customer):
    body = api.post(URL, json={"customer_id": customer["id"], "state": "waiting"}).json()
    assert (body["state"], body["waiting_on_customer"]) == ("waiting", True)


def test_create_waiting_on_customer_true_sets_state_waiting(api, customer):
    response = api.post(URL, json={"customer_id": customer["id"], "waiting_on_customer": True})
    assert response.status_code == 201, response.text
    assert (response.json()["state"], response.json()["waiting_on_customer"]) == ("waiting", True)


def test_create_waiting_on_customer_false_keeps_default_state(api, customer):
    body = api.post(URL, json={"customer_id": customer["id"], "waiting_on_customer": False}).json()
    assert (body["state"], body["waiting_on_customer"]) == ("active", False)


def test_create_waiting_state_and_true_agree(api, customer):
    body = api.post(
        URL, json={"customer_id": customer["id"], "state": "waiting", "waiting_on_customer": True}
    ).json()
    assert (body["state"], body["waiting_on_customer"]) == ("waiting", True)


@pytest.mark.parametrize("state", NON_WAITING)
def test_create_non_waiting_state_and_false_agree(api, customer, state):
    body = api.post(
        URL, json={"customer_id": customer["id"], "state": state, "waiting_on_customer": False}
    ).json()
    assert (body["state"], body["waiting_on_customer"]) == (state, False)


@pytest.mark.parametrize("state", NON_WAITING)
def test_create_non_waiting_state_with_waiting_true_conflicts(api, customer, state):
    response = api.post(
        URL, json={"customer_id": customer["id"], "state": state, "waiting_on_customer": True}
    )
    assert_error(response, 400, "conflicting_fields")
    assert api.get(URL).json()["data"] == []


def test_create_waiting_state_with_waiting_false_never_breaks_the_pairing(api, customer):
    # SPEC names only "non-waiting state + true" as a conflict; whatever the server does
    # with the mirror case, it must refuse it as a conflict or keep the pairing intact.
    response = api.post(
        URL, json={"customer_id": customer["id"], "state": "waiting", "waiting_on_customer": False}
    )
    if response.status_code == 400:
        assert_error(response, 400, "conflicting_fields")
    else:
        assert response.status_code == 201, response.text
        assert _consistent(response.json())


@pytest.mark.parametrize("value", ["PAUSED", "Waiting", "", "blocked"])
def test_state_outside_the_enum(api, customer, onboarding, value):
    error = assert_error(
        api.post(URL, json={"customer_id": customer["id"], "state": value}),
        400,
        "invalid_enum_value",
        "state",
    )
    assert "at_risk" in error["message"] and "waiting" in error["message"]
    assert_error(
        api.patch(f"{URL}/{onboarding['id']}", json={"state": value}),
        400,
        "invalid_enum_value",
        "state",
    )


@pytest.mark.parametrize("value", [None, 1, True, ["active"]])
def test_state_of_wrong_type(api, customer, onboarding, value):
    assert_error(
        api.post(URL, json={"customer_id": customer["id"], "state": value}),
        400,
        "invalid_type",
        "state",
    )
    assert_error(
        api.patch(f"{URL}/{onboarding['id']}", json={"state": value}), 400, "invalid_type", "state"
    )


@pytest.mark.parametrize("value", [None, "true", 1, 0, "yes"])
def test_waiting_on_customer_of_wrong_type(api, customer, onboarding, value):
    assert_error(
        api.post(URL, json={"customer_id": customer["id"], "waiting_on_customer": value}),
        400,
        "invalid_type",
        "waiting_on_customer",
    )
    assert_error(
        api.patch(f"{URL}/{onboarding['id']}", json={"waiting_on_customer": value}),
        400,
        "invalid_type",
        "waiting_on_customer",
    )


# ---- state and waiting_on_customer on PATCH -------------------------------------------------


def _patch(api, onboarding, body):
    response = api.patch(f"{URL}/{onboarding['id']}", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert api.get(f"{URL}/{onboarding['id']}").json() == result
    return result["state"], result["waiting_on_customer"]


def test_patch_state_waiting_sets_waiting_on_customer(api, onboarding):
    assert _patch(api, onboarding, {"state": "waiting"}) == ("waiting", True)


@pytest.mark.parametrize("start", NON_WAITING)
def test_patch_waiting_on_customer_true_sets_state_waiting(api, make_onboarding, start):
    onboarding = make_onboarding(state=start)
    assert _patch(api, onboarding, {"waiting_on_customer": True}) == ("waiting", True)


@pytest.mark.parametrize("state", NON_WAITING)
def test_patch_another_state_clears_waiting(api, make_onboarding, state):
    onboarding = make_onboarding(state="waiting")
    assert _patch(api, onboarding, {"state": state}) == (state, False)


def test_patch_waiting_false_while_waiting_sets_state_active(api, make_onboarding):
    onboarding = make_onboarding(waiting_on_customer=True)
    assert _patch(api, onboarding, {"waiting_on_customer": False}) == ("active", False)


@pytest.mark.parametrize("start", NON_WAITING)
def test_patch_waiting_false_while_not_waiting_keeps_state(api, make_onboarding, start):
    onboarding = make_onboarding(state=start)
    assert _patch(api, onboarding, {"waiting_on_customer": False}) == (start, False)


@pytest.mark.parametrize("state", NON_WAITING)
def test_patch_non_waiting_state_with_false_while_waiting(api, make_onboarding, state):
    onboarding = make_onboarding(state="waiting")
    body = {"state": state, "waiting_on_customer": False}
    assert _patch(api, onboarding, body) == (state, False)


def test_patch_waiting_state_and_true_while_active(api, onboarding):
    body = {"state": "waiting", "waiting_on_customer": True}
    assert _patch(api, onboarding, body) == ("waiting", True)


@pytest.mark.parametrize("start", STATES)
@pytest.mark.parametrize("state", NON_WAITING)
def test_patch_non_waiting_state_with_waiting_true_conflicts(api, make_onboarding, start, state):
    onboarding = make_onboarding(state=start)
    response = api.patch(
        f"{URL}/{onboarding['id']}",
        json={"state": state, "waiting_on_customer": True, "name": "changed"},
    )
    assert_error(response, 400, "conflicting_fields")
    # Nothing of the refused request was applied.
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


def test_patch_waiting_state_with_false_never_breaks_the_pairing(api, onboarding):
    response = api.patch(
        f"{URL}/{onboarding['id']}", json={"state": "waiting", "waiting_on_customer": False}
    )
    if response.status_code == 400:
        assert_error(response, 400, "conflicting_fields")
    else:
        assert response.status_code == 200, response.text
        assert _consistent(response.json())
    assert _consistent(api.get(f"{URL}/{onboarding['id']}").json())


def test_patch_unrelated_field_keeps_waiting(api, make_onboarding):
    onboarding = make_onboarding(state="waiting")
    assert _patch(api, onboarding, {"notes": "chased by email"}) == ("waiting", True)
    assert _patch(api, onboarding, {"phase": "review"}) == ("waiting", True)


def test_pairing_holds_through_a_sequence_of_patches(api, onboarding):
    steps = [
        ({"state": "paused"}, ("paused", False)),
        ({"waiting_on_customer": True}, ("waiting", True)),
        ({"waiting_on_customer": True}, ("waiting", True)),
        ({"state": "waiting"}, ("waiting", True)),
        ({"state": "at_risk"}, ("at_risk", False)),
        ({"waiting_on_customer": False}, ("at_risk", False)),
        ({"state": "waiting"}, ("waiting", True)),
        ({"waiting_on_customer": False}, ("active", False)),
        ({"state": "active", "waiting_on_customer": False}, ("active", False)),
    ]
    for body, expected in steps:
        assert _patch(api, onboarding, body) == expected, body
