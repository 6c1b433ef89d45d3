"""Phase transitions: GET /onboardings/{id}/transitions (SPEC §7.4 extension, §4 paging)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from onboardings.helpers import PHASES, parse_ts
from support import assert_error, auth

URL = "/api/v1/onboardings"
SHAPE = ["object", "id", "onboarding_id", "from", "to", "actor", "livemode", "created_at"]


def transitions(api, onboarding, **params) -> dict:
    response = api.get(f"{URL}/{onboarding['id']}/transitions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def moves(api, onboarding) -> list[tuple[str, str]]:
    """(from, to) pairs, oldest first."""
    data = transitions(api, onboarding, limit=100)["data"]
    return [(t["from"], t["to"]) for t in reversed(data)]


def set_phase(api, onboarding, phase, client=None):
    response = (client or api).patch(f"{URL}/{onboarding['id']}", json={"phase": phase})
    assert response.status_code == 200, response.text
    return response.json()


def test_creating_records_no_transition(api, make_onboarding):
    for phase in ("before_getting_started", "launch", "completed"):
        onboarding = make_onboarding(phase=phase)
        body = transitions(api, onboarding)
        assert body == {"object": "list", "data": [], "has_more": False, "next_cursor": None}


def test_phase_change_records_a_transition_with_the_full_shape(api, onboarding):
    before = datetime.now(UTC)
    set_phase(api, onboarding, "program_design")
    after = datetime.now(UTC)
    body = transitions(api, onboarding)
    assert body["object"] == "list"
    assert body["has_more"] is False and body["next_cursor"] is None
    [record] = body["data"]
    assert next(iter(record)) == "object"
    assert set(record) >= set(SHAPE)
    assert record["object"] == "phase_transition"
    assert isinstance(record["id"], str) and record["id"]
    assert record["onboarding_id"] == onboarding["id"]
    assert record["from"] == "before_getting_started"
    assert record["to"] == "program_design"
    assert record["actor"] == "API: CRM sync"
    assert record["livemode"] is True
    created = parse_ts(record["created_at"])
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)


def test_test_key_records_livemode_false_and_its_name(client, keys, onboarding):
    headers = auth(keys.test)
    response = client.patch(f"{URL}/{onboarding['id']}", json={"phase": "review"}, headers=headers)
    assert response.status_code == 200, response.text
    listed = client.get(f"{URL}/{onboarding['id']}/transitions", headers=headers)
    [record] = listed.json()["data"]
    assert record["livemode"] is False
    assert record["actor"] == "API: CI"
    assert (record["from"], record["to"]) == ("before_getting_started", "review")


def test_actor_names_the_key_that_made_each_change(client, make_key, onboarding):
    first = auth(make_key(name="Billing job"))
    second = auth(make_key(name="Ops console", mode="test"))
    client.patch(f"{URL}/{onboarding['id']}", json={"phase": "review"}, headers=first)
    client.patch(f"{URL}/{onboarding['id']}", json={"phase": "launch"}, headers=second)
    data = client.get(f"{URL}/{onboarding['id']}/transitions", headers=first).json()["data"]
    assert [(t["to"], t["actor"], t["livemode"]) for t in data] == [
        ("launch", "API: Ops console", False),
        ("review", "API: Billing job", True),
    ]


def test_skips_and_moves_back_are_recorded(api, onboarding):
    for phase in ("launch", "review", "completed", "before_getting_started", "internal_qa"):
        set_phase(api, onboarding, phase)
    assert moves(api, onboarding) == [
        ("before_getting_started", "launch"),
        ("launch", "review"),
        ("review", "completed"),
        ("completed", "before_getting_started"),
        ("before_getting_started", "internal_qa"),
    ]


def test_walking_every_phase_in_order(api, onboarding):
    for phase in PHASES[1:]:
        set_phase(api, onboarding, phase)
    assert moves(api, onboarding) == list(itertools.pairwise(PHASES))


def test_patch_that_keeps_the_phase_records_nothing(api, make_onboarding):
    onboarding = make_onboarding(phase="review")
    set_phase(api, onboarding, "review")
    for body in (
        {},
        {"name": "renamed"},
        {"state": "paused"},
        {"waiting_on_customer": True},
        {"notes": "x", "phase": "review"},
        {"metadata": {"test": True}},
    ):
        assert api.patch(f"{URL}/{onboarding['id']}", json=body).status_code == 200
    assert transitions(api, onboarding)["data"] == []


def test_refused_patch_records_nothing(api, onboarding):
    response = api.patch(
        f"{URL}/{onboarding['id']}",
        json={"phase": "launch", "state": "paused", "waiting_on_customer": True},
    )
    assert_error(response, 400, "conflicting_fields")
    response = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "launch", "notes": 5})
    assert_error(response, 400, "invalid_type", "notes")
    assert transitions(api, onboarding)["data"] == []
    assert api.get(f"{URL}/{onboarding['id']}").json()["phase"] == "before_getting_started"


def test_phase_change_beside_other_fields_records_one_transition(api, onboarding):
    api.patch(
        f"{URL}/{onboarding['id']}", json={"phase": "launch", "state": "at_risk", "notes": "go"}
    )
    assert moves(api, onboarding) == [("before_getting_started", "launch")]


def test_transitions_are_per_onboarding(api, make_onboarding):
    first = make_onboarding()
    second = make_onboarding()
    set_phase(api, first, "review")
    set_phase(api, second, "launch")
    set_phase(api, second, "completed")
    assert moves(api, first) == [("before_getting_started", "review")]
    assert moves(api, second) == [("before_getting_started", "launch"), ("launch", "completed")]
    for record in transitions(api, second)["data"]:
        assert record["onboarding_id"] == second["id"]


def test_transitions_by_display_id(api, make_onboarding):
    make_onboarding()
    onboarding = make_onboarding()
    set_phase(api, onboarding, "review")
    by_display = api.get(f"{URL}/{onboarding['display_id']}/transitions").json()
    assert by_display == transitions(api, onboarding)
    assert by_display["data"][0]["onboarding_id"] == onboarding["id"]


def test_transitions_newest_first_and_paginated(api, onboarding):
    path = ["program_design", "review", "program_buildout", "internal_qa", "launch"]
    for phase in path:
        set_phase(api, onboarding, phase)
    everything = transitions(api, onboarding)["data"]
    assert [t["to"] for t in everything] == list(reversed(path))
    stamps = [parse_ts(t["created_at"]) for t in everything]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    assert len({t["id"] for t in everything}) == len(everything)

    seen: list[dict] = []
    params: dict = {"limit": 2}
    while True:
        page = transitions(api, onboarding, **params)
        seen.extend(page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        assert len(page["data"]) == 2
        assert page["next_cursor"] == page["data"][-1]["created_at"]
        params["cursor"] = page["next_cursor"]
    assert seen == everything
    assert [len(transitions(api, onboarding, limit=n)["data"]) for n in (1, 5, 100)] == [1, 5, 5]
    assert transitions(api, onboarding, limit=5)["has_more"] is False
    assert transitions(api, onboarding, limit=4)["has_more"] is True


def test_transitions_pagination_errors(api, onboarding):
    path = f"{URL}/{onboarding['id']}/transitions"
    for limit in ("0", "101", "x"):
        assert_error(api.get(path, params={"limit": limit}), 400, "invalid_parameter", "limit")
    assert_error(api.get(path, params={"cursor": "later"}), 400, "invalid_string", "cursor")


@pytest.mark.parametrize("ref", ["zzzzzzzzzzzzzzzzzzzzzzzz", "99", "0"])
def test_transitions_of_unknown_onboarding_is_404(api, onboarding, ref):
    assert_error(api.get(f"{URL}/{ref}/transitions"), 404, "onboarding_not_found")


def test_transitions_of_another_workspace_are_404(api, other_api, onboarding):
    set_phase(api, onboarding, "review")
    for ref in (onboarding["id"], onboarding["display_id"]):
        assert_error(other_api.get(f"{URL}/{ref}/transitions"), 404, "onboarding_not_found")


def test_transitions_are_kept_across_a_round_trip_of_phases(api, onboarding):
    set_phase(api, onboarding, "completed")
    done = api.get(f"{URL}/{onboarding['id']}").json()
    set_phase(api, onboarding, "before_getting_started")
    assert moves(api, onboarding) == [
        ("before_getting_started", "completed"),
        ("completed", "before_getting_started"),
    ]
    assert done["completed_at"] is not None
    assert api.get(f"{URL}/{onboarding['id']}").json()["completed_at"] is None
