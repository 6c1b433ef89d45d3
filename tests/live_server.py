"""Real ``pivotal serve`` processes on loopback ports, for tests that need real
concurrency: several clients at once, several processes, kills and restarts."""

from __future__ import annotations

import ctypes
import os
import signal
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


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """The server gets SIGTERM when the test process dies, even by a signal that skips
    teardown: a stray server's delivery worker would otherwise keep working on a test
    database and fail later runs that reuse it."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LiveServer:
    """One server (possibly with several workers) that can be killed and started again."""

    def __init__(
        self, database_url: str, secret_key: str, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = {
            **os.environ,
            "PIVOTAL_DATABASE_URL": database_url,
            "PIVOTAL_SECRET_KEY": secret_key,
            "PIVOTAL_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: a pipe nobody reads would block a chatty server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pivotal", "serve", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,  # its own process group: a kill reaches every worker
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start within 30 s: {self.output()[-2000:]}")
            time.sleep(0.1)

    def output(self) -> str:
        # pread: the server writes through this same open file, whose offset a seek
        # would move under its next write.
        fd = self.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs, as in a crash."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None

    def close(self) -> None:
        self.stop()
        self.log.close()


@contextmanager
def serve(
    database_url: str, secret_key: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Run a server until the block ends."""
    server = LiveServer(database_url, secret_key, *args, env=env)
    try:
        server.start()
        yield server
    finally:
        server.close()
