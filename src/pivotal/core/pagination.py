"""Cursor pagination (SPEC §4): newest first, cursor = created_at of the last item."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Column, Connection, Row, Select

from pivotal.core import clock
from pivotal.core.errors import InvalidRequest


@dataclass(frozen=True)
class PageParams:
    limit: int
    before: int | None  # microseconds; only rows created strictly before it


async def _page_params(  # async: a plain def would cost a thread hop
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")] = 20,
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


def page_of(
    conn: Connection,
    query: Select[Any],
    created_at: Column[int],
    page: PageParams,
    render: Callable[[Row[Any]], Any],
) -> dict[str, Any]:
    """Cut one page from ``query`` (already filtered) and render it as a list object."""
    if page.before is not None:
        query = query.where(created_at < page.before)
    rows: Sequence[Row[Any]] = conn.execute(
        query.order_by(created_at.desc()).limit(page.limit + 1)
    ).all()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "object": "list",
        "data": [render(row) for row in rows],
        "has_more": has_more,
        "next_cursor": clock.iso(rows[-1].created_at) if has_more else None,
    }
