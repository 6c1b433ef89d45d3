"""Settings from the environment, and the ones the app applies at startup."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient

from conftest import SECRET
from pivotal.app import create_app
from pivotal.config import Settings
from pivotal.db.engine import Database


def test_threads_default_and_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIVOTAL_THREADS", raising=False)
    assert Settings.from_env().threads == 8
    monkeypatch.setenv("PIVOTAL_THREADS", "3")
    assert Settings.from_env().threads == 3
    for bad in ("0", "-2", "many", "1.5"):
        monkeypatch.setenv("PIVOTAL_THREADS", bad)
        with pytest.raises(ValueError, match="PIVOTAL_THREADS"):
            Settings.from_env()


def test_the_app_bounds_its_thread_pool(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, secret_key=SECRET, threads=3))
    with TestClient(app) as client:
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    app.state.services.db.dispose()
    assert tokens == 3


def test_the_serving_process_freezes_its_startup_objects(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, secret_key=SECRET))
    with TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 200
    app.state.services.db.dispose()
    # Once per process (an earlier app in this test run may have done it already).
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (20_000, 20, 20)


def test_database_work_runs_inline_on_sqlite_and_on_bounded_threads_on_postgres(
    database_url: str,
) -> None:
    db = Database(database_url, threads=2)

    def where() -> str:
        time.sleep(0.02)  # long enough for the six calls to overlap
        return threading.current_thread().name

    async def six_at_once() -> list[str]:
        return list(await asyncio.gather(*(db.run(where) for _ in range(6))))

    names = asyncio.run(six_at_once())
    db.dispose()
    if db.is_sqlite:
        assert set(names) == {threading.current_thread().name}
    else:
        assert len(set(names)) == 2
        assert all(name.startswith("pivotal-db") for name in names)


def test_database_work_keeps_the_callers_context_and_errors(database_url: str) -> None:
    db = Database(database_url, threads=2)
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    def fail() -> None:
        raise LookupError("from the worker")

    async def scenario() -> None:
        request_id.set("req_1")
        assert await db.run(request_id.get) == "req_1"
        with pytest.raises(LookupError, match="from the worker"):
            await db.run(fail)
        if not db.is_sqlite:
            ran: list[int] = []
            # Both threads busy; a job its caller gave up on before it started is skipped.
            busy = [asyncio.create_task(db.run(time.sleep, 0.05)) for _ in range(2)]
            queued = asyncio.create_task(db.run(ran.append, 1))
            await asyncio.sleep(0.01)
            queued.cancel()
            await asyncio.gather(*busy)
            await db.run(ran.append, 2)
            assert ran == [2]
            # A caller that goes away, then its whole loop: the work still finishes.
            task = asyncio.create_task(db.run(time.sleep, 0.05))
            await asyncio.sleep(0.01)
            task.cancel()

    asyncio.run(scenario())
    time.sleep(0.1)

    def where() -> str:
        time.sleep(0.02)
        return threading.current_thread().name

    async def four() -> list[str]:
        jobs = asyncio.gather(*(db.run(where) for _ in range(4)))
        return list(await asyncio.wait_for(jobs, 5))

    names = asyncio.run(four())  # on both threads: neither died with the closed loop
    db.dispose()
    assert len(set(names)) == (1 if db.is_sqlite else 2)


_TELEMETRY_OF_TWO_REQUESTS = """
import json
import sys
from fastapi.testclient import TestClient
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pivotal.app import create_app
from pivotal.config import Settings

exporter = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(tracer_provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
settings = Settings(
    database_url=sys.argv[1], secret_key="s" * 32, opentelemetry=sys.argv[2] == "on"
)
with TestClient(create_app(settings)) as client:
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/me").status_code == 401  # a fast-lane path
spans = exporter.get_finished_spans()
data = reader.get_metrics_data()
points = sum(
    len(metric.data.data_points)
    for resource in (data.resource_metrics if data else [])
    for scope in resource.scope_metrics
    for metric in scope.metrics
)
routes = sorted({str(span.attributes.get("http.route")) for span in spans})
print(json.dumps({"spans": len(spans), "routes": routes, "points": points}))
"""


@pytest.mark.parametrize("setting", ["on", "off"])
def test_opentelemetry_only_when_asked_for(
    setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIVOTAL_OPENTELEMETRY", raising=False)
    assert Settings.from_env().opentelemetry is False
    monkeypatch.setenv("PIVOTAL_OPENTELEMETRY", setting)
    assert Settings.from_env().opentelemetry is (setting == "on")
    # A process of its own: OpenTelemetry's global providers are set once per process;
    # and none of the OpenTelemetry settings this one may have.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FASTAPI_OTEL_"))}
    url = f"sqlite:///{tmp_path / 'otel.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _TELEMETRY_OF_TWO_REQUESTS, url, setting],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    recorded = json.loads(done.stdout.splitlines()[-1])
    if setting == "off":
        assert recorded == {"spans": 0, "routes": [], "points": 0}
    else:
        # Every request the long way, fast-lane paths too: their spans name the route.
        assert {"/api/v1/health", "/api/v1/me"} <= set(recorded["routes"]), recorded
        assert recorded["points"] > 0, recorded
