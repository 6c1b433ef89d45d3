"""The application factory: routers, middleware and error handlers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from pivotal import __version__
from pivotal.config import Settings
from pivotal.contacts.router import router as contacts_router
from pivotal.core import handlers
from pivotal.core.context import Services
from pivotal.core.middleware import RequestContextMiddleware
from pivotal.customers.router import router as customers_router
from pivotal.db.engine import Database
from pivotal.meta.router import authenticated as meta_authenticated
from pivotal.meta.router import public as meta_public
from pivotal.onboardings.router import router as onboardings_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Pivotal API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        # A trailing slash is another path, answered 404 in the envelope, not a bare 307.
        redirect_slashes=False,
    )
    app.state.services = Services(settings, db or Database(settings.database_url))
    app.include_router(meta_public)
    app.include_router(meta_authenticated)
    for router in (customers_router, contacts_router, onboardings_router):
        app.include_router(router, prefix=API_PREFIX)
    handlers.install(app)
    app.add_middleware(RequestContextMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with our bearer scheme and without FastAPI's 422.

    Validation errors are 400s in the SPEC envelope (documented per operation by
    ``core.openapi.errors``), so the framework's default 422 would be a lie.
    """
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
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
