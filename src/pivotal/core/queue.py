"""The durable work queue shared by webhook deliveries and integration jobs.

A row is due when ``status = 'pending'`` and ``next_attempt_at <= now``. A worker claims
due rows by moving ``next_attempt_at`` forward by a lease and stamping ``lease_token``
in one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never
claim the same row; SQLite has one writer). The work itself runs outside any
transaction; a worker that dies mid-way leaves the lease to expire and the row is
claimed again: at least once, never twice at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import httpx
from sqlalchemy import Connection, Table, select, update
from starlette.concurrency import run_in_threadpool

from pivotal.core import clock
from pivotal.core.context import Services

log = logging.getLogger("pivotal.queue")

SECOND = clock.MICROS_PER_SECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
# Waits after each failed attempt; then one last attempt 24 h after the first (SPEC §8.3).
RETRY_DELAYS_US = (5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR)
LAST_ATTEMPT_AFTER_US = 24 * HOUR
# Longer than an attempt can take (a 10 s timeout), so no two workers overlap on a row.
LEASE_US = 20 * SECOND


def next_attempt_at(attempts_made: int, first_attempt_at: int, now: int) -> int | None:
    """When to try again after ``attempts_made`` failed attempts; None means give up."""
    if attempts_made <= len(RETRY_DELAYS_US):
        return now + RETRY_DELAYS_US[attempts_made - 1]
    if attempts_made == len(RETRY_DELAYS_US) + 1:
        return max(now, first_attempt_at + LAST_ATTEMPT_AFTER_US)
    return None


def claim_due(conn: Connection, table: Table, now: int, limit: int) -> tuple[list[str], str]:
    """Lease up to ``limit`` due rows of ``table``; returns their ids and the lease token."""
    due = (
        select(table.c.id)
        .where(table.c.status == "pending", table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(due).scalars())
    token = secrets.token_hex(8)
    if ids:
        conn.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(next_attempt_at=now + LEASE_US, lease_token=token)
        )
    return ids, token


async def run_forever(
    step: Callable[[], Awaitable[int]], stop: asyncio.Event, idle_seconds: float = 0.5
) -> None:
    """Call ``step`` until ``stop`` is set, resting when it found nothing to do."""
    while not stop.is_set():
        try:
            done = await step()
        except Exception:  # a failing round is logged and retried; never kill the loop
            log.exception("queue round failed")
            done = 0
        if done == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle_seconds)


Item = TypeVar("Item")


class QueueWorker(ABC, Generic[Item]):
    """Claims a batch of due rows, works them concurrently over one HTTP client, and
    records each outcome. Subclasses say how to claim and how to work one item.
    ``now`` is injectable so tests can run a whole retry schedule in a moment."""

    timeout_seconds = 10.0

    def __init__(
        self,
        services: Services,
        *,
        now: Callable[[], int] = clock.now_us,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.services = services
        self.now = now
        self.transport = transport

    @abstractmethod
    def claim(self, now: int) -> list[Item]:
        """Lease due items (runs in a thread)."""

    @abstractmethod
    async def work(self, client: httpx.AsyncClient, item: Item, now: int) -> None:
        """Attempt one item and record the outcome."""

    def client_transport(self) -> httpx.AsyncBaseTransport | None:
        return self.transport

    async def run_once(self) -> int:
        """Work every item due now (one batch); returns how many were attempted."""
        now = self.now()
        items = await run_in_threadpool(self.claim, now)
        if not items:
            return 0
        async with httpx.AsyncClient(
            timeout=self.timeout_seconds,
            follow_redirects=False,
            transport=self.client_transport(),
        ) as client:
            results = await asyncio.gather(
                *(self.work(client, item, now) for item in items), return_exceptions=True
            )
        for result in results:
            if isinstance(result, BaseException):
                # Its lease runs out and the item is attempted again.
                log.error("working a queued item failed", exc_info=result)
        return len(items)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set."""
        await run_forever(self.run_once, stop)
