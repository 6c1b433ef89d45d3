"""Everything that runs after commit: webhook deliveries and integration jobs."""

from __future__ import annotations

import asyncio

from pivotal.core.context import Services
from pivotal.integrations.runner import IntegrationRunner
from pivotal.webhooks.delivery import DeliveryWorker


async def run_workers(services: Services, stop: asyncio.Event) -> None:
    """Drain both durable queues until ``stop`` is set."""
    await asyncio.gather(
        DeliveryWorker(services).run_until(stop),
        IntegrationRunner(services).run_until(stop),
    )
