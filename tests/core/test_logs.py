"""The server's log lines (core/logs.py): written in batches, whole, in order, and
never held for long: within a flush interval while serving, all of them at shutdown."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from conftest import SECRET, MakeKey
from live_server import serve
from pivotal.app import create_app
from pivotal.config import Settings
from pivotal.core import logs
from support import auth


class Recording(io.StringIO):
    """A stream that keeps each flushed write apart, as the system calls would be."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self._unflushed: list[str] = []

    def write(self, text: str) -> int:
        self._unflushed.append(text)
        return len(text)

    def flush(self) -> None:
        if self._unflushed:
            self.writes.append("".join(self._unflushed))
            self._unflushed.clear()

    def lines(self) -> list[str]:
        return "".join(self.writes).splitlines()


def _handler() -> tuple[logs.BatchedLineHandler, Recording]:
    stream = Recording()
    handler = logs.BatchedLineHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler, stream


def _record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("pivotal.access", level, "", 0, message, (), None)


def test_lines_wait_for_a_flush_then_go_out_in_one_write() -> None:
    handler, stream = _handler()
    for n in range(3):
        handler.handle(_record(f"line {n}"))
    assert stream.writes == []
    handler.flush()
    assert stream.writes == ["line 0\nline 1\nline 2\n"]
    handler.flush()  # nothing pending: no empty write
    assert len(stream.writes) == 1


def test_a_warning_goes_out_at_once_after_the_lines_before_it() -> None:
    handler, stream = _handler()
    handler.handle(_record("served"))
    handler.handle(_record("delivery failed", logging.WARNING))
    assert stream.lines() == ["served", "delivery failed"]


def test_writes_stay_within_pipe_buf_and_end_at_a_line() -> None:
    """Several workers share one stderr: a write of at most PIPE_BUF bytes is never cut
    by another process's, so no line is torn. A line too long for one write goes alone."""
    handler, stream = _handler()
    lines = [f"{n:04d} " + "é" * 300 for n in range(40)]  # 605 bytes each, 305 characters
    lines.insert(7, "x" * (logs.PIPE_BUF + 10))
    for line in lines:
        handler.handle(_record(line))
    handler.flush()
    assert stream.lines() == lines
    assert len(stream.writes) > 5
    for write in stream.writes:
        assert write.endswith("\n")
        assert len(write.encode()) <= logs.PIPE_BUF or write.count("\n") == 1


def test_a_batch_goes_out_in_one_write_as_soon_as_it_is_full() -> None:
    handler, stream = _handler()
    line = "y" * 200  # 201 bytes with its newline
    per_write = logs.PIPE_BUF // 201
    for _ in range(3 * per_write):
        handler.handle(_record(line))
    # Written before it would grow past PIPE_BUF: full writes, none split in two.
    assert [write.count("\n") for write in stream.writes] == [per_write, per_write]
    handler.flush()
    assert [write.count("\n") for write in stream.writes] == [per_write] * 3


def test_after_stop_batching_every_line_goes_out_as_it_comes() -> None:
    handler, stream = _handler()
    handler.handle(_record("pending"))
    handler.stop_batching()
    assert stream.writes == ["pending\n"]
    handler.handle(_record("late"))
    assert stream.writes == ["pending\n", "late\n"]


_FORK_WITH_PENDING = """
import logging, os, sys
from pivotal.core import logs
handler = logs.BatchedLineHandler(sys.stdout)
handler.handle(logging.makeLogRecord({"msg": "the parent's line"}))
pid = os.fork()
if pid == 0:
    logs.flush()
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
logs.flush()
"""


def test_a_forked_child_does_not_write_its_parents_pending_lines() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FORK_WITH_PENDING], capture_output=True, text=True, check=True
    )
    assert done.stdout == "the parent's line\n"


@pytest.fixture
def root_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """The root logger, its handlers and level restored after the test."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    level = root.level
    yield root
    root.setLevel(level)


def test_configure_installs_batched_lines_on_stderr_unless_configured(
    root_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = Recording()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(root_logger, "handlers", [])  # pytest's own, added since
    logs.configure("INFO")
    [handler] = root_logger.handlers
    assert isinstance(handler, logs.BatchedLineHandler) and handler.stream is stderr
    assert root_logger.level == logging.INFO
    logging.getLogger("pivotal.access").info("served")
    logs.flush()
    assert stderr.writes == ["served\n"]
    logs.configure("WARNING")  # configured already: nothing changes
    assert root_logger.handlers == [handler] and root_logger.level == logging.INFO


def test_the_app_flushes_log_lines_while_serving_and_at_shutdown(
    root_logger: logging.Logger,
    settings: Settings,
    make_key: MakeKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, stream = _handler()
    handler.addFilter(lambda record: record.name == "pivotal.access")  # not the client's
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    app = create_app(settings)
    key = make_key()
    try:
        with TestClient(app, headers=auth(key)) as client:
            assert client.get("/api/v1/me").status_code == 200
            # The loop writes the line within a flush interval, nobody else logging.
            deadline = time.monotonic() + 10 * logs.FLUSH_SECONDS + 2
            while not stream.lines() and time.monotonic() < deadline:
                time.sleep(logs.FLUSH_SECONDS / 4)
            assert [orjson.loads(line)["route"] for line in stream.lines()] == ["/api/v1/me"]
            # The loop's next flush is an hour away once its current wait ends.
            monkeypatch.setattr(logs, "FLUSH_SECONDS", 3600.0)
            time.sleep(0.5)
            assert client.get("/api/v1/customers").status_code == 200
            assert len(stream.lines()) == 1, "held until a flush"
        # Shutdown writes what was still pending, and each later line as it comes.
        routes = [orjson.loads(line)["route"] for line in stream.lines()]
        assert routes == ["/api/v1/me", "/api/v1/customers"]
        logging.getLogger("pivotal.access").info('{"route": "late"}')
        assert orjson.loads(stream.lines()[-1]) == {"route": "late"}
    finally:
        app.state.services.db.dispose()


@pytest.mark.slow
def test_a_served_process_writes_every_access_line_whole(
    database_url: str, app: object, make_key: MakeKey
) -> None:
    """``pivotal serve`` with two workers sharing stderr, under concurrent requests:
    lines show up while it runs, and after a graceful stop every request has exactly
    one whole line."""
    key = make_key(rate_limit=10_000)

    def one(base_url: str) -> str:
        # A connection each, so the kernel spreads them over both workers.
        with httpx.Client(base_url=base_url, headers=auth(key), timeout=30) as client:
            return client.get("/api/v1/me").headers["x-request-id"]

    with serve(database_url, SECRET, "--workers", "2", env={"PIVOTAL_LOG_LEVEL": "INFO"}) as server:
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(one, [server.base_url] * 200))
        deadline = time.monotonic() + 10
        while not all(i in server.output() for i in ids[-8:]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(i in server.output() for i in ids[-8:]), "lines wait about a flush interval"
        server.stop()
        output = server.output()
    entries = [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]
    logged = [entry["request_id"] for entry in entries if entry.get("route") == "/api/v1/me"]
    assert sorted(logged) == sorted(ids)
