"""Retries (SPEC §11): connection errors, 409 idempotency_key_in_use, 429 after Retry-After,
and 5xx, with backoff; a POST is only ever repeated with the same Idempotency-Key."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from client.helpers import DroppingProxy, FakeServer, Reply, envelope, header_value
from conftest import MakeKey
from live_server import LiveServer
from pivotal import AsyncPivotalApi, PivotalApi
from pivotal.client import _core
from pivotal.client._core import Call
from pivotal.client.models import Customer
from pivotal.errors import (
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    InternalServerError,
    InvalidRequestError,
    RateLimitError,
)
from support import auth

ME = {
    "object": "me",
    "livemode": True,
    "api_key": {
        "id": "key_1",
        "name": "k",
        "prefix": "pivotal_abcd",
        "mode": "live",
        "scopes": [],
        "rate_limit": {"limit": 60, "window_seconds": 60},
    },
    "organization": {"id": "org_1", "slug": "acme", "name": "Acme"},
}
CUSTOMER = {"object": "customer", "id": "c1", "display_id": 1, "name": "Aurora"}
RATE_LIMITED = Reply(
    429,
    {
        "error": {
            "type": "rate_limit_error",
            "code": "rate_limited",
            "message": "Rate limit exceeded. Retry after 1 seconds.",
            "request_id": "req_429",
        }
    },
    {"Retry-After": "1"},
)


def _customers_named(live: LiveServer, key: str, name: str) -> list[dict[str, object]]:
    response = httpx.get(
        f"{live.base_url}/api/v1/customers", headers=auth(key), params={"limit": 100}
    )
    return [c for c in response.json()["data"] if c["name"] == name]


# A response lost on the way back, against the real server


@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_create_retried_after_a_dropped_connection_creates_exactly_one(
    live: LiveServer, sdk_key: str, flavour: str
) -> None:
    port = urlsplit(live.base_url).port
    assert port is not None
    with DroppingProxy(port) as proxy:
        if flavour == "sync":
            with PivotalApi(api_key=sdk_key, base_url=proxy.base_url) as api:
                api.me()  # a kept-alive connection first: the drop happens on a reused one
                proxy.arm()
                customer = api.customers.create(name="Dropped once")
        else:

            async def create() -> Customer:
                async with AsyncPivotalApi(api_key=sdk_key, base_url=proxy.base_url) as api:
                    await api.me()
                    proxy.arm()
                    return await api.customers.create(name="Dropped once")

            customer = asyncio.run(create())

    assert proxy.dropped == 1
    posts = list(proxy.requests_with(b"POST /api/v1/customers"))
    assert len(posts) == 2, "the SDK did not retry the create"
    keys = {header_value(head, "Idempotency-Key") for head in posts}
    assert len(keys) == 1 and None not in keys, "the retry did not reuse the Idempotency-Key"
    uuid.UUID(keys.pop() or "")  # a fresh UUID4 when the caller gives none

    on_server = _customers_named(live, sdk_key, "Dropped once")
    assert [c["id"] for c in on_server] == [customer.id]  # created once, answered twice


@pytest.mark.slow
def test_caller_idempotency_key_is_sent_and_replays(
    live: LiveServer, sdk: PivotalApi, sdk_key: str
) -> None:
    first = sdk.customers.create(name="Keyed", idempotency_key="crm-4711-v1")
    again = sdk.customers.create(name="Keyed", idempotency_key="crm-4711-v1")
    assert again == first
    assert len(_customers_named(live, sdk_key, "Keyed")) == 1
    with pytest.raises(ConflictError) as caught:
        sdk.customers.create(name="Other body", idempotency_key="crm-4711-v1")
    assert caught.value.code == "idempotency_key_reused"


@pytest.mark.slow
def test_post_without_a_key_is_not_repeated_once_it_may_have_arrived(
    live: LiveServer, sdk_key: str
) -> None:
    port = urlsplit(live.base_url).port
    assert port is not None
    with DroppingProxy(port) as proxy, PivotalApi(api_key=sdk_key, base_url=proxy.base_url) as api:
        proxy.arm()
        # Below the public methods, which always add a key: a bare POST.
        unkeyed = Call("POST", "/api/v1/customers", Customer.from_dict, body={"name": "Unkeyed"})
        with pytest.raises(APIConnectionError):
            api._run(unkeyed)
    assert len(list(proxy.requests_with(b"POST /api/v1/customers"))) == 1
    assert len(_customers_named(live, sdk_key, "Unkeyed")) == 1  # it did arrive


# 429 from the real server


@pytest.mark.slow
def test_real_rate_limit_raises_with_its_fields(live: LiveServer, make_key: MakeKey) -> None:
    key = make_key(name="Tiny", rate_limit=2)
    with PivotalApi(api_key=key, base_url=live.base_url, max_retries=0) as api:
        api.me()
        api.me()
        with pytest.raises(RateLimitError) as caught:
            api.me()
    error = caught.value
    assert (error.status, error.type, error.code, error.field) == (
        429,
        "rate_limit_error",
        "rate_limited",
        None,
    )
    assert error.request_id and error.request_id == error.headers["x-request-id"]
    assert error.retry_after is not None and error.retry_after >= 1
    assert error.headers["x-ratelimit-limit"] == "2"
    assert "Retry after" in error.message


# Retry paths, against a scripted local server


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_429_waits_retry_after_then_succeeds(flavour: str) -> None:
    with FakeServer(RATE_LIMITED, Reply(200, ME)) as fake:
        started = time.monotonic()
        if flavour == "sync":
            with PivotalApi(api_key="pivotal_x", base_url=fake.base_url) as api:
                me = api.me()
        else:

            async def call() -> object:
                async with AsyncPivotalApi(api_key="pivotal_x", base_url=fake.base_url) as api:
                    return await api.me()

            me = asyncio.run(call())
        elapsed = time.monotonic() - started
    assert me.organization.slug == "acme"  # type: ignore[attr-defined]
    assert len(fake.received) == 2
    gap = fake.received[1].at - fake.received[0].at
    assert gap >= 1.0, f"retried after {gap:.3f}s, before Retry-After"
    assert elapsed < 1.0 + _core.RETRY_AFTER_JITTER_SECONDS + 1.0


def test_429_exhausting_retries_raises_rate_limit_error(fast_backoff: None) -> None:
    quick = Reply(429, RATE_LIMITED.body, {"Retry-After": "0"})
    with (
        FakeServer(quick) as fake,
        PivotalApi(base_url=fake.base_url, max_retries=2) as api,
        pytest.raises(RateLimitError) as caught,
    ):
        api.me()
    assert len(fake.received) == 3
    assert caught.value.request_id == "req_429"


def test_idempotency_key_in_use_is_retried_with_the_same_key(fast_backoff: None) -> None:
    in_use = Reply(409, envelope(409, "conflict", "idempotency_key_in_use"))
    with (
        FakeServer(in_use, Reply(201, CUSTOMER)) as fake,
        PivotalApi(base_url=fake.base_url) as api,
    ):
        customer = api.customers.create(name="Aurora")
    assert customer.id == "c1"
    keys = [r.headers.get("idempotency-key") for r in fake.received]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    assert fake.received[0].body == fake.received[1].body == b'{"name":"Aurora"}'


def test_other_conflicts_and_client_errors_are_not_retried(fast_backoff: None) -> None:
    reused = Reply(409, envelope(409, "conflict", "idempotency_key_reused"))
    with (
        FakeServer(reused) as fake,
        PivotalApi(base_url=fake.base_url) as api,
        pytest.raises(ConflictError),
    ):
        api.customers.create(name="Aurora")
    assert len(fake.received) == 1
    invalid = Reply(400, envelope(400, "invalid_request_error", "missing_field", "name"))
    with (
        FakeServer(invalid) as fake,
        PivotalApi(base_url=fake.base_url) as api,
        pytest.raises(InvalidRequestError),
    ):
        api.customers.update("c1", name="")
    assert len(fake.received) == 1


def test_5xx_is_retried_with_backoff(fast_backoff: None) -> None:
    broken = Reply(500, envelope(500, "internal_error", "internal_error"))
    gateway = Reply(502, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})
    with (
        FakeServer(broken, gateway, Reply(200, CUSTOMER)) as fake,
        PivotalApi(base_url=fake.base_url) as api,
    ):
        assert api.customers.retrieve("c1").name == "Aurora"
    assert len(fake.received) == 3

    with (
        FakeServer(broken) as fake,
        PivotalApi(base_url=fake.base_url, max_retries=2) as api,
        pytest.raises(InternalServerError) as caught,
    ):
        api.customers.delete("c1")
    assert len(fake.received) == 3 and caught.value.code == "internal_error"

    # A keyed POST is retried too, with one key.
    unavailable = Reply(503, envelope(503, "internal_error", "internal_error"))
    with (
        FakeServer(unavailable, Reply(201, CUSTOMER)) as fake,
        PivotalApi(base_url=fake.base_url) as api,
    ):
        api.customers.create(name="Aurora")
    assert len({r.headers["idempotency-key"] for r in fake.received}) == 1
    assert len(fake.received) == 2


def test_backoff_grows_exponentially_with_jitter() -> None:
    delays = [[_core.backoff(n) for _ in range(200)] for n in range(6)]
    for n, samples in enumerate(delays):
        cap = min(_core.MAX_BACKOFF_SECONDS, _core.INITIAL_BACKOFF_SECONDS * 2**n)
        assert all(cap * 0.5 <= d <= cap for d in samples)
        assert len(set(samples)) > 150  # jittered, not one fixed figure
    assert delays[5][0] <= _core.MAX_BACKOFF_SECONDS


def test_dropped_connections_are_retried_then_reported(fast_backoff: None) -> None:
    with (
        FakeServer(Reply(drop=True), Reply(200, CUSTOMER)) as fake,
        PivotalApi(base_url=fake.base_url) as api,
    ):
        assert api.customers.retrieve(1).id == "c1"
    assert len(fake.received) == 2

    with (
        FakeServer(Reply(drop=True)) as fake,
        PivotalApi(base_url=fake.base_url) as api,
        pytest.raises(APIConnectionError) as caught,
    ):
        api.customers.retrieve(1)
    assert len(fake.received) == 3
    assert caught.value.status is None and caught.value.request_id is None


def test_unreachable_server_is_a_connection_error(fast_backoff: None) -> None:
    with FakeServer(Reply()) as fake:
        closed_url = fake.base_url  # nothing listens there once the block ends
    with (
        PivotalApi(base_url=closed_url, max_retries=1) as api,
        pytest.raises(APIConnectionError) as caught,
    ):
        api.health()
    assert not isinstance(caught.value, APITimeoutError)


def test_timeout_is_reported_as_such() -> None:
    with (
        FakeServer(Reply(200, ME, delay=1.0)) as fake,
        PivotalApi(base_url=fake.base_url, timeout=0.2, max_retries=0) as api,
        pytest.raises(APITimeoutError),
    ):
        api.me()


def test_retry_decisions() -> None:
    """The policy itself: what may be repeated after a request may have arrived."""
    keyed = Call("POST", "/x", dict, idempotency_key="k")
    unkeyed = Call("POST", "/x", dict)
    patch = Call("PATCH", "/x", dict)
    read_error = httpx.ReadError("reset")
    connect_error = httpx.ConnectError("refused")
    assert _core.delay_after_exception(keyed, read_error) is not None
    assert _core.delay_after_exception(patch, read_error) is not None
    assert _core.delay_after_exception(unkeyed, read_error) is None
    assert _core.delay_after_exception(unkeyed, connect_error) is not None  # never sent
    server_error = InternalServerError("boom", status=500)
    assert _core.delay_after_error(unkeyed, server_error) is None
    assert _core.delay_after_error(keyed, server_error) is not None
    assert _core.delay_after_error(unkeyed, RateLimitError("slow down", status=429)) is not None
