"""OpenAPI helpers: the error responses each operation documents."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    type: Literal[
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found",
        "conflict",
        "rate_limit_error",
        "internal_error",
    ]
    code: str
    message: str
    field: str | None = None
    request_id: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Invalid request (validation, bad parameter, malformed JSON)",
    401: "Missing, malformed, unknown or revoked API key",
    403: "The API key lacks the scope this operation needs",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body larger than 1 MiB",
    415: "Body not sent as application/json",
    429: "Rate limit exceeded",
    500: "Internal error",
    503: "Service unavailable",
}
_ALWAYS = (400, 401, 403, 429, 500, 503)


def errors(*statuses: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` mapping for an authenticated operation plus ``statuses``."""
    codes = set(_ALWAYS) | set(statuses)
    if body:
        codes |= {413, 415}
    return {
        code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in sorted(codes)
    }
