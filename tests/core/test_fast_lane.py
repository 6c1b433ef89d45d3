"""The fast lane (core/fastlane.py) answers exactly as the FastAPI routes it stands in for.

Two apps share one database: the real one, and one built with ``fast_lane=False`` that
sends every request the long way. Each request goes to both, alternately, with the same
key, so the pair also shows both paths count into one rate-limit budget. Creates, which
make a new customer each time, are compared with what differs between two customers
(ids, names, times) set aside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from conftest import SECRET, MakeKey
from pivotal.app import FAST_LANES, FAST_WRITES, create_app
from pivotal.config import Settings
from pivotal.core.fastlane import FastLane
from pivotal.db.engine import Database, sqlite_driver
from support import auth

VOLATILE_HEADERS = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "date"}


@pytest.fixture
def long_way(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, fast_lane=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.services.db.dispose()


def comparable(response: Any) -> tuple[int, Any, dict[str, str]]:
    body = response.json()
    if "error" in body:
        assert body["error"].pop("request_id") == response.headers["x-request-id"]
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}
    return response.status_code, body, headers


@pytest.fixture
def customers(api: TestClient) -> list[dict[str, Any]]:
    made = [
        api.post("/api/v1/customers", json={"name": f"Lane {i}", "plan": "starter"}).json()
        for i in range(5)
    ]
    api.delete(f"/api/v1/customers/{made[1]['id']}")
    return made


def test_both_paths_answer_alike(client, long_way, customers, make_key: MakeKey):
    key = make_key(rate_limit=1_000)
    first = client.get("/api/v1/customers?limit=2", headers=auth(key)).json()
    targets = [
        "/api/v1/me",
        f"/api/v1/customers/{customers[0]['display_id']}",
        f"/api/v1/customers/{customers[2]['id']}",
        f"/api/v1/customers/{customers[1]['id']}",  # deleted: 404
        "/api/v1/customers/999999",
        "/api/v1/customers/not-an-id",
        "/api/v1/customers",
        "/api/v1/customers?limit=2",
        "/api/v1/customers?limit=100",
        f"/api/v1/customers?limit=2&cursor={first['next_cursor']}",
        f"/api/v1/customers?cursor={first['next_cursor']}",
        "/api/v1/customers?cursor=yesterday",  # 400 invalid_string from the lane itself
        "/api/v1/customers?cursor=",
    ]
    remaining = None
    for target in targets:
        fast = client.get(target, headers=auth(key))
        slow = long_way.get(target, headers=auth(key))
        assert comparable(fast) == comparable(slow), target
        # One budget, every answer counted once, 404s and 400s included.
        left = [int(r.headers["x-ratelimit-remaining"]) for r in (fast, slow)]
        if remaining is not None:
            assert left == [remaining - 1, remaining - 2], target
        remaining = left[1]


def test_single_customers_read_alike_from_leased_hits(
    app: FastAPI, client, long_way, customers, other_api, make_key: MakeKey
):
    """With room to spare a key spends leased hits, and the lane then finds a customer in
    the statement that looks the key up (on SQLite too): same answers as the long way,
    deleted, missing and other workspaces' customers included, every one counted."""
    theirs = other_api.post("/api/v1/customers", json={"name": "Not yours"}).json()
    key = make_key(rate_limit=1_000_000)
    targets = [
        f"/api/v1/customers/{customers[0]['display_id']}",
        f"/api/v1/customers/{customers[2]['id']}",
        f"/api/v1/customers/{customers[1]['id']}",  # deleted: 404
        f"/api/v1/customers/{theirs['id']}",  # another workspace's: 404
        "/api/v1/customers/999999",
        "/api/v1/customers/not-an-id",  # no statement at all: the long way's 404
    ]
    services = app.state.services
    leases = services.rate_limiter.leases
    digest = services.admission.digest(f"Bearer {key}")
    for _ in range(3):  # a lease lasts its second: one that ends mid-way, then again
        for _ in range(2):  # the first decision learns the room, the second leases
            assert client.get("/api/v1/me", headers=auth(key)).status_code == 200
        second, unspent = leases._leases[digest].second, leases._leases[digest].unspent
        assert unspent > 2 * len(targets)
        statements: dict[str, int] = {}
        for target in targets * 2:
            with statements_run(services.db) as run:
                fast = client.get(target, headers=auth(key))
            statements[target] = len(run)
            slow = long_way.get(target, headers=auth(key))
            assert comparable(fast) == comparable(slow), target
        if leases._leases[digest].second == second:
            break
    else:
        pytest.fail("every try crossed a second boundary")
    # Each of the lane's answers spent a leased hit (none took a decision of its own),
    assert leases._leases[digest].unspent == unspent - 2 * len(targets)
    # and on SQLite found its customer with the key, in one statement, as on PostgreSQL.
    if services.db.is_sqlite:
        assert all(statements[target] == 1 for target in targets[:-1]), statements


@contextmanager
def statements_run(db: Database) -> Iterator[list[str]]:
    """The SQL run meanwhile on SQLite's kept connection (db/engine.py, connect)."""
    run: list[str] = []
    kept = db._sqlite_slot.connection
    driver = sqlite_driver(kept) if db.is_sqlite and kept is not None else None
    if driver is not None:
        driver.set_trace_callback(run.append)
    try:
        yield run
    finally:
        if driver is not None:
            driver.set_trace_callback(None)


def test_a_revoked_key_holding_a_lease_reads_no_customer(app: FastAPI, client, make_key):
    from pivotal.workspaces import service as workspaces

    key = make_key(rate_limit=1_000_000)
    made = client.post("/api/v1/customers", json={"name": "Acme"}, headers=auth(key)).json()
    target = f"/api/v1/customers/{made['id']}"
    assert client.get(target, headers=auth(key)).status_code == 200  # a lease is held now
    services = app.state.services
    digest = services.admission.digest(f"Bearer {key}")
    assert services.rate_limiter.leases._leases[digest].unspent > 0
    key_id = client.get("/api/v1/me", headers=auth(key)).json()["api_key"]["id"]
    with services.db.transaction(write=True) as conn:
        workspaces.revoke_key(conn, key_id)
    response = client.get(target, headers=auth(key))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "api_key_revoked"
    assert digest not in services.rate_limiter.leases._leases  # its hits died with it


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        auth("pivotal_" + "x" * 40),
        {"Authorization": "Basic a"},
    ],
)
def test_refusals_before_admission_match(client, long_way, headers):
    for target in ("/api/v1/me", "/api/v1/customers/1", "/api/v1/customers?limit=5"):
        assert comparable(client.get(target, headers=headers)) == comparable(
            long_way.get(target, headers=headers)
        )


def test_scope_and_rate_limit_refusals_match(client, long_way, customers, make_key: MakeKey):
    narrow = make_key(scopes=["read:contacts"], rate_limit=1_000)
    for target in ("/api/v1/customers/1", "/api/v1/customers"):
        fast, slow = (
            client.get(target, headers=auth(narrow)),
            long_way.get(target, headers=auth(narrow)),
        )
        assert fast.status_code == 403
        assert comparable(fast) == comparable(slow)
    assert client.get("/api/v1/me", headers=auth(narrow)).status_code == 200
    limited = make_key(rate_limit=2)
    client.get("/api/v1/me", headers=auth(limited))
    long_way.get("/api/v1/me", headers=auth(limited))
    fast = client.get("/api/v1/customers/1", headers=auth(limited))
    slow = long_way.get("/api/v1/customers/1", headers=auth(limited))
    assert fast.status_code == slow.status_code == 429
    assert comparable(fast)[:2] == comparable(slow)[:2]
    assert 1 <= int(fast.headers["retry-after"]) <= 60


class _LongWay:
    """Stands in for FastAPI behind the lane: answers 418 and records what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize(
    ("method", "target", "served"),
    [
        ("GET", "/api/v1/me", True),
        ("GET", "/api/v1/customers/12", True),
        ("GET", "/api/v1/customers/cus_abc", True),
        ("GET", "/api/v1/customers", True),
        ("GET", "/api/v1/customers?limit=100&cursor=x", True),
        ("GET", "/api/v1/customers?limit=1", True),
        # Everything else is FastAPI's, before any work.
        ("HEAD", "/api/v1/me", False),
        ("PATCH", "/api/v1/customers/12", False),
        ("GET", "/api/v1/me?x=1", False),
        ("GET", "/api/v1/customers/12?expand=contacts", False),
        ("GET", "/api/v1/customers/", False),
        ("GET", "/api/v1/customers/12/contacts", False),
        ("GET", "/api/v1/customers?status=active", False),
        ("GET", "/api/v1/customers?limit=0", False),
        ("GET", "/api/v1/customers?limit=101", False),
        ("GET", "/api/v1/customers?limit=%2B5", False),
        ("GET", "/api/v1/customers?limit=05", False),
        ("GET", "/api/v1/customers?limit=5&limit=6", False),
        ("GET", "/api/v1/customers?limit=", False),
        ("GET", "/api/v1/onboardings/1", False),
    ],
)
def test_the_lane_serves_only_what_it_understands(app: FastAPI, method, target, served):
    downstream = _LongWay()
    lane = FastLane(downstream, app.state.services, FAST_LANES, _lane_routes())
    # No lifespan: the lane alone is not an application.
    status = TestClient(lane, raise_server_exceptions=False).request(method, target).status_code
    assert (status != 418) is served
    assert bool(downstream.paths) is not served


def _lane_routes() -> list[Any]:
    from pivotal.customers.router import router as customers_router
    from pivotal.meta.router import authenticated

    return [*authenticated.routes, *customers_router.routes]


# ---- POST /customers: the write lane ------------------------------------------------

# What two customers created alike still differ in.
DIFFERING = {"id", "display_id", "name", "slug", "created_at", "updated_at"}


def comparable_create(response: Any) -> tuple[int, Any, dict[str, str]]:
    status, body, headers = comparable(response)
    if status in (200, 201):
        body = {k: v for k, v in body.items() if k not in DIFFERING}
    return status, body, headers


def _named(body: dict[str, Any], number: int) -> dict[str, Any]:
    """``body`` with a name of its own (two creates must not take one slug)."""
    if isinstance(body.get("name"), str):
        return {**body, "name": f"{body['name']} {number}"}
    return body


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"name": "Acme", "plan": "growth", "mrr": 1200, "metadata": {"tier": 1}}, {}),
        ({"name": "Acme", "status": "churned"}, {}),  # two events, still one answer
        ({"name": "Acme"}, {"Idempotency-Key": "key-{n}"}),
        # Refused by validation, the long way (after admission).
        ({}, {}),
        ({"name": "Acme", "colour": "red"}, {}),
        ({"name": "Acme", "mrr": -1}, {}),
        ({"name": 7}, {}),
        ({"name": "Acme"}, {"Idempotency-Key": ""}),
        ({"name": "Acme"}, {"Idempotency-Key": "k" * 256}),
    ],
)
def test_creates_answer_alike(client, long_way, make_key: MakeKey, body, headers):
    key = make_key(rate_limit=1_000)
    fast, slow = (
        app_client.post(
            "/api/v1/customers",
            json=_named(body, number),
            headers={**auth(key), **{k: v.format(n=number) for k, v in headers.items()}},
        )
        for number, app_client in enumerate((client, long_way))
    )
    assert comparable_create(fast) == comparable_create(slow)
    left = [int(r.headers["x-ratelimit-remaining"]) for r in (fast, slow)]
    assert left[0] - 1 == left[1]  # one budget, each request counted once


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"name": "Acme"', "application/json"),  # invalid_json
        (b"[1, 2]", "application/json"),
        (b"name=Acme", "application/x-www-form-urlencoded"),  # 415
        (b'{"name": "Acme", "mrr": 123456789012345678901234}', "application/json"),
        (b"x" * 2_000_000, "application/json"),  # 413
        (b"", "application/json"),  # "name is required"
    ],
)
def test_raw_bodies_answer_alike(client, long_way, make_key: MakeKey, content, content_type):
    key = make_key(rate_limit=1_000)
    headers = {**auth(key), "Content-Type": content_type}
    fast = client.post("/api/v1/customers", content=content, headers=headers)
    slow = long_way.post("/api/v1/customers", content=content, headers=headers)
    assert fast.status_code >= 400
    assert comparable(fast) == comparable(slow)


def test_a_retry_replays_on_either_path(client, long_way, make_key: MakeKey):
    key = make_key(rate_limit=1_000)
    headers = {**auth(key), "Idempotency-Key": "retry-me"}
    first = client.post("/api/v1/customers", json={"name": "Once"}, headers=headers)
    assert first.status_code == 201
    for app_client in (client, long_way):
        again = app_client.post("/api/v1/customers", json={"name": "Once"}, headers=headers)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
    other = client.post("/api/v1/customers", json={"name": "Twice"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    listed = client.get("/api/v1/customers", headers=auth(key)).json()["data"]
    assert [c["name"] for c in listed] == ["Once"]


def test_write_refusals_match(client, long_way, make_key: MakeKey):
    reader = make_key(scopes=["read:customers"], rate_limit=1_000)
    limited = make_key(rate_limit=1)
    cases = [
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        (auth(reader), 403),
        (auth(limited), 201),  # the first request of the minute, then a 429
        (auth(limited), 429),
    ]
    for headers, status in cases:
        fast = client.post("/api/v1/customers", json={"name": "No"}, headers=headers)
        slow = long_way.post("/api/v1/customers", json={"name": "No"}, headers=headers)
        assert fast.status_code == status, fast.json()
        if status == 201:
            assert slow.status_code == 429  # the lane's create counted against the limit
            continue
        retry_after = [r.headers.pop("retry-after", None) for r in (fast, slow)]
        if status == 429:
            assert all(1 <= int(seconds) <= 60 for seconds in retry_after)
        assert comparable(fast) == comparable(slow)
    listed = client.get("/api/v1/customers", headers=auth(reader)).json()["data"]
    assert [c["name"] for c in listed] == ["No"]


def test_conflicts_answer_alike(client, long_way, make_key: MakeKey):
    key = make_key(rate_limit=1_000)
    taken = client.post("/api/v1/customers", json={"name": "Taken"}, headers=auth(key))
    assert taken.status_code == 201
    for number, app_client in enumerate((client, long_way)):
        reuse = {**auth(key), "Idempotency-Key": f"k-{id(app_client)}"}
        first = app_client.post("/api/v1/customers", json={"name": f"A{number}"}, headers=reuse)
        assert first.status_code == 201
    cases = [
        ({"name": "Other", "slug": "taken"}, {}),  # 409 slug_taken
        ({"name": "B"}, "reuse"),  # 409 idempotency_key_reused
    ]
    for body, headers in cases:
        fast, slow = (
            app_client.post(
                "/api/v1/customers",
                json=body,
                headers=(
                    {**auth(key), "Idempotency-Key": f"k-{id(app_client)}"}
                    if headers == "reuse"
                    else auth(key)
                ),
            )
            for app_client in (client, long_way)
        )
        assert fast.status_code == 409
        assert comparable(fast) == comparable(slow)


def test_a_lane_create_writes_its_events_and_activity(client, make_key: MakeKey):
    key = make_key(rate_limit=1_000)
    made = client.post(
        "/api/v1/customers", json={"name": "Gone", "status": "churned"}, headers=auth(key)
    ).json()
    events = client.get("/api/v1/events", headers=auth(key)).json()["data"]
    assert sorted(e["type"] for e in events) == ["customer.churned", "customer.created"]
    assert all(e["data"]["object"] == made for e in events)
    assert len({e["created_at"] for e in events}) == 2  # reserved ahead, one each
    entries = client.get(f"/api/v1/customers/{made['id']}/activity", headers=auth(key))
    assert [a["event_type"] for a in entries.json()["data"]] == ["customer.created"]


class _Messages:
    """An ASGI receive that gives ``messages``, then a disconnect; counts what it gave."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = list(messages)
        self.taken = 0

    async def __call__(self) -> dict[str, Any]:
        self.taken += 1
        return self.messages.pop(0) if self.messages else {"type": "http.disconnect"}


class _Recorder(_LongWay):
    """``_LongWay`` that also keeps the body that reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []
        self.unread: list[bool] = []  # whether the lane had left the body unread
        self.source: _Messages | None = None  # set by a test: how much had the lane read
        self.taken_before: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.unread.append(isinstance(receive, _Messages) and receive.taken == 0)
        if self.source is not None:
            self.taken_before.append(self.source.taken)
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await super().__call__(scope, receive, send)


async def _post(app: Any, receive: _Messages, headers: list, query: bytes = b"") -> int:
    """POST what ``receive`` gives to ``app``; the answer's status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/customers",
        "raw_path": b"/api/v1/customers",
        "query_string": query,
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def _chunks(*bodies: bytes) -> _Messages:
    return _Messages(
        [
            {"type": "http.request", "body": body, "more_body": i < len(bodies) - 1}
            for i, body in enumerate(bodies)
        ]
    )


@pytest.mark.parametrize(
    ("chunks", "query", "served"),
    [
        ([b'{"name": ', b'"Chunked"}'], b"", True),
        ([b'{"name": ', b'"Chunked", "colour": 1}'], b"", False),  # validation: long way
        ([b'{"name": "Q"}'], b"x=1", False),  # a query string: long way
        ([b"{", b"}"], b"", False),  # no name
    ],
)
def test_the_write_lane_passes_on_the_whole_body(app: FastAPI, keys, chunks, query, served):
    downstream = _Recorder()
    lane = FastLane(downstream, app.state.services, FAST_LANES, _lane_routes(), FAST_WRITES)
    headers = [(b"authorization", f"Bearer {keys.live}".encode())]
    with TestClient(app):  # the app's lifespan: the database and its workers
        status = asyncio.run(_post(lane, _chunks(*chunks), headers, query))
    assert (status == 201) is served
    assert downstream.bodies == ([] if served else [b"".join(chunks)])


def test_the_write_lane_leaves_some_bodies_unread(app: FastAPI, keys):
    """Where the long way refuses before reading the body, the lane does not read it."""
    downstream = _Recorder()
    lane = FastLane(downstream, app.state.services, FAST_LANES, _lane_routes(), FAST_WRITES)
    key = (b"authorization", f"Bearer {keys.live}".encode())
    cases = [
        [],  # no key: 401
        [(b"authorization", b"Bearer not-a-pivotal-key")],  # 401
        [key, (b"content-length", b"2000000")],  # 413
        [key, (b"expect", b"100-continue")],
    ]
    with TestClient(app):
        for headers in cases:
            asyncio.run(_post(lane, _chunks(b'{"name": "Unread"}'), headers))
    assert downstream.unread == [True] * len(cases)
    assert downstream.bodies == [b'{"name": "Unread"}'] * len(cases)


def test_the_write_lane_hands_on_what_it_cannot_take(app: FastAPI, keys, api):
    downstream = _Recorder()
    lane = FastLane(downstream, app.state.services, FAST_LANES, _lane_routes(), FAST_WRITES)
    headers = [(b"authorization", f"Bearer {keys.live}".encode())]
    half = app.state.services.settings.max_body_bytes // 2 + 1
    big = [b'{"name": "', b"x" * half, b"y" * half, b"z" * half + b'"}']  # no Content-Length
    cut = _Messages([{"type": "http.request", "body": b'{"name": "Cut"}', "more_body": True}])
    with TestClient(app):
        downstream.source = _chunks(*big)
        asyncio.run(_post(lane, downstream.source, headers))
        downstream.source = None
        asyncio.run(_post(lane, cut, headers))  # valid JSON, then the client went away
    assert downstream.taken_before == [3]  # the lane stopped reading once over the limit
    assert downstream.bodies == [b"".join(big), b'{"name": "Cut"}']
    assert downstream.unread == [False, False]
    assert api.get("/api/v1/customers").json()["data"] == []
    # The real long way answers the oversized body with a 413.
    with TestClient(app):
        status = asyncio.run(_post(app, _chunks(*big), headers))
    assert status == 413


def test_with_the_redis_limiter_writes_go_the_long_way(database_url, keys):
    """Admission then runs on another thread pool than database work: the lane leaves
    the write where FastAPI runs it (the create still works, once)."""
    redis_app = create_app(
        Settings(
            database_url=database_url, secret_key=SECRET, redis_url="redis://127.0.0.1:6379/15"
        )
    )
    downstream = _Recorder()
    lane = FastLane(downstream, redis_app.state.services, FAST_LANES, _lane_routes(), FAST_WRITES)
    headers = [(b"authorization", f"Bearer {keys.live}".encode())]
    with TestClient(redis_app) as client:
        asyncio.run(_post(lane, _chunks(b'{"name": "Via Redis"}'), headers))
        made = client.post("/api/v1/customers", json={"name": "Made"}, headers=auth(keys.live))
    redis_app.state.services.db.dispose()
    assert downstream.unread == [True]
    assert made.status_code == 201
