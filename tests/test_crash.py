"""Crash safety: a client creating customers with idempotency keys while the server is
killed with SIGKILL and restarted gets every customer exactly once (SPEC §5)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from conftest import SECRET, MakeKey
from live_server import LiveServer
from support import auth

pytestmark = pytest.mark.slow
TOTAL = 200


def create_with_retries(client: httpx.Client, n: int) -> httpx.Response:
    """What a careful integration does: retry the same request, same key, until it lands."""
    deadline = time.monotonic() + 60
    while True:
        try:
            response = client.post(
                "/api/v1/customers",
                json={"name": f"Customer {n}"},
                headers={"Idempotency-Key": f"create-{n}"},
            )
            if response.status_code == 201:
                return response
            assert response.status_code in (409, 429, 500, 503), response.text
            if response.status_code == 409:
                assert response.json()["error"]["code"] == "idempotency_key_in_use"
        except httpx.TransportError:
            pass  # the server is down or restarting
        assert time.monotonic() < deadline, f"customer {n} never landed"
        time.sleep(0.05)


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(
    database_url: str, app: object, make_key: MakeKey
) -> None:
    key = make_key(rate_limit=100_000)
    server = LiveServer(database_url, SECRET)
    server.start()
    done = threading.Event()
    progress = [0]
    replayed = [0]

    def client_loop() -> None:
        with httpx.Client(base_url=server.base_url, headers=auth(key), timeout=10) as client:
            for n in range(TOTAL):
                response = create_with_retries(client, n)
                replayed[0] += response.headers.get("idempotent-replayed") == "true"
                progress[0] = n + 1
        done.set()

    worker = threading.Thread(target=client_loop)
    worker.start()
    try:
        for kill_at in (TOTAL // 3, 2 * TOTAL // 3):
            while progress[0] < kill_at and not done.is_set():
                time.sleep(0.005)
            server.kill()  # mid-stream: requests are in flight
            time.sleep(0.3)
            server.start()
        worker.join(timeout=120)
        assert done.is_set(), "the client did not finish"
        with httpx.Client(base_url=server.base_url, headers=auth(key), timeout=30) as client:
            names: list[str] = []
            params: dict[str, str | int] = {"limit": 100}
            while True:
                page = client.get("/api/v1/customers", params=params).json()
                names.extend(c["name"] for c in page["data"])
                if not page["has_more"]:
                    break
                params["cursor"] = page["next_cursor"]
    finally:
        server.close()
    assert len(names) == TOTAL, f"{len(names)} customers for {TOTAL} requests"
    assert sorted(names) == sorted(f"Customer {n}" for n in range(TOTAL))
