"""Health, deep health, /me and the OpenAPI document (SPEC §7.1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pivotal.app import create_app
from pivotal.config import Settings
from support import assert_error, auth

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
KEY_ID = re.compile(r"^key_[a-z][a-z0-9]{23}$")
ORG_ID = re.compile(r"^org_[a-z][a-z0-9]{23}$")
RESOURCES = ("customers", "contacts", "onboardings", "tasks", "webhooks")
ALL_SCOPES = sorted(f"{a}:{r}" for r in RESOURCES for a in ("read", "write"))

# Every operation SPEC §7.1-7.4 defines.
SPEC_OPERATIONS = {
    "/api/v1/health": {"get"},
    "/api/health/deep": {"get"},
    "/api/v1/me": {"get"},
    "/api/v1/customers": {"get", "post"},
    "/api/v1/customers/{id}": {"get", "patch", "delete"},
    "/api/v1/customers/{customerId}/contacts": {"get", "post"},
    "/api/v1/contacts/{id}": {"get", "patch", "delete"},
    "/api/v1/onboardings": {"get", "post"},
    "/api/v1/customers/{customerId}/onboardings": {"get"},
    "/api/v1/onboardings/{id}": {"get", "patch", "delete"},
    "/api/v1/onboardings/{id}/transitions": {"get"},
}
LIST_PATHS = {
    "/api/v1/customers",
    "/api/v1/customers/{customerId}/contacts",
    "/api/v1/onboardings",
    "/api/v1/customers/{customerId}/onboardings",
    "/api/v1/onboardings/{id}/transitions",
}
PUBLIC_PATHS = {"/api/v1/health", "/api/health/deep"}
METHODS = {"get", "post", "patch", "put", "delete", "head", "options", "trace"}


def get_me(app: Any, key: str) -> dict[str, Any]:
    with TestClient(app, headers=auth(key), raise_server_exceptions=False) as c:
        response = c.get("/api/v1/me")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


# ---- health -----------------------------------------------------------------------------------


def test_health_needs_no_auth(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp", "version"}
    assert body["status"] == "ok"
    assert TIMESTAMP.match(body["timestamp"]), body
    assert abs((datetime.now(UTC) - parse(body["timestamp"])).total_seconds()) < 60
    assert body["version"] == version("pivotal")
    assert response.headers["x-request-id"]


def test_health_ignores_credentials(client, keys):
    for headers in ({"Authorization": "Basic x"}, auth("pivotal_" + "x" * 40), auth(keys.live)):
        response = client.get("/api/v1/health", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"


def test_health_is_not_rate_limited(client, keys):
    for _ in range(70):  # above the 60/min default of a live key
        assert client.get("/api/v1/health").status_code == 200
        assert client.get("/api/v1/health", headers=auth(keys.live)).status_code == 200


def test_deep_health_checks_the_database(client):
    response = client.get("/api/health/deep")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert all(value == "ok" for value in body["checks"].values())


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite:////nonexistent-directory/for/sure/pivotal.db",
        "postgresql+psycopg://postgres@127.0.0.1:1/unreachable?connect_timeout=2",
    ],
    ids=["sqlite", "postgres"],
)
def test_deep_health_reports_an_unreachable_database(database_url):
    app = create_app(Settings(database_url=database_url, secret_key="test-secret-key"))
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            response = c.get("/api/health/deep")
            liveness = c.get("/api/v1/health")
    finally:
        app.state.services.db.dispose()
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] != "ok"
    assert body["checks"]["database"] != "ok"
    assert response.headers["x-request-id"]
    # Liveness does not depend on the database.
    assert liveness.status_code == 200


# ---- /me ---------------------------------------------------------------------------------------


def test_me_for_a_live_key(api, keys):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert next(iter(body)) == "object"
    assert set(body) == {"object", "livemode", "api_key", "organization"}
    assert body["object"] == "me"
    assert body["livemode"] is True
    key = body["api_key"]
    assert set(key) == {"id", "name", "prefix", "mode", "scopes", "rate_limit"}
    assert KEY_ID.match(key["id"])
    assert key["name"] == "CRM sync"
    assert key["prefix"] == keys.live[: len("pivotal_") + 4]
    assert key["mode"] == "live"
    assert sorted(key["scopes"]) == ALL_SCOPES
    assert key["rate_limit"] == {"limit": 60, "window_seconds": 60}
    org = body["organization"]
    assert set(org) == {"id", "slug", "name"}
    assert ORG_ID.match(org["id"])
    assert org == {"id": org["id"], "slug": "acme", "name": "Acme"}


def test_me_for_a_test_key(app, keys):
    body = get_me(app, keys.test)
    assert body["object"] == "me"
    assert body["livemode"] is False
    assert body["api_key"]["mode"] == "test"
    assert body["api_key"]["name"] == "CI"
    assert body["api_key"]["prefix"] == keys.test[: len("pivotal_test_") + 4]
    assert body["api_key"]["rate_limit"] == {"limit": 30, "window_seconds": 60}
    live = get_me(app, keys.live)
    assert body["organization"] == live["organization"]
    assert body["api_key"]["id"] != live["api_key"]["id"]


def test_me_shows_a_custom_rate_limit(app, make_key):
    body = get_me(app, make_key(rate_limit=600, name="Paid plan"))
    assert body["api_key"]["rate_limit"] == {"limit": 600, "window_seconds": 60}
    body = get_me(app, make_key(mode="test", rate_limit=5000, name="Load test"))
    assert body["api_key"]["rate_limit"] == {"limit": 5000, "window_seconds": 60}


def test_me_shows_the_keys_own_workspace(app, other_api):
    body = other_api.get("/api/v1/me").json()
    assert body["organization"]["slug"] == "globex"
    assert body["organization"]["name"] == "Globex"
    assert body["api_key"]["name"] == "Globex key"


def test_me_shows_narrow_scopes(app, make_key):
    body = get_me(app, make_key(scopes=["read:customers", "write:onboardings"]))
    assert sorted(body["api_key"]["scopes"]) == ["read:customers", "write:onboardings"]


def test_me_needs_a_key(client):
    assert_error(client.get("/api/v1/me"), 401, "missing_api_key")
    assert_error(
        client.get("/api/v1/me", headers=auth("pivotal_" + "A" * 32)), 401, "invalid_api_key"
    )


def test_me_has_no_side_effects_on_data(api):
    before = api.get("/api/v1/customers").json()
    for _ in range(3):
        assert api.get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/customers").json() == before


# ---- OpenAPI ----------------------------------------------------------------------------------


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_openapi_is_3_1_and_public(document):
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"]
    assert document["info"]["version"] == version("pivotal")


def test_openapi_documents_every_path(document):
    for path, methods in SPEC_OPERATIONS.items():
        assert path in document["paths"], f"{path} is not documented"
        documented = {m for m in document["paths"][path] if m in METHODS}
        assert methods <= documented, (path, methods - documented)


def test_openapi_does_not_document_put(document):
    for path, method, _ in _operations(document):
        assert method != "put", path


def _bearer_scheme_names(document: dict[str, Any]) -> set[str]:
    schemes = document.get("components", {}).get("securitySchemes", {})
    return {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    }


def test_openapi_defines_a_bearer_scheme(document):
    assert _bearer_scheme_names(document), document.get("components", {})


def test_openapi_public_operations_need_no_key(document):
    for path in PUBLIC_PATHS:
        security = document["paths"][path]["get"].get("security", document.get("security"))
        assert not security or {} in security, f"{path} must not require a key"


def test_openapi_authenticated_operations_require_the_bearer_key(document):
    names = _bearer_scheme_names(document)
    for path, method, operation in _operations(document):
        if path in PUBLIC_PATHS or not path.startswith("/api/v1/"):
            continue
        security = operation.get("security", document.get("security"))
        assert security, f"{method.upper()} {path} documents no security"
        assert all(set(requirement) & names for requirement in security), (path, method)


def test_openapi_documents_error_responses(document):
    for path, method, operation in _operations(document):
        if path in PUBLIC_PATHS or path not in SPEC_OPERATIONS:
            continue
        responses = operation["responses"]
        label = f"{method.upper()} {path}"
        expected = {"401"}
        if "{" in path:
            expected.add("404")
        if method in ("post", "patch") or (method == "get" and path in LIST_PATHS):
            expected.add("400")  # invalid body, or invalid limit/cursor
        if method in ("post", "patch"):
            expected |= {"413", "415"}
        assert expected <= set(responses), (label, expected - set(responses))


def test_openapi_error_responses_use_the_envelope(document):
    for path, method, operation in _operations(document):
        label = f"{method.upper()} {path}"
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or path in PUBLIC_PATHS:
                continue
            assert status != "422", f"{label} documents 422, which the API never sends"
            schema = _resolve(document, response["content"]["application/json"]["schema"])
            error = _resolve(document, schema["properties"]["error"])
            assert {"type", "code", "message", "request_id"} <= set(error["properties"]), label
            assert {"type", "code", "message"} <= set(error.get("required", [])), label


def test_openapi_error_schema_is_the_envelope(document):
    schema = _resolve(
        document,
        document["paths"]["/api/v1/customers"]["post"]["responses"]["400"]["content"][
            "application/json"
        ]["schema"],
    )
    error = _resolve(document, schema["properties"]["error"])
    assert {"type", "code", "message", "field", "request_id"} <= set(error["properties"])


def test_openapi_documents_list_parameters(document):
    for path in LIST_PATHS:
        parameters = {p["name"]: p for p in document["paths"][path]["get"].get("parameters", [])}
        assert {"limit", "cursor"} <= set(parameters), path
        limit = _resolve(document, parameters["limit"]["schema"])
        assert (limit.get("minimum"), limit.get("maximum"), limit.get("default")) == (1, 100, 20)


def test_every_documented_operation_is_served(api, document):
    """The document and the server agree: no documented route answers route_not_found/405."""
    for path, method, _ in _operations(document):
        if not path.startswith("/api/"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        kwargs = {"json": {}} if method in ("post", "patch") else {}
        response = api.request(method.upper(), concrete, **kwargs)
        assert response.status_code != 405, f"{method.upper()} {path}"
        if response.status_code == 404:
            assert response.json()["error"]["code"] != "route_not_found", f"{method} {path}"
