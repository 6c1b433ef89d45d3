"""What the sync and async clients share: configuration, requests, the retry policy."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from pivotal import __version__
from pivotal.client.errors import (
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    PivotalError,
    RateLimitError,
    error_from_response,
    parse_retry_after,
)
from pivotal.client.models import Page

T = TypeVar("T")

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
# Exponential backoff: 0.5 s, 1 s, 2 s, ... capped, each scaled by a random 50-100 %.
INITIAL_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
# A Retry-After is honoured as given, plus up to this much jitter so that clients
# refused at the same moment do not all come back at the same moment.
RETRY_AFTER_JITTER_SECONDS = 0.25

# Transport failures after which the request surely never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Transport failures worth another try (a broken connection, a timeout, a garbled answer).
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def segment(value: str | int) -> str:
    """A path parameter (id or display id), escaped."""
    return quote(str(value), safe="")


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the API reads them: booleans as true/false, None left out."""
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        elif isinstance(value, datetime | date):
            encoded[name] = value.isoformat()
        else:
            encoded[name] = str(value)
    return encoded


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation to perform: the HTTP request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, str] | None = None
    body: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    # Non-2xx statuses that are an answer, not an error (deep health's 503).
    ok_statuses: frozenset[int] = field(default_factory=frozenset)

    @property
    def replay_safe(self) -> bool:
        """May this request be sent again after it may have reached the server?"""
        return self.method != "POST" or self.idempotency_key is not None


def post(
    path: str,
    parse: Callable[[Any], T],
    body: Mapping[str, Any] | None,
    idempotency_key: str | None,
) -> Call[T]:
    """A POST, always with an Idempotency-Key: the caller's, or a fresh UUID4 kept for
    every retry of this one call."""
    key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
    return Call("POST", path, parse, body=body, idempotency_key=key)


@dataclass(frozen=True)
class ListCall(Generic[T]):
    """A list endpoint with its filters; ``page(cursor)`` is the call for one page."""

    path: str
    params: dict[str, str]
    parse_item: Callable[[dict[str, Any]], T]

    def page(self, cursor: str | None) -> Call[Page[T]]:
        params = dict(self.params)
        if cursor is not None:
            params["cursor"] = cursor
        parse_item = self.parse_item
        return Call("GET", self.path, lambda body: Page.from_dict(body, parse_item), params=params)


def backoff(retry_number: int) -> float:
    """Seconds before retry number ``retry_number`` (0-based), with jitter."""
    delay = min(MAX_BACKOFF_SECONDS, INITIAL_BACKOFF_SECONDS * 2.0**retry_number)
    return delay * random.uniform(0.5, 1.0)


def delay_after_exception(call: Call[Any], exc: httpx.TransportError) -> float | None:
    """Seconds to wait before retrying after a transport failure, or None to give up."""
    if isinstance(exc, _NOT_SENT):
        return 0.0  # plus backoff, added by the caller
    if isinstance(exc, _TRANSIENT) and call.replay_safe:
        return 0.0
    return None


def delay_after_error(call: Call[Any], error: PivotalError) -> float | None:
    """Seconds to wait (beyond backoff) before retrying an error answer, or None."""
    if isinstance(error, RateLimitError):
        # Refused before anything ran: safe to repeat whatever the method.
        retry_after = error.retry_after
        return retry_after + random.uniform(0, RETRY_AFTER_JITTER_SECONDS) if retry_after else 0.0
    if isinstance(error, ConflictError) and error.code == "idempotency_key_in_use":
        return 0.0
    if error.status is not None and error.status >= 500 and call.replay_safe:
        retry_after = parse_retry_after(error.headers.get("retry-after"))
        return retry_after or 0.0
    return None


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out: {exc}")
    return APIConnectionError(f"Connection error: {type(exc).__name__}: {exc}")


class BaseApi:
    """Configuration shared by ``PivotalApi`` and ``AsyncPivotalApi``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.api_key = api_key if api_key is not None else os.environ.get("PIVOTAL_API_KEY")
        url = base_url or os.environ.get("PIVOTAL_BASE_URL") or DEFAULT_BASE_URL
        url = url.rstrip("/")
        # The API's root, also when given with its /api/v1 suffix.
        self.base_url = url.removesuffix(API_PREFIX)
        self.timeout = timeout
        self.max_retries = max_retries

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"pivotal-python/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _prepare(self, call: Call[Any]) -> tuple[str, bytes | None, dict[str, str]]:
        """The URL, body bytes and headers: built once, sent unchanged by every retry."""
        headers = self._headers()
        content: bytes | None = None
        if call.body is not None:
            content = json.dumps(call.body, default=_encode_value, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        return self.base_url + call.path, content, headers

    @staticmethod
    def _outcome(call: Call[T], response: httpx.Response) -> T | PivotalError:
        """The parsed result of a 2xx (or accepted) answer, or the error it stands for."""
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_success or response.status_code in call.ok_statuses:
            if body is None:
                return PivotalError(
                    f"Invalid JSON in a {response.status_code} answer",
                    status=response.status_code,
                    request_id=response.headers.get("x-request-id"),
                    headers=response.headers,
                )
            return call.parse(body)
        return error_from_response(response.status_code, response.headers, body, response.text)

    def _retry_delay(
        self, call: Call[Any], retry_number: int, failure: PivotalError | httpx.TransportError
    ) -> float | None:
        """Seconds to wait before the next try, or None when this failure is final."""
        if retry_number >= self.max_retries:
            return None
        if isinstance(failure, httpx.TransportError):
            extra = delay_after_exception(call, failure)
        else:
            extra = delay_after_error(call, failure)
        if extra is None:
            return None
        return extra if extra > 0 else backoff(retry_number)
