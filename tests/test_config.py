"""Settings from the environment, and the ones the app applies at startup."""

from __future__ import annotations

import asyncio
import threading
import time

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
