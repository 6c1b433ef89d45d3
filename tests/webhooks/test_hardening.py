"""Webhook delivery under hostile or broken conditions: slow receivers, broken URLs,
addresses that change after the URL was saved, secrets at rest, mode mismatches."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import standardwebhooks
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from conftest import SECRET
from pivotal.app import create_app
from pivotal.config import Settings
from pivotal.db import tables
from pivotal.webhooks.delivery import DeliveryWorker
from pivotal.webhooks.urls import address_allowed
from support import assert_error, auth
from webhooks.test_endpoints import make_endpoint


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),
        ("100.100.100.200", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("2002:7f00:1::1", False),  # 6to4 wrapping 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 wrapping 169.254.169.254
    ],
)
def test_address_rules(address, allowed):
    assert address_allowed(address) is allowed


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:abc/",
        "https://example.com/\u007f",
        "https://exa mple.com/",
        "https://example.com/a\u0000b",
        "http://[::1/",
    ],
)
def test_broken_urls_are_refused_at_creation(api, url):
    assert_error(
        api.post("/api/v1/webhook_endpoints", json={"url": url, "enabled_events": ["*"]}),
        400,
        "invalid_string",
        "url",
    )


def test_a_broken_url_in_the_queue_fails_alone(api, app, db, receiver, run_worker):
    good = make_endpoint(api, receiver.url)
    bad = make_endpoint(api, receiver.url + "/bad")
    run_worker()
    with db.transaction(write=True) as conn:  # a row saved before the rules were tightened
        conn.execute(
            update(tables.webhook_endpoints)
            .where(tables.webhook_endpoints.c.id == bad["id"])
            .values(url="http://127.0.0.1:abc/x")
        )
    api.post("/api/v1/customers", json={"name": "Aurora"})
    run_worker()
    assert len(receiver.of_type("customer.created")) == 1  # the good endpoint got its event
    deliveries = api.get(f"/api/v1/webhook_endpoints/{bad['id']}/deliveries").json()["data"]
    created = next(d for d in deliveries if d["event_type"] == "customer.created")
    assert created["attempts"][0]["error"].startswith("refused: url")
    assert good["id"] != bad["id"]


def test_the_body_of_a_slow_answer_is_never_waited_for(api, app, run_worker):
    """Headers at once, then a body that trickles for 30 s: the attempt is decided by the
    status, in well under the 10 s deadline."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            server.settimeout(0.2)
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            for _ in range(300):
                if stop.is_set():
                    break
                try:
                    conn.sendall(b"x")
                except OSError:
                    break
                time.sleep(0.1)
            conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        endpoint = make_endpoint(api, f"http://127.0.0.1:{server.getsockname()[1]}/slow")
        started = time.monotonic()
        run_worker()
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        server.close()
    assert elapsed < 5
    delivered = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"][0]
    assert delivered["status"] == "succeeded" and delivered["attempts"][0]["status_code"] == 200


def test_an_address_that_turned_private_after_saving_is_refused_at_delivery(
    database_url, make_key, receiver
):
    """The strict server saved a public URL; the name now points at loopback (DNS
    rebinding). The pinned transport refuses to connect."""
    settings = Settings(database_url=database_url, secret_key=SECRET, webhooks_allow_http=True)
    app = create_app(settings)
    key = make_key()
    with TestClient(app, headers=auth(key), raise_server_exceptions=False) as api:
        created = api.post(
            "/api/v1/webhook_endpoints",
            json={"url": "http://93.184.216.34/hook", "enabled_events": ["*"]},
        ).json()
        with app.state.services.db.transaction(write=True) as conn:
            conn.execute(
                update(tables.webhook_endpoints)
                .where(tables.webhook_endpoints.c.id == created["id"])
                .values(url=receiver.url.replace("127.0.0.1", "localhost"))
            )
        asyncio.run(DeliveryWorker(app.state.services).run_once())
        deliveries = api.get(f"/api/v1/webhook_endpoints/{created['id']}/deliveries").json()
    app.state.services.db.dispose()
    attempt = deliveries["data"][0]["attempts"][0]
    assert "non-public address" in attempt["error"]
    assert receiver.received == []


def test_rotating_twice_keeps_both_old_secrets_signing(api, receiver, run_worker):
    endpoint = make_endpoint(api, receiver.url, ["customer.created"])
    second = api.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret").json()["secret"]
    third = api.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret").json()["secret"]
    api.post("/api/v1/customers", json={"name": "Aurora"})
    run_worker()
    received = receiver.of_type("customer.created")[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 3
    for secret in (endpoint["secret"], second, third):
        standardwebhooks.Webhook(secret).verify(received.body, received.headers)


def test_secrets_never_rest_in_clear_in_idempotency_results(api, db, receiver):
    created = api.post(
        "/api/v1/webhook_endpoints",
        json={"url": receiver.url, "enabled_events": ["*"]},
        headers={"Idempotency-Key": "ep-1"},
    )
    replay = api.post(
        "/api/v1/webhook_endpoints",
        json={"url": receiver.url, "enabled_events": ["*"]},
        headers={"Idempotency-Key": "ep-1"},
    )
    assert replay.content == created.content  # the replay still shows the secret once more
    with db.transaction(write=False) as conn:
        stored = [row.body for row in conn.execute(select(tables.idempotency_keys))]
    assert stored and all(created.json()["secret"] not in body for body in stored)


def test_a_test_key_cannot_replay_to_a_live_endpoint(client, keys, receiver, run_worker):
    live = make_endpoint(_Keyed(client, keys.live), receiver.url)
    run_worker()
    delivery = client.get(
        f"/api/v1/webhook_endpoints/{live['id']}/deliveries", headers=auth(keys.live)
    ).json()["data"][0]
    refused = client.post(
        f"/api/v1/webhook_deliveries/{delivery['id']}/replay", headers=auth(keys.test)
    )
    assert_error(refused, 400, "livemode_mismatch")


class _Keyed:
    def __init__(self, client, key: str) -> None:
        self.client, self.headers = client, auth(key)

    def post(self, url: str, **kwargs):
        return self.client.post(url, headers=self.headers, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/api/v1/webhook_endpoints/ep_%00", "webhook_endpoint_not_found"),
        ("PATCH", "/api/v1/webhook_endpoints/%00", "webhook_endpoint_not_found"),
        ("DELETE", "/api/v1/webhook_endpoints/%00", "webhook_endpoint_not_found"),
        ("POST", "/api/v1/webhook_endpoints/%00/rotate_secret", "webhook_endpoint_not_found"),
        ("GET", "/api/v1/webhook_endpoints/%00/deliveries", "webhook_endpoint_not_found"),
        ("POST", "/api/v1/webhook_deliveries/%00/replay", "webhook_delivery_not_found"),
        ("GET", "/api/v1/events/evt_%00", "event_not_found"),
    ],
)
def test_nul_in_ids_is_404(api, method, path, code):
    kwargs = {"json": {}} if method == "PATCH" else {}
    assert_error(api.request(method, path, **kwargs), 404, code)
