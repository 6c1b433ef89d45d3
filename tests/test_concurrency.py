"""Concurrency claims, with a real server process and really concurrent clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

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


def test_parallel_creates_get_distinct_increasing_display_ids(
    server: str, make_key: MakeKey
) -> None:
    headers = auth(make_key(rate_limit=100_000))
    barrier = threading.Barrier(50)

    def create(n: int) -> dict[str, object]:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            barrier.wait()
            response = client.post("/api/v1/customers", json={"name": f"Parallel {n}"})
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=50) as pool:
        created = list(pool.map(create, range(50)))

    assert sorted(c["display_id"] for c in created) == list(range(1, 51))  # type: ignore[type-var]
    # created_at is unique and follows display id order: the pagination cursor is exact.
    by_display = sorted(created, key=lambda c: c["display_id"])  # type: ignore[arg-type,return-value]
    stamps = [c["created_at"] for c in by_display]
    assert stamps == sorted(stamps) and len(set(stamps)) == 50


def test_parallel_contacts_and_onboardings_of_one_customer(server: str, make_key: MakeKey) -> None:
    headers = auth(make_key(rate_limit=100_000))
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        customer = client.post("/api/v1/customers", json={"name": "Busy"}).json()

    def work(n: int) -> int:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            if n % 2:
                response = client.post(
                    f"/api/v1/customers/{customer['id']}/contacts",
                    json={"name": f"C{n}", "email": f"c{n}@example.com", "is_primary": True},
                )
            else:
                response = client.post("/api/v1/onboardings", json={"customer_id": customer["id"]})
            assert response.status_code == 201, response.text
            return int(response.json()["display_id"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(work, range(40)))
    assert sorted(ids[1::2]) == list(range(1, 21))  # contacts
    assert sorted(ids[0::2]) == list(range(1, 21))  # onboardings
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        primaries = client.get(
            f"/api/v1/customers/{customer['id']}/contacts", params={"is_primary": "true"}
        ).json()["data"]
    assert len(primaries) == 1  # at most one primary, even when all asked at once


def test_walking_pages_while_inserting_visits_each_row_once(server: str, make_key: MakeKey) -> None:
    headers = auth(make_key(rate_limit=100_000))
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        existing = {
            client.post("/api/v1/customers", json={"name": f"Old {n}"}).json()["id"]
            for n in range(60)
        }
    stop = threading.Event()
    writing = threading.Event()
    inserted: list[str] = []

    def insert_until_stopped() -> None:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            n = 0
            while not stop.is_set() and n < 500:
                response = client.post("/api/v1/customers", json={"name": f"New {n}"})
                assert response.status_code == 201
                inserted.append(response.json()["id"])
                writing.set()
                n += 1

    writer = threading.Thread(target=insert_until_stopped)
    writer.start()
    # The walk starts once inserts are flowing; otherwise a fast server can finish it
    # before the writer's first request lands.
    assert writing.wait(30), "the writer never inserted"
    inserted_before_walk = len(inserted)
    seen: list[str] = []
    try:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            params: dict[str, str | int] = {"limit": 7}
            while True:
                page = client.get("/api/v1/customers", params=params).json()
                seen.extend(item["id"] for item in page["data"])
                if not page["has_more"]:
                    break
                params["cursor"] = page["next_cursor"]
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen)), "a row was visited twice"
    assert existing <= set(seen), "a row that existed before the walk was missed"
    assert len(inserted) > inserted_before_walk, "the writer never ran alongside the walk"
