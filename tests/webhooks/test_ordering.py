"""An event goes to every endpoint whose ping is older than it, even one committed while
the change that emits the event waited for the workspace's counters."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from pivotal.core import clock
from pivotal.core.context import Actor, Tx
from pivotal.webhooks import service as webhooks
from pivotal.webhooks.schemas import EndpointCreate

HOOK = "https://hooks.example.com/pivotal"


def _waiting_on_a_lock(app: FastAPI) -> bool:
    with app.state.services.db.autocommit() as conn:
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool(conn.execute(text(query)).scalar())


def test_an_endpoint_committed_while_a_create_waits_gets_its_event(
    app: FastAPI, api: TestClient, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: the create waits before it reads")
    workspace_id = api.get("/api/v1/me").json()["organization"]["id"]
    services = app.state.services
    answers = []
    create = threading.Thread(
        target=lambda: answers.append(api.post("/api/v1/customers", json={"name": "Waits"}))
    )
    with services.db.transaction(write=True) as conn:
        tx = Tx(conn, workspace_id, Actor("test", "api_key", True), clock.now_us())
        data = EndpointCreate(url=HOOK, enabled_events=["customer.created"])
        endpoint = webhooks.create_endpoint(tx, services.secret_key, data, HOOK)
        # Its ping holds the workspace's event counter until this transaction commits.
        create.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(app):
            assert time.monotonic() < deadline, "the create never waited for the counter"
            time.sleep(0.02)
    create.join(timeout=10)
    assert [answer.status_code for answer in answers] == [201]
    deliveries = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()
    assert [d["event_type"] for d in deliveries["data"]] == ["customer.created", "webhook.ping"]
