"""A real ``pivotal serve`` process on a loopback port, for tests that need real
concurrency (several clients at once, several processes, kills and restarts)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(database_url: str, secret_key: str, *args: str) -> Iterator[str]:
    """Run the server until the block ends; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PIVOTAL_DATABASE_URL": database_url,
        "PIVOTAL_SECRET_KEY": secret_key,
        "PIVOTAL_LOG_LEVEL": "WARNING",
    }
    # A file, not a pipe: a pipe nobody reads would block a chatty server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [sys.executable, "-m", "pivotal", "serve", "--port", str(port), *args],
        env=env,
        stdout=log,
        stderr=log,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 30 s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
