"""Cross-cutting conventions: request ids, media types, routing errors, bodies, timestamps,
identifiers and path references (SPEC §1, §3)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from support import assert_error

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
CUID = re.compile(r"^[a-z][a-z0-9]{23}$")
MIB = 1024 * 1024
HUGE = "99999999999999999999999"


def is_printable_ascii(value: str) -> bool:
    return 1 <= len(value) <= 128 and all(32 <= ord(ch) <= 126 for ch in value)


def assert_json_media_type(response: Any) -> None:
    """``application/json``, with ``charset=utf-8`` when a charset is given."""
    content_type = response.headers["content-type"]
    media_type, *params = [part.strip().lower() for part in content_type.split(";")]
    assert media_type == "application/json", content_type
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset":
            assert value.strip().strip('"') == "utf-8", content_type


def new_customer(api: Any, name: str = "Aurora", **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/customers", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def new_contact(api: Any, customer: str, email: str) -> dict[str, Any]:
    response = api.post(
        f"/api/v1/customers/{customer}/contacts", json={"name": "Ada", "email": email}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def new_onboarding(api: Any, customer: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/onboardings", json={"customer_id": customer, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- request ids ------------------------------------------------------------------------


def test_request_id_on_every_kind_of_response(api, client):
    customer = new_customer(api)
    responses = {
        "success": api.get(f"/api/v1/customers/{customer['id']}"),
        "created": api.post("/api/v1/customers", json={"name": "Borealis"}),
        "health": client.get("/api/v1/health"),
        "400": api.post("/api/v1/customers", json={}),
        "401": client.get("/api/v1/customers"),
        "404 resource": api.get("/api/v1/customers/424242"),
        "404 route": api.get("/api/v1/nothing-here"),
        "404 outside api": client.get("/nothing-here"),
        "405": api.put(f"/api/v1/customers/{customer['id']}", json={"name": "x"}),
        "415": api.post("/api/v1/customers", content=b"name=x"),
    }
    seen = set()
    for label, response in responses.items():
        request_id = response.headers.get("x-request-id")
        assert request_id, f"{label}: no X-Request-Id"
        assert is_printable_ascii(request_id), (label, request_id)
        seen.add(request_id)
    assert len(seen) == len(responses), "generated request ids must differ per request"


@pytest.mark.parametrize(
    "request_id",
    [
        "abc-123",
        "x",
        "a" * 128,
        "req_client.1:2/3~!@#$%^&*()",
        "6b1f3c1e-0d9e-4c7b-9f0e-1a2b3c4d5e6f",
    ],
)
def test_valid_client_request_id_is_echoed(api, client, request_id):
    headers = {"X-Request-Id": request_id}
    assert api.get("/api/v1/customers", headers=headers).headers["x-request-id"] == request_id
    error = assert_error(client.get("/api/v1/customers", headers=headers), 401, "missing_api_key")
    assert error["request_id"] == request_id
    error = assert_error(api.get("/api/v1/nope", headers=headers), 404, "route_not_found")
    assert error["request_id"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["a" * 129, "x" * 500, "abc\x01def", "abc\x7fdef", "tab\there", b"caf\xe9", ""],
    ids=["129-chars", "500-chars", "control", "del", "tab", "non-ascii", "empty"],
)
def test_invalid_client_request_id_is_replaced(api, client, request_id):
    sent = request_id.decode("latin-1") if isinstance(request_id, bytes) else request_id
    response = api.get("/api/v1/customers", headers={"X-Request-Id": request_id})
    assert response.status_code == 200
    generated = response.headers["x-request-id"]
    assert generated and generated != sent
    assert is_printable_ascii(generated)
    response = client.get("/api/v1/customers", headers={"X-Request-Id": request_id})
    error = assert_error(response, 401, "missing_api_key")
    assert error["request_id"] != sent


def test_error_request_id_equals_header(api):
    for response in (
        api.post("/api/v1/customers", json={"name": ""}),
        api.get("/api/v1/customers/abc"),
        api.get("/api/v1/customers?limit=0"),
    ):
        assert response.json()["error"]["request_id"] == response.headers["x-request-id"]


# ---- media type ---------------------------------------------------------------------------


def test_responses_are_json(api, client):
    customer = new_customer(api)
    for response in (
        api.get(f"/api/v1/customers/{customer['id']}"),
        api.get("/api/v1/customers"),
        api.patch(f"/api/v1/customers/{customer['id']}", json={}),
        api.delete(f"/api/v1/customers/{customer['id']}"),
        api.get("/api/v1/me"),
        client.get("/api/v1/health"),
        client.get("/api/health/deep"),
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/customers"),
        api.get("/api/v1/missing"),
        api.put("/api/v1/customers/1"),
        api.post("/api/v1/customers", json={}),
        api.post("/api/v1/customers", content=b"x" * (MIB + 1), headers={"Content-Type": "a/b"}),
    ):
        assert_json_media_type(response)
        response.json()


def test_error_envelope_has_only_the_documented_keys(api):
    error = assert_error(api.post("/api/v1/customers", json={}), 400, "missing_field", "name")
    assert set(error) == {"type", "code", "message", "field", "request_id"}
    error = assert_error(api.get("/api/v1/customers/abc"), 404, "customer_not_found")
    assert set(error) == {"type", "code", "message", "request_id"}, "field only when about one"


# ---- routing errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nope", "/api/v1/customers/1/nope", "/api/v2/customers", "/nope", "/api/v1/"],
)
def test_unknown_route_is_404_route_not_found(api, path):
    assert_error(api.get(path), 404, "route_not_found")
    assert_error(api.post(path, json={}), 404, "route_not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/customers/1"),
        ("PUT", "/api/v1/customers"),
        ("DELETE", "/api/v1/customers"),
        ("PATCH", "/api/v1/customers"),
        ("PUT", "/api/v1/contacts/1"),
        ("POST", "/api/v1/contacts/1"),
        ("PUT", "/api/v1/onboardings/1"),
        ("DELETE", "/api/v1/onboardings"),
        ("POST", "/api/v1/me"),
        ("POST", "/api/v1/health"),
    ],
)
def test_known_path_wrong_method_is_405(api, method, path):
    assert_error(api.request(method, path, json={"name": "x"}), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/customers/"), ("POST", "/api/v1/customers/"), ("GET", "/api/v1/me/")],
)
def test_trailing_slash_is_not_a_bare_redirect(api, method, path):
    response = api.request(method, path, json={"name": "x"}, follow_redirects=False)
    assert not 300 <= response.status_code < 400, (response.status_code, response.headers)
    if response.status_code >= 400:
        assert_error(response, 404, "route_not_found")


def test_put_does_not_change_anything(api):
    customer = new_customer(api)
    response = api.put(f"/api/v1/customers/{customer['id']}", json={"name": "Renamed"})
    assert_error(response, 405, "method_not_allowed")
    assert api.get(f"/api/v1/customers/{customer['id']}").json() == customer


# ---- request bodies -----------------------------------------------------------------------


def test_body_of_exactly_one_mib_is_accepted(api):
    body = b'{"name": "Big"}'
    body += b" " * (MIB - len(body))
    assert len(body) == MIB
    response = api.post(
        "/api/v1/customers", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Big"


def test_body_over_one_mib_is_413(api):
    body = b'{"name": "Big"}'
    body += b" " * (MIB + 1 - len(body))
    json_type = {"Content-Type": "application/json"}
    assert_error(
        api.post("/api/v1/customers", content=body, headers=json_type), 413, "body_too_large"
    )
    big = {"name": "x", "metadata": {"blob": "x" * (2 * MIB)}}
    assert_error(api.post("/api/v1/customers", json=big), 413, "body_too_large")
    customer = new_customer(api)
    response = api.patch(f"/api/v1/customers/{customer['id']}", json=big)
    assert_error(response, 413, "body_too_large")
    assert api.get("/api/v1/customers").json()["data"] == [customer]


def test_chunked_body_over_one_mib_is_413(api):
    def chunks():
        yield b'{"name": "x", "metadata": {"blob": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}}'

    response = api.post(
        "/api/v1/customers", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "body_too_large")
    assert api.get("/api/v1/customers").json()["data"] == []


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "text/json",
        None,
    ],
)
def test_body_with_non_json_content_type_is_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"name": "Aurora"}'
    response = api.post("/api/v1/customers", content=body, headers=headers)
    assert_error(response, 415, "invalid_content_type")
    customer = new_customer(api)
    response = api.patch(f"/api/v1/customers/{customer['id']}", content=body, headers=headers)
    assert_error(response, 415, "invalid_content_type")
    assert api.get(f"/api/v1/customers/{customer['id']}").json() == customer


def test_form_body_is_415(api):
    response = api.post("/api/v1/customers", data={"name": "Aurora"})
    assert_error(response, 415, "invalid_content_type")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=UTF-8",
    ],
)
def test_json_content_type_variants_are_accepted(api, content_type):
    response = api.post(
        "/api/v1/customers", content=b'{"name": "Aurora"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": ',
        b"{name: 'x'}",
        b'{"name": "x",}',
        b"not json",
        b'{"name": "x"} trailing',
        b'{"name": "\xff\xfe"}',
        b"[]",
        b'[{"name": "x"}]',
        b'"a string"',
        b"42",
        b"true",
        b"null",
    ],
)
def test_malformed_or_non_object_json_is_invalid_json(api, body):
    headers = {"Content-Type": "application/json"}
    assert_error(api.post("/api/v1/customers", content=body, headers=headers), 400, "invalid_json")
    customer = new_customer(api)
    response = api.patch(f"/api/v1/customers/{customer['id']}", content=body, headers=headers)
    assert_error(response, 400, "invalid_json")
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts", content=body, headers=headers
    )
    assert_error(response, 400, "invalid_json")
    assert_error(
        api.post("/api/v1/onboardings", content=body, headers=headers), 400, "invalid_json"
    )


@pytest.mark.parametrize("value", ["a\u0000b", "\u0000", "Aurora\u0000"])
def test_nul_in_body_strings_is_400_not_500(api, value):
    assert_error(api.post("/api/v1/customers", json={"name": value}), 400, "invalid_string", "name")
    customer = new_customer(api)
    response = api.patch(f"/api/v1/customers/{customer['id']}", json={"plan": value})
    assert_error(response, 400, "invalid_string", "plan")
    response = api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": value, "email": "ada@example.com"},
    )
    assert_error(response, 400, "invalid_string", "name")
    response = api.post("/api/v1/onboardings", json={"customer_id": customer["id"], "notes": value})
    assert_error(response, 400, "invalid_string", "notes")
    assert api.get("/api/v1/customers").json()["data"] == [customer]


def test_nul_in_metadata_is_never_500(api):
    metadata = {"note": "a\u0000b", "k\u0000": 1}
    response = api.post("/api/v1/customers", json={"name": "Aurora", "metadata": metadata})
    assert response.status_code in (201, 400), response.text
    if response.status_code == 201:
        # Free-form JSON comes back exactly as stored.
        assert response.json()["metadata"] == metadata
        customer = response.json()
        assert api.get(f"/api/v1/customers/{customer['id']}").json()["metadata"] == metadata
    else:
        assert_error(response, 400, response.json()["error"]["code"], "metadata")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/customers/abc%00def", "customer_not_found"),
        ("/api/v1/customers/%00", "customer_not_found"),
        ("/api/v1/contacts/abc%00def", "contact_not_found"),
        ("/api/v1/onboardings/abc%00def", "onboarding_not_found"),
    ],
)
def test_nul_in_path_is_404_not_500(api, path, code):
    assert_error(api.get(path), 404, code)
    assert_error(api.patch(path, json={}), 404, code)
    assert_error(api.delete(path), 404, code)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/abc%00def/contacts",
        "/api/v1/customers/abc%00def/onboardings",
    ],
)
def test_nul_in_parent_path_is_404_not_500(api, path):
    assert_error(api.get(path), 404, "customer_not_found")


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/customers", "slug"),
        ("/api/v1/customers", "domain"),
        ("/api/v1/customers", "hubspot_company_id"),
        ("/api/v1/customers/1/contacts", "email"),
        ("/api/v1/onboardings", "customer_id"),
    ],
)
def test_nul_in_query_filter_is_invalid_parameter(api, path, param):
    customer = new_customer(api)
    new_contact(api, customer["id"], "ada@example.com")
    new_onboarding(api, customer["id"])
    response = api.get(path, params={param: "a\u0000b"})
    assert_error(response, 400, "invalid_parameter", param)


def test_nul_in_onboarding_customer_id_is_never_500(api):
    response = api.post("/api/v1/onboardings", json={"customer_id": "abc\u0000"})
    assert response.status_code in (400, 404), response.text
    if response.status_code == 404:
        assert_error(response, 404, "customer_not_found")
    else:
        assert_error(response, 400, "invalid_string", "customer_id")


def test_401_wins_over_a_bad_body(client, keys):
    json_type = {"Content-Type": "application/json"}
    for headers in ({}, {"Authorization": "Basic x"}, {"Authorization": f"Bearer {keys.live}x"}):
        code = {0: "missing_api_key"}.get(len(headers))
        if code is None:
            code = (
                "malformed_api_key" if headers["Authorization"] == "Basic x" else "invalid_api_key"
            )
        for body, extra in (
            (b"{not json", json_type),
            (b"[]", json_type),
            (b'{"name": "x"}', {"Content-Type": "text/plain"}),
            (b"x" * (MIB + 10), json_type),
            (b'{"unknown": 1}', json_type),
        ):
            response = client.post("/api/v1/customers", content=body, headers={**headers, **extra})
            assert_error(response, 401, code)


def test_401_wins_over_not_found(client):
    assert_error(client.get("/api/v1/customers/nope"), 401, "missing_api_key")
    assert_error(client.get(f"/api/v1/customers/{HUGE}"), 401, "missing_api_key")


# ---- timestamps -------------------------------------------------------------------------------


def test_timestamps_are_utc_z_with_six_fractional_digits(api, client):
    customer = new_customer(api)
    contact = new_contact(api, customer["id"], "ada@example.com")
    onboarding = new_onboarding(api, customer["id"])
    for obj in (customer, contact, onboarding):
        assert TIMESTAMP.match(obj["created_at"]), obj
        assert TIMESTAMP.match(obj["updated_at"]), obj
    assert TIMESTAMP.match(onboarding["started_at"])
    assert TIMESTAMP.match(client.get("/api/v1/health").json()["timestamp"])
    created = datetime.fromisoformat(customer["created_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-05-26T19:21:09.412345+02:00", "2026-05-26T17:21:09.412345Z"),
        ("2026-05-26T12:21:09.412345-05:00", "2026-05-26T17:21:09.412345Z"),
        ("2026-05-26T17:21:09.412345Z", "2026-05-26T17:21:09.412345Z"),
        ("2026-05-26T17:21:09Z", "2026-05-26T17:21:09.000000Z"),
        ("2026-05-26T17:21:09.5+00:00", "2026-05-26T17:21:09.500000Z"),
        ("2026-05-27T01:51:09+08:30", "2026-05-26T17:21:09.000000Z"),
    ],
)
def test_input_offsets_are_stored_in_utc(api, sent, stored):
    customer = new_customer(api)
    onboarding = new_onboarding(api, customer["id"], started_at=sent)
    assert onboarding["started_at"] == stored
    assert api.get(f"/api/v1/onboardings/{onboarding['id']}").json()["started_at"] == stored


@pytest.mark.parametrize("stray", ["x", "@", " "])
def test_date_time_input_with_stray_character_is_invalid_string(api, stray):
    customer = new_customer(api)
    response = api.post(
        "/api/v1/onboardings",
        json={"customer_id": customer["id"], "started_at": f"2026-05-26T17:21:09{stray}Z"},
    )
    assert_error(response, 400, "invalid_string", "started_at")


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01T00:00:00Z", "2026-05-26T17:21:09Zjunk", "1717171717"]
)
def test_date_time_input_not_iso_is_invalid_string(api, value):
    customer = new_customer(api)
    response = api.post(
        "/api/v1/onboardings", json={"customer_id": customer["id"], "started_at": value}
    )
    assert_error(response, 400, "invalid_string", "started_at")


# ---- identifiers ------------------------------------------------------------------------------


def test_ids_are_cuid2_shaped_and_unique(api):
    ids = []
    for i in range(3):
        customer = new_customer(api, f"Customer {i}")
        contact = new_contact(api, customer["id"], f"c{i}@example.com")
        onboarding = new_onboarding(api, customer["id"])
        for obj in (customer, contact, onboarding):
            assert CUID.match(obj["id"]), obj["id"]
            ids.append(obj["id"])
        assert contact["customer_id"] == customer["id"]
        assert onboarding["customer_id"] == customer["id"]
    assert len(set(ids)) == len(ids)


def test_me_ids_carry_type_prefixes(api):
    body = api.get("/api/v1/me").json()
    assert re.match(r"^key_[a-z][a-z0-9]{23}$", body["api_key"]["id"]), body
    assert re.match(r"^org_[a-z][a-z0-9]{23}$", body["organization"]["id"]), body


def test_display_ids_per_workspace_and_resource_type(api, other_api):
    a = new_customer(api, "A")
    b = new_customer(api, "B")
    assert (a["display_id"], b["display_id"]) == (1, 2)
    # Each resource type has its own sequence, and contacts share one per workspace.
    assert new_contact(api, a["id"], "x@example.com")["display_id"] == 1
    assert new_contact(api, b["id"], "y@example.com")["display_id"] == 2
    assert new_contact(api, a["id"], "z@example.com")["display_id"] == 3
    assert new_onboarding(api, a["id"])["display_id"] == 1
    assert new_onboarding(api, b["id"])["display_id"] == 2
    # Another workspace starts at 1 for each type too.
    other = new_customer(other_api, "Other")
    assert other["display_id"] == 1
    assert new_contact(other_api, other["id"], "o@example.com")["display_id"] == 1
    assert new_onboarding(other_api, other["id"])["display_id"] == 1
    assert new_customer(api, "C")["display_id"] == 3


def test_display_ids_are_never_reused_after_a_delete(api):
    first = new_customer(api, "First")
    last = new_customer(api, "Last")
    assert api.delete(f"/api/v1/customers/{last['id']}").status_code == 200
    assert new_customer(api, "Next")["display_id"] == 3
    assert api.delete(f"/api/v1/customers/{first['id']}").status_code == 200
    assert new_customer(api, "After")["display_id"] == 4
    # The deleted display ids stay dead: they do not resolve to the new rows.
    assert_error(api.get("/api/v1/customers/2"), 404, "customer_not_found")
    assert_error(api.get("/api/v1/customers/1"), 404, "customer_not_found")
    # Same for contacts and onboardings.
    owner = api.get("/api/v1/customers/3").json()
    c1 = new_contact(api, owner["id"], "a@example.com")
    assert api.delete(f"/api/v1/contacts/{c1['id']}").status_code == 200
    assert new_contact(api, owner["id"], "b@example.com")["display_id"] == c1["display_id"] + 1
    o1 = new_onboarding(api, owner["id"])
    assert api.delete(f"/api/v1/onboardings/{o1['id']}").status_code == 200
    assert new_onboarding(api, owner["id"])["display_id"] == o1["display_id"] + 1


def test_display_ids_under_concurrent_creates(api):
    def create(i: int) -> dict[str, Any]:
        return new_customer(api, f"Concurrent {i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(create, range(40)))
    assert sorted(c["display_id"] for c in made) == list(range(1, 41))
    assert len({c["created_at"] for c in made}) == 40
    # created_at increases with display_id.
    by_display = sorted(made, key=lambda c: c["display_id"])
    assert [c["created_at"] for c in by_display] == sorted(c["created_at"] for c in made)


# ---- path references ----------------------------------------------------------------------


def test_path_digits_are_display_ids_and_others_are_ids(api):
    first = new_customer(api, "First")
    second = new_customer(api, "Second")
    assert api.get("/api/v1/customers/1").json() == first
    assert api.get("/api/v1/customers/2").json() == second
    assert api.get(f"/api/v1/customers/{second['id']}").json() == second
    patched = api.patch("/api/v1/customers/1", json={"plan": "pro"})
    assert patched.json()["id"] == first["id"]
    contact = new_contact(api, "2", "ada@example.com")
    assert contact["customer_id"] == second["id"]
    assert api.get(f"/api/v1/contacts/{contact['display_id']}").json() == contact
    assert api.get(f"/api/v1/contacts/{contact['id']}").json() == contact
    onboarding = new_onboarding(api, "1")
    assert onboarding["customer_id"] == first["id"]
    assert api.get(f"/api/v1/onboardings/{onboarding['display_id']}").json() == onboarding
    listed = api.get("/api/v1/customers/2/contacts").json()["data"]
    assert [c["id"] for c in listed] == [contact["id"]]
    deleted = api.delete("/api/v1/customers/2").json()
    assert deleted == {
        "object": "deleted",
        "id": second["id"],
        "display_id": 2,
        "deleted": True,
    }


def test_slug_in_path_is_an_id_lookup(api):
    new_customer(api, "Aurora", slug="aurora")
    assert_error(api.get("/api/v1/customers/aurora"), 404, "customer_not_found")


@pytest.mark.parametrize(
    "ref",
    [
        HUGE,
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "9" * 200,
        "0",
        "-1",
        "1.0",
        "1e3",
        "%D9%A1",  # ARABIC-INDIC DIGIT ONE: not an ASCII digit, so an id lookup
        "+1",
    ],
)
def test_odd_path_references_are_404_not_500(api, ref):
    customer = new_customer(api)
    contact = new_contact(api, customer["id"], "ada@example.com")
    onboarding = new_onboarding(api, customer["id"])
    assert (customer["display_id"], contact["display_id"], onboarding["display_id"]) == (1, 1, 1)
    for path, code in (
        (f"/api/v1/customers/{ref}", "customer_not_found"),
        (f"/api/v1/contacts/{ref}", "contact_not_found"),
        (f"/api/v1/onboardings/{ref}", "onboarding_not_found"),
    ):
        assert_error(api.get(path), 404, code)
        assert_error(api.patch(path, json={}), 404, code)
        assert_error(api.delete(path), 404, code)
    for path in (
        f"/api/v1/customers/{ref}/contacts",
        f"/api/v1/customers/{ref}/onboardings",
    ):
        assert_error(api.get(path), 404, "customer_not_found")
    response = api.post(
        f"/api/v1/customers/{ref}/contacts", json={"name": "Bo", "email": "bo@example.com"}
    )
    assert_error(response, 404, "customer_not_found")
    assert_error(api.get(f"/api/v1/onboardings/{ref}/transitions"), 404, "onboarding_not_found")


def test_huge_customer_id_in_body_is_404(api):
    response = api.post("/api/v1/onboardings", json={"customer_id": HUGE})
    assert_error(response, 404, "customer_not_found")


def test_other_workspaces_objects_are_missing(api, other_api):
    customer = new_customer(api)
    for ref in (customer["id"], "1"):
        assert_error(other_api.get(f"/api/v1/customers/{ref}"), 404, "customer_not_found")
        assert_error(other_api.delete(f"/api/v1/customers/{ref}"), 404, "customer_not_found")
    assert api.get(f"/api/v1/customers/{customer['id']}").json() == customer


def test_single_objects_carry_object_first(api):
    customer = new_customer(api)
    contact = new_contact(api, customer["id"], "ada@example.com")
    onboarding = new_onboarding(api, customer["id"])
    for obj, kind in ((customer, "customer"), (contact, "contact"), (onboarding, "onboarding")):
        assert next(iter(obj)) == "object"
        assert obj["object"] == kind
    listed = api.get("/api/v1/customers").json()
    assert set(listed) >= {"object", "data", "has_more", "next_cursor"}
    assert listed["object"] == "list"
