"""The one place that turns exceptions into the SPEC §3 envelope."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from pivotal.core.errors import (
    ApiError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from pivotal.core.ratelimit import Quota
from pivotal.core.responses import error_body, json_response
from pivotal.core.validation import translate_errors

log = logging.getLogger("pivotal.error")


def error_response(error: ApiError, request_id: str | None, quota: Quota | None) -> Response:
    """The envelope for ``error``, with the key's X-RateLimit-* headers once it has a quota."""
    body = error_body(error.type, error.code, error.message, error.field, request_id)
    headers = {**quota.headers(), **error.headers} if quota is not None else error.headers
    return json_response(body, error.status, headers)


def render_error(request: Request, error: ApiError) -> Response:
    state = request.state
    return error_response(error, getattr(state, "request_id", None), getattr(state, "quota", None))


def database_unavailable(exc: OperationalError) -> ApiError:
    log.error("database unavailable: %s", exc.orig)
    return ServiceUnavailable("service_unavailable", "The database is unavailable; retry shortly.")


def _from_http_exception(exc: HTTPException) -> ApiError:
    if exc.status_code == 404:
        return NotFound("route_not_found", "No route matches this path.")
    if exc.status_code == 405:
        error: ApiError = MethodNotAllowed(
            "method_not_allowed", "This path does not support this method."
        )
        allow = (exc.headers or {}).get("Allow")
        if allow:
            error.headers["Allow"] = allow
        return error
    if exc.status_code == 413:
        return PayloadTooLarge("body_too_large", "The request body is too large.")
    if exc.status_code == 415:
        return UnsupportedMediaType("invalid_content_type", "Send the body as application/json.")
    if exc.status_code < 500:
        return InvalidRequest("invalid_request", str(exc.detail))
    return InternalError("internal_error", "An internal error occurred.")


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return render_error(request, translate_errors(exc.errors()))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return render_error(request, _from_http_exception(exc))

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        return render_error(request, database_unavailable(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette answers with this, then re-raises for RequestContextMiddleware to log.
        return render_error(request, InternalError("internal_error", "An internal error occurred."))
