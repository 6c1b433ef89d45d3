"""Webhook endpoints API (SPEC §8.2): shapes, secrets, validation, SSRF guard."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from conftest import SECRET, MakeKey
from pivotal.app import create_app
from pivotal.config import Settings
from support import assert_error, auth

URL = "/api/v1/webhook_endpoints"


def make_endpoint(api, receiver_url: str, events: list[str] | None = None, **extra):
    response = api.post(URL, json={"url": receiver_url, "enabled_events": events or ["*"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_create_shows_the_secret_once(api, receiver):
    created = make_endpoint(api, receiver.url, ["customer.created"], description="CRM")
    assert next(iter(created)) == "object" and created["object"] == "webhook_endpoint"
    assert created["id"].startswith("ep_")
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    assert created["enabled_events"] == ["customer.created"]
    assert created["livemode"] is True and created["disabled"] is False
    assert created["disabled_reason"] is None and created["description"] == "CRM"
    fetched = api.get(f"{URL}/{created['id']}").json()
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}
    listed = api.get(URL).json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert "secret" not in listed["data"][0]


def test_update_and_delete(api, receiver):
    endpoint = make_endpoint(api, receiver.url)
    patched = api.patch(
        f"{URL}/{endpoint['id']}",
        json={"enabled_events": ["contact.created"], "description": "x", "disabled": True},
    ).json()
    assert patched["enabled_events"] == ["contact.created"] and patched["disabled"] is True
    assert patched["disabled_reason"]
    enabled = api.patch(f"{URL}/{endpoint['id']}", json={"disabled": False}).json()
    assert enabled["disabled"] is False and enabled["disabled_reason"] is None
    first = api.delete(f"{URL}/{endpoint['id']}")
    assert first.json() == {"object": "deleted", "id": endpoint["id"], "deleted": True}
    assert api.delete(f"{URL}/{endpoint['id']}").json() == first.json()
    assert_error(api.get(f"{URL}/{endpoint['id']}"), 404, "webhook_endpoint_not_found")
    assert_error(api.patch(f"{URL}/{endpoint['id']}", json={}), 404, "webhook_endpoint_not_found")


def test_other_workspace_and_unknown_ids_are_404(api, other_api, receiver):
    endpoint = make_endpoint(api, receiver.url)
    assert_error(other_api.get(f"{URL}/{endpoint['id']}"), 404, "webhook_endpoint_not_found")
    assert_error(api.get(f"{URL}/ep_nope"), 404, "webhook_endpoint_not_found")
    assert_error(api.get(f"{URL}/1"), 404, "webhook_endpoint_not_found")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"enabled_events": ["*"]}, "missing_field", "url"),
        ({"url": "http://127.0.0.1/x"}, "missing_field", "enabled_events"),
        ({"url": "http://127.0.0.1/x", "enabled_events": []}, "too_small", "enabled_events"),
        (
            {"url": "http://127.0.0.1/x", "enabled_events": ["nope"]},
            "invalid_enum_value",
            "enabled_events.0",
        ),
        ({"url": "http://127.0.0.1/x", "enabled_events": "*"}, "invalid_type", "enabled_events"),
        ({"url": "ftp://127.0.0.1/x", "enabled_events": ["*"]}, "invalid_string", "url"),
        ({"url": "not a url", "enabled_events": ["*"]}, "invalid_string", "url"),
        ({"url": "http://u:p@127.0.0.1/", "enabled_events": ["*"]}, "invalid_string", "url"),
        (
            {"url": "http://127.0.0.1/x", "enabled_events": ["*"], "secret": "x"},
            "unrecognized_keys",
            "secret",
        ),
    ],
)
def test_validation(api, body, code, field):
    assert_error(api.post(URL, json=body), 400, code, field)


@pytest.fixture
def strict_api(database_url: str, make_key: MakeKey):
    """A server with the production defaults: https only, no private targets."""
    app = create_app(Settings(database_url=database_url, secret_key=SECRET))
    with TestClient(app, headers=auth(make_key()), raise_server_exceptions=False) as client:
        yield client
    app.state.services.db.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://metadata.google.internal/",
        "http://93.184.216.34/hook",  # public, but plain http
    ],
)
def test_ssrf_guard_refuses_private_targets_and_plain_http(strict_api, url):
    assert_error(
        strict_api.post(URL, json={"url": url, "enabled_events": ["*"]}),
        400,
        "invalid_string",
        "url",
    )


def test_ssrf_guard_accepts_a_public_https_address(strict_api):
    response = strict_api.post(
        URL, json={"url": "https://93.184.216.34/hook", "enabled_events": ["*"]}
    )
    assert response.status_code == 201, response.text
    moved = strict_api.patch(f"{URL}/{response.json()['id']}", json={"url": "https://10.0.0.1/x"})
    assert_error(moved, 400, "invalid_string", "url")


def test_scopes(client, make_key, receiver):
    reader = make_key(scopes=["read:webhooks"], name="reader")
    nobody = make_key(scopes=["read:customers"], name="nobody")
    assert_error(
        client.post(URL, headers=auth(reader), json={"url": receiver.url, "enabled_events": ["*"]}),
        403,
        "missing_scope",
    )
    assert client.get(URL, headers=auth(reader)).status_code == 200
    assert_error(client.get(URL, headers=auth(nobody)), 403, "missing_scope")
    assert_error(client.get("/api/v1/events", headers=auth(nobody)), 403, "missing_scope")
