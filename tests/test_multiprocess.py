"""Guarantees that must hold across server processes sharing one database (SPEC §6,
§10): one rate-limit budget per key, and `--workers N` really running N processes."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from conftest import POSTGRES_URL, SECRET, MakeKey
from live_server import serve
from support import auth

pytestmark = pytest.mark.slow
REDIS_URL = "redis://127.0.0.1:6379/15"


def spread(base_urls: list[str], key: str, count: int) -> list[int]:
    """Send ``count`` requests round-robin over the servers; return the status codes."""
    clients = [httpx.Client(base_url=url, headers=auth(key), timeout=30) for url in base_urls]
    try:
        return [clients[n % len(clients)].get("/api/v1/me").status_code for n in range(count)]
    finally:
        for client in clients:
            client.close()


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs PostgreSQL (CI always sets it)")
@pytest.mark.parametrize("redis", [False, True], ids=["database", "redis"])
def test_two_processes_on_one_postgres_share_one_budget(
    redis: bool, database_url: str, app: object, make_key: MakeKey
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("this scenario is about PostgreSQL")
    env = {"PIVOTAL_REDIS_URL": REDIS_URL} if redis else {}
    key = make_key(rate_limit=20, name=f"budget-{uuid.uuid4().hex[:6]}")
    with serve(database_url, SECRET, env=env) as one, serve(database_url, SECRET, env=env) as two:
        codes = spread([one.base_url, two.base_url], key, 40)
    assert codes.count(200) == 20, codes
    assert codes.count(429) == 20, codes


def test_workers_flag_runs_n_processes_sharing_the_budget(
    database_url: str, app: object, make_key: MakeKey
) -> None:
    key = make_key(rate_limit=20)
    env = {"PIVOTAL_LOG_LEVEL": "INFO"}
    with serve(database_url, SECRET, "--workers", "2", env=env) as server:
        # New connections each time, so the kernel spreads them over both workers.
        codes = []
        for _ in range(40):
            with httpx.Client(base_url=server.base_url, headers=auth(key), timeout=30) as c:
                codes.append(c.get("/api/v1/me").status_code)
        started = set(re.findall(r"Started server process \[(\d+)\]", server.output()))
    assert len(started) == 2, server.output()[-3000:]
    assert codes.count(200) == 20 and codes.count(429) == 20, codes
