"""Per-request context: the caller, and the one transaction each request runs in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import Connection
from starlette.responses import Response

from pivotal.config import Settings
from pivotal.core import auth, clock
from pivotal.core.responses import JSON_MEDIA_TYPE
from pivotal.core.secret_key import load_secret_key
from pivotal.db.engine import Database


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the activity log and events show it."""

    name: str
    type: str  # "api_key" or "user"
    livemode: bool


@dataclass
class Tx:
    """One unit of work: a connection in a transaction, the workspace, the actor, the time."""

    conn: Connection
    workspace_id: str
    actor: Actor
    now: int


class Services:
    """What the app shares between requests: settings, the database, the server secret."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._secret_key: bytes | None = None
        self._lock = threading.Lock()

    @property
    def secret_key(self) -> bytes:
        if self._secret_key is None:
            with self._lock:
                if self._secret_key is None:
                    self._secret_key = load_secret_key(self.db.engine, self.settings.secret_key)
        return self._secret_key

    def authenticate(self, header: str | None) -> auth.ApiKey:
        with self.db.transaction(write=False) as conn:
            key = auth.authenticate(conn, self.secret_key, header)
        now = clock.now_us()
        if auth.needs_touch(key, now):
            # A write of its own, once a minute per key, so reads stay read-only.
            with self.db.transaction(write=True) as conn:
                auth.touch(conn, key.id, now)
        return key


class RequestContext:
    """Runs a service function in the request's single transaction and renders its result."""

    def __init__(self, services: Services, key: auth.ApiKey, request_id: str | None) -> None:
        self.services = services
        self.key = key
        self.request_id = request_id
        self.actor = Actor(name=key.actor, type="api_key", livemode=key.livemode)

    def _tx(self, conn: Connection) -> Tx:
        return Tx(conn, self.key.workspace_id, self.actor, clock.now_us())

    def read(self, fn: Callable[[Tx], Any]) -> Response:
        """Run a read and answer 200 with its JSON."""
        with self.services.db.transaction(write=False) as conn:
            body = orjson.dumps(fn(self._tx(conn)))
        return Response(body, 200, media_type=JSON_MEDIA_TYPE)

    def write(self, fn: Callable[[Tx], Any], status_code: int = 200) -> Response:
        """Run a change; its events and activity commit with it or not at all.

        The body is rendered inside the transaction, so whatever must be stored with the
        exact response bytes (idempotency records) can join the same commit.
        """
        with self.services.db.transaction(write=True) as conn:
            body = orjson.dumps(fn(self._tx(conn)))
        return Response(body, status_code, media_type=JSON_MEDIA_TYPE)


def _context(request: Request) -> RequestContext:
    return RequestContext(
        request.app.state.services,
        request.state.api_key,
        getattr(request.state, "request_id", None),
    )


Ctx = Annotated[RequestContext, Depends(_context)]
