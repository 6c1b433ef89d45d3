"""The fast lane: the hottest requests answered without FastAPI's per-request machinery.

Integrations poll single customers, page through the customer list and create customers
(a CRM backfill) all day; for those, FastAPI's middleware, routing over every route and
solving dependencies cost more than the work itself. A GET the lane fully understands
(one of its paths, with a query made only of the parameters it checks) is answered here
with the same parts the FastAPI route uses: admission, the scope check, the service's
read and the one error renderer. The read shares admission's connection, after the hit
has committed: on SQLite in a read transaction of the driver's; on PostgreSQL in
autocommit. A single customer is found by admission's own statement where it can (on
SQLite when the hit comes from a lease: Admission.admit_and_find). One connection (kept
by Database.connect) and, on PostgreSQL, one trip to a worker thread per request.

A POST of a write lane (WriteLane) is taken only once its body has been read and has
validated; admission and the write then run in one trip to a worker thread, the write
through the route's own RequestContext (one transaction, idempotency included).

Anything else goes to FastAPI untouched, before any database work (a POST's body,
already read, is handed on as it came), so a request is admitted once and every
validation message keeps one owner. Unlike the long way, a write lane reads and
validates a body before admission: for a well-formed key, within the size limit.

The lane sits right inside RequestContextMiddleware, in front of FastAPI's own
middleware (app.PivotalApp): request ids and access-log lines are the same either way.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pivotal.core import auth, clock, idempotency
from pivotal.core.admission import Admitted
from pivotal.core.auth import ApiKey, require_scope
from pivotal.core.context import Actor, RequestContext, Services, Tx
from pivotal.core.errors import ApiError, InternalError, not_found
from pivotal.core.handlers import database_unavailable, error_response
from pivotal.core.ids import parse_ref
from pivotal.core.lookup import PointLookup
from pivotal.core.pagination import DEFAULT_PAGE_LIMIT, PageParams, parse_cursor
from pivotal.core.ratelimit import Quota, RateLimiter
from pivotal.core.responses import JSON_MEDIA_TYPE
from pivotal.core.routing import parse_json_body

_JSON_CONTENT_TYPE = JSON_MEDIA_TYPE.encode()

# Exactly the limits FastAPI accepts for `limit` (1-100) written the plain way; any
# other spelling goes the long way, where validation owns the wording.
_PLAIN_LIMIT = re.compile(r"[1-9][0-9]?|100")
_PageQuery = tuple[int, str | None]  # limit, cursor as sent


@dataclass(frozen=True)
class LaneRequest:
    """What a lane's read gets: the caller, the path's reference, the page asked for."""

    key: ApiKey
    ref: str  # "" for a path without one
    page: PageParams  # the first page of 20 for a lane that is not paged


@dataclass(frozen=True)
class PointRead:
    """A read that is one row found by the path's reference, then rendered: where
    admission can (Admission.admit_and_find), its statement finds the row too."""

    lookup: PointLookup
    render: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Lane:
    """One endpoint the lane serves: the FastAPI route's path, its scope and its read.

    ``path`` is static or ends in ``/{id}``; ``paged`` lanes take ``limit`` and
    ``cursor`` and nothing else. ``point``, for a ``/{id}`` lane, is the same read as
    ``read`` (same row, same 404, same rendering) in the form admission can join.
    """

    path: str
    scope: str | None
    read: Callable[[Tx, LaneRequest], Any]
    paged: bool = False
    point: PointRead | None = None


@dataclass(frozen=True)
class WriteLane:
    """A POST the lane serves: a path, its scope, the body's model and the service call.

    The lane takes only a request FastAPI would pass to the endpoint: no query string,
    a valid Idempotency-Key (or none) and a body within the size limit that parses and
    validates as ``model``. Anything else goes the long way, body and all, where the
    route owns every refusal (after admission, as always).
    """

    path: str
    scope: str
    model: type[BaseModel]
    write: Callable[[Tx, Any], Any]  # given the validated body, as the endpoint calls it
    status_code: int = 201


@dataclass(frozen=True)
class _WriteRequest:
    """A write the lane took: the validated body, and its idempotency claim if any."""

    data: BaseModel
    idempotent: idempotency.IdempotentRequest | None


@dataclass(slots=True)
class _Answer:
    """What a lane request came to, filled in as it goes (a refusal keeps the quota)."""

    key: ApiKey | None = None
    quota: Quota | None = None
    # The JSON of a read, a write's response, an error to answer, a bug to raise.
    body: bytes | Response | ApiError | Exception = b""

    def read(self, conn: Any, lane: Lane, ref: str, page: _PageQuery, admitted: Admitted) -> None:
        """``_admitted``'s checks, then the lane's read."""
        key = self._admitted(admitted, lane.scope)
        request = LaneRequest(key, ref, _page_params(page))
        actor = Actor(name=key.actor, type="api_key", livemode=key.livemode)
        self.body = orjson.dumps(
            lane.read(Tx(conn, key.workspace_id, actor, clock.now_us()), request)
        )

    def found(self, point: PointRead, scope: str | None, admitted: Admitted, row: Any) -> None:
        """``_admitted``'s checks, then ``point``'s row (found by admission's statement)."""
        self._admitted(admitted, scope)
        if row is None:
            raise not_found(point.lookup.resource)
        self.body = orjson.dumps(point.render(row))

    def written(
        self, services: Services, lane: WriteLane, request: _WriteRequest, admitted: Admitted
    ) -> None:
        """``_admitted``'s checks, then the write, in its own transaction (as the route's)."""
        key = self._admitted(admitted, lane.scope)
        context = RequestContext(services, key, request.idempotent)
        self.body = context.write_now(lambda tx: lane.write(tx, request.data), lane.status_code)

    def _admitted(self, admitted: Admitted, scope: str | None) -> ApiKey:
        """Settle the quota (the 429) and check the scope (the 403), keeping both for
        the answer's headers and log line."""
        key = self.key = admitted.key
        self.quota = RateLimiter.settle(admitted.window, key.rate_limit, admitted.at)
        if scope is not None:
            require_scope(key, scope)
        return key


class FastLane:
    """ASGI middleware in front of FastAPI: serves ``lanes`` and ``writes``, passes on
    everything else."""

    def __init__(
        self,
        app: ASGIApp,
        services: Services,
        lanes: Iterable[Lane],
        routes: list[BaseRoute],
        writes: Iterable[WriteLane] = (),
    ) -> None:
        self.app = app
        self.services = services
        self._static: dict[str, Lane] = {}
        self._by_prefix: dict[str, Lane] = {}  # "/api/v1/customers/" for ".../{id}"
        self._writes = {lane.path: lane for lane in writes}
        self._routes: dict[str, BaseRoute] = {}
        for lane in lanes:
            if lane.path.endswith("/{id}"):
                self._by_prefix[lane.path.removesuffix("{id}")] = lane
            else:
                self._static[lane.path] = lane
        for path in (*(lane.path for lane in lanes), *self._writes):
            # The access log names the route template, as it does for FastAPI's routes.
            self._routes[path] = next(r for r in routes if getattr(r, "path", None) == path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if method == "GET":
                found = self._match(scope["path"], scope["query_string"])
                if found is not None:
                    await self._serve(scope, receive, send, *found)
                    return
            elif method == "POST" and not scope["query_string"]:
                write = self._writes.get(scope["path"])
                if write is not None:
                    await self._serve_write(scope, receive, send, write)
                    return
        await self.app(scope, receive, send)

    def _match(self, path: str, query: bytes) -> tuple[Lane, str, _PageQuery] | None:
        """The lane, path reference and page for a GET the lane serves, else None."""
        lane = self._static.get(path)
        ref = ""
        if lane is None:
            head, slash, ref = path.rpartition("/")
            lane = self._by_prefix.get(head + slash) if ref else None
            if lane is None:
                return None
        if not lane.paged:
            return (lane, ref, (DEFAULT_PAGE_LIMIT, None)) if not query else None
        page = _page_query(query)
        return (lane, ref, page) if page is not None else None

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        lane: Lane,
        ref: str,
        page: _PageQuery,
    ) -> None:
        scope["route"] = self._routes[lane.path]
        header = _header(scope, b"authorization")
        answer = await self.services.run_admission(self._answer, lane, header, ref, page)
        await self._send(scope, receive, send, answer)

    async def _send(self, scope: Scope, receive: Receive, send: Send, answer: _Answer) -> None:
        state = scope.setdefault("state", {})
        if answer.key is not None:
            state["api_key"] = answer.key  # the access log's key prefix
        body = answer.body
        if isinstance(body, bytes):
            assert answer.quota is not None
            # Straight to the server: the headers Starlette's Response would have made.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        *answer.quota.raw_headers(),
                        (b"content-length", str(len(body)).encode()),
                        (b"content-type", _JSON_CONTENT_TYPE),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if isinstance(body, Response):
            assert answer.quota is not None
            body.headers.update(answer.quota.headers())
            await body(scope, receive, send)
            return
        request_id = state.get("request_id")
        if isinstance(body, ApiError):
            await error_response(body, request_id, answer.quota)(scope, receive, send)
            return
        # What FastAPI's last-resort handler does: the envelope (with the key's quota),
        # then the error goes on up to be logged, even if the client has gone.
        internal = InternalError("internal_error", "An internal error occurred.")
        try:
            await error_response(internal, request_id, answer.quota)(scope, receive, send)
        finally:
            raise body

    async def _serve_write(
        self, scope: Scope, receive: Receive, send: Send, lane: WriteLane
    ) -> None:
        messages, request = await self._take_write(scope, receive, lane)
        if request is None:
            # The long way reads the body the lane has read, then the rest of it.
            await self.app(scope, _replaying(messages, receive) if messages else receive, send)
            return
        scope["route"] = self._routes[lane.path]
        header = _header(scope, b"authorization")
        answer = await self.services.run_admission(self._write_answer, lane, header, request)
        await self._send(scope, receive, send, answer)

    async def _take_write(
        self, scope: Scope, receive: Receive, lane: WriteLane
    ) -> tuple[list[Message], _WriteRequest | None]:
        """The body's messages as read, and the write if the lane takes it (see WriteLane)."""
        if not self._reads_body_first(scope):
            return [], None
        limit = self.services.settings.max_body_bytes
        messages: list[Message] = []
        size = 0
        more = True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":  # the client went away
                return messages, None
            size += len(message.get("body", b""))
            if size > limit:
                return messages, None
            more = message.get("more_body", False)
        body = b"".join(message.get("body", b"") for message in messages)
        try:
            key = idempotency.parse_header(_header(scope, idempotency.HEADER.lower().encode()))
            parsed = parse_json_body(body, _header(scope, b"content-type") or "")
            data = lane.model.model_validate(parsed)
        except (ApiError, ValidationError):
            return messages, None
        idempotent = None
        if key is not None:
            idempotent = idempotency.IdempotentRequest(
                key=key,
                method="POST",
                # What the route takes, request.url.path: for a lane's plain path (no
                # "?", "#" or "\\" to escape) that is the path itself, without parsing a URL.
                path=lane.path,
                request_hash=idempotency.request_hash(parsed),
            )
        return messages, _WriteRequest(data, idempotent)

    def _reads_body_first(self, scope: Scope) -> bool:
        """Whether the lane may read this POST's body before admission.

        The lane admits a write only once its body has validated (so an invalid one is
        admitted once, the long way). Where the long way refuses without reading the
        body, it goes there unread: no well-formed key (401), a declared size over the
        limit (413), a client waiting for ``100 Continue`` (it would upload before a
        401 or 429). With the Redis limiter admission runs on another thread pool than
        database work, and the write stays where FastAPI runs it.
        """
        try:
            auth.bearer_token(_header(scope, b"authorization"))
        except ApiError:
            return False
        declared = _header(scope, b"content-length") or ""
        too_large = declared.isdigit() and int(declared) > self.services.settings.max_body_bytes
        expects = _header(scope, b"expect") is not None
        return not (too_large or expects or self.services.admission_blocks)

    def _write_answer(self, lane: WriteLane, header: str | None, request: _WriteRequest) -> _Answer:
        """Admission, then the write (blocking: see run_admission)."""
        answer = _Answer()
        with _answering(answer):
            admitted = self.services.admission.admit(header)
            answer.written(self.services, lane, request, admitted)
        return answer

    def _answer(self, lane: Lane, header: str | None, ref: str, page: _PageQuery) -> _Answer:
        """Admission, then the read on the same connection (blocking: see run_admission)."""
        admission = self.services.admission
        answer = _Answer()
        with _answering(answer):
            digest = admission.digest(header)
            point = lane.point
            parsed = parse_ref(ref) if point is not None else None
            with self.services.db.connect() as conn:
                if point is not None and parsed is not None:
                    # Where it can, one statement: the key, the limiter's decision (or
                    # the lookup alone, with a lease) and the row.
                    found = admission.admit_and_find(conn, digest, point.lookup, *parsed)
                    if found is not None:
                        answer.found(point, lane.scope, *found)
                        return answer
                # The read shares admission's connection; its 403s and 404s still
                # count against the limit (the hit has committed).
                admission.admit_then(
                    conn, digest, lambda admitted: answer.read(conn, lane, ref, page, admitted)
                )
        return answer


@contextmanager
def _answering(answer: _Answer) -> Iterator[None]:
    """Keep what the work raises as the answer's body, for ``FastLane._send``."""
    try:
        yield
    except ApiError as error:
        answer.body = error
    except OperationalError as exc:
        answer.body = database_unavailable(exc)
    except Exception as exc:  # a bug: answered as a 500 that still carries the quota
        answer.body = exc


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lowercase), as Starlette's Headers.get reads it."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first gives back ``messages``, already read from it."""
    pending = deque(messages)

    async def replay() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return replay


def _page_query(query: bytes) -> _PageQuery | None:
    """(limit, cursor) of a query with at most one plain ``limit`` and one ``cursor``;
    None for anything else (the long way answers it)."""
    limit, cursor = DEFAULT_PAGE_LIMIT, None
    seen: set[str] = set()
    # The same parsing as Starlette's QueryParams.
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            return None
        seen.add(name)
        if name == "limit" and _PLAIN_LIMIT.fullmatch(value):
            limit = int(value)
        elif name == "cursor":
            cursor = value
        else:
            return None
    return limit, cursor


def _page_params(page: _PageQuery) -> PageParams:
    limit, cursor = page
    return PageParams(limit=limit, before=parse_cursor(cursor))
