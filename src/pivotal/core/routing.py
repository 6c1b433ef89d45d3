"""The route class every authenticated endpoint uses.

Before FastAPI validates anything it: authenticates the key (401 wins over any body
problem), counts the request against the key's rate limit (429), checks the route's
scope (403), validates an Idempotency-Key header, then reads the body within the size
limit (413), checks its media type (415) and parses it with orjson (``invalid_json``).
Every answer, errors included, carries the key's X-RateLimit-* headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from pivotal.core import idempotency
from pivotal.core.auth import require_scope
from pivotal.core.context import Services
from pivotal.core.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType
from pivotal.core.openapi import errors

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
# Each router carries the full prefix itself, so a route's path is its whole template
# (the access log and OpenAPI both show /api/v1/customers/{id}).
API_PREFIX = "/api/v1"
IDEMPOTENCY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key and body replay the first result "
    "for 24 hours (header Idempotent-Replayed: true) instead of acting again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}


_LONG_DIGIT_RUN = re.compile(rb"\d{19,}")
# Far beyond any real payload; keeps every later step (hashing, storing) clear of the
# recursion limits of the libraries that walk it.
MAX_JSON_DEPTH = 64


def _nested_deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def reject_nul_in_query(request: Request) -> None:
    """PostgreSQL cannot compare text with NUL characters: refuse them up front."""
    for name, value in request.query_params.multi_items():
        # The cursor has its own format check, answered as invalid_string (SPEC §4).
        if "\x00" in value and name != "cursor":
            raise InvalidRequest(
                "invalid_parameter", f"{name} must not contain NUL characters", name
            )


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_json_body(request: Request, limit: int) -> None:
    """Read, bound and parse the body, leaving the parsed object where FastAPI looks for it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("body_too_large", f"The request body exceeds {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("body_too_large", f"The request body exceeds {limit} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    parsed = parse_json_body(body, request.headers.get("content-type", ""))
    # Hand the parsed body to FastAPI: Starlette's Request caches both attributes, and
    # FastAPI parses JSON only for a JSON content type, which the body now has.
    request._body = body if body.strip() else b"{}"
    request._json = parsed
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
    request.scope["headers"] = [*headers, (b"content-type", b"application/json")]
    request.__dict__.pop("_headers", None)


def parse_json_body(body: bytes, content_type: str) -> dict[str, Any]:
    """The body as a JSON object, or the 415 or 400 ``invalid_json`` it deserves.

    An empty body is an empty object: a create without one says "name is required",
    not 415.
    """
    if not body.strip():
        return {}
    if not _is_json(content_type):
        raise UnsupportedMediaType(
            "invalid_content_type", "The request body must be sent as application/json."
        )
    try:
        parsed = orjson.loads(body)
        if _LONG_DIGIT_RUN.search(body):
            # orjson turns integers beyond 64 bits into floats; the stdlib keeps them
            # exact, so "too big" is reported as too big rather than as a wrong type.
            parsed = json.loads(body)
    except (orjson.JSONDecodeError, ValueError, RecursionError) as exc:
        raise InvalidRequest("invalid_json", "The request body is not valid JSON.") from exc
    if not isinstance(parsed, dict):
        raise InvalidRequest("invalid_json", "The request body must be a JSON object.")
    if _nested_deeper_than(parsed, MAX_JSON_DEPTH):
        raise InvalidRequest(
            "invalid_json", f"The request body is nested deeper than {MAX_JSON_DEPTH} levels."
        )
    return parsed


class ApiRoute(APIRoute):
    """An endpoint behind an API key; ``resource`` names its scope (None: any valid key)."""

    resource: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Documented per operation so OpenAPI clients (and schemathesis) send the key.
        extra: dict[str, Any] = {**(self.openapi_extra or {}), "security": [{"bearerAuth": []}]}
        if "POST" in (self.methods or ()):
            extra["parameters"] = [IDEMPOTENCY_PARAMETER]
            # Any POST may answer 409 for an Idempotency-Key reused or still in use.
            self.responses.setdefault(409, errors(409)[409])
        self.openapi_extra = extra

    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()
        takes_body = self.body_field is not None
        scope = None
        if self.resource is not None:
            action = "read" if (self.methods or set()) <= {"GET", "HEAD"} else "write"
            scope = f"{action}:{self.resource}"

        is_post = "POST" in (self.methods or ())

        async def handler(request: Request) -> Response:
            services: Services = request.app.state.services
            await services.admit(request)
            if scope is not None:
                require_scope(request.state.api_key, scope)
            reject_nul_in_query(request)
            idempotency_key = (
                idempotency.parse_header(request.headers.get(idempotency.HEADER))
                if is_post
                else None  # GET, PATCH and DELETE are idempotent already (SPEC §5)
            )
            if takes_body:
                await read_json_body(request, services.settings.max_body_bytes)
            if idempotency_key is not None:
                request.state.idempotent = idempotency.IdempotentRequest(
                    key=idempotency_key,
                    method=request.method,
                    path=request.url.path,
                    request_hash=idempotency.request_hash(request._json if takes_body else None),
                )
            response = await inner(request)
            response.headers.update(request.state.quota.headers())
            return response

        return handler


def route_class(resource: str | None) -> type[ApiRoute]:
    """The route class for a router whose endpoints need ``read:``/``write:<resource>``."""
    return type(f"{(resource or 'Any').title()}Route", (ApiRoute,), {"resource": resource})
