"""The SDK's exceptions: one class per error ``type`` of SPEC §3, all under ``PivotalError``.

Standard library only, so ``import pivotal.errors`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "PivotalError",
    "RateLimitError",
]


class PivotalError(Exception):
    """Any error the SDK raises; the fields mirror the API's error envelope.

    ``status`` is the HTTP status (``None`` when no response arrived), ``type`` and
    ``code`` the envelope's machine strings, ``field`` the request property at fault (or
    ``None``), ``message`` the human text, ``request_id`` the ``X-Request-Id`` to quote
    to the operator. ``headers`` and ``body`` hold the raw response for anything else.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        field: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.field = field
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.body = body

    def __str__(self) -> str:
        details = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status),
                ("code", self.code),
                ("field", self.field),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r})"
        )


class APIConnectionError(PivotalError):
    """No response: the server could not be reached or the connection broke."""


class APITimeoutError(APIConnectionError):
    """The request timed out (``timeout`` seconds)."""


class InvalidRequestError(PivotalError):
    """400 (and 405, 413, 415): the request is invalid; ``field`` names the property."""


class AuthenticationError(PivotalError):
    """401: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(PivotalError):
    """403: the key lacks the scope (code ``missing_scope``)."""


class NotFoundError(PivotalError):
    """404: no such object in this workspace (or no such route)."""


class ConflictError(PivotalError):
    """409: ``slug_taken``, ``email_taken``, ``idempotency_key_reused`` or ``_in_use``."""


class RateLimitError(PivotalError):
    """429: the key's rate limit is spent; ``retry_after`` is the wait in seconds."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class InternalServerError(PivotalError):
    """500, 503 and any other 5xx."""


_BY_STATUS: dict[int, type[PivotalError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: InvalidRequestError,
    409: ConflictError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    429: RateLimitError,
}
_BY_TYPE: dict[str, type[PivotalError]] = {
    "invalid_request_error": InvalidRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "rate_limit_error": RateLimitError,
    "internal_error": InternalServerError,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), or ``None``."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def error_from_response(
    status: int, headers: Mapping[str, str], body: Any, text: str = ""
) -> PivotalError:
    """The exception for a non-2xx answer, from its envelope when it has one."""
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        envelope = {}

    def string(name: str) -> str | None:
        value = envelope.get(name)
        return value if isinstance(value, str) else None

    error_type = string("type")
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else _BY_TYPE.get(error_type or "", PivotalError)
    message = string("message") or (f"HTTP {status}: {text[:200]}" if text else f"HTTP {status}")
    return cls(
        message,
        status=status,
        type=error_type,
        code=string("code"),
        field=string("field"),
        request_id=string("request_id") or headers.get("x-request-id"),
        headers=headers,
        body=body,
    )
