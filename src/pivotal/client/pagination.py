"""List results: iterate every object across pages, or take one page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from pivotal.client._core import Call, ListCall
from pivotal.client.models import Page

__all__ = ["AsyncListIterator", "ListIterator", "Page"]

T = TypeVar("T")


class ListIterator(Generic[T]):
    """Every object of a list, newest first, fetched a page at a time as you iterate.

    Nothing is requested until you iterate or call ``first_page()``. Iterating again
    starts again from the first page.
    """

    def __init__(self, call: ListCall[T], run: Callable[[Call[Page[T]]], Page[T]]) -> None:
        self._call = call
        self._run = run

    def first_page(self) -> Page[T]:
        """One page, with ``has_more`` and ``next_cursor``."""
        return self._run(self._call.page(self._call.params.get("cursor")))

    def pages(self) -> Iterator[Page[T]]:
        """Each page in turn, following ``next_cursor`` until ``has_more`` is false."""
        page = self.first_page()
        yield page
        while page.has_more and page.next_cursor is not None:
            page = self._run(self._call.page(page.next_cursor))
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data


class AsyncListIterator(Generic[T]):
    """``async for`` over every object of a list; ``await first_page()`` for one page."""

    def __init__(
        self, call: ListCall[T], run: Callable[[Call[Page[T]]], Awaitable[Page[T]]]
    ) -> None:
        self._call = call
        self._run = run

    async def first_page(self) -> Page[T]:
        """One page, with ``has_more`` and ``next_cursor``."""
        return await self._run(self._call.page(self._call.params.get("cursor")))

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Each page in turn, following ``next_cursor`` until ``has_more`` is false."""
        page = await self.first_page()
        yield page
        while page.has_more and page.next_cursor is not None:
            page = await self._run(self._call.page(page.next_cursor))
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item
