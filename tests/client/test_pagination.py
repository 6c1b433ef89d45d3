"""``list`` follows ``next_cursor`` until ``has_more`` is false; ``first_page()`` is one page."""

from __future__ import annotations

import asyncio

import pytest

from live_server import LiveServer
from pivotal import AsyncPivotalApi, PivotalApi

pytestmark = pytest.mark.slow

TOTAL = 250


def test_iterating_visits_every_object_once_newest_first(sdk: PivotalApi, sdk_key: str) -> None:
    created = [sdk.customers.create(name=f"Customer {n}").id for n in range(TOTAL)]
    newest_first = created[::-1]

    assert [c.id for c in sdk.customers.list()] == newest_first  # default pages of 20
    pages = list(sdk.customers.list(limit=100).pages())
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [p.has_more for p in pages] == [True, True, False]
    assert pages[-1].next_cursor is None and all(p.next_cursor for p in pages[:-1])
    assert [c.id for p in pages for c in p] == newest_first

    first = sdk.customers.list(limit=7).first_page()
    assert [c.id for c in first.data] == newest_first[:7] and first.has_more is True
    # A list can start from a cursor, as the API's own `cursor` parameter does.
    resumed = [c.id for c in sdk.customers.list(limit=100, cursor=first.next_cursor)]
    assert resumed == newest_first[7:]
    # Filters apply on every page.
    assert [c.id for c in sdk.customers.list(limit=3, status="active")] == newest_first


def test_async_iteration_follows_the_cursor(
    live: LiveServer, sdk: PivotalApi, sdk_key: str
) -> None:
    created = [sdk.customers.create(name=f"Customer {n}").id for n in range(TOTAL)]

    async def walk() -> tuple[list[str], list[int]]:
        async with AsyncPivotalApi(api_key=sdk_key, base_url=live.base_url) as api:
            ids = [c.id async for c in api.customers.list(limit=100)]
            sizes = [len(p) async for p in api.customers.list(limit=60).pages()]
            return ids, sizes

    ids, sizes = asyncio.run(walk())
    assert ids == created[::-1]
    assert sizes == [60, 60, 60, 60, 10]
