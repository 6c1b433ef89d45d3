"""The fast lane: the hottest reads answered without FastAPI's per-request machinery.

Integrations poll single customers and page through the customer list all day; for those
GETs, FastAPI's middleware, routing over every route and solving dependencies cost more
than the work itself. A GET the lane fully understands (one of its paths, with a query
made only of the parameters it checks) is answered here with the same parts the FastAPI
route uses: admission, the scope check, the service's read and the one error renderer.
The read shares admission's connection, after the hit has committed: on SQLite in a
read transaction of the driver's; on PostgreSQL in autocommit, and a single customer
inside admission's own statement. One connection from the pool and, on PostgreSQL, one
trip to a worker thread per request.

Anything else goes to FastAPI untouched, before any work, so a request is admitted
once and every validation message keeps one owner. The lane sits right inside
RequestContextMiddleware, in front of FastAPI's own middleware (app.PivotalApp):
request ids and access-log lines are the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy.exc import OperationalError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from pivotal.core import clock
from pivotal.core.admission import Admitted
from pivotal.core.auth import ApiKey, require_scope
from pivotal.core.context import Actor, Services, Tx
from pivotal.core.errors import ApiError, InternalError, not_found
from pivotal.core.handlers import database_unavailable, error_response
from pivotal.core.ids import parse_ref
from pivotal.core.lookup import PointLookup
from pivotal.core.pagination import DEFAULT_PAGE_LIMIT, PageParams, parse_cursor
from pivotal.core.ratelimit import Quota, RateLimiter
from pivotal.core.responses import JSON_MEDIA_TYPE

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
    admission can (Admission.finds_with_admission), its statement finds the row too."""

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


@dataclass(slots=True)
class _Answer:
    """What a lane request came to, filled in as it goes (a refusal keeps the quota)."""

    key: ApiKey | None = None
    quota: Quota | None = None
    body: bytes | ApiError | Exception = b""  # the JSON, an error to answer, a bug to raise

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

    def _admitted(self, admitted: Admitted, scope: str | None) -> ApiKey:
        """Settle the quota (the 429) and check the scope (the 403), keeping both for
        the answer's headers and log line."""
        key = self.key = admitted.key
        self.quota = RateLimiter.settle(admitted.window, key.rate_limit, admitted.at)
        if scope is not None:
            require_scope(key, scope)
        return key


class FastLane:
    """ASGI middleware in front of FastAPI: serves ``lanes``, passes on everything else."""

    def __init__(
        self, app: ASGIApp, services: Services, lanes: Iterable[Lane], routes: list[BaseRoute]
    ) -> None:
        self.app = app
        self.services = services
        self._static: dict[str, Lane] = {}
        self._by_prefix: dict[str, Lane] = {}  # "/api/v1/customers/" for ".../{id}"
        self._routes: dict[str, BaseRoute] = {}
        for lane in lanes:
            if lane.path.endswith("/{id}"):
                self._by_prefix[lane.path.removesuffix("{id}")] = lane
            else:
                self._static[lane.path] = lane
            # The access log names the route template, as it does for FastAPI's routes.
            self._routes[lane.path] = next(
                r for r in routes if getattr(r, "path", None) == lane.path
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = self._match(scope["path"], scope["query_string"])
            if found is not None:
                await self._serve(scope, receive, send, *found)
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
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        answer = await self.services.run_admission(self._answer, lane, header, ref, page)
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

    def _answer(self, lane: Lane, header: str | None, ref: str, page: _PageQuery) -> _Answer:
        """Admission, then the read on the same connection (blocking: see run_admission)."""
        admission = self.services.admission
        answer = _Answer()
        try:
            digest = admission.digest(header)
            point = lane.point if admission.finds_with_admission else None
            parsed = parse_ref(ref) if point is not None else None
            with self.services.db.connect() as conn:
                if point is not None and parsed is not None:
                    # One statement: the key, the limiter's decision (or the lookup
                    # alone, with a lease) and the row.
                    admitted, row = admission.admit_and_find(conn, digest, point.lookup, *parsed)
                    answer.found(point, lane.scope, admitted, row)
                    return answer
                # The read shares admission's connection; its 403s and 404s still
                # count against the limit (the hit has committed).
                admission.admit_then(
                    conn, digest, lambda admitted: answer.read(conn, lane, ref, page, admitted)
                )
        except ApiError as error:
            answer.body = error
        except OperationalError as exc:
            answer.body = database_unavailable(exc)
        except Exception as exc:  # a bug: answered as a 500 that still carries the quota
            answer.body = exc
        return answer


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
