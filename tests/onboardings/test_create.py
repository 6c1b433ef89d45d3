"""POST /onboardings: the customer reference, defaults and the response shape (SPEC §7.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onboardings.helpers import CUID, parse_ts
from support import assert_error

URL = "/api/v1/onboardings"
FIELDS = [
    "object",
    "id",
    "display_id",
    "customer_id",
    "name",
    "template_id",
    "phase",
    "state",
    "waiting_on_customer",
    "started_at",
    "completed_at",
    "target_launch_date",
    "csm_id",
    "se_id",
    "designer_id",
    "product_ops_id",
    "notes",
    "reminders_enabled",
    "reminder_frequency_days",
    "metadata",
    "created_at",
    "updated_at",
]


# ---- response shape and defaults ---------------------------------------------------------


def test_create_minimal_returns_201_with_every_default(api, customer):
    before = datetime.now(UTC)
    response = api.post(URL, json={"customer_id": customer["id"]})
    after = datetime.now(UTC)

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["x-request-id"]
    body = response.json()
    assert next(iter(body)) == "object"
    assert set(body) >= set(FIELDS)
    assert body["object"] == "onboarding"
    assert CUID.match(body["id"])
    assert body["display_id"] == 1
    assert body["customer_id"] == customer["id"]
    assert body["name"] is None
    assert body["template_id"] is None
    assert body["phase"] == "before_getting_started"
    assert body["state"] == "active"
    assert body["waiting_on_customer"] is False
    assert body["completed_at"] is None
    assert body["target_launch_date"] is None
    for person in ("csm_id", "se_id", "designer_id", "product_ops_id"):
        assert body[person] is None
    assert body["notes"] is None
    assert body["reminders_enabled"] is True
    assert body["reminder_frequency_days"] == 1
    assert body["metadata"] == {}
    created = parse_ts(body["created_at"])
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)
    assert body["updated_at"] == body["created_at"]
    # started_at defaults to the creation time.
    assert body["started_at"] == body["created_at"]


def test_create_with_every_field(api, customer):
    sent = {
        "customer_id": customer["id"],
        "name": "Enterprise rollout",
        "template_id": "tpl_enterprise",
        "phase": "program_design",
        "state": "at_risk",
        "waiting_on_customer": False,
        "started_at": "2026-01-05T09:30:00.250000Z",
        "target_launch_date": "2026-06-30",
        "csm_id": "usr_csm",
        "se_id": "usr_se",
        "designer_id": "usr_designer",
        "product_ops_id": "usr_ops",
        "notes": "Kickoff call booked.\nSecond line.",
        "reminders_enabled": False,
        "reminder_frequency_days": 7,
        "metadata": {"test": True, "source": {"crm": "hubspot", "ids": [1, 2]}},
    }
    response = api.post(URL, json=sent)
    assert response.status_code == 201, response.text
    body = response.json()
    for key, value in sent.items():
        if key not in ("started_at", "target_launch_date"):
            assert body[key] == value, key
    assert body["started_at"] == "2026-01-05T09:30:00.250000Z"
    assert body["target_launch_date"] == "2026-06-30T00:00:00.000000Z"
    assert body["completed_at"] is None
    assert api.get(f"{URL}/{body['id']}").json() == body


def test_get_returns_what_create_returned(api, onboarding):
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding
    assert api.get(f"{URL}/{onboarding['display_id']}").json() == onboarding


def test_display_ids_start_at_one_per_workspace_and_type(api, other_api, customer, make_customer):
    # The customer already took display id 1 of its own sequence; onboardings start at 1.
    first = api.post(URL, json={"customer_id": customer["id"]}).json()
    second = api.post(URL, json={"customer_id": customer["id"]}).json()
    assert (first["display_id"], second["display_id"]) == (1, 2)
    assert first["id"] != second["id"]

    globex = make_customer("Globex customer", client=other_api)
    theirs = other_api.post(URL, json={"customer_id": globex["id"]})
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["display_id"] == 1


def test_display_id_is_not_reused_after_delete(api, customer):
    first = api.post(URL, json={"customer_id": customer["id"]}).json()
    second = api.post(URL, json={"customer_id": customer["id"]}).json()
    assert api.delete(f"{URL}/{second['id']}").status_code == 200
    third = api.post(URL, json={"customer_id": customer["id"]}).json()
    assert (first["display_id"], second["display_id"], third["display_id"]) == (1, 2, 3)


def test_created_at_values_are_unique_and_increasing(api, customer):
    stamps = [
        api.post(URL, json={"customer_id": customer["id"]}).json()["created_at"] for _ in range(5)
    ]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 5


def test_a_test_key_creates_onboardings_in_the_same_data(client, keys, api, customer):
    response = client.post(
        URL, json={"customer_id": customer["id"]}, headers={"Authorization": f"Bearer {keys.test}"}
    )
    assert response.status_code == 201, response.text
    assert api.get(f"{URL}/{response.json()['id']}").status_code == 200


# ---- customer_id ---------------------------------------------------------------------------


def test_customer_id_is_required(api, customer):
    assert_error(api.post(URL, json={}), 400, "missing_field", "customer_id")
    assert_error(api.post(URL, json={"name": "No customer"}), 400, "missing_field", "customer_id")


def test_empty_body_is_missing_customer_id(api, customer):
    response = api.post(URL, content=b"", headers={"Content-Type": "application/json"})
    assert_error(response, 400, "missing_field", "customer_id")


def test_customer_id_accepts_the_canonical_id(api, customer):
    response = api.post(URL, json={"customer_id": customer["id"]})
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == customer["id"]


def test_customer_id_accepts_a_display_id_as_json_integer(api, make_customer):
    make_customer("First")
    second = make_customer("Second")
    assert second["display_id"] == 2
    response = api.post(URL, json={"customer_id": 2})
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == second["id"]


def test_customer_id_accepts_a_display_id_as_digit_string(api, make_customer):
    make_customer("First")
    second = make_customer("Second")
    response = api.post(URL, json={"customer_id": "2"})
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == second["id"]


def test_customer_id_is_trimmed(api, customer):
    response = api.post(URL, json={"customer_id": f"  {customer['id']} "})
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == customer["id"]


@pytest.mark.parametrize(
    "ref",
    [
        2,  # display id that was never allocated
        "2",
        "99999999999999999999999",  # beyond any display id
        "0",
        "aurora",  # a slug is not an id
        "zzzzzzzzzzzzzzzzzzzzzzzz",  # well-formed cuid that does not exist
    ],
)
def test_unknown_customer_is_404(api, customer, ref):
    error = assert_error(api.post(URL, json={"customer_id": ref}), 404, "customer_not_found")
    assert "field" not in error


def test_deleted_customer_is_404(api, customer):
    assert api.delete(f"/api/v1/customers/{customer['id']}").status_code == 200
    assert_error(api.post(URL, json={"customer_id": customer["id"]}), 404, "customer_not_found")
    assert_error(
        api.post(URL, json={"customer_id": customer["display_id"]}), 404, "customer_not_found"
    )
    assert_error(
        api.post(URL, json={"customer_id": str(customer["display_id"])}), 404, "customer_not_found"
    )


def test_other_workspaces_customer_is_404(api, other_api, make_customer):
    theirs = make_customer("Globex customer", client=other_api)
    # Display id 1 exists only in globex, so acme cannot reach it either way.
    assert_error(api.post(URL, json={"customer_id": theirs["id"]}), 404, "customer_not_found")
    assert_error(api.post(URL, json={"customer_id": 1}), 404, "customer_not_found")
    assert other_api.get(URL).json()["data"] == []


def test_display_id_resolves_inside_the_callers_workspace(api, other_api, make_customer):
    mine = make_customer("Acme customer")
    make_customer("Globex customer", client=other_api)
    response = api.post(URL, json={"customer_id": 1})
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == mine["id"]


@pytest.mark.parametrize("value", [None, True, False, 1.5, [], {}, ["x"]])
def test_customer_id_of_wrong_type_is_invalid_type(api, customer, value):
    assert_error(api.post(URL, json={"customer_id": value}), 400, "invalid_type", "customer_id")


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_customer_id_is_too_small(api, customer, value):
    assert_error(api.post(URL, json={"customer_id": value}), 400, "too_small", "customer_id")


def test_unknown_customer_creates_nothing(api, customer):
    assert_error(api.post(URL, json={"customer_id": "missing"}), 404, "customer_not_found")
    assert api.get(URL).json()["data"] == []


# ---- body conventions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["completed_at", "id", "display_id", "object", "created_at", "updated_at", "nmae"]
)
def test_read_only_and_unknown_keys_are_unrecognized(api, customer, key):
    response = api.post(URL, json={"customer_id": customer["id"], key: "x"})
    assert_error(response, 400, "unrecognized_keys", key)


def test_invalid_json_body(api, customer):
    response = api.post(
        URL, content=b'{"customer_id": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_body_that_is_not_an_object(api, customer, raw):
    response = api.post(URL, content=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_body_without_json_content_type_is_415(api, customer):
    response = api.post(
        URL,
        content=f'{{"customer_id": "{customer["id"]}"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert_error(response, 415, "invalid_content_type")
    assert api.get(URL).json()["data"] == []


def test_put_is_not_allowed(api, onboarding):
    response = api.put(f"{URL}/{onboarding['id']}", json={"name": "x"})
    assert_error(response, 405, "method_not_allowed")


def test_client_request_id_is_echoed_on_errors(api, customer):
    response = api.post(URL, json={}, headers={"X-Request-Id": "req-onboarding-42"})
    error = assert_error(response, 400, "missing_field", "customer_id")
    assert error["request_id"] == "req-onboarding-42"
