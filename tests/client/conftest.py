"""Fixtures for the SDK tests: a real ``pivotal serve`` process on each engine, and SDK
clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from client.helpers import MakeSdk, served_operations
from conftest import SECRET, MakeKey
from live_server import LiveServer, serve
from pivotal import PivotalApi
from pivotal.client import _core

# Webhook deliveries go to a receiver on loopback over plain HTTP (SPEC §8.2 guards).
LIVE_ENV = {"PIVOTAL_WEBHOOKS_ALLOW_HTTP": "1", "PIVOTAL_WEBHOOKS_ALLOW_PRIVATE": "1"}


@pytest.fixture
def live(database_url: str, app: object) -> Iterator[LiveServer]:
    """A real server on the test's database (``app`` migrates it and makes keys)."""
    with serve(database_url, SECRET, env=LIVE_ENV) as server:
        yield server


@pytest.fixture
def served(live: LiveServer) -> set[tuple[str, str]]:
    return served_operations(live.base_url)


@pytest.fixture
def sdk_key(make_key: MakeKey) -> str:
    """A live key with room for many requests, named "SDK"."""
    return make_key(name="SDK", rate_limit=100_000)


@pytest.fixture
def make_sdk(live: LiveServer) -> Iterator[MakeSdk]:
    """make_sdk(api_key, **options): a PivotalApi on the live server, closed afterwards."""
    made: list[PivotalApi] = []

    def _make(api_key: str | None, **options: object) -> PivotalApi:
        api = PivotalApi(api_key=api_key, base_url=live.base_url, **options)  # type: ignore[arg-type]
        made.append(api)
        return api

    yield _make
    for api in made:
        api.close()


@pytest.fixture
def sdk(make_sdk: MakeSdk, sdk_key: str) -> PivotalApi:
    return make_sdk(sdk_key)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of milliseconds, so retry tests stay fast (Retry-After is still honoured)."""
    monkeypatch.setattr(_core, "INITIAL_BACKOFF_SECONDS", 0.01)
