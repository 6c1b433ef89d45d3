"""Integration tests: one local HTTP server stands in for Slack, Resend and HubSpot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from conftest import SECRET
from pivotal.config import Settings
from pivotal.integrations.service import set_config


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class FakeServices:
    """Records every call; ``replies[prefix]`` is a list of (status, body, headers) used in
    turn (the last one repeats)."""

    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    replies: dict[str, list[tuple[int, Any, dict[str, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply_for(self, path: str) -> tuple[int, Any, dict[str, str]]:
        for prefix, queue in self.replies.items():
            if path.startswith(prefix):
                with self.lock:
                    return queue.pop(0) if len(queue) > 1 else queue[0]
        if path.startswith("/slack/"):
            return 200, {"ok": True, "ts": "1.2"}, {}
        return 200, {"id": "ok"}, {}

    def to(self, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.path.startswith(prefix)]


@pytest.fixture
def fake() -> Iterator[FakeServices]:
    state = FakeServices()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                state.calls.append(
                    Call(self.command, self.path, headers, orjson.loads(raw or b"null"))
                )
            status, body, extra = state.reply_for(self.path)
            payload = orjson.dumps(body)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **extra}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PATCH = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(database_url: str, fake: FakeServices) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET,
        slack_api_url=f"{fake.base_url}/slack",
        resend_api_url=f"{fake.base_url}/resend",
        hubspot_api_url=f"{fake.base_url}/hubspot",
    )


@pytest.fixture
def configure(app: FastAPI, api):  # type: ignore[no-untyped-def]
    """configure("slack", token=...) for the api fixture's workspace."""
    services = app.state.services
    workspace_id = api.get("/api/v1/me").json()["organization"]["id"]

    def _configure(service: str, **config: str) -> None:
        with services.db.transaction(write=True) as conn:
            set_config(conn, services.secret_key, workspace_id, service, config)

    return _configure
