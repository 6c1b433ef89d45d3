"""The SDK's exceptions (``pivotal.errors.NotFoundError``, ...); see ``pivotal.client.errors``.

Loads no server code. (The server's own exceptions live in ``pivotal.core.errors``.)
"""

from pivotal.client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PivotalError,
    RateLimitError,
)

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
