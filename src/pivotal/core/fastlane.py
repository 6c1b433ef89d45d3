"""The fast lane: the hottest reads answered without FastAPI's per-request machinery.

Integrations poll single customers and page through the customer list all day; for those
GETs, routing over every route, solving dependencies and the exception middleware cost
more than the work itself. A GET the lane fully understands (one of its paths, with a
query made only of the parameters it checks) is answered here with the same parts the
FastAPI route uses: admission, the scope check, the service's read and the one error
renderer. The read runs on admission's connection, right after admission commits: one
connection from the pool and, on PostgreSQL, one trip to a worker thread per request.

Anything else goes to FastAPI untouched, before any work, so a request is admitted
once and every validation message keeps one owner. The lane sits inside
RequestContextMiddleware: request ids and access-log lines are the same either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy.exc import OperationalError
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from pivotal.core import clock
from pivotal.core.auth import ApiKey, require_scope
from pivotal.core.context import Actor, Services, Tx
from pivotal.core.errors import ApiError
from pivotal.core.handlers import database_unavailable, error_response
from pivotal.core.pagination import DEFAULT_PAGE_LIMIT, PageParams, parse_cursor
from pivotal.core.ratelimit import Quota, RateLimiter
from pivotal.core.responses import JSON_MEDIA_TYPE

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
class Lane:
    """One endpoint the lane serves: the FastAPI route's path, its scope and its read.

    ``path`` is static or ends in ``/{id}``; ``paged`` lanes take ``limit`` and
    ``cursor`` and nothing else.
    """

    path: str
    scope: str | None
    read: Callable[[Tx, LaneRequest], Any]
    paged: bool = False


@dataclass(frozen=True)
class _Answer:
    key: ApiKey | None
    quota: Quota | None
    body: bytes | ApiError


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
        if isinstance(answer.body, ApiError):
            response = error_response(answer.body, state.get("request_id"), answer.quota)
        else:
            assert answer.quota is not None
            headers = answer.quota.headers()
            response = Response(answer.body, 200, headers, media_type=JSON_MEDIA_TYPE)
        await response(scope, receive, send)

    def _answer(self, lane: Lane, header: str | None, ref: str, page: _PageQuery) -> _Answer:
        """Admission, then the read on the same connection (blocking: see run_admission)."""
        admission = self.services.admission
        key = quota = None
        try:
            digest = admission.digest(header)
            with self.services.db.connect() as conn:
                admitted = admission.admit_on(conn, digest)  # committed: 403s and 404s count
                key = admitted.key
                quota = RateLimiter.settle(admitted.window, key.rate_limit, admitted.at)
                if lane.scope is not None:
                    require_scope(key, lane.scope)
                request = LaneRequest(key, ref, _page_params(page))
                actor = Actor(name=key.actor, type="api_key", livemode=key.livemode)
                with self.services.db.read_on(conn):
                    result = lane.read(Tx(conn, key.workspace_id, actor, clock.now_us()), request)
            return _Answer(key, quota, orjson.dumps(result))
        except ApiError as error:
            return _Answer(key, quota, error)
        except OperationalError as exc:
            return _Answer(key, quota, database_unavailable(exc))


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
