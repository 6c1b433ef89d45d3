"""Webhook tests: a real HTTP receiver on loopback, and a worker driven by the test."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi import FastAPI

from conftest import SECRET
from pivotal.config import Settings
from pivotal.webhooks.delivery import DeliveryWorker
from support import loopback_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback receivers need plain http and private addresses allowed."""
    return loopback_settings(database_url, SECRET)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    started: float
    finished: float = 0.0


@dataclass
class Receiver:
    """Records every POST; answers with ``statuses`` in turn (the last one repeats)."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def of_type(self, event_type: str) -> list[Received]:
        import orjson

        return [r for r in self.received if orjson.loads(r.body)["type"] == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            started = time.monotonic()
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            record = Received(
                self.path, {k.lower(): v for k, v in self.headers.items()}, body, started
            )
            if state.delay:
                time.sleep(state.delay)
            status = state.next_status()
            record.finished = time.monotonic()
            with state.lock:
                state.received.append(record)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url + "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # workers open many connections at once

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class FakeClock:
    """Microseconds that only move when the test says so."""

    value: int

    def __call__(self) -> int:
        return self.value


RunWorker = Callable[[], int]


@pytest.fixture
def clock_now() -> FakeClock:
    from pivotal.core import clock

    return FakeClock(clock.now_us())


@pytest.fixture
def run_worker(app: FastAPI) -> RunWorker:
    """Deliver everything due now (real clock); returns how many attempts were made."""
    worker = DeliveryWorker(app.state.services)

    def run() -> int:
        total = 0
        while attempted := asyncio.run(worker.run_once()):
            total += attempted
        return total

    return run
