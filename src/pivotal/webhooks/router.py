"""Webhook endpoints, deliveries and events (SPEC §8)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pivotal.core import clock
from pivotal.core.context import Ctx
from pivotal.core.errors import InvalidRequest
from pivotal.core.openapi import errors
from pivotal.core.pagination import Page
from pivotal.core.routing import API_PREFIX, route_class
from pivotal.webhooks import service
from pivotal.webhooks.schemas import (
    DeletedEndpoint,
    EndpointCreate,
    EndpointUpdate,
    Event,
    EventList,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointList,
)

router = APIRouter(prefix=API_PREFIX, tags=["webhooks"], route_class=route_class("webhooks"))


@router.post(
    "/webhook_endpoints",
    status_code=201,
    response_model=WebhookEndpoint,
    responses=errors(body=True),
)
async def create_endpoint(body: EndpointCreate, ctx: Ctx) -> Response:
    """Create an endpoint; the answer shows its signing secret, this once."""
    services = ctx.services
    # DNS lookups: off the event loop.
    url = await run_in_threadpool(service.vet_url, services.settings, body.url)
    return await ctx.write(
        lambda tx: service.create_endpoint(tx, services.secret_key, body, url), 201
    )


@router.get("/webhook_endpoints", response_model=WebhookEndpointList, responses=errors())
async def list_endpoints(ctx: Ctx, page: Page) -> Response:
    """List endpoints, newest first."""
    return await ctx.read(lambda tx: service.list_endpoints(tx, page))


@router.get("/webhook_endpoints/{id}", response_model=WebhookEndpoint, responses=errors(404))
async def get_endpoint(id: str, ctx: Ctx) -> Response:
    """Retrieve an endpoint (never its secret)."""
    return await ctx.read(lambda tx: service.get_endpoint(tx, id))


@router.patch(
    "/webhook_endpoints/{id}", response_model=WebhookEndpoint, responses=errors(404, body=True)
)
async def update_endpoint(id: str, body: EndpointUpdate, ctx: Ctx) -> Response:
    """Change url, enabled_events, description, or disabled."""
    url = (
        await run_in_threadpool(service.vet_url, ctx.services.settings, body.url)
        if body.url is not None
        else None
    )
    return await ctx.write(lambda tx: service.update_endpoint(tx, id, body, url))


@router.delete("/webhook_endpoints/{id}", response_model=DeletedEndpoint, responses=errors(404))
async def delete_endpoint(id: str, ctx: Ctx) -> Response:
    """Delete an endpoint; it receives nothing more."""
    return await ctx.write(lambda tx: service.delete_endpoint(tx, id))


@router.post(
    "/webhook_endpoints/{id}/rotate_secret",
    response_model=WebhookEndpoint,
    responses=errors(404),
)
async def rotate_secret(id: str, ctx: Ctx) -> Response:
    """A new signing secret; the old one keeps signing beside it for 24 hours."""
    secret_key = ctx.services.secret_key
    return await ctx.write(lambda tx: service.rotate_secret(tx, secret_key, id))


@router.get(
    "/webhook_endpoints/{id}/deliveries", response_model=WebhookDeliveryList, responses=errors(404)
)
async def list_deliveries(id: str, ctx: Ctx, page: Page) -> Response:
    """The endpoint's deliveries, newest first, each with its attempts."""
    return await ctx.read(lambda tx: service.list_deliveries(tx, id, page))


@router.post(
    "/webhook_deliveries/{id}/replay",
    status_code=201,
    response_model=WebhookDelivery,
    responses=errors(404),
)
async def replay_delivery(id: str, ctx: Ctx) -> Response:
    """Send the same event (same id and body) again, as a new delivery."""
    return await ctx.write(lambda tx: service.replay_delivery(tx, id), 201)


@router.get("/events", response_model=EventList, responses=errors())
async def list_events(
    ctx: Ctx,
    page: Page,
    type: Annotated[str | None, Query(description="Exact event type.")] = None,
    created_after: Annotated[
        str | None, Query(description="Only events created strictly after this date-time.")
    ] = None,
) -> Response:
    """The workspace's events of the last 30 days, newest first."""
    after = None
    if created_after is not None:
        try:
            after = clock.parse_datetime(created_after)
        except (ValueError, OverflowError) as exc:
            raise InvalidRequest(
                "invalid_string", "created_after must be an ISO 8601 date-time", "created_after"
            ) from exc
    return await ctx.read(lambda tx: service.list_events(tx, page, type, after))


@router.get("/events/{id}", response_model=Event, responses=errors(404))
async def get_event(id: str, ctx: Ctx) -> Response:
    """Retrieve one event of the last 30 days."""
    return await ctx.read(lambda tx: service.get_event(tx, id))
