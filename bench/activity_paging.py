"""Does a customer's activity page as fast at the end as at the start?

Seeds one customer with 100,000 activity entries (bulk SQL, not the API), then times,
through the real app (FastAPI TestClient, so routing, auth, rate limiting and JSON are
all in), the first page of ``GET /api/v1/customers/{id}/activity`` against a page near
the oldest end, reached with a deep cursor. Keyset pagination on the
(customer_id, created_at) index should make the two cost the same: the script prints
both medians and their ratio, and the query plans of the statements the app really ran.

    .venv/bin/python bench/activity_paging.py [--rows 100000] [--runs 300]
    PIVOTAL_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/activity_paging.py

SQLite runs in a temporary file. The PostgreSQL database, when given, is WIPED (its
public schema is dropped and migrated again).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text

from pivotal.app import create_app
from pivotal.config import Settings, normalize_database_url
from pivotal.core import clock, ids
from pivotal.db.migrate import upgrade
from pivotal.workspaces import service as workspaces

SECRET = "bench-secret-key"
COLUMNS = (
    "id", "workspace_id", "customer_id", "actor", "actor_type", "livemode", "event_type",
    "target_type", "target_id", "changes", "created_at",
)  # fmt: skip


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _rows(workspace_id: str, customer_id: str, count: int, start_us: int) -> Iterator[tuple]:
    changes = '{"mrr": {"from": 100, "to": 200}}'
    for n in range(count):
        kind = n % 4
        yield (
            ids.prefixed("act"),
            workspace_id,
            customer_id,
            "API: CRM sync",
            "api_key",
            True,
            "customer.updated" if kind else "contact.created",
            "customer" if kind else "contact",
            customer_id if kind else ids.cuid(),
            changes if kind else None,
            start_us + n * 1000,  # unique and increasing, like sequences.allocate gives
        )


def _seed(engine: Engine, workspace_id: str, customer_id: str, count: int) -> None:
    """Bulk insert: one executemany on SQLite, COPY on PostgreSQL; then fresh statistics."""
    start = clock.now_us() - count * 1000 - 10_000_000
    rows = _rows(workspace_id, customer_id, count, start)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY activity ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            cursor.execute("ANALYZE activity")
        else:
            marks = ", ".join("?" for _ in COLUMNS)
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO activity ({', '.join(COLUMNS)}) VALUES ({marks})", rows
            )
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


@contextmanager
def _captured_statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM activity" in statement:
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _plan(engine: Engine, statement: str, params: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    return "\n".join("    " + str(row[-1]) for row in rows)


def _medians_ms(
    client: TestClient, path: str, variants: list[dict[str, Any]], runs: int
) -> list[float]:
    """Median time of each variant's request; the variants alternate, so drift hits all."""
    times: list[list[float]] = [[] for _ in variants]
    for _ in range(runs):
        for params, samples in zip(variants, times, strict=True):
            started = time.perf_counter()
            response = client.get(path, params=params)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return [statistics.median(samples) * 1000 for samples in times]


def bench(label: str, url: str, count: int, runs: int) -> None:
    upgrade(url)
    app = create_app(Settings(database_url=url, secret_key=SECRET))
    services = app.state.services
    with services.db.transaction(write=True) as conn:
        workspace = workspaces.create_workspace(conn, "Bench", "bench")
        key = workspaces.create_key(
            conn, services.secret_key, "bench", "CRM sync", rate_limit=100_000_000
        ).cleartext
    engine = services.db.engine
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        customer = client.post("/api/v1/customers", json={"name": "Busy"}).json()
        started = time.perf_counter()
        _seed(engine, workspace["id"], customer["id"], count)
        seeded = time.perf_counter() - started
        path = f"/api/v1/customers/{customer['id']}/activity"
        first = client.get(path, params={"limit": 20}).json()
        # A cursor 20 entries from the oldest end: the last full page of the log.
        with engine.connect() as conn:
            deep_us = conn.execute(
                text(
                    "SELECT created_at FROM activity WHERE customer_id = :c"
                    " ORDER BY created_at LIMIT 1 OFFSET 20"
                ),
                {"c": customer["id"]},
            ).scalar_one()
        deep = {"limit": 20, "cursor": clock.iso(deep_us)}
        last = client.get(path, params=deep).json()
        assert len(first["data"]) == 20 and first["has_more"]
        assert len(last["data"]) == 20 and not last["has_more"]  # the very last page
        with _captured_statements(engine) as statements:
            client.get(path, params={"limit": 20})
            client.get(path, params=deep)
        for _ in range(20):  # warm up both paths
            client.get(path, params={"limit": 20})
            client.get(path, params=deep)
        first_ms, deep_ms = _medians_ms(client, path, [{"limit": 20}, deep], runs)
    print(f"== {label}: {count:,} entries for one customer (seeded in {seeded:.1f} s)")
    print(f"   first page              median {first_ms:.3f} ms over {runs} requests")
    print(f"   last page (deep cursor) median {deep_ms:.3f} ms over {runs} requests")
    print(f"   ratio last/first: {deep_ms / first_ms:.2f}")
    for statement, params in statements:
        print("   plan of: " + " ".join(statement.split()))
        print(_plan(engine, statement, params))
    services.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        bench("SQLite", f"sqlite:///{Path(directory) / 'bench.db'}", args.rows, args.runs)
    postgres = os.environ.get("PIVOTAL_BENCH_POSTGRES_URL")
    if postgres:
        url = normalize_database_url(postgres)
        _reset_postgres(url)
        bench("PostgreSQL", url, args.rows, args.runs)
    else:
        print("(set PIVOTAL_BENCH_POSTGRES_URL to measure PostgreSQL too)")


if __name__ == "__main__":
    main()
