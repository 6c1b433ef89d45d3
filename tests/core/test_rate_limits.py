"""Per-key rate limits (SPEC §6), through HTTP on both engines."""

from __future__ import annotations

import hashlib
import math
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import MakeKey
from pivotal.core.ratelimit import (
    DatabaseStore,
    MemoryStore,
    RedisStore,
    Window,
    WindowStore,
    postgres_lock_id,
)
from support import assert_error, auth

ME = "/api/v1/me"


def quota(response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["x-ratelimit-limit"]), int(h["x-ratelimit-remaining"]), int(h["x-ratelimit-reset"])


def test_headers_on_every_authenticated_answer(api):
    first = api.get(ME)
    limit, remaining, reset = quota(first)
    assert (limit, remaining) == (60, 59)
    assert math.floor(time.time()) <= reset <= time.time() + 61
    for response in (
        api.get("/api/v1/customers/999"),  # 404
        api.post("/api/v1/customers", json={}),  # 400
        api.put("/api/v1/customers/1"),  # 405 (no key check: not an API route)
    ):
        if response.status_code == 405:
            continue
        assert quota(response)[1] < remaining
        remaining = quota(response)[1]


def test_test_keys_default_to_30_in_their_own_bucket(client, keys):
    live = client.get(ME, headers=auth(keys.live))
    test = client.get(ME, headers=auth(keys.test))
    assert quota(live)[:2] == (60, 59)
    assert quota(test)[:2] == (30, 29)


def test_the_limit_is_enforced_with_retry_after(client, make_key: MakeKey):
    key = make_key(rate_limit=3)
    for expected in (2, 1, 0):
        assert quota(client.get(ME, headers=auth(key)))[1] == expected
    refused = client.get(ME, headers=auth(key))
    error = assert_error(refused, 429, "rate_limited")
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert error["message"] == f"Rate limit exceeded. Retry after {retry_after} seconds."
    assert quota(refused)[:2] == (3, 0)
    # Every kind of request counts, and is refused, alike.
    assert_error(
        client.post("/api/v1/customers", headers=auth(key), json={"name": "x"}), 429, "rate_limited"
    )


def test_test_key_is_refused_after_30(client, keys):
    for _ in range(30):
        assert client.get(ME, headers=auth(keys.test)).status_code == 200
    assert_error(client.get(ME, headers=auth(keys.test)), 429, "rate_limited")
    assert client.get(ME, headers=auth(keys.live)).status_code == 200  # other key untouched


def test_keys_have_separate_budgets(client, make_key: MakeKey):
    a, b = make_key(rate_limit=1, name="a"), make_key(rate_limit=1, name="b")
    assert client.get(ME, headers=auth(a)).status_code == 200
    assert_error(client.get(ME, headers=auth(a)), 429, "rate_limited")
    assert client.get(ME, headers=auth(b)).status_code == 200


def test_refused_401_does_not_consume_or_carry_headers(client, make_key: MakeKey):
    key = make_key(rate_limit=2)
    for header in ({}, {"Authorization": "Bearer nope"}, auth(key + "x")):
        response = client.get(ME, headers=header)
        assert response.status_code == 401
        assert "x-ratelimit-limit" not in response.headers
    assert quota(client.get(ME, headers=auth(key)))[1] == 1


def test_a_revoked_key_is_refused_before_the_limiter(app, client, db, make_key: MakeKey):
    """Admission looks the key up and counts the hit in one step; a revoked key's
    requests must leave no trace in the window."""
    from pivotal.workspaces import service as workspaces

    key = make_key(rate_limit=5)
    assert quota(client.get(ME, headers=auth(key)))[1] == 4
    with db.transaction(write=True) as conn:
        workspaces.revoke_key(conn, key[: len("pivotal_") + 4])
    for _ in range(3):
        assert_error(client.get(ME, headers=auth(key)), 401, "api_key_revoked")
    with db.transaction(write=False) as conn:
        hits = conn.execute(text("SELECT SUM(hits) FROM rate_limit_slots")).scalar_one()
    assert hits == 1


def test_postgres_lock_ids_are_sha256_prefixes(db):
    """Every statement that locks a bucket derives the same advisory lock key, and it is
    the one earlier releases computed in Python: processes of two releases side by side
    still never both take a window's last hit."""
    if db.is_sqlite:
        pytest.skip("advisory locks are PostgreSQL's")
    buckets = ["key_abc", "key_0123456789abcdefghijklmn", "ü-bucket"]
    with db.transaction(write=False) as conn:
        computed = [
            conn.execute(text(f"SELECT {postgres_lock_id(':b')}"), {"b": b}).scalar_one()
            for b in buckets
        ]
    expected = [
        int.from_bytes(hashlib.sha256(b.encode()).digest()[:8], "big", signed=True) for b in buckets
    ]
    assert computed == expected


def test_admission_and_the_store_share_one_budget(app, client, db, make_key: MakeKey):
    """The admission statement and DatabaseStore.hit count into the same slots."""
    key = make_key(rate_limit=3)
    me = client.get(ME, headers=auth(key)).json()
    DatabaseStore(db).hit(me["api_key"]["id"], 3, math.floor(time.time()))
    assert quota(client.get(ME, headers=auth(key)))[1] == 0
    assert_error(client.get(ME, headers=auth(key)), 429, "rate_limited")


def test_health_is_not_limited(client, make_key: MakeKey):
    for _ in range(5):
        response = client.get("/api/v1/health")
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers


def test_scope_refusals_still_count(client, make_key: MakeKey):
    key = make_key(rate_limit=2, scopes=["read:contacts"])
    assert_error(client.get("/api/v1/customers", headers=auth(key)), 403, "missing_scope")
    assert quota(client.get(ME, headers=auth(key)))[1] == 0


@pytest.fixture(params=["memory", "database", "redis"])
def store(request, db) -> WindowStore:
    if request.param == "memory":
        return MemoryStore()
    if request.param == "database":
        return DatabaseStore(db)
    redis_store = RedisStore("redis://127.0.0.1:6379/15")
    redis_store.client.flushdb()
    return redis_store


def test_the_window_slides_second_by_second(store: WindowStore):
    """Each store, on an explicit clock: hits leave the window 60 s after their second."""
    assert store.hit("k", 3, 100) == Window(True, 1, 100)
    assert store.hit("k", 3, 100) == Window(True, 2, 100)
    assert store.hit("k", 3, 130) == Window(True, 3, 100)
    assert store.hit("k", 3, 159) == Window(False, 3, 100)  # refused hits are not counted
    assert store.hit("other", 1, 159) == Window(True, 1, 159)  # buckets are separate
    # At 160 the two hits of second 100 have left the window; the one of 130 has not.
    assert store.hit("k", 3, 160) == Window(True, 2, 130)
    assert store.hit("k", 3, 160) == Window(True, 3, 130)
    assert store.hit("k", 3, 189) == Window(False, 3, 130)
    assert store.hit("k", 3, 250) == Window(True, 1, 250)
    store.prune(400)
    assert store.hit("k", 3, 400) == Window(True, 1, 400)
    assert store.check()


def test_the_database_store_keeps_at_most_a_minute_of_slots(db):
    store = DatabaseStore(db)
    for second in range(0, 300, 3):
        store.hit("k", 1_000, second)
    store.prune(300)
    with db.transaction(write=False) as conn:
        seconds = conn.execute(text("SELECT second FROM rate_limit_slots")).scalars().all()
    assert sorted(seconds) == list(range(243, 300, 3))


def test_postgres_keeps_slots_out_of_the_wal(db):
    if db.is_sqlite:
        pytest.skip("SQLite has no unlogged tables")
    with db.transaction(write=False) as conn:
        persistence = conn.execute(
            text("SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_slots'")
        ).scalar_one()
    assert persistence == "u"  # migration 0008


def test_rate_limit_headers_are_documented(client: TestClient):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/customers"]["get"]
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        operation["responses"]["200"]["headers"]
    )
    assert "Retry-After" in operation["responses"]["429"]["headers"]


@pytest.mark.parametrize("storage", ["memory", "database"])
def test_each_storage_enforces_the_same_limit(storage, database_url, make_key: MakeKey):
    from conftest import SECRET
    from pivotal.app import create_app
    from pivotal.config import Settings

    app = create_app(
        Settings(database_url=database_url, secret_key=SECRET, rate_limit_storage=storage)
    )
    key = make_key(rate_limit=5)
    with TestClient(app, raise_server_exceptions=False) as client:
        codes = [client.get(ME, headers=auth(key)).status_code for _ in range(7)]
    app.state.services.db.dispose()
    assert codes == [200] * 5 + [429] * 2


def test_redis_storage_shares_nothing_with_memory_and_fails_closed_as_503(database_url, make_key):
    """With Redis configured the limit lives there; if Redis is unreachable the API
    answers 503 (never a silent free pass, never a 500) and deep health says so."""
    from conftest import SECRET
    from pivotal.app import create_app
    from pivotal.config import Settings

    key = make_key(rate_limit=2)
    up = create_app(
        Settings(
            database_url=database_url, secret_key=SECRET, redis_url="redis://127.0.0.1:6379/15"
        )
    )
    with TestClient(up, raise_server_exceptions=False) as client:
        codes = [client.get(ME, headers=auth(key)).status_code for _ in range(3)]
        assert client.get("/api/health/deep").json()["checks"]["redis"] == "ok"
    up.state.services.db.dispose()
    assert codes == [200, 200, 429]
    down = create_app(
        Settings(database_url=database_url, secret_key=SECRET, redis_url="redis://127.0.0.1:1/0")
    )
    with TestClient(down, raise_server_exceptions=False) as client:
        assert_error(client.get(ME, headers=auth(key)), 503, "service_unavailable")
        deep = client.get("/api/health/deep")
        assert deep.status_code == 503 and deep.json()["checks"]["redis"].startswith("error")
    down.state.services.db.dispose()
