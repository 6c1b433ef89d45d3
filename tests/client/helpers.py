"""Test doubles for the SDK tests: a scripted HTTP server and a TCP proxy that drops a
response on purpose. Both listen on loopback only and stop with their ``with`` block."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pivotal import PivotalApi

MakeSdk = Callable[..., PivotalApi]


def served_operations(base_url: str) -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation in the server's OpenAPI document."""
    document = httpx.get(f"{base_url}/api/v1/openapi.json", timeout=10).json()
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "patch", "delete", "put"}
    }


WEBHOOK_ROUTES = (
    "GET /api/v1/webhook_endpoints",
    "POST /api/v1/webhook_endpoints",
    "GET /api/v1/webhook_endpoints/{id}",
    "PATCH /api/v1/webhook_endpoints/{id}",
    "DELETE /api/v1/webhook_endpoints/{id}",
    "POST /api/v1/webhook_endpoints/{id}/rotate_secret",
    "GET /api/v1/webhook_endpoints/{id}/deliveries",
    "POST /api/v1/webhook_deliveries/{id}/replay",
)


def require_routes(served: set[tuple[str, str]], *operations: str) -> None:
    """Skip the test, naming the routes, when the server does not serve them yet."""
    missing = [op for op in operations if tuple(op.split(" ", 1)) not in served]
    if missing:
        pytest.skip(f"route not served yet: {', '.join(missing)}")


# A scripted HTTP server


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


def envelope(status: int, error_type: str, code: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "type": error_type,
        "code": code,
        "message": f"{code} happened",
        "request_id": f"req_fake{status}",
    }
    if field is not None:
        error["field"] = field
    return {"error": error}


class FakeServer:
    """Answers each request with the next scripted ``Reply`` (the last one repeats) and
    records what it received."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake._lock:
                    fake.received.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                    reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


# A proxy that loses a response


class DroppingProxy:
    """Relays TCP to ``target_port``. While ``arm()``-ed, the next answer the server sends
    is swallowed and the client's connection closed, as when a network path dies after
    the server acted: the client cannot know whether its request took effect."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._armed = threading.Event()
        self.dropped = 0
        self.sent: list[bytes] = []  # what clients sent, per connection
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def arm(self) -> None:
        self._armed.set()

    def __enter__(self) -> DroppingProxy:
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
        for thread in self._threads:
            thread.join(timeout=5)
        self.listener.close()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            index = len(self.sent)
            with self._lock:
                self._sockets += [client, upstream]
                self.sent.append(b"")
            self._spawn(self._client_to_server, client, upstream, index)
            self._spawn(self._server_to_client, client, upstream)

    def _client_to_server(self, client: socket.socket, upstream: socket.socket, index: int) -> None:
        try:
            while data := client.recv(65536):
                with self._lock:
                    self.sent[index] += data
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)

    def _server_to_client(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                if self._armed.is_set():
                    self._armed.clear()
                    self.dropped += 1
                    break  # the answer was computed and sent, but never reaches the client
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)

    def requests_with(self, needle: bytes) -> Iterator[bytes]:
        """Each request head (over all connections) whose request line contains ``needle``."""
        for stream in self.sent:
            for head in stream.split(b"\r\n\r\n"):
                if needle in head.split(b"\r\n", 1)[0]:
                    yield head


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def header_value(head: bytes, name: str) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.decode("latin-1").partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None
