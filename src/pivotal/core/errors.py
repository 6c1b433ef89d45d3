"""The one error hierarchy: every non-2xx answer is an ApiError rendered by one handler."""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """An error that maps to the SPEC's envelope: status, type, code, message, field."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal_error"

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


class InvalidRequest(ApiError):
    status = 400
    type = "invalid_request_error"


class PayloadTooLarge(InvalidRequest):
    status = 413


class UnsupportedMediaType(InvalidRequest):
    status = 415


class MethodNotAllowed(InvalidRequest):
    status = 405


class AuthenticationFailed(ApiError):
    status = 401
    type = "authentication_error"


class PermissionDenied(ApiError):
    status = 403
    type = "permission_error"


class NotFound(ApiError):
    status = 404
    type = "not_found"


class Conflict(ApiError):
    status = 409
    type = "conflict"


class RateLimited(ApiError):
    status = 429
    type = "rate_limit_error"


class InternalError(ApiError):
    status = 500
    type = "internal_error"


class ServiceUnavailable(ApiError):
    status = 503
    type = "internal_error"


def not_found(resource: str) -> NotFound:
    """The 404 for one resource type, e.g. ``customer_not_found``."""
    label = resource.replace("_", " ")
    return NotFound(f"{resource}_not_found", f"No such {label}.")
