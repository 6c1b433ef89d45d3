"""Worker processes: deliveries survive a SIGKILL, and several workers share one queue
without ever sending a delivery twice at the same time (SPEC §8.3)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson
import pytest
from sqlalchemy import select

from conftest import SECRET
from live_server import serve
from pivotal.core import clock
from pivotal.core.context import Actor, Tx
from pivotal.db import tables
from pivotal.webhooks import events
from support import auth
from webhooks.test_endpoints import make_endpoint

pytestmark = pytest.mark.slow


@contextmanager
def worker_process(database_url: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PIVOTAL_DATABASE_URL": database_url,
        "PIVOTAL_SECRET_KEY": SECRET,
        "PIVOTAL_WEBHOOKS_ALLOW_HTTP": "1",
        "PIVOTAL_WEBHOOKS_ALLOW_PRIVATE": "1",
        "PIVOTAL_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pivotal", "worker"], env=env, stdout=log, stderr=log
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def emit_many(db, workspace_id: str, count: int) -> None:
    """``count`` events in one transaction, as a bulk import would make them."""
    with db.transaction(write=True) as conn:
        tx = Tx(conn, workspace_id, Actor("API: seed", "api_key", True), clock.now_us())
        for n in range(count):
            events.emit(tx, "customer.created", {"object": "customer", "n": n})


def pending(db, endpoint_id: str) -> int:
    deliveries = tables.webhook_deliveries
    with db.transaction(write=False) as conn:
        return len(
            conn.execute(
                select(deliveries.c.id).where(
                    deliveries.c.endpoint_id == endpoint_id, deliveries.c.status != "succeeded"
                )
            ).all()
        )


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def expected_deliveries(db, endpoint_id: str) -> set[str]:
    with db.transaction(write=False) as conn:
        rows = conn.execute(
            select(tables.webhook_deliveries.c.id).where(
                tables.webhook_deliveries.c.endpoint_id == endpoint_id
            )
        )
        return set(rows.scalars())


def test_sigkill_loses_no_pending_delivery(api, db, database_url, receiver):
    receiver.delay = 0.05  # slow enough that the kill lands mid-delivery
    endpoint = make_endpoint(api, receiver.url)
    emit_many(db, api.get("/api/v1/me").json()["organization"]["id"], 60)
    wanted = expected_deliveries(db, endpoint["id"])
    assert len(wanted) == 61  # and the ping

    def delivered() -> set[str]:
        return {r.headers["webhook-id"] for r in list(receiver.received)}

    with worker_process(database_url) as first:
        assert wait_for(lambda: len(delivered()) >= 15, 30), "the worker delivered nothing"
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed_at = len(delivered())
    assert killed_at < 61, "everything was delivered before the kill"
    with worker_process(database_url):
        # Deliveries cut off by the kill are attempted again once their lease runs out.
        assert wait_for(lambda: pending(db, endpoint["id"]) == 0, 90), "some never succeeded"
    assert delivered() == wanted


def test_two_workers_share_500_deliveries_without_overlap(api, db, database_url, receiver):
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a queue on PostgreSQL; SQLite runs one")
    receiver.delay = 0.005
    endpoint = make_endpoint(api, receiver.url, ["customer.created"])
    emit_many(db, api.get("/api/v1/me").json()["organization"]["id"], 500)
    wanted = expected_deliveries(db, endpoint["id"]) - {
        r.headers["webhook-id"] for r in receiver.received
    }

    with worker_process(database_url), worker_process(database_url):
        assert wait_for(
            lambda: {r.headers["webhook-id"] for r in list(receiver.received)} >= wanted, 120
        ), f"{len(wanted - {r.headers['webhook-id'] for r in receiver.received})} never attempted"
    by_id = defaultdict(list)
    for r in receiver.received:
        by_id[r.headers["webhook-id"]].append((r.started, r.finished))
    for delivery_id in wanted:
        spans = sorted(by_id[delivery_id])
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"{delivery_id} was being sent twice at the same time"
    assert all(len(by_id[d]) == 1 for d in wanted), "a delivery was sent twice"
    bodies = {
        orjson.loads(r.body)["id"] for r in receiver.received if r.headers["webhook-id"] in wanted
    }
    assert len(bodies) == 501  # 500 customer.created and the endpoint's ping


ALLOW_LOOPBACK = {"PIVOTAL_WEBHOOKS_ALLOW_HTTP": "1", "PIVOTAL_WEBHOOKS_ALLOW_PRIVATE": "1"}


def test_serve_runs_the_worker_in_process(database_url, make_key, receiver):
    with (
        serve(database_url, SECRET, env=ALLOW_LOOPBACK) as server,
        httpx.Client(base_url=server.base_url, headers=auth(make_key()), timeout=30) as api,
    ):
        hook = {"url": receiver.url, "enabled_events": ["*"]}
        assert api.post("/api/v1/webhook_endpoints", json=hook).status_code == 201
        api.post("/api/v1/customers", json={"name": "Aurora"})
        assert wait_for(lambda: len(receiver.of_type("customer.created")) == 1, 30)


def test_no_worker_flag_keeps_deliveries_pending(database_url, make_key, receiver):
    with (
        serve(database_url, SECRET, "--no-worker", env=ALLOW_LOOPBACK) as server,
        httpx.Client(base_url=server.base_url, headers=auth(make_key()), timeout=30) as api,
    ):
        hook = {"url": receiver.url, "enabled_events": ["*"]}
        assert api.post("/api/v1/webhook_endpoints", json=hook).status_code == 201
        time.sleep(1.5)  # the in-process worker would have sent the ping by now
        assert receiver.received == []
