"""Outermost ASGI middleware: request ids, one JSON log line per request, last-resort 500."""

from __future__ import annotations

import logging
import os
import random
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pivotal.core.responses import JSON_MEDIA_TYPE, error_body

access_log = logging.getLogger("pivotal.access")
error_log = logging.getLogger("pivotal.error")


def valid_request_id(value: str) -> bool:
    return 1 <= len(value) <= 128 and all(32 <= ord(ch) <= 126 for ch in value)


# Request ids name requests, they guard nothing: 96 bits from a generator seeded from
# the OS, not a system call per request. Reseeded in a forked child (granian's workers),
# whose ids would otherwise repeat its parent's.
_request_ids = random.Random()
os.register_at_fork(after_in_child=_request_ids.seed)


def new_request_id() -> str:
    return f"req_{_request_ids.getrandbits(96):024x}"


class RequestContextMiddleware:
    """Gives each request an id (echoing a valid client one) and logs it on the way out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if valid_request_id(candidate):
                    request_id = candidate
                break
        request_id = request_id or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                await _send_internal_error(send_with_id, request_id)
        finally:
            self._log(scope, state, status, started, request_id)

    @staticmethod
    def _log(scope: Scope, state: dict[str, Any], status: int, started: float, rid: str) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        route = scope.get("route")
        key = state.get("api_key")
        line = orjson.dumps(
            {
                "method": scope["method"],
                "route": getattr(route, "path", None),
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": rid,
                "key_prefix": getattr(key, "prefix", None),
            }
        ).decode()
        # Logger.info without its walk up the stack for the caller (an access line
        # always comes from here): a few microseconds a request.
        access_log.handle(
            access_log.makeRecord(access_log.name, logging.INFO, "", 0, line, (), None)
        )


async def _send_internal_error(send: Send, request_id: str) -> None:
    body = orjson.dumps(
        error_body(
            "internal_error", "internal_error", "An internal error occurred.", None, request_id
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", JSON_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
