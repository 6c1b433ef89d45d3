"""Events and their delivery (SPEC §8.1, §8.3) to a real receiver on loopback."""

from __future__ import annotations

import asyncio
import itertools

import orjson
import pytest
import standardwebhooks
import svix.webhooks
from sqlalchemy import func, select, update

from pivotal.core import clock, queue
from pivotal.db import tables
from pivotal.webhooks.delivery import DeliveryWorker
from support import assert_error, auth
from webhooks.test_endpoints import make_endpoint

EVENTS = "/api/v1/events"


def verify_with_stock_libraries(secret: str, received) -> dict:
    """What a receiver does: both stock verifiers accept the delivery."""
    headers = received.headers
    payload = standardwebhooks.Webhook(secret).verify(received.body, headers)
    svix.webhooks.Webhook(secret).verify(received.body, headers)  # raises when it does not verify
    return payload


def test_deliveries_are_signed_and_verify_with_standardwebhooks_and_svix(api, receiver, run_worker):
    endpoint = make_endpoint(api, receiver.url)
    customer = api.post("/api/v1/customers", json={"name": "Aurora"}).json()
    assert run_worker() == 2  # webhook.ping, customer.created
    ping, created = receiver.of_type("webhook.ping"), receiver.of_type("customer.created")
    assert len(ping) == len(created) == 1
    for received in receiver.received:
        payload = verify_with_stock_libraries(endpoint["secret"], received)
        assert received.headers["webhook-id"].startswith("msg_")
        assert received.headers["svix-id"] == received.headers["webhook-id"]
        assert received.headers["content-type"] == "application/json"
        # The body is the event exactly as the events API returns it.
        assert api.get(f"{EVENTS}/{payload['id']}").json() == payload
    envelope = orjson.loads(created[0].body)
    assert envelope["data"]["object"] == customer
    assert envelope["data"]["previous_attributes"] is None
    assert envelope["livemode"] is True and envelope["api_version"] == "v1"
    assert envelope["org_id"] == api.get("/api/v1/me").json()["organization"]["id"]
    listed = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert {d["status"] for d in listed} == {"succeeded"}
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["status_code"] == 200 for d in listed)
    assert all(d["next_attempt_at"] is None for d in listed)


def test_tampering_is_detected(api, receiver, run_worker):
    endpoint = make_endpoint(api, receiver.url)
    run_worker()
    received = receiver.received[0]
    received.body = received.body.replace(b"webhook.ping", b"webhook.pong")
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint["secret"]).verify(received.body, received.headers)


def test_only_subscribed_types_are_delivered(api, receiver, run_worker):
    make_endpoint(api, receiver.url, ["contact.created"])
    customer = api.post("/api/v1/customers", json={"name": "Aurora"}).json()
    api.post(f"/api/v1/customers/{customer['id']}/contacts", json={"name": "A", "email": "a@x.io"})
    run_worker()
    types = sorted(orjson.loads(r.body)["type"] for r in receiver.received)
    assert types == ["contact.created", "webhook.ping"]


def test_update_events_carry_previous_attributes(api, receiver, run_worker):
    make_endpoint(
        api, receiver.url, ["onboarding.updated", "onboarding.phase_changed", "onboarding.launched"]
    )
    customer = api.post("/api/v1/customers", json={"name": "Aurora"}).json()
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": "launch"})
    run_worker()
    by_type = {orjson.loads(r.body)["type"]: orjson.loads(r.body) for r in receiver.received}
    assert (
        by_type["onboarding.updated"]["data"]["previous_attributes"]["phase"]
        == "before_getting_started"
    )
    assert by_type["onboarding.phase_changed"]["data"]["previous_attributes"] == {
        "phase": "before_getting_started"
    }
    assert by_type["onboarding.launched"]["data"]["object"]["phase"] == "launch"


def test_test_and_live_events_reach_only_their_own_endpoints(client, keys, receiver, run_worker):
    live_endpoint = make_endpoint(client_with(client, keys.live), receiver.url + "/live")
    test_endpoint = make_endpoint(client_with(client, keys.test), receiver.url + "/test")
    assert test_endpoint["livemode"] is False and live_endpoint["livemode"] is True
    client.post("/api/v1/customers", headers=auth(keys.live), json={"name": "Live"})
    client.post(
        "/api/v1/customers",
        headers=auth(keys.test),
        json={"name": "Test", "metadata": {"test": True}},
    )
    run_worker()
    for received in receiver.received:
        event = orjson.loads(received.body)
        if event["type"] == "webhook.ping":
            continue
        assert received.path == ("/hooks/live" if event["livemode"] else "/hooks/test")
        assert event["data"]["object"]["name"] == ("Live" if event["livemode"] else "Test")
    assert len(receiver.of_type("customer.created")) == 2


class client_with:
    """A view of a client that sends one key on every request."""

    def __init__(self, client, key: str) -> None:
        self.client, self.headers = client, auth(key)

    def post(self, url: str, **kwargs):
        return self.client.post(url, headers=self.headers, **kwargs)


def test_rolled_back_changes_produce_no_event(api, db, receiver, run_worker):
    make_endpoint(api, receiver.url)
    api.post("/api/v1/customers", json={"name": "Aurora"})
    with db.transaction(write=False) as conn:
        before = conn.execute(select(func.count()).select_from(tables.events)).scalar_one()
    assert_error(api.post("/api/v1/customers", json={"name": "Aurora"}), 409, "slug_taken", "slug")
    assert_error(api.patch("/api/v1/customers/1", json={"mrr": -1}), 400, "too_small", "mrr")
    with db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(tables.events)).scalar_one() == before
    run_worker()
    assert len(receiver.of_type("customer.created")) == 1


def test_rotation_signs_with_both_secrets_for_a_day(api, receiver, run_worker):
    endpoint = make_endpoint(api, receiver.url)
    rotated = api.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"] and new_secret.startswith("whsec_")
    assert "secret" not in api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json()
    api.post("/api/v1/customers", json={"name": "Aurora"})
    run_worker()
    received = receiver.of_type("customer.created")[0]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    verify_with_stock_libraries(endpoint["secret"], received)
    verify_with_stock_libraries(new_secret, received)


def test_replay_sends_the_same_event_again(api, receiver, run_worker):
    endpoint = make_endpoint(api, receiver.url)
    run_worker()
    first = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"][0]
    replay = api.post(f"/api/v1/webhook_deliveries/{first['id']}/replay")
    assert replay.status_code == 201
    again = replay.json()
    assert again["id"] != first["id"] and again["event_id"] == first["event_id"]
    assert again["status"] == "pending" and again["attempts"] == []
    run_worker()
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    assert receiver.received[1].headers["webhook-id"] == again["id"]
    assert_error(
        api.post("/api/v1/webhook_deliveries/msg_nope/replay"), 404, "webhook_delivery_not_found"
    )


def test_redirects_are_failures_and_not_followed(api, receiver, run_worker):
    receiver.statuses = [302]
    endpoint = make_endpoint(api, receiver.url)
    run_worker()
    assert [r.path for r in receiver.received] == ["/hooks"]
    delivery_ = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"][0]
    assert delivery_["status"] == "pending" and delivery_["attempts"][0]["status_code"] == 302
    assert delivery_["next_attempt_at"] is not None


def test_full_retry_schedule_then_failed(api, app, receiver, clock_now):
    receiver.statuses = [500]
    endpoint = make_endpoint(api, receiver.url)
    worker = DeliveryWorker(app.state.services, now=clock_now)
    start = clock_now.value = clock.now_us() + 1
    attempt_times = []
    for _ in range(20):
        if not asyncio.run(worker.run_once()):
            listed = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()[
                "data"
            ][0]
            if listed["status"] != "pending":
                break
            clock_now.value = clock.parse_datetime(listed["next_attempt_at"])
            continue
        attempt_times.append(clock_now.value)
    listed = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"][0]
    assert listed["status"] == "failed" and listed["next_attempt_at"] is None
    assert len(listed["attempts"]) == len(attempt_times) == 8 == len(receiver.received)
    gaps = [b - a for a, b in itertools.pairwise(attempt_times)]
    assert gaps[:6] == list(queue.RETRY_DELAYS_US)
    assert attempt_times[-1] - attempt_times[0] == queue.LAST_ATTEMPT_AFTER_US
    assert attempt_times[0] == start
    assert all(a["status_code"] == 500 and a["error"] == "HTTP 500" for a in listed["attempts"])
    assert api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json()["disabled"] is False


def test_410_disables_the_endpoint_at_once(api, receiver, run_worker):
    receiver.statuses = [410]
    endpoint = make_endpoint(api, receiver.url)
    run_worker()
    after = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json()
    assert after["disabled"] is True and "410" in after["disabled_reason"]
    api.post("/api/v1/customers", json={"name": "Aurora"})
    run_worker()
    assert len(receiver.received) == 1  # nothing more goes to a disabled endpoint
    delivered = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert [d["status"] for d in delivered] == ["failed"]


def run_schedule_out(worker: DeliveryWorker, clock_now) -> None:
    """Advance the fake clock through every retry until nothing is left pending."""
    for _ in range(12):
        asyncio.run(worker.run_once())
        clock_now.value += 25 * 3600 * clock.MICROS_PER_SECOND  # past any retry, even the last


def test_the_hundredth_consecutive_failed_delivery_disables(api, app, db, receiver, clock_now):
    receiver.statuses = [500]
    endpoint = make_endpoint(api, receiver.url, ["customer.created"])
    with db.transaction(write=True) as conn:
        conn.execute(update(tables.webhook_endpoints).values(consecutive_failures=98))
    worker = DeliveryWorker(app.state.services, now=clock_now)
    clock_now.value = clock.now_us() + 1
    run_schedule_out(worker, clock_now)  # the ping fails for good: 99 in a row
    assert api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json()["disabled"] is False
    api.post("/api/v1/customers", json={"name": "One"})
    clock_now.value = clock.now_us() + 1
    run_schedule_out(worker, clock_now)  # the 100th
    after = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json()
    assert after["disabled"] is True
    assert after["disabled_reason"] == "100 consecutive deliveries failed."


def test_a_success_resets_the_failure_streak(api, db, receiver, run_worker):
    endpoint = make_endpoint(api, receiver.url)
    with db.transaction(write=True) as conn:
        conn.execute(update(tables.webhook_endpoints).values(consecutive_failures=99))
    run_worker()
    with db.transaction(write=False) as conn:
        streak = conn.execute(select(tables.webhook_endpoints.c.consecutive_failures)).scalar_one()
    assert streak == 0
    assert api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json()["disabled"] is False


def test_events_api(api, db):
    api.post("/api/v1/customers", json={"name": "Aurora"})
    api.patch("/api/v1/customers/1", json={"status": "churned"})
    listed = api.get(EVENTS).json()
    types = [e["type"] for e in listed["data"]]
    assert types == ["customer.churned", "customer.updated", "customer.created"]
    assert all(next(iter(e)) == "object" and e["object"] == "event" for e in listed["data"])
    assert [
        e["type"] for e in api.get(EVENTS, params={"type": "customer.updated"}).json()["data"]
    ] == ["customer.updated"]
    created = listed["data"][-1]
    after = api.get(EVENTS, params={"created_after": created["created_at"]}).json()["data"]
    assert [e["type"] for e in after] == ["customer.churned", "customer.updated"]
    assert_error(
        api.get(EVENTS, params={"created_after": "yesterday"}),
        400,
        "invalid_string",
        "created_after",
    )
    assert_error(api.get(f"{EVENTS}/evt_nope"), 404, "event_not_found")
    # Thirty days on, an event is gone from the API.
    old = clock.now_us() - 31 * 24 * 3600 * clock.MICROS_PER_SECOND
    with db.transaction(write=True) as conn:
        conn.execute(
            update(tables.events).where(tables.events.c.id == created["id"]).values(created_at=old)
        )
    assert_error(api.get(f"{EVENTS}/{created['id']}"), 404, "event_not_found")
    assert created["id"] not in [e["id"] for e in api.get(EVENTS).json()["data"]]
