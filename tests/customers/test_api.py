"""The §1-§4 conventions as the customers endpoints show them: auth, scopes, test mode,
request bodies, methods, request ids, and display ids under concurrent creates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from customers.helpers import URL, ClientFor, NewCustomer
from support import assert_error, auth

ENDPOINTS = [
    ("GET", URL),
    ("POST", URL),
    ("GET", f"{URL}/1"),
    ("PATCH", f"{URL}/1"),
    ("DELETE", f"{URL}/1"),
]


def call(client: TestClient, method: str, path: str) -> Any:
    body = {"name": "Aurora"} if method in ("POST", "PATCH") else None
    return client.request(method, path, json=body)


# ---- authentication and scopes -------------------------------------------------------------


def test_every_endpoint_needs_a_key(
    api: TestClient, client: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    created = new_customer("Aurora")
    for method, path in ENDPOINTS:
        with subtests.test(method=method, path=path):
            assert_error(call(client, method, path), 401, "missing_api_key")
    assert api.get(URL).json()["data"] == [created]


def test_unknown_key_is_refused_before_the_body_is_checked(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    bogus = auth("pivotal_" + "A" * 40)
    for method, path in ENDPOINTS:
        with subtests.test(method=method, path=path):
            response = client.request(method, path, headers=bogus, content=b"{not json")
            assert_error(response, 401, "invalid_api_key")


def test_writes_need_write_customers(
    client_for: ClientFor, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("Borealis")
    reader = client_for(scopes=["read:customers"], name="Reader")
    for method, path in ENDPOINTS:
        if method == "GET":
            continue
        with subtests.test(method=method, path=path):
            error = assert_error(call(reader, method, path), 403, "missing_scope")
            assert "write:customers" in error["message"]
    assert reader.get(f"{URL}/1").json()["name"] == "Borealis"
    assert [c["name"] for c in reader.get(URL).json()["data"]] == ["Borealis"]


def test_reads_need_read_customers(
    client_for: ClientFor, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("Borealis")
    writer = client_for(scopes=["write:customers"], name="Writer")
    for method, path in ENDPOINTS:
        if method != "GET":
            continue
        with subtests.test(method=method, path=path):
            error = assert_error(call(writer, method, path), 403, "missing_scope")
            assert "read:customers" in error["message"]


def test_write_scope_allows_writes(client_for: ClientFor) -> None:
    writer = client_for(scopes=["write:customers"], name="Writer")
    created = writer.post(URL, json={"name": "Aurora"})
    assert created.status_code == 201, created.text
    assert writer.patch(f"{URL}/1", json={"plan": "x"}).status_code == 200
    assert writer.delete(f"{URL}/1").status_code == 200


def test_other_resources_scopes_do_not_grant_customers(client_for: ClientFor) -> None:
    other = client_for(
        scopes=["read:contacts", "write:contacts", "read:onboardings", "write:onboardings"],
        name="Contacts only",
    )
    assert_error(other.get(URL), 403, "missing_scope")
    assert_error(other.post(URL, json={"name": "Aurora"}), 403, "missing_scope")


def test_missing_scope_wins_over_an_invalid_body(client_for: ClientFor) -> None:
    reader = client_for(scopes=["read:customers"], name="Reader")
    assert_error(reader.post(URL, json={"nope": 1}), 403, "missing_scope")


# ---- test mode ---------------------------------------------------------------------------


def test_test_keys_share_data_and_validation_with_live_keys(
    api: TestClient, client_for: ClientFor
) -> None:
    ci = client_for(mode="test", name="CI")
    made = ci.post(URL, json={"name": "Smoke", "metadata": {"test": True}})
    assert made.status_code == 201, made.text
    assert api.get(f"{URL}/{made.json()['id']}").json() == made.json()
    live = api.post(URL, json={"name": "Live"})
    assert ci.get(f"{URL}/{live.json()['display_id']}").json() == live.json()
    assert [c["name"] for c in ci.get(URL).json()["data"]] == ["Live", "Smoke"]
    assert_error(ci.post(URL, json={"name": "   "}), 400, "too_small", "name")
    assert_error(ci.post(URL, json={"name": "Smoke"}), 409, "slug_taken", "slug")


# ---- request bodies ----------------------------------------------------------------------


def test_create_body_must_be_a_json_object(api: TestClient, subtests: pytest.Subtests) -> None:
    for raw in (b"{", b'{"name": "Aurora",}', b"[]", b'["name"]', b'"Aurora"', b"42", b"null"):
        with subtests.test(body=raw):
            response = api.post(URL, content=raw, headers={"Content-Type": "application/json"})
            assert_error(response, 400, "invalid_json")
    assert api.get(URL).json()["data"] == []


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_body_must_be_sent_as_json(api: TestClient, new_customer: NewCustomer, method: str) -> None:
    new_customer("Aurora")
    path = URL if method == "POST" else f"{URL}/1"
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = api.request(
            method, path, content=b'{"name": "Borealis"}', headers={"Content-Type": content_type}
        )
        assert_error(response, 415, "invalid_content_type")
    assert [c["name"] for c in api.get(URL).json()["data"]] == ["Aurora"]


def test_json_content_type_with_charset_is_accepted(api: TestClient) -> None:
    response = api.post(
        URL,
        content='{"name": "Café"}'.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Café"


def test_oversized_body_is_413(api: TestClient) -> None:
    body = b'{"name": "Aurora", "plan": "' + b"x" * (1024 * 1024) + b'"}'
    response = api.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "body_too_large")


# ---- methods, paths, request ids ---------------------------------------------------------


def test_wrong_method_is_405(
    api: TestClient, new_customer: NewCustomer, subtests: pytest.Subtests
) -> None:
    new_customer("Aurora")
    for method, path in [
        ("PUT", f"{URL}/1"),
        ("PUT", URL),
        ("DELETE", URL),
        ("PATCH", URL),
        ("POST", f"{URL}/1"),
    ]:
        with subtests.test(method=method, path=path):
            response = api.request(method, path, json={"name": "x"})
            assert_error(response, 405, "method_not_allowed")
    assert api.get(f"{URL}/1").json()["name"] == "Aurora"
    assert len(api.get(URL).json()["data"]) == 1


def test_client_request_id_is_echoed(api: TestClient) -> None:
    response = api.post(URL, json={"name": "Aurora"}, headers={"X-Request-Id": "sync-run-42"})
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "sync-run-42"
    error = api.get(f"{URL}/99", headers={"X-Request-Id": "lookup-7"})
    assert assert_error(error, 404, "customer_not_found")["request_id"] == "lookup-7"


def test_generated_request_id_on_every_response(api: TestClient) -> None:
    ids = {api.get(URL).headers["x-request-id"], api.get(URL).headers["x-request-id"]}
    assert len(ids) == 2 and all(ids)


# ---- concurrency -------------------------------------------------------------------------


def test_concurrent_creates_get_distinct_increasing_display_ids(client_for: ClientFor) -> None:
    loader = client_for(name="Loader", rate_limit=100_000)
    count = 24

    def create(n: int) -> Any:
        return loader.post(URL, json={"name": f"Concurrent {n}"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(count)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    made = [r.json() for r in responses]
    assert sorted(c["display_id"] for c in made) == list(range(1, count + 1))
    # Display ids and creation times grow together, and creation times are unique.
    by_display_id = sorted(made, key=lambda c: c["display_id"])
    created = [c["created_at"] for c in by_display_id]
    assert created == sorted(created) and len(set(created)) == count
    listed = loader.get(URL, params={"limit": 100}).json()["data"]
    assert [c["display_id"] for c in listed] == list(range(count, 0, -1))


def test_concurrent_creates_with_one_slug_let_exactly_one_win(client_for: ClientFor) -> None:
    loader = client_for(name="Loader", rate_limit=100_000)

    def create(n: int) -> Any:
        return loader.post(URL, json={"name": f"Racer {n}", "slug": "contested"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(8)))
    winners = [r for r in responses if r.status_code == 201]
    assert len(winners) == 1, [r.text for r in responses]
    for loser in responses:
        if loser.status_code != 201:
            assert_error(loser, 409, "slug_taken", "slug")
    listed = loader.get(URL, params={"slug": "contested"}).json()["data"]
    assert [c["id"] for c in listed] == [winners[0].json()["id"]]


def test_concurrent_deletes_all_answer_the_same_body(
    client_for: ClientFor, new_customer: NewCustomer
) -> None:
    created = new_customer("Aurora")
    loader = client_for(name="Loader", rate_limit=100_000)
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: loader.delete(f"{URL}/{created['id']}"), range(6)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert {r.content for r in responses} == {responses[0].content}
    assert responses[0].json()["deleted"] is True
