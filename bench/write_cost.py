"""Where a create's time goes on SQLite: the server's against the bare baseline's.

Issue 7 asks a POST /api/v1/customers (with an Idempotency-Key) for 0.4 of the baseline's
insert. This measures both apps in this process, without an HTTP server, each on its own
copy of one seeded database, sending the same creates straight to the ASGI app, and
reports per create:

- µs: the whole request, in-process (median of rounds);
- µs in SQLite: the time spent inside the sqlite3 driver's calls (execute, fetch,
  commit), read from cProfile, which times calls into C exactly;
- statements run and WAL pages appended (a pass of its own, with SQLite's automatic
  checkpoint off so that the pages can be counted);
- the ratio an app with no cost outside SQLite would reach: the baseline's whole
  request over the server's SQLite time.

    .venv/bin/python bench/write_cost.py [--creates 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import baseline  # noqa: E402
from seed import SECRET, seed  # noqa: E402
from sqlalchemy import event  # noqa: E402

from pivotal.app import create_app  # noqa: E402
from pivotal.config import Settings  # noqa: E402

ASGIApp = Callable[..., Awaitable[None]]
_SQLITE_CALLS = ("execute", "executemany", "fetchone", "fetchall", "fetchmany", "commit")


@dataclass
class Cost:
    name: str
    micros: float  # per create, whole request
    sqlite_micros: float  # per create, inside the driver
    statements: float  # per create
    wal_pages: float  # per create


class StatementCounter:
    """A trace callback of sqlite3's: counts the statements it sees."""

    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, _sql: str) -> None:
        self.statements += 1


class Driver:
    """Sends creates to one ASGI app, started with its lifespan."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.auth = b"Bearer " + key.encode()
        self.count = itertools.count()
        self._lifespan: asyncio.Task[None] | None = None
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        started = await self._from_app.get()
        assert started["type"] == "lifespan.startup.complete", started

    async def stop(self) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        assert self._lifespan is not None
        await self._lifespan

    async def create(self) -> None:
        n = next(self.count)
        body = b'{"name": "Write cost %d %d"}' % (n, time.time_ns())
        headers = [
            (b"host", b"bench"),
            (b"authorization", self.auth),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"idempotency-key", b"write-cost-%d-%d" % (n, time.time_ns())),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/customers",
            "raw_path": b"/api/v1/customers",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # no disconnect while the app answers
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await self.app(scope, receive, send)
        if statuses != [201]:
            raise RuntimeError(f"a create answered {statuses}")


def sqlite_micros(profile: cProfile.Profile) -> float:
    """Microseconds inside the sqlite3 driver's methods, as cProfile timed them."""
    total = 0.0
    for (filename, _line, name), row in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        if filename == "~" and any(f"'{call}' of 'sqlite3." in name for call in _SQLITE_CALLS):
            total += row[2]  # tottime
    return total * 1e6


async def measure(
    name: str,
    make_app: Callable[[str], tuple[ASGIApp, Callable[[Callable[[str], None]], None]]],
    template: Path,
    key: str,
    creates: int,
    rounds: int,
    work: Path,
) -> Cost:
    """``make_app(url)`` gives the app and a function that hooks a statement counter and
    the pragma that stops automatic checkpoints into its connections (called before the
    app opens any)."""
    timings: list[float] = []
    sqlite_time = statements = pages = 0.0
    for run in ("time", "profile", "count"):
        path = work / f"{name}-{run}.db"
        shutil.copy(template, path)
        app, hook = make_app(f"sqlite:///{path}")
        counted = StatementCounter()
        if run == "count":
            hook(counted)
        driver = Driver(app, key)
        await driver.start()
        for _ in range(min(200, creates)):  # warm: caches, prepared statements
            await driver.create()
        counted.statements = 0
        if run == "count":
            start_pages = wal_pages(path)
        profile = cProfile.Profile() if run == "profile" else None
        for _ in range(rounds if run == "time" else 1):
            if profile is not None:
                profile.enable()
            started = time.perf_counter()
            for _ in range(creates):
                await driver.create()
            if run == "time":
                timings.append((time.perf_counter() - started) / creates * 1e6)
            if profile is not None:
                profile.disable()
        if profile is not None:
            sqlite_time = sqlite_micros(profile) / creates
        if run == "count":
            statements = counted.statements / creates
            pages = (wal_pages(path) - start_pages) / creates
        await driver.stop()
    return Cost(name, statistics.median(timings), sqlite_time, statements, pages)


def wal_pages(path: Path) -> int:
    """Frames in the WAL file (its 32-byte header, then page-size + 24 bytes a frame)."""
    wal = Path(f"{path}-wal")
    if not wal.exists():
        return 0
    with closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    return max(wal.stat().st_size - 32, 0) // (page_size + 24)


def server_app(url: str) -> tuple[ASGIApp, Callable[[Callable[[str], None]], None]]:
    app = create_app(Settings(database_url=url, secret_key=SECRET, log_level="INFO"))
    engine = app.state.services.db.engine

    def hook(count: Callable[[str], None]) -> None:
        @event.listens_for(engine, "connect")
        def _counted(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
            dbapi_connection.set_trace_callback(count)

    return app, hook


def baseline_app(url: str) -> tuple[ASGIApp, Callable[[Callable[[str], None]], None]]:
    app = baseline.Baseline(url, SECRET.encode(), None)

    def hook(count: Callable[[str], None]) -> None:
        app.db.conn.execute("PRAGMA wal_autocheckpoint=0")
        app.db.conn.set_trace_callback(count)

    return app, hook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=2000, help="creates per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.creates < 1 or args.rounds < 1:
        parser.error("--creates and --rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pivotal-write-cost-") as tmp:
        work = Path(tmp)
        template = work / "seed.db"
        seeded = seed(f"sqlite:///{template}", 10_000, progress=False)
        costs = [
            asyncio.run(measure(name, make, template, seeded.key, args.creates, args.rounds, work))
            for name, make in (("server", server_app), ("baseline", baseline_app))
        ]
    server, bare = costs
    print("| app | µs per create | µs in SQLite | statements | WAL pages |")
    print("|---|---:|---:|---:|---:|")
    for cost in costs:
        print(
            f"| {cost.name} | {cost.micros:.0f} | {cost.sqlite_micros:.0f}"
            f" | {cost.statements:.1f} | {cost.wal_pages:.1f} |"
        )
    print()
    print(f"in-process ratio: {bare.micros / server.micros:.2f}")
    print(
        f"ratio with nothing but the server's SQLite work: {bare.micros / server.sqlite_micros:.2f}"
    )


if __name__ == "__main__":
    main()
