"""The fast lane (core/fastlane.py) answers exactly as the FastAPI routes it stands in for.

Two apps share one database: the real one, and one built with ``fast_lane=False`` that
sends every request the long way. Each request goes to both, alternately, with the same
key, so the pair also shows both paths count into one rate-limit budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from conftest import MakeKey
from pivotal.app import FAST_LANES, create_app
from pivotal.config import Settings
from pivotal.core.fastlane import FastLane
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
        ("POST", "/api/v1/customers", False),
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
