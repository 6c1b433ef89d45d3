"""The application factory: routers, middleware and error handlers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from pivotal import __version__
from pivotal.activity.router import router as activity_router
from pivotal.config import Settings
from pivotal.contacts.router import router as contacts_router
from pivotal.core import handlers, logs
from pivotal.core.context import Services
from pivotal.core.fastlane import FastLane, Lane, PointRead, WriteLane
from pivotal.core.middleware import RequestContextMiddleware
from pivotal.core.routing import API_PREFIX
from pivotal.customers import service as customers_service
from pivotal.customers.router import router as customers_router
from pivotal.customers.schemas import CustomerCreate
from pivotal.dashboard import STATIC_DIR
from pivotal.dashboard.router import routers as dashboard_routers
from pivotal.db.engine import Database
from pivotal.meta.router import authenticated as meta_authenticated
from pivotal.meta.router import me_body
from pivotal.meta.router import public as meta_public
from pivotal.onboardings.router import router as onboardings_router
from pivotal.tasks.router import router as tasks_router
from pivotal.webhooks.router import router as webhooks_router

MAINTENANCE_INTERVAL_SECONDS = 300
log = logging.getLogger("pivotal.maintenance")


async def _maintenance(services: Services) -> None:
    """Every few minutes, drop expired idempotency results and rate-limit rows.

    Correctness never depends on it (expired rows are ignored when read); it only keeps
    the tables small. Every process runs it; the deletes are idempotent.
    """
    while True:
        await asyncio.sleep(MAINTENANCE_INTERVAL_SECONDS)
        try:
            await run_in_threadpool(services.prune_expired)
        except Exception:  # a failed round is retried next time; never kill the loop
            log.exception("maintenance round failed")


async def _flush_logs() -> None:
    """Write the log lines gathered since the last round (see core/logs.py)."""
    while True:
        await asyncio.sleep(logs.FLUSH_SECONDS)
        logs.flush()


def _tune_garbage_collector() -> None:
    """Once per process, before serving: collect, then freeze everything alive so far
    (modules, the app, its statements), and collect the young generation less often.

    A request's objects die by reference counting; what the cyclic collector mostly does
    under load is walk the startup objects again and again. Frozen, they are out of its
    way: in alternating runs here, PostgreSQL GETs gained about 10% requests/s and their
    p99 fell from 70-95 ms to 45-55 ms.
    """
    if gc.get_freeze_count() == 0:  # a second app in the same process changes nothing
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.state.services
    # Here, not only in the CLI: `serve --workers N` starts fresh processes, and each
    # must write its own access lines (a no-op where logging is already set up).
    logs.configure(services.settings.log_level)
    # Blocking work (PostgreSQL calls, DNS, the dashboard's pages) runs on a few threads:
    # more of them only fight over the GIL, and throughput falls as tail latency grows.
    to_thread.current_default_thread_limiter().total_tokens = services.settings.threads
    _tune_garbage_collector()
    tasks = [asyncio.create_task(_maintenance(services)), asyncio.create_task(_flush_logs())]
    stop = asyncio.Event()
    if services.settings.run_worker:
        from pivotal.workers import run_workers

        tasks.append(asyncio.create_task(run_workers(services, stop)))
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Nothing flushes from here on, and a forked worker may end without exit hooks:
        # what is pending goes out now, and lines logged after it (a request finishing
        # late) go out as they come.
        logs.stop_batching()


# The GETs integrations repeat all day, served by core/fastlane.py.
FAST_LANES = (
    Lane("/api/v1/me", None, lambda tx, request: me_body(request.key)),
    Lane(
        "/api/v1/customers/{id}",
        "read:customers",
        lambda tx, request: customers_service.get(tx, request.ref),
        point=PointRead(customers_service.LOOKUP, customers_service.render),
    ),
    Lane(
        "/api/v1/customers",
        "read:customers",
        lambda tx, request: customers_service.list_customers(tx, {}, request.page),
        paged=True,
    ),
)
# The write integrations repeat all day (a CRM backfill): create a customer.
FAST_WRITES = (
    WriteLane("/api/v1/customers", "write:customers", CustomerCreate, customers_service.create),
)


class PivotalApp(FastAPI):
    """FastAPI with our two outermost layers in front of its own middleware.

    Request ids and the access log come first, then the fast lane: a request the lane
    serves skips FastAPI's error, telemetry and exception middleware altogether (they
    cost more than its database work). Everything else goes on to FastAPI as before.
    """

    fast_lane: tuple[Services, list[Any]] | None = None  # the lane's services and routes

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        if self.fast_lane is not None:
            services, routes = self.fast_lane
            app = FastLane(app, services, FAST_LANES, routes, FAST_WRITES)
        return RequestContextMiddleware(app)


# FastAPI's instrumentation, all three signals off (see Settings.opentelemetry).
_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, fast_lane: bool = True
) -> FastAPI:
    """The app; ``fast_lane=False`` sends every request the long way (tests compare both)."""
    settings = settings or Settings.from_env()
    app = PivotalApp(
        title="Pivotal API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        # A trailing slash is another path, answered 404 in the envelope, not a bare 307.
        redirect_slashes=False,
        lifespan=_lifespan,
        telemetry=None if settings.opentelemetry else _TELEMETRY_OFF,
    )
    db = db or Database(settings.database_url, threads=settings.threads)
    app.state.services = Services(settings, db)
    routers = (
        meta_public,
        meta_authenticated,
        customers_router,
        contacts_router,
        onboardings_router,
        tasks_router,
        activity_router,
        webhooks_router,
        *dashboard_routers,
    )
    for router in routers:
        app.include_router(router)
    # The dashboard's stylesheet and script, served by this same process (no CDN).
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    handlers.install(app)
    # With OpenTelemetry on, every request goes FastAPI's way: the lane skips the routing
    # that names a span's route, and the middleware that records its errors.
    if fast_lane and not settings.opentelemetry:
        app.fast_lane = (app.state.services, [r for router in routers for r in router.routes])
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed per 60-second window for this key.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "Unix time (seconds) when a slot frees.",
}


def _document_headers(method: str, responses: dict[str, Any]) -> None:
    """Rate-limit headers on every answer; Retry-After on 429; Idempotent-Replayed on POST."""
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        for name, description in _RATE_LIMIT_HEADERS.items():
            headers[name] = {"description": description, "schema": {"type": "integer"}}
        if status == "429":
            headers["Retry-After"] = {
                "description": "Seconds to wait before retrying (at least 1).",
                "schema": {"type": "integer", "minimum": 1},
            }
        if method == "post" and status.startswith("2"):
            headers["Idempotent-Replayed"] = {
                "description": "`true` when this is the stored result of an earlier request "
                "with the same Idempotency-Key.",
                "schema": {"type": "string", "enum": ["true"]},
            }


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with our bearer scheme and without FastAPI's 422.

    Validation errors are 400s in the SPEC envelope (documented per operation by
    ``core.openapi.errors``), so the framework's default 422 would be a lie.
    """
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.get("responses", {})
                responses.pop("422", None)
                if "security" in operation:
                    _document_headers(method, responses)
        components = schema.setdefault("components", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.get("schemas", {}).pop(name, None)
        components["securitySchemes"] = {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "pivotal_<secret> (live) or pivotal_test_<secret> (test).",
            }
        }
        app.openapi_schema = schema
    return app.openapi_schema
