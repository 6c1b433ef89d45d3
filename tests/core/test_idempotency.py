"""Idempotency keys (SPEC §5), through HTTP on both engines."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text, update

from conftest import SECRET, MakeKey
from live_server import serve
from pivotal.core import clock
from pivotal.core.idempotency import IdempotentRequest, _lock_id
from pivotal.db import tables
from support import assert_error, auth

URL = "/api/v1/customers"


def idem(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def count_customers(api) -> int:
    return len(api.get(URL, params={"limit": 100}).json()["data"])


def test_retry_replays_the_stored_result_byte_for_byte(api):
    first = api.post(URL, json={"name": "Aurora", "mrr": 100}, headers=idem("k-1"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = api.post(URL, json={"name": "Aurora", "mrr": 100}, headers=idem("k-1"))
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert count_customers(api) == 1


def test_the_same_json_written_differently_still_replays(api):
    first = api.post(URL, content=b'{"name": "A", "mrr": 5}', headers={
        **idem("k"), "Content-Type": "application/json"
    })  # fmt: skip
    again = api.post(URL, content=b'{"mrr":5,"name":"A"}', headers={
        **idem("k"), "Content-Type": "application/json"
    })  # fmt: skip
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content


def test_a_different_body_with_the_same_key_is_refused(api):
    api.post(URL, json={"name": "Aurora"}, headers=idem("k"))
    assert_error(
        api.post(URL, json={"name": "Borealis"}, headers=idem("k")), 409, "idempotency_key_reused"
    )
    assert count_customers(api) == 1


def test_replay_outlives_the_object_it_created(api):
    first = api.post(URL, json={"name": "Aurora"}, headers=idem("k"))
    api.delete(f"{URL}/{first.json()['id']}")
    again = api.post(URL, json={"name": "Aurora"}, headers=idem("k"))
    assert again.content == first.content
    assert count_customers(api) == 0


def test_scope_is_the_concrete_path(api):
    one = api.post(URL, json={"name": "One"}).json()
    two = api.post(URL, json={"name": "Two"}).json()
    body = {"name": "Ann", "email": "ann@example.com"}
    a = api.post(f"{URL}/{one['id']}/contacts", json=body, headers=idem("same"))
    b = api.post(f"{URL}/{two['id']}/contacts", json=body, headers=idem("same"))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert "idempotent-replayed" not in b.headers


def test_scope_is_the_workspace(api, other_api):
    a = api.post(URL, json={"name": "Aurora"}, headers=idem("shared"))
    b = other_api.post(URL, json={"name": "Aurora"}, headers=idem("shared"))
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_failures_are_not_stored_so_a_retry_runs_again(api):
    assert_error(api.post(URL, json={"mrr": 1}, headers=idem("k")), 400, "missing_field", "name")
    api.post(URL, json={"name": "Taken", "slug": "taken"})
    assert_error(
        api.post(URL, json={"name": "X", "slug": "taken"}, headers=idem("k2")),
        409,
        "slug_taken",
        "slug",
    )
    api.delete(f"{URL}/1")
    # The same key, now with a body that succeeds, runs (a stored failure would replay).
    created = api.post(URL, json={"name": "X", "slug": "taken"}, headers=idem("k2"))
    assert created.status_code == 201 and "idempotent-replayed" not in created.headers


def test_expired_keys_count_as_fresh(api, db):
    first = api.post(URL, json={"name": "Aurora"}, headers=idem("old"))
    day_ago = clock.now_us() - 24 * 3600 * clock.MICROS_PER_SECOND - 1
    with db.transaction(write=True) as conn:
        conn.execute(update(tables.idempotency_keys).values(created_at=day_ago))
    again = api.post(URL, json={"name": "Aurora 2", "slug": "aurora-2"}, headers=idem("old"))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert count_customers(api) == 2


@pytest.mark.parametrize("value", ["x" * 256, "caf\u00e9", "tab\there"])
def test_invalid_keys_are_refused(api, value):
    response = api.post(URL, json={"name": "A"}, headers={"Idempotency-Key": value.encode()})
    assert_error(response, 400, "invalid_parameter", "Idempotency-Key")
    assert count_customers(api) == 0


def test_longest_key_is_accepted(api):
    assert api.post(URL, json={"name": "A"}, headers=idem("k" * 255)).status_code == 201


def test_get_patch_delete_ignore_the_header(api):
    created = api.post(URL, json={"name": "A"}).json()
    bad = {"Idempotency-Key": "x" * 300}
    assert api.get(f"{URL}/{created['id']}", headers=bad).status_code == 200
    assert (
        api.patch(f"{URL}/{created['id']}", json={"plan": "pro"}, headers=idem("p")).status_code
        == 200
    )
    assert (
        api.patch(f"{URL}/{created['id']}", json={"plan": "max"}, headers=idem("p")).json()["plan"]
        == "max"
    )
    first = api.delete(f"{URL}/{created['id']}", headers=bad)
    second = api.delete(f"{URL}/{created['id']}", headers=bad)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()


def test_in_use_while_another_process_holds_the_key(api, db, database_url, keys):
    """On PostgreSQL the key is claimed with an advisory lock for the request's duration;
    holding that lock from another connection stands for a request still running."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time: a second request waits, then replays")
    me = api.get("/api/v1/me").json()
    claimed = IdempotentRequest(key="busy", method="POST", path=URL, request_hash="")
    with db.transaction(write=True) as conn:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k)"),
            {"k": _lock_id(me["organization"]["id"], claimed)},
        )
        assert_error(
            api.post(URL, json={"name": "A"}, headers=idem("busy")), 409, "idempotency_key_in_use"
        )
    assert api.post(URL, json={"name": "A"}, headers=idem("busy")).status_code == 201


@pytest.mark.slow
def test_concurrent_requests_with_one_key_create_exactly_one(database_url, app, make_key: MakeKey):
    headers = {**auth(make_key(rate_limit=100_000)), **idem("same-key")}
    with serve(database_url, SECRET) as server:
        barrier = threading.Barrier(8)

        def send(_: int) -> httpx.Response:
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                barrier.wait()
                return client.post(URL, json={"name": "Once"}, headers=headers)

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(send, range(8)))
        created = [
            r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers
        ]
        replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
        in_use = [r for r in responses if r.status_code == 409]
        assert len(created) == 1, [r.text for r in responses]
        assert len(created) + len(replayed) + len(in_use) == 8
        assert all(r.content == created[0].content for r in replayed)
        assert all(r.json()["error"]["code"] == "idempotency_key_in_use" for r in in_use)
        listed = httpx.get(f"{server.base_url}{URL}", headers=headers).json()["data"]
        assert [c["name"] for c in listed] == ["Once"]


def test_every_post_documents_the_header_and_409(client):
    document = client.get("/api/v1/openapi.json").json()
    posts = [
        op for methods in document["paths"].values() for m, op in methods.items() if m == "post"
    ]
    assert posts
    for operation in posts:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, operation["operationId"]
        assert "409" in operation["responses"]
        created = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        assert "Idempotent-Replayed" in created["headers"]
