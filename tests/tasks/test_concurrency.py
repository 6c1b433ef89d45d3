"""Concurrent task changes against a real server process, on both engines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from conftest import SECRET, MakeKey
from live_server import serve
from support import auth

pytestmark = pytest.mark.slow


@pytest.fixture
def server(database_url: str, app: object) -> Iterator[str]:
    with serve(database_url, SECRET) as live:
        yield live.base_url


def _setup(server: str, headers: dict[str, str]) -> dict[str, Any]:
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        customer = client.post("/api/v1/customers", json={"name": "Busy"}).json()
        onboarding = client.post("/api/v1/onboardings", json={"customer_id": customer["id"]})
        return dict(onboarding.json())


def test_parallel_creates_append_at_distinct_positions(server: str, make_key: MakeKey) -> None:
    headers = auth(make_key(rate_limit=100_000))
    onboarding = _setup(server, headers)
    barrier = threading.Barrier(30)

    def create(n: int) -> dict[str, Any]:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            barrier.wait()
            response = client.post(
                f"/api/v1/onboardings/{onboarding['id']}/tasks", json={"title": f"T{n}"}
            )
            assert response.status_code == 201, response.text
            return dict(response.json())

    with ThreadPoolExecutor(max_workers=30) as pool:
        created = list(pool.map(create, range(30)))
    by_display = sorted(created, key=lambda t: int(t["display_id"]))
    assert [t["display_id"] for t in by_display] == list(range(1, 31))
    # Each create saw every earlier one: positions follow creation order without ties.
    assert [t["position"] for t in by_display] == list(range(30))


def test_subtasks_never_outlive_a_concurrently_deleted_parent(
    server: str, make_key: MakeKey
) -> None:
    headers = auth(make_key(rate_limit=100_000))
    onboarding = _setup(server, headers)
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        parents = [client.post(path, json={"title": f"P{n}"}).json() for n in range(10)]
    barrier = threading.Barrier(20)

    def work(n: int) -> int:
        parent = parents[n // 2]
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            barrier.wait()
            if n % 2:
                response = client.delete(f"/api/v1/tasks/{parent['id']}")
            else:
                response = client.post(path, json={"title": "c", "parent_task_id": parent["id"]})
            return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(work, range(20)))
    assert set(statuses) <= {200, 201, 400}
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        live = client.get(path, params={"limit": 100}).json()["data"]
    assert live == []  # every parent is gone, and so is every subtask made in the race


def test_two_tasks_cannot_become_each_others_subtask(server: str, make_key: MakeKey) -> None:
    headers = auth(make_key(rate_limit=100_000))
    onboarding = _setup(server, headers)
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
    for _ in range(5):
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            a, b = (client.post(path, json={"title": t}).json() for t in "ab")
        barrier = threading.Barrier(2)

        def attach(
            pair: tuple[dict[str, Any], dict[str, Any]], barrier: threading.Barrier = barrier
        ) -> int:
            child, parent = pair
            with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
                barrier.wait()
                response = client.patch(
                    f"/api/v1/tasks/{child['id']}", json={"parent_task_id": parent["id"]}
                )
                return response.status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            statuses = sorted(pool.map(attach, [(a, b), (b, a)]))
        assert statuses == [200, 400]
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            both = [client.get(f"/api/v1/tasks/{t['id']}").json() for t in (a, b)]
        assert sum(t["parent_task_id"] is not None for t in both) == 1


def test_mixed_structural_changes_keep_one_level_and_never_fail(
    server: str, make_key: MakeKey
) -> None:
    """Re-parenting, subtask creation and deletes all at once: no 5xx (no deadlock), and
    afterwards no live task has a deleted or nested parent."""
    headers = auth(make_key(rate_limit=100_000))
    onboarding = _setup(server, headers)
    path = f"/api/v1/onboardings/{onboarding['id']}/tasks"
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        tops = [client.post(path, json={"title": f"T{n}"}).json() for n in range(6)]
        kids = [
            client.post(path, json={"title": f"K{n}", "parent_task_id": tops[n % 6]["id"]}).json()
            for n in range(6)
        ]
    barrier = threading.Barrier(24)

    def work(n: int) -> int:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            barrier.wait()
            kind, i = n % 4, n // 4
            if kind == 0:  # move a subtask under another top-level task
                target = tops[(i + 1) % 6]["id"]
                response = client.patch(
                    f"/api/v1/tasks/{kids[i]['id']}", json={"parent_task_id": target}
                )
            elif kind == 1:  # put a top-level task under another one
                response = client.patch(
                    f"/api/v1/tasks/{tops[i]['id']}",
                    json={"parent_task_id": tops[(i + 3) % 6]["id"]},
                )
            elif kind == 2:  # a new subtask
                response = client.post(
                    path, json={"title": "new", "parent_task_id": tops[(i + 2) % 6]["id"]}
                )
            else:  # delete a top-level task (and its subtasks)
                response = client.delete(f"/api/v1/tasks/{tops[(i + 4) % 6]['id']}")
            return response.status_code

    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(work, range(24)))
    assert set(statuses) <= {200, 201, 400, 404}, statuses  # 404: deleted in the race
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        live = {t["id"]: t for t in client.get(path, params={"limit": 100}).json()["data"]}
    for task in live.values():
        parent_id = task["parent_task_id"]
        if parent_id is not None:
            assert parent_id in live, "a live subtask of a deleted parent"
            assert live[parent_id]["parent_task_id"] is None, "two levels of subtasks"
