"""GET, PATCH and DELETE of one onboarding; soft deletes; isolation; auth and scopes."""

from __future__ import annotations

import pytest

from onboardings.helpers import parse_ts
from support import assert_error, auth

URL = "/api/v1/onboardings"
UNKNOWN_REFS = ["zzzzzzzzzzzzzzzzzzzzzzzz", "99", "0", "99999999999999999999999", "kickoff"]


# ---- GET ------------------------------------------------------------------------------------


def test_get_by_id_and_display_id(api, make_onboarding):
    make_onboarding(name="first")
    second = make_onboarding(name="second")
    assert second["display_id"] == 2
    assert api.get(f"{URL}/{second['id']}").json() == second
    assert api.get(f"{URL}/2").json() == second
    assert api.get(f"{URL}/1").json()["name"] == "first"


@pytest.mark.parametrize("ref", UNKNOWN_REFS)
def test_get_unknown_is_404(api, onboarding, ref):
    error = assert_error(api.get(f"{URL}/{ref}"), 404, "onboarding_not_found")
    assert "field" not in error


def test_get_another_workspaces_onboarding_is_404(api, other_api, onboarding):
    assert_error(other_api.get(f"{URL}/{onboarding['id']}"), 404, "onboarding_not_found")
    assert_error(other_api.get(f"{URL}/{onboarding['display_id']}"), 404, "onboarding_not_found")


# ---- PATCH ------------------------------------------------------------------------------------


def test_patch_by_id_and_display_id(api, onboarding):
    by_id = api.patch(f"{URL}/{onboarding['id']}", json={"name": "Renamed"})
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["name"] == "Renamed"
    by_display = api.patch(f"{URL}/{onboarding['display_id']}", json={"notes": "hello"})
    assert by_display.status_code == 200, by_display.text
    body = by_display.json()
    assert (body["name"], body["notes"]) == ("Renamed", "hello")
    assert body["id"] == onboarding["id"]
    assert api.get(f"{URL}/{onboarding['id']}").json() == body


def test_patch_changes_only_the_keys_sent(api, make_onboarding):
    onboarding = make_onboarding(
        name="Kickoff", csm_id="csm-1", notes="n", reminder_frequency_days=3,
        reminders_enabled=False, metadata={"test": True}, target_launch_date="2026-09-01",
    )  # fmt: skip
    body = api.patch(f"{URL}/{onboarding['id']}", json={"se_id": "se-9"}).json()
    expected = {**onboarding, "se_id": "se-9"}
    assert {k: v for k, v in body.items() if k != "updated_at"} == {
        k: v for k, v in expected.items() if k != "updated_at"
    }
    assert parse_ts(body["updated_at"]) > parse_ts(onboarding["updated_at"])


def test_empty_patch_changes_nothing(api, onboarding):
    response = api.patch(f"{URL}/{onboarding['id']}", json={})
    assert response.status_code == 200, response.text
    assert response.json() == onboarding
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


def test_patch_with_the_same_values_keeps_updated_at(api, make_onboarding):
    onboarding = make_onboarding(name="Kickoff", phase="review", state="paused")
    same = {"name": "  Kickoff ", "phase": "review", "state": "paused", "metadata": {}}
    body = api.patch(f"{URL}/{onboarding['id']}", json=same).json()
    assert body == onboarding


def test_patch_moves_updated_at_but_not_created_at(api, onboarding):
    body = api.patch(f"{URL}/{onboarding['id']}", json={"phase": "review"}).json()
    assert body["created_at"] == onboarding["created_at"]
    assert parse_ts(body["updated_at"]) > parse_ts(onboarding["updated_at"])
    assert body["started_at"] == onboarding["started_at"]


@pytest.mark.parametrize("ref", UNKNOWN_REFS)
def test_patch_unknown_is_404(api, onboarding, ref):
    assert_error(api.patch(f"{URL}/{ref}", json={"name": "x"}), 404, "onboarding_not_found")


def test_patch_another_workspaces_onboarding_is_404(api, other_api, onboarding):
    for ref in (onboarding["id"], onboarding["display_id"]):
        response = other_api.patch(f"{URL}/{ref}", json={"name": "hijack"})
        assert_error(response, 404, "onboarding_not_found")
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


def test_patch_body_must_be_a_json_object(api, onboarding):
    path = f"{URL}/{onboarding['id']}"
    headers = {"Content-Type": "application/json"}
    assert_error(api.patch(path, content=b"[1]", headers=headers), 400, "invalid_json")
    assert_error(api.patch(path, content=b"{nope", headers=headers), 400, "invalid_json")
    response = api.patch(path, content=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "invalid_content_type")
    assert api.get(path).json() == onboarding


# ---- DELETE -----------------------------------------------------------------------------------


def test_delete_answers_the_deleted_object(api, onboarding):
    response = api.delete(f"{URL}/{onboarding['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "object": "deleted",
        "id": onboarding["id"],
        "display_id": onboarding["display_id"],
        "deleted": True,
    }
    assert next(iter(response.json())) == "object"


def test_delete_by_display_id(api, onboarding):
    response = api.delete(f"{URL}/{onboarding['display_id']}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == onboarding["id"]
    assert_error(api.get(f"{URL}/{onboarding['id']}"), 404, "onboarding_not_found")


def test_deleted_onboarding_is_404_everywhere(api, onboarding):
    api.delete(f"{URL}/{onboarding['id']}")
    for ref in (onboarding["id"], onboarding["display_id"]):
        assert_error(api.get(f"{URL}/{ref}"), 404, "onboarding_not_found")
        assert_error(api.patch(f"{URL}/{ref}", json={"name": "x"}), 404, "onboarding_not_found")
        assert_error(api.get(f"{URL}/{ref}/transitions"), 404, "onboarding_not_found")


def test_second_delete_returns_the_same_body(api, onboarding):
    first = api.delete(f"{URL}/{onboarding['id']}")
    second = api.delete(f"{URL}/{onboarding['id']}")
    third = api.delete(f"{URL}/{onboarding['display_id']}")
    assert second.status_code == 200 and third.status_code == 200
    assert first.json() == second.json() == third.json()


@pytest.mark.parametrize("ref", UNKNOWN_REFS)
def test_delete_unknown_is_404(api, onboarding, ref):
    assert_error(api.delete(f"{URL}/{ref}"), 404, "onboarding_not_found")


def test_delete_another_workspaces_onboarding_is_404(api, other_api, onboarding):
    for ref in (onboarding["id"], onboarding["display_id"]):
        assert_error(other_api.delete(f"{URL}/{ref}"), 404, "onboarding_not_found")
    assert api.get(f"{URL}/{onboarding['id']}").json() == onboarding


def test_delete_leaves_the_other_onboardings(api, make_onboarding):
    kept = make_onboarding(name="kept")
    gone = make_onboarding(name="gone")
    api.delete(f"{URL}/{gone['id']}")
    assert api.get(f"{URL}/{kept['id']}").json() == kept


# ---- deleting the customer hides its onboardings ------------------------------------------------


def test_deleted_customer_hides_its_onboardings_from_every_read(
    api, customer, make_customer, make_onboarding
):
    hidden = make_onboarding(phase="review", state="paused")
    patched = api.patch(f"{URL}/{hidden['id']}", json={"phase": "launch"})
    assert patched.status_code == 200
    other = make_customer("Other")
    visible = make_onboarding(customer_id=other["id"], phase="launch", state="paused")
    assert api.delete(f"/api/v1/customers/{customer['id']}").status_code == 200

    for ref in (hidden["id"], hidden["display_id"]):
        assert_error(api.get(f"{URL}/{ref}"), 404, "onboarding_not_found")
        assert_error(api.get(f"{URL}/{ref}/transitions"), 404, "onboarding_not_found")
        assert_error(api.patch(f"{URL}/{ref}", json={"name": "x"}), 404, "onboarding_not_found")
    for params in ({}, {"phase": "launch"}, {"state": "paused"}):
        data = api.get(URL, params=params).json()["data"]
        assert [o["id"] for o in data] == [visible["id"]], params
    for ref in (customer["id"], customer["display_id"]):
        response = api.get(URL, params={"customer_id": ref})
        if response.status_code == 404:
            assert_error(response, 404, "customer_not_found")
        else:
            assert response.json()["data"] == []
        assert_error(api.get(f"/api/v1/customers/{ref}/onboardings"), 404, "customer_not_found")
    # The other customer's onboarding is untouched.
    assert api.get(f"{URL}/{visible['id']}").json() == visible


def test_deleted_customer_keeps_hiding_after_a_new_customer_takes_its_slug(
    api, customer, make_customer, make_onboarding
):
    hidden = make_onboarding()
    api.delete(f"/api/v1/customers/{customer['id']}")
    reborn = make_customer("Aurora Foods", slug="aurora")
    assert api.get(URL).json()["data"] == []
    assert api.get(f"/api/v1/customers/{reborn['id']}/onboardings").json()["data"] == []
    assert_error(api.get(f"{URL}/{hidden['id']}"), 404, "onboarding_not_found")


# ---- authentication and scopes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", URL),
        ("POST", URL),
        ("GET", f"{URL}/1"),
        ("PATCH", f"{URL}/1"),
        ("DELETE", f"{URL}/1"),
        ("GET", f"{URL}/1/transitions"),
        ("GET", "/api/v1/customers/1/onboardings"),
    ],
)
def test_every_endpoint_needs_a_key(client, keys, method, path):
    response = client.request(method, path, json={} if method in ("POST", "PATCH") else None)
    assert_error(response, 401, "missing_api_key")
    bad = client.request(method, path, headers=auth("pivotal_" + "x" * 40))
    assert_error(bad, 401, "invalid_api_key")


def test_read_scope_allows_reads_only(client, make_key, onboarding, customer):
    headers = auth(make_key(scopes=["read:onboardings"]))
    assert client.get(URL, headers=headers).status_code == 200
    assert client.get(f"{URL}/{onboarding['id']}", headers=headers).status_code == 200
    assert client.get(f"{URL}/{onboarding['id']}/transitions", headers=headers).status_code == 200
    path = f"/api/v1/customers/{customer['id']}/onboardings"
    assert client.get(path, headers=headers).status_code == 200
    for method, path, body in (
        ("POST", URL, {"customer_id": customer["id"]}),
        ("PATCH", f"{URL}/{onboarding['id']}", {"name": "x"}),
        ("DELETE", f"{URL}/{onboarding['id']}", None),
    ):
        response = client.request(method, path, json=body, headers=headers)
        error = assert_error(response, 403, "missing_scope")
        assert "write:onboardings" in error["message"]


def test_write_scope_without_read_cannot_list(client, make_key, onboarding, customer):
    headers = auth(make_key(scopes=["write:onboardings"]))
    error = assert_error(client.get(URL, headers=headers), 403, "missing_scope")
    assert "read:onboardings" in error["message"]
    response = client.get(f"/api/v1/customers/{customer['id']}/onboardings", headers=headers)
    assert_error(response, 403, "missing_scope")
    assert_error(client.get(f"{URL}/{onboarding['id']}", headers=headers), 403, "missing_scope")
    patched = client.patch(f"{URL}/{onboarding['id']}", json={"name": "ok"}, headers=headers)
    assert patched.status_code == 200, patched.text
    created = client.post(URL, json={"customer_id": customer["id"]}, headers=headers)
    assert created.status_code == 201, created.text


def test_customer_scopes_do_not_grant_onboardings(client, make_key, onboarding, customer):
    headers = auth(make_key(scopes=["read:customers", "write:customers"]))
    assert_error(client.get(URL, headers=headers), 403, "missing_scope")
    response = client.post(URL, json={"customer_id": customer["id"]}, headers=headers)
    assert_error(response, 403, "missing_scope")
