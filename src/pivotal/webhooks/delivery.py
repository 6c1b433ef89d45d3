"""The delivery worker (SPEC §8.3): claims due deliveries from the durable queue
(core/queue.py), signs and POSTs them, records every attempt, and schedules retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, insert, select, update
from starlette.concurrency import run_in_threadpool

from pivotal.core import clock, queue
from pivotal.db import tables
from pivotal.webhooks import signing
from pivotal.webhooks.service import active_secrets
from pivotal.webhooks.urls import PinnedTransport, UnsafeUrl, check_target

log = logging.getLogger("pivotal.webhooks")

TIMEOUT_SECONDS = 10.0
DISABLE_AFTER_FAILED_DELIVERIES = 100
BATCH_SIZE = 20
USER_AGENT = "Pivotal-Webhooks/1"

_deliveries = tables.webhook_deliveries
_endpoints = tables.webhook_endpoints
_attempts = tables.webhook_attempts
_events = tables.events


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    lease_token: str
    endpoint_id: str
    url: str
    secrets: list[str]
    body: bytes
    usable: bool  # False when the endpoint was disabled or deleted meanwhile


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryWorker(queue.QueueWorker[Claimed]):
    """Delivers due webhooks."""

    timeout_seconds = TIMEOUT_SECONDS

    # ---- database side (runs in a thread) -------------------------------------------

    def claim(self, now: int, limit: int = BATCH_SIZE) -> list[Claimed]:
        with self.services.db.transaction(write=True) as conn:
            ids, token = queue.claim_due(conn, _deliveries, now, limit)
            if not ids:
                return []
            rows = conn.execute(
                select(
                    _deliveries.c.id,
                    _endpoints.c.id.label("endpoint_id"),
                    _endpoints.c.url,
                    _endpoints.c.secret,
                    _endpoints.c.previous_secret,
                    _endpoints.c.previous_secret_expires_at,
                    _endpoints.c.disabled,
                    _endpoints.c.deleted_at,
                    _events.c.payload,
                )
                .join(_endpoints, _endpoints.c.id == _deliveries.c.endpoint_id)
                .join(_events, _events.c.id == _deliveries.c.event_id)
                .where(_deliveries.c.id.in_(ids))
            ).all()
        server_secret = self.services.secret_key
        return [
            Claimed(
                delivery_id=row.id,
                lease_token=token,
                endpoint_id=row.endpoint_id,
                url=row.url,
                secrets=active_secrets(row, server_secret, now),
                body=row.payload.encode(),
                usable=not row.disabled and row.deleted_at is None,
            )
            for row in rows
        ]

    def record(self, claimed: Claimed, outcome: Outcome | None, now: int) -> None:
        """Store the attempt and move the delivery (and its endpoint) on."""
        with self.services.db.transaction(write=True) as conn:
            delivery = conn.execute(
                select(_deliveries).where(
                    _deliveries.c.id == claimed.delivery_id,
                    _deliveries.c.lease_token == claimed.lease_token,
                )
            ).first()
            if outcome is not None:
                conn.execute(
                    insert(_attempts).values(
                        delivery_id=claimed.delivery_id,
                        attempted_at=now,
                        status_code=outcome.status_code,
                        duration_ms=outcome.duration_ms,
                        error=outcome.error,
                    )
                )
            if delivery is None:
                return  # the lease ran out and another worker owns the delivery now
            if outcome is None:
                self._finish(conn, delivery.id, "failed", now)  # endpoint gone or disabled
            elif outcome.succeeded:
                self._finish(conn, delivery.id, "succeeded", now)
                self._endpoint(conn, claimed.endpoint_id, consecutive_failures=0)
            elif outcome.status_code == 410:
                self._finish(conn, delivery.id, "failed", now)
                self._endpoint(
                    conn,
                    claimed.endpoint_id,
                    disabled=True,
                    disabled_reason="The endpoint answered 410 Gone.",
                )
            else:
                self._failed_attempt(conn, delivery, claimed.endpoint_id, now)

    def _failed_attempt(self, conn: Connection, delivery: Any, endpoint_id: str, now: int) -> None:
        made = delivery.attempt_count + 1
        first = delivery.first_attempt_at or now
        retry_at = queue.next_attempt_at(made, first, now)
        if retry_at is not None:
            conn.execute(
                update(_deliveries)
                .where(_deliveries.c.id == delivery.id)
                .values(
                    attempt_count=made,
                    first_attempt_at=first,
                    next_attempt_at=retry_at,
                    lease_token=None,
                    updated_at=now,
                )
            )
            return
        self._finish(conn, delivery.id, "failed", now, attempt_count=made)
        failures = conn.execute(
            update(_endpoints)
            .where(_endpoints.c.id == endpoint_id)
            .values(consecutive_failures=_endpoints.c.consecutive_failures + 1)
            .returning(_endpoints.c.consecutive_failures)
        ).scalar_one()
        if failures >= DISABLE_AFTER_FAILED_DELIVERIES:
            self._endpoint(
                conn,
                endpoint_id,
                disabled=True,
                disabled_reason=f"{failures} consecutive deliveries failed.",
            )

    @staticmethod
    def _finish(conn: Connection, delivery_id: str, status: str, now: int, **extra: Any) -> None:
        values = {"status": status, "lease_token": None, "updated_at": now, **extra}
        if status == "succeeded":
            values["attempt_count"] = _deliveries.c.attempt_count + 1
        conn.execute(update(_deliveries).where(_deliveries.c.id == delivery_id).values(values))

    @staticmethod
    def _endpoint(conn: Connection, endpoint_id: str, **values: Any) -> None:
        conn.execute(update(_endpoints).where(_endpoints.c.id == endpoint_id).values(values))

    # ---- network side -----------------------------------------------------------------

    async def _send(self, client: httpx.AsyncClient, claimed: Claimed, now: int) -> Outcome:
        settings = self.services.settings
        try:
            check_target(
                claimed.url,
                allow_http=settings.webhooks_allow_http,
                allow_private=settings.webhooks_allow_private,
                resolve=False,  # the pinned transport vets the addresses it connects to
            )
        except UnsafeUrl as exc:
            return Outcome(None, 0, f"refused: url {exc}"[:500])
        timestamp = now // clock.MICROS_PER_SECOND
        headers = {
            **signing.headers(claimed.secrets, claimed.delivery_id, timestamp, claimed.body),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        started = time.perf_counter()
        try:
            # One deadline for the whole attempt (httpx's timeout is per read), and the
            # body is never read: a slow or huge answer cannot outlive the lease.
            async with asyncio.timeout(TIMEOUT_SECONDS):
                request = client.build_request(
                    "POST", claimed.url, content=claimed.body, headers=headers
                )
                response = await client.send(request, stream=True)
                await response.aclose()
        except TimeoutError:
            return Outcome(None, _elapsed_ms(started), f"timed out after {TIMEOUT_SECONDS:g} s")
        except Exception as exc:  # any failure to deliver is a failed attempt, never a crash
            return Outcome(None, _elapsed_ms(started), f"{type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return Outcome(status, _elapsed_ms(started), error)

    def client_transport(self) -> httpx.AsyncBaseTransport | None:
        if self.transport is None and not self.services.settings.webhooks_allow_private:
            return PinnedTransport()
        return self.transport

    async def work(self, client: httpx.AsyncClient, item: Claimed, now: int) -> None:
        outcome = await self._send(client, item, now) if item.usable else None
        await run_in_threadpool(self.record, item, outcome, self.now())


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
