"""Every writable onboarding field's rules, checked on create and on PATCH (SPEC §7, §7.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from support import assert_error

URL = "/api/v1/onboardings"
TEXT_255 = ["name", "template_id", "csm_id", "se_id", "designer_id", "product_ops_id"]
NULLABLE_TEXT = [*TEXT_255, "notes"]
NON_NULLABLE = [
    "phase",
    "state",
    "waiting_on_customer",
    "reminders_enabled",
    "reminder_frequency_days",
    "metadata",
]

Write = Callable[[dict[str, Any]], httpx2.Response]


@pytest.fixture(params=["create", "update"])
def write(request: pytest.FixtureRequest, api, customer, make_onboarding) -> Write:
    """Send fields either as a new onboarding or as a PATCH of an existing one."""
    if request.param == "create":
        return lambda fields: api.post(URL, json={"customer_id": customer["id"], **fields})
    existing = make_onboarding(name="Existing")
    return lambda fields: api.patch(f"{URL}/{existing['id']}", json=fields)


def ok(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return response.json()


# ---- short strings ------------------------------------------------------------------------


@pytest.mark.parametrize("field", TEXT_255)
def test_text_field_up_to_255(write, field):
    assert ok(write({field: "x" * 255}))[field] == "x" * 255
    assert_error(write({field: "x" * 256}), 400, "too_big", field)


@pytest.mark.parametrize("field", NULLABLE_TEXT)
def test_text_field_is_trimmed_before_the_length_check(write, field):
    limit = 10_000 if field == "notes" else 255
    assert ok(write({field: "  " + "y" * limit + "\n\t "}))[field] == "y" * limit
    assert ok(write({field: "  Jane Doe "}))[field] == "Jane Doe"


@pytest.mark.parametrize("field", NULLABLE_TEXT)
def test_text_field_accepts_null(write, field):
    assert ok(write({field: None}))[field] is None


@pytest.mark.parametrize("field", NULLABLE_TEXT)
def test_text_field_of_wrong_type(write, field):
    for value in (42, 1.5, True, ["a"], {"a": 1}):
        assert_error(write({field: value}), 400, "invalid_type", field)


def test_text_fields_keep_unicode(write):
    body = ok(write({"name": "Déploiement ✓ 日本", "notes": "emoji 🚀 and\nnewlines"}))
    assert body["name"] == "Déploiement ✓ 日本"
    assert body["notes"] == "emoji 🚀 and\nnewlines"


def test_nullable_text_can_be_cleared_by_patch(api, make_onboarding):
    onboarding = make_onboarding(
        name="Kickoff", template_id="tpl", csm_id="c", se_id="s", designer_id="d",
        product_ops_id="p", notes="n",
    )  # fmt: skip
    body = api.patch(f"{URL}/{onboarding['id']}", json=dict.fromkeys(NULLABLE_TEXT)).json()
    for field in NULLABLE_TEXT:
        assert body[field] is None, field
    assert api.get(f"{URL}/{onboarding['id']}").json() == body


# ---- notes ----------------------------------------------------------------------------------


def test_notes_up_to_10000(write):
    assert ok(write({"notes": "n" * 10_000}))["notes"] == "n" * 10_000
    assert_error(write({"notes": "n" * 10_001}), 400, "too_big", "notes")


# ---- reminders ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_reminders_enabled(write, value):
    assert ok(write({"reminders_enabled": value}))["reminders_enabled"] is value


def test_reminders_enabled_of_wrong_type(write):
    for value in ("true", 1, 0, "false", [True]):
        assert_error(write({"reminders_enabled": value}), 400, "invalid_type", "reminders_enabled")


def test_reminder_frequency_days_in_range(write):
    for value in (1, 2, 45, 89, 90):
        assert ok(write({"reminder_frequency_days": value}))["reminder_frequency_days"] == value


def test_reminder_frequency_days_out_of_range(write):
    field = "reminder_frequency_days"
    for value, code in ((0, "too_small"), (-1, "too_small"), (91, "too_big"), (10**6, "too_big")):
        assert_error(write({field: value}), 400, code, field)


@pytest.mark.parametrize("value", ["5", 5.5, True, False, [5], {"days": 5}])
def test_reminder_frequency_days_of_wrong_type(write, value):
    assert_error(
        write({"reminder_frequency_days": value}), 400, "invalid_type", "reminder_frequency_days"
    )


# ---- non-nullable fields --------------------------------------------------------------------


@pytest.mark.parametrize("field", NON_NULLABLE)
def test_null_for_a_non_nullable_field_is_invalid_type(write, field):
    assert_error(write({field: None}), 400, "invalid_type", field)


def test_refused_patch_changes_nothing(api, make_onboarding):
    onboarding = make_onboarding(name="Kickoff", notes="keep")
    response = api.patch(
        f"{URL}/{onboarding['id']}", json={"name": "changed", "reminder_frequency_days": 0}
    )
    assert_error(response, 400, "too_small", "reminder_frequency_days")
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


# ---- started_at -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.000000Z"),
        ("2026-03-01T10:00:00.123456Z", "2026-03-01T10:00:00.123456Z"),
        ("2026-03-01T10:00:00.5Z", "2026-03-01T10:00:00.500000Z"),
        ("2026-03-01T10:00:00+00:00", "2026-03-01T10:00:00.000000Z"),
        ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00.000000Z"),
        ("2026-03-01T04:30:00.000001-05:30", "2026-03-01T10:00:00.000001Z"),
        ("2026-03-01T01:00:00+14:00", "2026-02-28T11:00:00.000000Z"),
        ("2026-02-28T23:00:00-12:00", "2026-03-01T11:00:00.000000Z"),
        ("2026-03-01T15:30:00+0530", "2026-03-01T10:00:00.000000Z"),
    ],
)
def test_started_at_accepts_any_offset_and_returns_utc(write, sent, stored):
    assert ok(write({"started_at": sent}))["started_at"] == stored


def test_started_at_accepts_null(write):
    assert ok(write({"started_at": None}))["started_at"] is None


def test_started_at_can_be_cleared_and_set_again(api, onboarding):
    path = f"{URL}/{onboarding['id']}"
    assert api.patch(path, json={"started_at": None}).json()["started_at"] is None
    assert api.get(path).json()["started_at"] is None
    body = api.patch(path, json={"started_at": "2030-12-31T23:59:59.999999+00:00"}).json()
    assert body["started_at"] == "2030-12-31T23:59:59.999999Z"
    # A PATCH without started_at leaves it alone (it is not reset to "now").
    assert api.patch(path, json={"name": "x"}).json()["started_at"] == body["started_at"]


def test_started_at_with_wrong_format_is_invalid_string(write):
    for value in (
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-03-01T25:00:00Z",
        "2026-03-01T10:00:00+25:00",
        "",
        "T",
    ):
        assert_error(write({"started_at": value}), 400, "invalid_string", "started_at")


def test_started_at_of_wrong_type(write):
    for value in (1767225600, 1.5, True, ["2026-03-01T10:00:00Z"], {"at": "now"}):
        assert_error(write({"started_at": value}), 400, "invalid_type", "started_at")


# ---- target_launch_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-07-01", "2026-07-01T00:00:00.000000Z"),
        ("2028-02-29", "2028-02-29T00:00:00.000000Z"),
        ("2026-07-01T15:30:00Z", "2026-07-01T15:30:00.000000Z"),
        ("2026-07-01T15:30:00.25+02:00", "2026-07-01T13:30:00.250000Z"),
        ("2026-07-01T00:30:00+01:00", "2026-06-30T23:30:00.000000Z"),
        ("2026-06-30T20:00:00-05:00", "2026-07-01T01:00:00.000000Z"),
    ],
)
def test_target_launch_date_accepts_a_date_or_a_date_time(write, sent, stored):
    assert ok(write({"target_launch_date": sent}))["target_launch_date"] == stored


def test_target_launch_date_accepts_null(write):
    assert ok(write({"target_launch_date": None}))["target_launch_date"] is None


def test_target_launch_date_can_be_cleared(api, make_onboarding):
    onboarding = make_onboarding(target_launch_date="2026-09-15")
    assert onboarding["target_launch_date"] == "2026-09-15T00:00:00.000000Z"
    body = api.patch(f"{URL}/{onboarding['id']}", json={"target_launch_date": None}).json()
    assert body["target_launch_date"] is None


def test_target_launch_date_with_wrong_format_is_invalid_string(write):
    for value in (
        "2026-13-01",
        "2026-02-30",
        "2027-02-29",
        "2026/07/01",
        "07/01/2026",
        "01-07-2026",
        "July 1, 2026",
        "2026-7-1",
        "next week",
        "",
        "2026-07-01T25:00:00Z",
    ):
        field = "target_launch_date"
        assert_error(write({field: value}), 400, "invalid_string", field)


def test_target_launch_date_of_wrong_type(write):
    for value in (20260701, 1.5, True, ["2026-07-01"], {"date": "2026-07-01"}):
        field = "target_launch_date"
        assert_error(write({field: value}), 400, "invalid_type", field)


# ---- metadata ---------------------------------------------------------------------------------


def test_metadata_is_returned_exactly_as_stored(write):
    metadata = {
        "test": True,
        "nested": {"list": [1, "two", None, 3.5, {"deep": False}]},
        "unicode": "Zürich ✓",
        "zero": 0,
        "empty": {},
    }
    assert ok(write({"metadata": metadata}))["metadata"] == metadata


def test_metadata_patch_replaces_the_stored_object(api, make_onboarding):
    onboarding = make_onboarding(metadata={"a": 1, "b": 2})
    body = api.patch(f"{URL}/{onboarding['id']}", json={"metadata": {"c": 3}}).json()
    assert body["metadata"] == {"c": 3}
    body = api.patch(f"{URL}/{onboarding['id']}", json={"metadata": {}}).json()
    assert body["metadata"] == {}
    assert api.get(f"{URL}/{onboarding['id']}").json()["metadata"] == {}


def test_metadata_is_kept_by_patches_without_it(api, make_onboarding):
    onboarding = make_onboarding(metadata={"test": True})
    body = api.patch(f"{URL}/{onboarding['id']}", json={"name": "x"}).json()
    assert body["metadata"] == {"test": True}


def test_metadata_of_wrong_type(write):
    for value in ([], ["a"], "text", 1, True):
        assert_error(write({"metadata": value}), 400, "invalid_type", "metadata")


def test_metadata_limits(write):
    assert ok(write({"metadata": {f"k{i}": i for i in range(50)}}))["metadata"]["k49"] == 49
    assert_error(write({"metadata": {f"k{i}": i for i in range(51)}}), 400, "too_big", "metadata")
    assert ok(write({"metadata": {"k" * 40: 1}}))["metadata"] == {"k" * 40: 1}
    assert_error(write({"metadata": {"k" * 41: 1}}), 400, "too_big", "metadata")
    assert_error(write({"metadata": {"big": "x" * 8192}}), 400, "too_big", "metadata")
    assert ok(write({"metadata": {"big": "x" * 8000}}))["metadata"]["big"] == "x" * 8000


# ---- keys that cannot be written ------------------------------------------------------------


def test_customer_id_in_patch_is_unrecognized(api, onboarding, make_customer):
    other = make_customer("Other")
    for value in (other["id"], onboarding["customer_id"], other["display_id"]):
        response = api.patch(f"{URL}/{onboarding['id']}", json={"customer_id": value})
        assert_error(response, 400, "unrecognized_keys", "customer_id")
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


@pytest.mark.parametrize(
    "key",
    ["id", "display_id", "object", "created_at", "updated_at", "completed_at", "status", "Phase"],
)
def test_unknown_or_read_only_key_in_patch(api, onboarding, key):
    response = api.patch(f"{URL}/{onboarding['id']}", json={key: "x"})
    assert_error(response, 400, "unrecognized_keys", key)
