"""Authentication, key format, revocation, test mode and scopes (SPEC §2, §2.1, §2.2)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from pivotal.app import create_app
from pivotal.core import auth as auth_keys
from pivotal.core.admission import DIGESTS_KEPT
from pivotal.core.errors import ApiError
from pivotal.db.tables import metadata
from pivotal.workspaces import service as workspaces
from support import assert_error, auth

RESOURCES = ("customers", "contacts", "onboardings", "tasks", "webhooks")
ALL_SCOPES = [f"{action}:{resource}" for resource in RESOURCES for action in ("read", "write")]
LIVE_KEY = re.compile(r"^pivotal_[A-Za-z0-9]{32,}$")
TEST_KEY = re.compile(r"^pivotal_test_[A-Za-z0-9]{32,}$")
SECRET_32 = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"  # 32 base62 characters
assert len(SECRET_32) == 32


def revoke(app: Any, key_id_or_prefix: str) -> None:
    with app.state.services.db.transaction(write=True) as conn:
        workspaces.revoke_key(conn, key_id_or_prefix)


def me(app: Any, key: str) -> dict[str, Any]:
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/api/v1/me", headers=auth(key))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- 401 cases -------------------------------------------------------------------------


def test_missing_header_is_missing_api_key(client):
    error = assert_error(client.get("/api/v1/customers"), 401, "missing_api_key")
    assert error["type"] == "authentication_error"


def test_missing_header_on_every_kind_of_endpoint(client):
    for method, path in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/customers"),
        ("POST", "/api/v1/customers"),
        ("GET", "/api/v1/customers/1"),
        ("PATCH", "/api/v1/customers/1"),
        ("DELETE", "/api/v1/customers/1"),
        ("GET", "/api/v1/customers/1/contacts"),
        ("POST", "/api/v1/customers/1/contacts"),
        ("GET", "/api/v1/contacts/1"),
        ("GET", "/api/v1/onboardings"),
        ("POST", "/api/v1/onboardings"),
        ("GET", "/api/v1/onboardings/1"),
        ("GET", "/api/v1/onboardings/1/transitions"),
        ("GET", "/api/v1/customers/1/onboardings"),
    ]:
        kwargs = {"json": {"name": "x"}} if method in ("POST", "PATCH") else {}
        assert_error(client.request(method, path, **kwargs), 401, "missing_api_key")


def test_empty_authorization_header_is_not_accepted(client):
    response = client.get("/api/v1/customers", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("missing_api_key", "malformed_api_key")
    assert_error(response, 401, response.json()["error"]["code"])


@pytest.mark.parametrize(
    "header",
    [
        "Basic x",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "bearer",
        "Token pivotal_" + SECRET_32,
        "Basic pivotal_" + SECRET_32,
        "pivotal_" + SECRET_32,  # no scheme word at all
        "Bearerpivotal_" + SECRET_32,
        "Bearer pivotal_" + SECRET_32 + " pivotal_" + SECRET_32,  # two tokens
    ],
)
def test_header_not_bearer_token_is_malformed(client, header):
    response = client.get("/api/v1/customers", headers={"Authorization": header})
    assert_error(response, 401, "malformed_api_key")


@pytest.mark.parametrize(
    "token",
    [
        "sk_live_" + SECRET_32,  # wrong prefix
        "pivotal" + SECRET_32,  # no underscore
        "Pivotal_" + SECRET_32,  # prefix is case-sensitive
        "PIVOTAL_" + SECRET_32,
        "pivotal_live_" + SECRET_32,  # "_" is not base62
        "pivotal_" + SECRET_32[:31],  # secret one character too short
        "pivotal_test_" + SECRET_32[:31],
        "pivotal_",
        "pivotal_test_",
        "pivotal_" + SECRET_32[:31] + "-",  # non-base62 characters
        "pivotal_" + SECRET_32 + "-",
        "pivotal_" + SECRET_32 + "=",
        "pivotal_" + SECRET_32[:16] + "+/" + SECRET_32[16:],
        "pivotal_test_" + SECRET_32 + ".",
        "pivotal_" + SECRET_32[:16] + "_" + SECRET_32[16:],
        "abc",
    ],
)
def test_token_not_in_key_format_is_malformed(client, token):
    response = client.get("/api/v1/customers", headers=auth(token))
    assert_error(response, 401, "malformed_api_key")


def test_token_with_non_ascii_characters_is_malformed(client):
    token = ("pivotal_" + SECRET_32 + "\u00e9").encode("latin-1")
    response = client.get("/api/v1/customers", headers={"Authorization": b"Bearer " + token})
    assert_error(response, 401, "malformed_api_key")


@pytest.mark.parametrize(
    "token",
    [
        "pivotal_" + SECRET_32,
        "pivotal_test_" + SECRET_32,
        "pivotal_" + SECRET_32 * 2,
        "pivotal_test" + SECRET_32,  # a live key whose secret starts with "test"
    ],
)
def test_well_formed_unknown_key_is_invalid(client, token):
    response = client.get("/api/v1/customers", headers=auth(token))
    assert_error(response, 401, "invalid_api_key")


def test_altered_real_key_is_invalid(client, keys):
    last = keys.live[-1]
    altered = keys.live[:-1] + ("a" if last != "a" else "b")
    assert_error(client.get("/api/v1/customers", headers=auth(altered)), 401, "invalid_api_key")
    # A live key's secret presented as a test key is another (unknown) key.
    as_test = "pivotal_test_" + keys.live[len("pivotal_") :]
    assert_error(client.get("/api/v1/customers", headers=auth(as_test)), 401, "invalid_api_key")


def test_revoked_key_is_refused_on_the_very_next_request(app, api, keys):
    assert api.get("/api/v1/customers").status_code == 200
    key_id = me(app, keys.live)["api_key"]["id"]
    revoke(app, key_id)
    assert_error(api.get("/api/v1/customers"), 401, "api_key_revoked")
    assert_error(api.get("/api/v1/me"), 401, "api_key_revoked")
    assert_error(api.post("/api/v1/customers", json={"name": "After"}), 401, "api_key_revoked")


def test_revoking_by_visible_prefix(app, client, make_key):
    key = make_key(name="Rotating")
    prefix = me(app, key)["api_key"]["prefix"]
    revoke(app, prefix)
    assert_error(client.get("/api/v1/customers", headers=auth(key)), 401, "api_key_revoked")


def test_revoked_key_is_refused_by_every_server_process(app, settings, make_key):
    key = make_key(name="Shared")
    with TestClient(create_app(settings), raise_server_exceptions=False) as other_process:
        assert other_process.get("/api/v1/customers", headers=auth(key)).status_code == 200
        revoke(app, me(app, key)["api_key"]["id"])
        response = other_process.get("/api/v1/customers", headers=auth(key))
        assert_error(response, 401, "api_key_revoked")
        other_process.app.state.services.db.dispose()


def test_revoked_key_with_bad_body_is_still_401(app, api, keys):
    revoke(app, me(app, keys.live)["api_key"]["id"])
    response = api.post(
        "/api/v1/customers", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 401, "api_key_revoked")


# ---- header syntax -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr"])
def test_scheme_word_is_case_insensitive(client, keys, scheme):
    response = client.get("/api/v1/me", headers={"Authorization": f"{scheme} {keys.live}"})
    assert response.status_code == 200, response.text
    assert response.json()["api_key"]["name"] == "CRM sync"


@pytest.mark.parametrize("param", ["api_key", "key", "access_token", "token", "authorization"])
def test_keys_in_the_query_string_are_not_accepted(client, keys, param):
    response = client.get("/api/v1/customers", params={param: keys.live})
    assert_error(response, 401, "missing_api_key")
    response = client.get("/api/v1/me", params={param: f"Bearer {keys.live}"})
    assert_error(response, 401, "missing_api_key")


def test_query_key_does_not_rescue_a_bad_header(client, keys):
    response = client.get(
        "/api/v1/customers", params={"api_key": keys.live}, headers={"Authorization": "Basic x"}
    )
    assert_error(response, 401, "malformed_api_key")


# ---- key format and visible prefix -------------------------------------------------------


def test_key_format_and_visible_prefix(app, keys):
    assert LIVE_KEY.match(keys.live), keys.live
    assert TEST_KEY.match(keys.test), keys.test
    live = me(app, keys.live)["api_key"]
    assert live["prefix"] == keys.live[: len("pivotal_") + 4]
    assert live["mode"] == "live"
    test = me(app, keys.test)["api_key"]
    assert test["prefix"] == keys.test[: len("pivotal_test_") + 4]
    assert test["mode"] == "test"


def test_keys_are_random(make_key):
    made = {make_key(name=f"k{i}") for i in range(5)}
    assert len(made) == 5
    secrets = {key[len("pivotal_") :] for key in made}
    assert len(secrets) == 5
    for key in made:
        assert LIVE_KEY.match(key)


def test_only_a_hash_is_stored(app, api, keys, db):
    # Use both keys (a write too) so anything the server records about them exists.
    assert api.post("/api/v1/customers", json={"name": "Aurora"}).status_code == 201
    assert api.get("/api/v1/me").status_code == 200
    with TestClient(app, headers=auth(keys.test), raise_server_exceptions=False) as test_client:
        assert test_client.get("/api/v1/customers").status_code == 200
    forbidden: list[str] = []
    for key in (keys.live, keys.test):
        head = "pivotal_test_" if key.startswith("pivotal_test_") else "pivotal_"
        secret = key[len(head) :]
        forbidden += [key, secret, secret[4:], hashlib.sha256(key.encode()).hexdigest()]
    with db.transaction(write=False) as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
        assert len(rows) == 2
        for row in rows:
            for value in row:
                for needle in forbidden:
                    assert needle not in str(value), f"api_keys stores {needle!r}"
        # Not in any other table either.
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).all():
                for value in row:
                    for needle in forbidden:
                        assert needle not in str(value), f"{table.name} stores {needle!r}"


# ---- test mode and coexisting keys ------------------------------------------------------


def test_test_keys_see_the_same_data_as_live_keys(app, api, keys):
    with TestClient(app, headers=auth(keys.test), raise_server_exceptions=False) as test_api:
        live_made = api.post("/api/v1/customers", json={"name": "Live Co"}).json()
        test_made = test_api.post("/api/v1/customers", json={"name": "Test Co"}).json()
        # One display-id sequence for the workspace, whichever key creates.
        assert (live_made["display_id"], test_made["display_id"]) == (1, 2)
        assert test_api.get(f"/api/v1/customers/{live_made['id']}").json() == live_made
        assert api.get(f"/api/v1/customers/{test_made['id']}").json() == test_made
        assert api.get("/api/v1/customers").json() == test_api.get("/api/v1/customers").json()
        patched = test_api.patch(f"/api/v1/customers/{live_made['id']}", json={"plan": "pro"})
        assert patched.status_code == 200
        assert api.get("/api/v1/customers/1").json()["plan"] == "pro"
        assert test_api.delete("/api/v1/customers/2").status_code == 200
        assert_error(api.get("/api/v1/customers/2"), 404, "customer_not_found")


def test_test_key_validation_is_identical(app, api, keys):
    with TestClient(app, headers=auth(keys.test), raise_server_exceptions=False) as test_api:
        for client in (api, test_api):
            assert_error(client.post("/api/v1/customers", json={}), 400, "missing_field", "name")
            assert_error(
                client.post("/api/v1/customers", json={"name": "x", "status": "nope"}),
                400,
                "invalid_enum_value",
                "status",
            )


def test_another_workspaces_test_key_does_not_see_the_data(app, api, make_key):
    api.post("/api/v1/customers", json={"name": "Aurora"})
    other_test = make_key(workspace="globex", mode="test")
    with TestClient(app, headers=auth(other_test), raise_server_exceptions=False) as c:
        assert_error(c.get("/api/v1/customers/1"), 404, "customer_not_found")
        assert c.get("/api/v1/customers").json()["data"] == []


def test_several_active_keys_coexist(app, make_key, keys):
    rotated = [make_key(name=f"Deploy {i}") for i in range(3)]
    with ExitStack() as stack:
        clients = [
            stack.enter_context(TestClient(app, headers=auth(k), raise_server_exceptions=False))
            for k in rotated
        ]
        _rotate(app, keys, rotated, clients)


def _rotate(app: Any, keys: Any, rotated: list[str], clients: list[TestClient]) -> None:
    made = clients[0].post("/api/v1/customers", json={"name": "Shared"}).json()
    for c in clients:
        assert c.get(f"/api/v1/customers/{made['id']}").status_code == 200
    names = {me(app, k)["api_key"]["name"] for k in rotated}
    assert names == {"Deploy 0", "Deploy 1", "Deploy 2"}
    # Zero-downtime rotation: revoking the old key leaves the new ones working.
    revoke(app, me(app, rotated[0])["api_key"]["id"])
    assert_error(clients[0].get("/api/v1/customers"), 401, "api_key_revoked")
    for c in clients[1:]:
        assert c.get("/api/v1/customers").status_code == 200
    assert me(app, keys.live)["api_key"]["name"] == "CRM sync"


# ---- scopes -------------------------------------------------------------------------------

Call = Callable[[TestClient, dict[str, Any]], Any]


def _world(api: TestClient) -> dict[str, Any]:
    """One customer with a contact and an onboarding (made with a full-scope key)."""
    customer = api.post("/api/v1/customers", json={"name": "Aurora"}).json()
    contact = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Ada", "email": "ada@example.com"},
    ).json()
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    return {"c": customer["id"], "k": contact["id"], "o": onboarding["id"]}


# (scope, method, path template, body, success status)
OPERATIONS = [
    ("read:customers", "GET", "/api/v1/customers", None, 200),
    ("read:customers", "GET", "/api/v1/customers/{c}", None, 200),
    ("write:customers", "POST", "/api/v1/customers", {"name": "New"}, 201),
    ("write:customers", "PATCH", "/api/v1/customers/{c}", {"plan": "pro"}, 200),
    ("write:customers", "DELETE", "/api/v1/customers/{c}", None, 200),
    ("read:contacts", "GET", "/api/v1/customers/{c}/contacts", None, 200),
    ("read:contacts", "GET", "/api/v1/contacts/{k}", None, 200),
    (
        "write:contacts",
        "POST",
        "/api/v1/customers/{c}/contacts",
        {"name": "Bo", "email": "bo@example.com"},
        201,
    ),
    ("write:contacts", "PATCH", "/api/v1/contacts/{k}", {"title": "CTO"}, 200),
    ("write:contacts", "DELETE", "/api/v1/contacts/{k}", None, 200),
    ("read:onboardings", "GET", "/api/v1/onboardings", None, 200),
    ("read:onboardings", "GET", "/api/v1/onboardings/{o}", None, 200),
    ("read:onboardings", "GET", "/api/v1/customers/{c}/onboardings", None, 200),
    ("read:onboardings", "GET", "/api/v1/onboardings/{o}/transitions", None, 200),
    ("write:onboardings", "POST", "/api/v1/onboardings", {"customer_id": "{c}"}, 201),
    ("write:onboardings", "PATCH", "/api/v1/onboardings/{o}", {"phase": "review"}, 200),
    ("write:onboardings", "DELETE", "/api/v1/onboardings/{o}", None, 200),
]
OPERATION_IDS = [f"{method} {path} ({scope})" for scope, method, path, _, _ in OPERATIONS]


def _request(
    app: Any, key: str, method: str, path: str, body: dict[str, Any] | None, world: dict[str, Any]
) -> Any:
    path = path.format(**world)
    if body is not None:
        body = {k: v.format(**world) if isinstance(v, str) else v for k, v in body.items()}
    with TestClient(app, headers=auth(key), raise_server_exceptions=False) as c:
        return c.request(method, path, json=body) if body is not None else c.request(method, path)


@pytest.mark.parametrize(("scope", "method", "path", "body", "ok"), OPERATIONS, ids=OPERATION_IDS)
def test_key_without_the_scope_gets_403(app, api, make_key, scope, method, path, body, ok):
    world = _world(api)
    before = api.get("/api/v1/customers").json()
    key = make_key(scopes=[s for s in ALL_SCOPES if s != scope], name="Narrow")
    response = _request(app, key, method, path, body, world)
    error = assert_error(response, 403, "missing_scope")
    assert error["type"] == "permission_error"
    assert scope in error["message"]
    # A refused write changes nothing.
    assert api.get("/api/v1/customers").json() == before
    assert api.get(f"/api/v1/contacts/{world['k']}").status_code == 200
    assert api.get(f"/api/v1/onboardings/{world['o']}").status_code == 200


@pytest.mark.parametrize(("scope", "method", "path", "body", "ok"), OPERATIONS, ids=OPERATION_IDS)
def test_key_with_only_that_scope_succeeds(app, api, make_key, scope, method, path, body, ok):
    world = _world(api)
    key = make_key(scopes=[scope], name="Narrow")
    response = _request(app, key, method, path, body, world)
    assert response.status_code == ok, response.text


def test_read_scope_does_not_grant_write(app, make_key, api):
    world = _world(api)
    key = make_key(scopes=["read:customers", "read:contacts", "read:onboardings"])
    with TestClient(app, headers=auth(key), raise_server_exceptions=False) as c:
        assert c.get(f"/api/v1/customers/{world['c']}").status_code == 200
        error = assert_error(c.post("/api/v1/customers", json={"name": "x"}), 403, "missing_scope")
        assert "write:customers" in error["message"]
        error = assert_error(
            c.patch(f"/api/v1/contacts/{world['k']}", json={"title": "x"}), 403, "missing_scope"
        )
        assert "write:contacts" in error["message"]
        error = assert_error(c.delete(f"/api/v1/onboardings/{world['o']}"), 403, "missing_scope")
        assert "write:onboardings" in error["message"]


def test_write_scope_does_not_grant_read(app, make_key, api):
    world = _world(api)
    key = make_key(scopes=["write:customers", "write:contacts", "write:onboardings"])
    with TestClient(app, headers=auth(key), raise_server_exceptions=False) as c:
        error = assert_error(c.get("/api/v1/customers"), 403, "missing_scope")
        assert "read:customers" in error["message"]
        error = assert_error(c.get(f"/api/v1/contacts/{world['k']}"), 403, "missing_scope")
        assert "read:contacts" in error["message"]
        error = assert_error(c.get("/api/v1/onboardings"), 403, "missing_scope")
        assert "read:onboardings" in error["message"]


def test_me_needs_no_particular_scope(app, make_key):
    for scopes in (["read:tasks"], ["write:webhooks"], ["read:customers", "write:contacts"]):
        body = me(app, make_key(scopes=scopes, name="Scoped"))
        assert sorted(body["api_key"]["scopes"]) == sorted(scopes)


def test_key_without_explicit_scopes_has_all_of_them(app, keys):
    assert sorted(me(app, keys.live)["api_key"]["scopes"]) == sorted(ALL_SCOPES)
    assert sorted(me(app, keys.test)["api_key"]["scopes"]) == sorted(ALL_SCOPES)


def test_401_wins_over_403(client):
    # No key at all: authentication is reported, not a scope problem.
    assert_error(client.delete("/api/v1/customers/1"), 401, "missing_api_key")


def test_remembered_digests_are_the_keys_hashes_and_stay_bounded(app, keys):
    """Admission remembers each well-formed header's digest (the HMAC is most of a
    lookup's cost), never a malformed one, and never more than DIGESTS_KEPT."""
    admission = app.state.services.admission
    header = f"Bearer {keys.live}"
    digest = auth_keys.hash_key(app.state.services.secret_key, keys.live)
    assert admission.digest(header) == admission.digest(header) == digest
    for bad in (None, "", "Bearer nope", "Basic " + keys.live):
        with pytest.raises(ApiError):
            admission.digest(bad)
    assert "Bearer nope" not in admission._digests and len(admission._digests) == 1
    padded = "Bearer " + " " * 10_000 + keys.live  # well-formed, but not remembered
    assert admission.digest(padded) == digest and padded not in admission._digests
    for n in range(DIGESTS_KEPT + 5):
        made_up = f"Bearer pivotal_{n:032d}"
        assert admission.digest(made_up) == auth_keys.hash_key(
            app.state.services.secret_key, made_up.removeprefix("Bearer ")
        )
        assert len(admission._digests) <= DIGESTS_KEPT
