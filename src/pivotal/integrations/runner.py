"""Runs integration jobs after commit, from the durable queue (core/queue.py), with the
webhook retry schedule; a service's Retry-After is honoured. The final outcome of each
job, sent or failed with its reason, lands in the customer's activity."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool

from pivotal.core import clock, queue
from pivotal.core.context import Actor, Tx
from pivotal.db import tables
from pivotal.integrations import clients
from pivotal.integrations.service import hubspot_properties, load_config, record_outcome

TIMEOUT_SECONDS = 10.0
log = logging.getLogger("pivotal.integrations")
BATCH_SIZE = 20
SYSTEM_ACTOR = Actor(name="Pivotal integrations", type="system", livemode=True)
_jobs = tables.integration_jobs


@dataclass(frozen=True)
class Job:
    id: str
    lease_token: str
    workspace_id: str
    customer_id: str
    target_type: str
    target_id: str
    service: str
    action: str
    payload: dict[str, Any]
    config: dict[str, str] | None


class IntegrationRunner(queue.QueueWorker[Job]):
    """Performs due integration jobs."""

    timeout_seconds = TIMEOUT_SECONDS

    def claim(self, now: int) -> list[Job]:
        server_secret = self.services.secret_key
        with self.services.db.transaction(write=True) as conn:
            ids, token = queue.claim_due(conn, _jobs, now, BATCH_SIZE)
            if not ids:
                return []
            rows = conn.execute(select(_jobs).where(_jobs.c.id.in_(ids))).all()
            payloads = {row.id: orjson.loads(row.payload) for row in rows}
            for row in rows:
                if row.service == "hubspot":
                    # Pushed as the customer is now, not as it was when the job was queued:
                    # jobs may run in any order, and the last one must not push stale data.
                    current = conn.execute(
                        select(tables.customers).where(tables.customers.c.id == row.customer_id)
                    ).one()
                    payloads[row.id]["properties"] = hubspot_properties(current._mapping)
            return [
                Job(
                    id=row.id,
                    lease_token=token,
                    workspace_id=row.workspace_id,
                    customer_id=row.customer_id,
                    target_type=row.target_type,
                    target_id=row.target_id,
                    service=row.service,
                    action=row.action,
                    payload=payloads[row.id],
                    config=load_config(conn, server_secret, row.workspace_id, row.service),
                )
                for row in rows
            ]

    async def _perform(self, client: httpx.AsyncClient, job: Job) -> clients.Result:
        if job.config is None:
            return clients.Result(False, f"{job.service} is no longer configured", permanent=True)
        settings, payload, config = self.services.settings, job.payload, job.config
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                return await self._call(client, job.service, settings, payload, config)
        except TimeoutError:
            return clients.Result(False, f"timed out after {TIMEOUT_SECONDS:g} s")
        except Exception as exc:  # any failure is a failed attempt, never a crash
            return clients.Result(False, f"{type(exc).__name__}: {exc}"[:500])

    @staticmethod
    async def _call(  # one request to the service, shaped as it documents it
        client: httpx.AsyncClient,
        service: str,
        settings: Any,
        payload: dict[str, Any],
        config: dict[str, str],
    ) -> clients.Result:
        if service == "slack":
            return await clients.slack_post_message(
                client,
                settings.slack_api_url,
                config["token"],
                payload["channel"],
                payload["text"],
            )
        if service == "resend":
            return await clients.resend_send_email(
                client,
                settings.resend_api_url,
                config["api_key"],
                config["from"],
                payload["to"],
                payload["subject"],
                payload["html"],
            )
        return await clients.hubspot_update_company(
            client,
            settings.hubspot_api_url,
            config["token"],
            payload["company_id"],
            payload["properties"],
        )

    def record(self, job: Job, result: clients.Result, now: int) -> None:
        with self.services.db.transaction(write=True) as conn:
            row = conn.execute(
                select(_jobs).where(_jobs.c.id == job.id, _jobs.c.lease_token == job.lease_token)
            ).first()
            if row is None:
                return  # the lease ran out and another worker owns the job now
            made = row.attempt_count + 1
            first = row.first_attempt_at or now
            retry_at = None
            if not result.ok and not result.permanent:
                retry_at = queue.next_attempt_at(made, first, now)
                if retry_at is not None and result.retry_after is not None:
                    wait = int(result.retry_after * clock.MICROS_PER_SECOND)
                    retry_at = max(retry_at, now + wait)
            values: dict[str, Any] = {
                "attempt_count": made,
                "first_attempt_at": first,
                "lease_token": None,
                "last_error": result.error,
                "updated_at": now,
            }
            if retry_at is not None:
                conn.execute(
                    update(_jobs)
                    .where(_jobs.c.id == job.id)
                    .values(next_attempt_at=retry_at, **values)
                )
                return
            status = "succeeded" if result.ok else "failed"
            conn.execute(
                update(_jobs)
                .where(_jobs.c.id == job.id)
                .values(status=status, next_attempt_at=None, **values)
            )
            record_outcome(
                Tx(conn, job.workspace_id, SYSTEM_ACTOR, now),
                customer_id=job.customer_id,
                target_type=job.target_type,
                target_id=job.target_id,
                service=job.service,
                action=job.action,
                outcome="sent" if result.ok else "failed",
                reason=result.error,
            )

    async def work(self, client: httpx.AsyncClient, item: Job, now: int) -> None:
        result = await self._perform(client, item)
        await run_in_threadpool(self.record, item, result, self.now())
