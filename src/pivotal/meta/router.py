"""Health checks and ``/me`` (SPEC §7.1)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pivotal import __version__
from pivotal.core import clock
from pivotal.core.auth import ApiKey
from pivotal.core.context import Ctx, Services
from pivotal.core.openapi import errors
from pivotal.core.responses import json_response
from pivotal.core.routing import route_class

public = APIRouter(tags=["meta"])
authenticated = APIRouter(tags=["meta"], route_class=route_class(None))


class Health(BaseModel):
    status: Literal["ok"]
    timestamp: str
    version: str


class DeepHealth(BaseModel):
    status: Literal["ok", "error"]
    checks: dict[str, str]


class RateLimitInfo(BaseModel):
    limit: int
    window_seconds: int


class MeApiKey(BaseModel):
    id: str
    name: str
    prefix: str
    mode: Literal["live", "test"]
    scopes: list[str]
    rate_limit: RateLimitInfo


class MeOrganization(BaseModel):
    id: str
    slug: str
    name: str


class Me(BaseModel):
    object: Literal["me"]
    livemode: bool
    api_key: MeApiKey
    organization: MeOrganization


@public.get("/api/v1/health", response_model=Health)
async def health() -> Response:
    """Liveness: answers without touching the database, no key needed."""
    return json_response(
        {"status": "ok", "timestamp": clock.iso(clock.now_us()), "version": __version__}
    )


def _check_database(services: Services) -> str:
    try:
        with services.db.transaction(write=False) as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ok"; the reason is for operators
        return f"error: {type(exc).__name__}"
    return "ok"


@public.get(
    "/api/health/deep",
    response_model=DeepHealth,
    responses={503: {"model": DeepHealth, "description": "A dependency is failing"}},
)
async def deep_health(request: Request) -> Response:
    """Readiness: checks the database, and Redis when it is configured."""
    services: Services = request.app.state.services
    checks: dict[str, Any] = {"database": await run_in_threadpool(_check_database, services)}
    if services.settings.redis_url:
        reachable = await run_in_threadpool(services.rate_limiter.store.check)
        checks["redis"] = "ok" if reachable else "error: unreachable"
    ok = all(value == "ok" for value in checks.values())
    return json_response({"status": "ok" if ok else "error", "checks": checks}, 200 if ok else 503)


@authenticated.get("/api/v1/me", response_model=Me, responses=errors())
async def me(ctx: Ctx) -> Response:
    """The calling API key and its workspace."""
    return json_response(me_body(ctx.key))


def me_body(key: ApiKey) -> dict[str, Any]:
    return {
        "object": "me",
        "livemode": key.livemode,
        "api_key": {
            "id": key.id,
            "name": key.name,
            "prefix": key.prefix,
            "mode": key.mode,
            "scopes": list(key.scopes),
            "rate_limit": {"limit": key.rate_limit, "window_seconds": 60},
        },
        "organization": {
            "id": key.workspace_id,
            "slug": key.workspace_slug,
            "name": key.workspace_name,
        },
    }
