"""Cursor pagination (SPEC §4): newest first, cursor = created_at of the last item."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Column, Connection, Integer, Select, bindparam

from pivotal.core import clock
from pivotal.core.errors import InvalidRequest
from pivotal.db.engine import Record, fetch

DEFAULT_PAGE_LIMIT = 20


@dataclass(frozen=True)
class PageParams:
    limit: int
    before: int | None  # microseconds; only rows created strictly before it


async def _page_params(  # async: a plain def would cost a thread hop
    limit: Annotated[
        int, Query(ge=1, le=100, description="Page size, 1-100.")
    ] = DEFAULT_PAGE_LIMIT,
    cursor: Annotated[
        str | None,
        Query(description="The `next_cursor` of the previous page (an ISO 8601 date-time)."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, before=parse_cursor(cursor))


def parse_cursor(
    cursor: str | None, message: str = "cursor must be an ISO 8601 date-time"
) -> int | None:
    """The microseconds a cursor names (None for the first page), or 400 ``invalid_string``."""
    if cursor is None:
        return None
    try:
        return clock.parse_datetime(cursor)
    except (ValueError, OverflowError) as exc:
        raise InvalidRequest("invalid_string", message, "cursor") from exc


Page = Annotated[PageParams, Depends(_page_params)]


def _paged(query: Select[Any], created_at: Column[int], after_cursor: bool) -> Select[Any]:
    if after_cursor:
        query = query.where(created_at < bindparam("page_before"))
    return query.order_by(created_at.desc()).limit(bindparam("page_limit", type_=Integer))


# Building a statement and computing its cache key cost about 170 µs a page here, more
# than a point lookup: a module-level query's paged forms are built once.
_paged_once = lru_cache(maxsize=32)(_paged)


def page_of(
    conn: Connection,
    query: Select[Any],
    created_at: Column[int],
    page: PageParams,
    render: Callable[[Record], Any],
    params: dict[str, Any] | None = None,
    *,
    prebuilt: bool = False,
) -> dict[str, Any]:
    """Cut one page from ``query`` (already filtered) and render it as a list object.

    ``prebuilt``: ``query`` is a module-level statement whose values are bind
    parameters, given in ``params``; its paged form is then built once and reused, and
    run on the driver's cursor where it can (see ``fetch``).
    """
    values = {**(params or {}), "page_before": page.before, "page_limit": page.limit + 1}
    rows: Sequence[Record]
    if prebuilt:
        rows = fetch(conn, _paged_once(query, created_at, page.before is not None), values)
    else:
        rows = conn.execute(_paged(query, created_at, page.before is not None), values).all()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "object": "list",
        "data": [render(row) for row in rows],
        "has_more": has_more,
        "next_cursor": clock.iso(rows[-1].created_at) if has_more else None,
    }
