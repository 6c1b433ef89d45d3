"""JSON responses rendered once, by orjson, straight to bytes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status_code, headers, media_type=JSON_MEDIA_TYPE)


def error_body(
    error_type: str, code: str, message: str, field: str | None, request_id: str | None
) -> dict[str, Any]:
    """The SPEC §3 envelope; ``field`` appears only when the error is about one property."""
    error: dict[str, Any] = {"type": error_type, "code": code, "message": message}
    if field is not None:
        error["field"] = field
    error["request_id"] = request_id
    return {"error": error}
