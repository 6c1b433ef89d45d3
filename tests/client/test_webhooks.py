"""``pivotal.webhooks.verify`` (SPEC §8.3, §11): the Standard Webhooks scheme, checked
against our own signing, the stock ``standardwebhooks`` package, and real deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime

import httpx
import pytest

from client.helpers import WEBHOOK_ROUTES, FakeServer, Received, Reply, require_routes
from live_server import LiveServer
from pivotal import PivotalApi
from pivotal.webhooks import WebhookVerificationError, verify

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = json.dumps(
    {"id": "evt_1", "type": "customer.created", "data": {"object": {"id": "c1"}}}
).encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature, written out independently of the SDK."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers_for(
    body: bytes = BODY, secret: str = SECRET, timestamp: int | None = None, prefix: str = "webhook"
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        f"{prefix}-id": "msg_1",
        f"{prefix}-timestamp": str(ts),
        f"{prefix}-signature": sign(secret, "msg_1", ts, body),
    }


def test_a_signed_payload_verifies_and_parses() -> None:
    assert verify(BODY, headers_for(), SECRET) == json.loads(BODY)
    assert verify(BODY.decode(), headers_for(), SECRET)["id"] == "evt_1"


def test_header_forms() -> None:
    headers = headers_for()
    assert verify(BODY, {k.upper(): v for k, v in headers.items()}, SECRET)
    assert verify(BODY, httpx.Headers(headers), SECRET)
    assert verify(BODY, list(headers.items()), SECRET)
    assert verify(BODY, headers_for(prefix="svix"), SECRET)  # the Svix names


def test_several_signatures_and_secrets() -> None:
    headers = headers_for()
    ts = int(headers["webhook-timestamp"])
    garbage = "v1," + base64.b64encode(secrets.token_bytes(32)).decode()
    other = sign(OTHER_SECRET, "msg_1", ts, BODY)
    headers["webhook-signature"] = f"v1a,xyz {garbage} not-base64 {other} v1,@@@"
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers, SECRET)  # none of them is SECRET's
    assert verify(BODY, headers, OTHER_SECRET)["id"] == "evt_1"
    assert verify(BODY, headers, [SECRET, OTHER_SECRET])["id"] == "evt_1"  # while rotating
    headers["webhook-signature"] = f"{garbage} {sign(SECRET, 'msg_1', ts, BODY)}"
    assert verify(BODY, headers, SECRET)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b + b" "), "No matching signature"),
        (lambda h, b: ({**h, "webhook-id": "msg_2"}, b), "No matching signature"),
        (lambda h, b: (headers_for(b, OTHER_SECRET), b), "No matching signature"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "webhook-id"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-timestamp"}, b), "timestamp"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b), "signature"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "Invalid webhook-timestamp"),
        (lambda h, b: (headers_for(timestamp=int(time.time()) - 301), b), "too old"),
        (lambda h, b: (headers_for(timestamp=int(time.time()) + 301), b), "too new"),
        (lambda h, b: (headers_for(b"[1, 2]"), b"[1, 2]"), "not a JSON object"),
        (lambda h, b: (headers_for(b"{nope"), b"{nope"), "not valid JSON"),
    ],
)
def test_rejections(change: object, reason: str) -> None:
    headers, body = change(headers_for(), BODY)  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(body, headers, SECRET)


def test_tolerance_is_five_minutes() -> None:
    now = 1_800_000_000
    for offset in (-300, 0, 300):
        verify(BODY, headers_for(timestamp=now + offset), SECRET, now=now)
    for offset in (-301, 301):
        with pytest.raises(WebhookVerificationError):
            verify(BODY, headers_for(timestamp=now + offset), SECRET, now=now)


def test_a_malformed_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        verify(BODY, headers_for(), "whsec_***")


def test_agrees_with_the_standardwebhooks_package() -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    hook = standardwebhooks.Webhook(SECRET)
    now = datetime.now(UTC)
    theirs = hook.sign("msg_9", now, BODY.decode())
    headers = {
        "webhook-id": "msg_9",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": theirs,
    }
    assert verify(BODY, headers, SECRET)["id"] == "evt_1"  # they sign, we verify
    ours = headers_for()
    assert hook.verify(BODY, ours) == json.loads(BODY)  # we sign, they verify
    assert theirs == sign(SECRET, "msg_9", int(now.timestamp()), BODY)


# A real delivery from the server


def _wait_for(receiver: FakeServer, event_type: str, count: int = 1) -> list[Received]:
    deadline = time.monotonic() + 20
    while True:
        found = [r for r in receiver.received if json.loads(r.body).get("type") == event_type]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.slow
def test_real_deliveries_verify(
    live: LiveServer, sdk: PivotalApi, served: set[tuple[str, str]]
) -> None:
    require_routes(served, *WEBHOOK_ROUTES)
    standardwebhooks = pytest.importorskip("standardwebhooks")
    with FakeServer(Reply(200, {})) as receiver:
        endpoint = sdk.webhook_endpoints.create(
            url=f"{receiver.base_url}/hooks", enabled_events=["customer.created"]
        )
        assert endpoint.secret is not None
        customer = sdk.customers.create(name="Aurora")
        arrived = _wait_for(receiver, "customer.created")
        if not arrived:
            recorded = list(sdk.webhook_endpoints.deliveries(endpoint.id))
            if not recorded:
                pytest.skip("the server records no webhook deliveries yet (SPEC §8.3)")
            pytest.fail(f"deliveries recorded but none arrived: {recorded}")
        delivery = arrived[0]

        event = verify(delivery.body, delivery.headers, endpoint.secret)
        assert event["data"]["object"]["id"] == customer.id and event["livemode"] is True
        assert standardwebhooks.Webhook(endpoint.secret).verify(delivery.body, delivery.headers)
        svix_only = {k: v for k, v in delivery.headers.items() if k.startswith("svix-")}
        assert verify(delivery.body, svix_only, endpoint.secret) == event
        assert delivery.headers["webhook-id"].startswith("msg_")
        with pytest.raises(WebhookVerificationError):
            verify(delivery.body, delivery.headers, OTHER_SECRET)
        with pytest.raises(WebhookVerificationError):
            verify(delivery.body + b" ", delivery.headers, endpoint.secret)

        # After a rotation both secrets sign, so receivers can switch at their own pace.
        rotated = sdk.webhook_endpoints.rotate_secret(endpoint.id)
        assert rotated.secret is not None
        sdk.customers.create(name="Borealis")
        second = _wait_for(receiver, "customer.created", 2)[1]
        assert len(second.headers["webhook-signature"].split()) == 2
        assert verify(second.body, second.headers, endpoint.secret)["type"] == "customer.created"
        assert verify(second.body, second.headers, rotated.secret)["type"] == "customer.created"

        # A replay sends the same event again, still verifiable.
        sent = [d for d in sdk.webhook_endpoints.deliveries(endpoint.id)]
        original = next(d for d in sent if d.event_id == event["id"])
        sdk.webhook_deliveries.replay(original.id)
        replayed = _wait_for(receiver, "customer.created", 3)[2]
        assert verify(replayed.body, replayed.headers, rotated.secret)["id"] == event["id"]
        assert replayed.body == delivery.body
