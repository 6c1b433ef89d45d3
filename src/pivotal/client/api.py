"""``PivotalApi`` and ``AsyncPivotalApi``: the entry points of the SDK."""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Literal, Self, TypeVar, overload

import httpx

from pivotal.client import _routes as routes
from pivotal.client._core import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    BaseApi,
    Call,
    connection_error,
)
from pivotal.client.errors import PivotalError
from pivotal.client.models import DeepHealth, Health, Me
from pivotal.client.resources import (
    ActivityLog,
    AsyncActivityLog,
    AsyncContacts,
    AsyncCustomers,
    AsyncEvents,
    AsyncOnboardings,
    AsyncTasks,
    AsyncWebhookDeliveries,
    AsyncWebhookEndpoints,
    Contacts,
    Customers,
    Events,
    Onboardings,
    Tasks,
    WebhookDeliveries,
    WebhookEndpoints,
)

__all__ = ["AsyncPivotalApi", "PivotalApi"]

T = TypeVar("T")


class PivotalApi(BaseApi):
    """A client of the Pivotal API v1.

    ``api_key`` defaults to ``$PIVOTAL_API_KEY`` and ``base_url`` (the server's root) to
    ``$PIVOTAL_BASE_URL``, else ``http://127.0.0.1:8000``. ``timeout`` is in seconds.
    Failed requests are retried up to ``max_retries`` times (connection errors, 409
    ``idempotency_key_in_use``, 429 after ``Retry-After``, 5xx) with exponential backoff
    and jitter; POSTs always carry an Idempotency-Key, so a retry never acts twice.
    Use it as a context manager, or call ``close()``, to release its connections.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client()
        self.customers = Customers(self._run)
        self.contacts = Contacts(self._run)
        self.onboardings = Onboardings(self._run)
        self.tasks = Tasks(self._run)
        self.activity = ActivityLog(self._run)
        self.events = Events(self._run)
        self.webhook_endpoints = WebhookEndpoints(self._run)
        self.webhook_deliveries = WebhookDeliveries(self._run)

    def me(self) -> Me:
        """The calling API key and its workspace."""
        return self._run(routes.me())

    @overload
    def health(self, *, deep: Literal[False] = False) -> Health: ...
    @overload
    def health(self, *, deep: Literal[True]) -> DeepHealth: ...
    def health(self, *, deep: bool = False) -> Health | DeepHealth:
        """Liveness (``/api/v1/health``); with ``deep=True`` readiness (``/api/health/deep``),
        whose ``status`` is ``"error"`` (not an exception) when a dependency fails."""
        if deep:
            return self._run(routes.deep_health())
        return self._run(routes.health())

    def _run(self, call: Call[T]) -> T:
        url, content, headers = self._prepare(call)
        retry_number = 0
        while True:
            failure: PivotalError | httpx.TransportError
            try:
                response = self._http.request(
                    call.method,
                    url,
                    params=call.params,
                    content=content,
                    headers=headers,
                    timeout=self.timeout,
                )
            except httpx.TransportError as exc:
                failure = exc
            else:
                outcome = self._outcome(call, response)
                if not isinstance(outcome, PivotalError):
                    return outcome
                failure = outcome
            delay = self._retry_delay(call, retry_number, failure)
            if delay is None:
                if isinstance(failure, httpx.TransportError):
                    raise connection_error(failure) from failure
                raise failure
            time.sleep(delay)
            retry_number += 1

    def close(self) -> None:
        """Release the connections (only those of an HTTP client this object made)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPivotalApi(BaseApi):
    """The asyncio twin of ``PivotalApi``: the same resources, methods and retries;
    every method is a coroutine, and ``list`` methods return async iterators."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient()
        self.customers = AsyncCustomers(self._run)
        self.contacts = AsyncContacts(self._run)
        self.onboardings = AsyncOnboardings(self._run)
        self.tasks = AsyncTasks(self._run)
        self.activity = AsyncActivityLog(self._run)
        self.events = AsyncEvents(self._run)
        self.webhook_endpoints = AsyncWebhookEndpoints(self._run)
        self.webhook_deliveries = AsyncWebhookDeliveries(self._run)

    async def me(self) -> Me:
        """The calling API key and its workspace."""
        return await self._run(routes.me())

    @overload
    async def health(self, *, deep: Literal[False] = False) -> Health: ...
    @overload
    async def health(self, *, deep: Literal[True]) -> DeepHealth: ...
    async def health(self, *, deep: bool = False) -> Health | DeepHealth:
        """Liveness (``/api/v1/health``); with ``deep=True`` readiness (``/api/health/deep``),
        whose ``status`` is ``"error"`` (not an exception) when a dependency fails."""
        if deep:
            return await self._run(routes.deep_health())
        return await self._run(routes.health())

    async def _run(self, call: Call[T]) -> T:
        url, content, headers = self._prepare(call)
        retry_number = 0
        while True:
            failure: PivotalError | httpx.TransportError
            try:
                response = await self._http.request(
                    call.method,
                    url,
                    params=call.params,
                    content=content,
                    headers=headers,
                    timeout=self.timeout,
                )
            except httpx.TransportError as exc:
                failure = exc
            else:
                outcome = self._outcome(call, response)
                if not isinstance(outcome, PivotalError):
                    return outcome
                failure = outcome
            delay = self._retry_delay(call, retry_number, failure)
            if delay is None:
                if isinstance(failure, httpx.TransportError):
                    raise connection_error(failure) from failure
                raise failure
            await asyncio.sleep(delay)
            retry_number += 1

    async def close(self) -> None:
        """Release the connections (only those of an HTTP client this object made)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
