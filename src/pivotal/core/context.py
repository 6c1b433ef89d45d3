"""Per-request context: the caller, and the one transaction each request runs in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pivotal.config import Settings
from pivotal.core import auth, clock, idempotency
from pivotal.core.admission import Admission
from pivotal.core.ratelimit import RateLimiter, RedisStore, make_store
from pivotal.core.responses import JSON_MEDIA_TYPE
from pivotal.core.secret_key import load_secret_key
from pivotal.db.engine import Database

T = TypeVar("T")


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
    # created_at values taken ahead with the change's own counter (sequences.reserve).
    stamps: dict[str, list[int]] = field(default_factory=dict)


class Services:
    """What the app shares between requests: settings, the database, the server secret."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._secret_key: bytes | None = None
        self._lock = threading.Lock()
        store = make_store(settings.rate_limit_storage, db, settings.redis_url)
        self.rate_limiter = RateLimiter(store)
        self.admission = Admission(db, self.rate_limiter, lambda: self.secret_key)
        # A Redis client blocks: admission then runs on a worker thread (even on SQLite).
        # Otherwise it is database work like any other (see Database.run).
        self.admission_blocks = isinstance(store, RedisStore)

    @property
    def secret_key(self) -> bytes:
        if self._secret_key is None:
            with self._lock:
                if self._secret_key is None:
                    self._secret_key = load_secret_key(self.db.engine, self.settings.secret_key)
        return self._secret_key

    def prune_expired(self) -> None:
        """Forget idempotency results past 24 h and rate-limit slots no window can see."""
        with self.db.transaction(write=True) as conn:
            idempotency.prune(conn, clock.now_us())
        self.rate_limiter.prune()

    async def admit(self, request: Request) -> None:
        """Authenticate the request's key, then count it against the key's rate limit.

        See core/admission.py. A request refused with 401 never reaches the limiter
        (SPEC §6).
        """
        await self.run_admission(self._admit, request)

    async def run_admission(self, fn: Callable[..., T], *args: Any) -> T:
        """Run admission work (and the lane's read or write that follows it in the same
        trip) where it is cheapest."""
        if self.admission_blocks:
            return await run_in_threadpool(fn, *args)
        return await self.db.run(fn, *args)

    def _admit(self, request: Request) -> None:
        admitted = self.admission.admit(request.headers.get("authorization"))
        request.state.api_key = admitted.key  # set first: a 429 still names the key in the log
        request.state.quota = self.rate_limiter.settle(
            admitted.window, admitted.key.rate_limit, admitted.at
        )


class RequestContext:
    """Runs a service function in the request's single transaction and renders its result."""

    def __init__(
        self,
        services: Services,
        key: auth.ApiKey,
        idempotent: idempotency.IdempotentRequest | None = None,
    ) -> None:
        self.services = services
        self.key = key
        self.idempotent = idempotent
        self.actor = Actor(name=key.actor, type="api_key", livemode=key.livemode)

    def _tx(self, conn: Connection) -> Tx:
        return Tx(conn, self.key.workspace_id, self.actor, clock.now_us())

    async def read(self, fn: Callable[[Tx], Any]) -> Response:
        """Run a read and answer 200 with its JSON."""
        return await self.services.db.run(self._read, fn)

    async def write(self, fn: Callable[[Tx], Any], status_code: int = 200) -> Response:
        """Run a change; its events and activity commit with it or not at all."""
        return await self.services.db.run(self.write_now, fn, status_code)

    def _read(self, fn: Callable[[Tx], Any]) -> Response:
        with self.services.db.transaction(write=False) as conn:
            body = orjson.dumps(fn(self._tx(conn)))
        return Response(body, 200, media_type=JSON_MEDIA_TYPE)

    def write_now(self, fn: Callable[[Tx], Any], status_code: int) -> Response:
        """``write``, blocking: one transaction for the change, its events, its activity
        and its idempotency record.

        With an Idempotency-Key, the key is claimed in this same transaction and the
        exact response bytes are stored in it, so a retry replays them byte for byte.
        """
        request = self.idempotent
        with self.services.db.transaction(write=True) as conn:
            tx = self._tx(conn)
            if request is not None:
                secret = self.services.secret_key
                stored = idempotency.claim(conn, tx.workspace_id, request, tx.now, secret)
                if stored is not None:
                    return Response(
                        stored.body,
                        stored.status_code,
                        headers={"Idempotent-Replayed": "true"},
                        media_type=JSON_MEDIA_TYPE,
                    )
            body = orjson.dumps(fn(tx))
            if request is not None:
                result = idempotency.StoredResult(status_code, body)
                idempotency.store(conn, tx.workspace_id, request, result, tx.now, secret)
        return Response(body, status_code, media_type=JSON_MEDIA_TYPE)


async def _context(request: Request) -> RequestContext:
    # async: FastAPI runs a plain def dependency on a worker thread, a hop for nothing.
    return RequestContext(
        request.app.state.services,
        request.state.api_key,
        getattr(request.state, "idempotent", None),
    )


Ctx = Annotated[RequestContext, Depends(_context)]
