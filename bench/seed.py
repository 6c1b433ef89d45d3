"""Seed a benchmark database through the real schema.

Migrates with ``pivotal.db.migrate.upgrade``, creates one workspace and one API key (with
``pivotal.workspaces.service.create_key``; its rate limit is so high the limiter never
refuses), then bulk-inserts customers with one contact and one onboarding each, and sets
``display_counters`` to match, so the server's next display id and created_at follow on.
Rows go in by batches of ``BATCH`` through SQLAlchemy Core ``executemany`` on SQLite and
through psycopg ``COPY`` on PostgreSQL.

    .venv/bin/python bench/seed.py --size 10k [--sqlite bench/.data/bench.db]
    PIVOTAL_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/seed.py --size 10k --engine postgres

The SQLite file is deleted first; the PostgreSQL database is WIPED (public schema dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, text
from sqlalchemy.exc import DBAPIError

from pivotal.config import normalize_database_url
from pivotal.core import clock
from pivotal.db import tables
from pivotal.db.migrate import upgrade
from pivotal.workspaces import service as workspaces

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SECRET = "bench-secret-key"  # PIVOTAL_SECRET_KEY of every app under test: the key pepper
WORKSPACE_SLUG = "bench"
RATE_LIMIT = 1_000_000_000  # fits the INTEGER column; the limiter never refuses
BATCH = 10_000
STEP_US = 1_000  # created_at of consecutive rows: unique and increasing, as allocate gives
SAMPLE = 1_000  # customer and onboarding ids handed to the load generator
PLANS = ("starter", "growth", "scale", "enterprise")
STATUSES = ("active",) * 17 + ("onboarding", "at_risk", "churned")


@dataclass
class Seeded:
    """What the load generator needs to address the seeded rows."""

    url: str
    engine: str
    customers: int
    key: str
    workspace_id: str
    customer_ids: list[str]  # a spread sample, for GET /customers/{id}
    deepest_cursor: str  # next_cursor that leads to the oldest page of 100
    seconds: float


def _fast_id() -> str:
    """A 24-character cuid-shaped id (a letter, then 23 base36 digits), cheap to make."""
    return "b" + secrets.token_hex(12)[:23]


def _customers(workspace_id: str, count: int, start: int) -> Iterator[dict[str, Any]]:
    for n in range(1, count + 1):
        created = start + n * STEP_US
        yield {
            "id": _fast_id(),
            "workspace_id": workspace_id,
            "display_id": n,
            "name": f"Customer {n}",
            "slug": f"customer-{n}",
            "domain": f"customer-{n}.example",
            "status": STATUSES[n % len(STATUSES)],
            "plan": PLANS[n % len(PLANS)],
            "mrr": 4_900 + (n % 50) * 1_000,
            "monthly_orders": n % 5_000,
            "hubspot_company_id": str(100_000 + n),
            "hubspot_deal_id": None,
            "stripe_customer_id": f"cus_{n:08d}",
            "intercom_company_id": None,
            "slack_channel_id": None,
            "metadata": '{"source": "bench"}',
            "created_at": created,
            "updated_at": created,
            "deleted_at": None,
        }


def _contacts(workspace_id: str, customer_ids: list[str], first: int, start: int) -> list[dict]:
    rows = []
    for offset, customer_id in enumerate(customer_ids):
        n = first + offset
        created = start + n * STEP_US
        rows.append(
            {
                "id": _fast_id(),
                "workspace_id": workspace_id,
                "customer_id": customer_id,
                "display_id": n,
                "name": f"Contact {n}",
                "email": f"ana@customer-{n}.example",
                "title": "Head of Operations",
                "phone": None,
                "is_primary": True,
                "labels": '["primary"]',
                "metadata": "{}",
                "created_at": created,
                "updated_at": created,
                "deleted_at": None,
            }
        )
    return rows


def _onboardings(workspace_id: str, customer_ids: list[str], first: int, start: int) -> list[dict]:
    rows = []
    for offset, customer_id in enumerate(customer_ids):
        n = first + offset
        created = start + n * STEP_US
        rows.append(
            {
                "id": _fast_id(),
                "workspace_id": workspace_id,
                "customer_id": customer_id,
                "display_id": n,
                "name": f"Onboarding {n}",
                "template_id": None,
                "phase": "before_getting_started",
                "state": "active",
                "waiting_on_customer": False,
                "started_at": created,
                "completed_at": None,
                "target_launch_date": None,
                "csm_id": "csm-1",
                "se_id": None,
                "designer_id": None,
                "product_ops_id": None,
                "notes": None,
                "reminders_enabled": True,
                "reminder_frequency_days": 7,
                "metadata": "{}",
                "created_at": created,
                "updated_at": created,
                "deleted_at": None,
            }
        )
    return rows


def _reset(url: str, sqlite_path: Path | None) -> None:
    if sqlite_path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _writer(engine: Engine) -> Callable[[Any, Table, list[dict[str, Any]]], None]:
    """How one batch goes in: COPY on PostgreSQL, Core executemany on SQLite."""
    if engine.dialect.name == "postgresql":

        def copy(conn: Any, table: Table, rows: list[dict[str, Any]]) -> None:
            columns = list(rows[0])
            cursor = conn.connection.dbapi_connection.cursor()
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as out:
                for row in rows:
                    out.write_row(tuple(row[c] for c in columns))

        return copy

    def executemany(conn: Any, table: Table, rows: list[dict[str, Any]]) -> None:
        conn.execute(table.insert(), rows)

    return executemany


def seed(url: str, count: int, *, progress: bool = True) -> Seeded:
    """Wipe, migrate and fill the database at ``url`` with ``count`` customers."""
    url = normalize_database_url(url)
    sqlite_path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
    started = time.perf_counter()
    _reset(url, sqlite_path)
    upgrade(url)
    engine = create_engine(url)
    if sqlite_path is not None:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    with engine.begin() as conn:
        workspace = workspaces.create_workspace(conn, "Bench", WORKSPACE_SLUG)
        key = workspaces.create_key(
            conn, SECRET.encode(), WORKSPACE_SLUG, "Bench load", rate_limit=RATE_LIMIT
        ).cleartext
    workspace_id = workspace["id"]
    # Everything in the past, so the server's own creates sort newest.
    start = clock.now_us() - (count + 10) * STEP_US - 60_000_000
    write = _writer(engine)
    every = max(1, count // SAMPLE)
    sample: list[str] = []
    batch: list[dict[str, Any]] = []
    done = 0

    def flush() -> None:
        nonlocal done
        if not batch:
            return
        ids = [row["id"] for row in batch]
        first = batch[0]["display_id"]
        with engine.begin() as conn:
            if sqlite_path is not None:
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
            write(conn, tables.customers, batch)
            write(conn, tables.contacts, _contacts(workspace_id, ids, first, start))
            write(conn, tables.onboardings, _onboardings(workspace_id, ids, first, start))
        done += len(batch)
        batch.clear()
        if progress and (done % 100_000 == 0 or done == count):
            print(f"  seeded {done:,} / {count:,} customers", flush=True)

    for row in _customers(workspace_id, count, start):
        if row["display_id"] % every == 0:
            sample.append(row["id"])
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    last = start + count * STEP_US
    with engine.begin() as conn:
        conn.execute(
            tables.display_counters.insert(),
            [
                {
                    "workspace_id": workspace_id,
                    "resource": resource,
                    "last_display_id": count,
                    "last_created_at": last,
                }
                for resource in ("customer", "contact", "onboarding")
            ],
        )
    with engine.connect() as conn:
        if sqlite_path is not None:
            conn.exec_driver_sql("ANALYZE")
            # The seed's pages into the database file: no checkpoint of them in a
            # measurement.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # VACUUM now, not autovacuum in the middle of the first measurements (a table
            # just given a million rows is due one), then write the seed's dirty pages
            # out, so no checkpoint of them lands in a measurement either.
            autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.exec_driver_sql("VACUUM (ANALYZE)")
            with suppress(DBAPIError):  # needs a superuser or pg_checkpoint: else left to it
                autocommit.exec_driver_sql("CHECKPOINT")
    engine.dispose()
    # The oldest 100 customers are those created strictly before customer 101.
    deepest = clock.iso(start + min(count, 101) * STEP_US)
    assert deepest is not None
    return Seeded(
        url=url,
        engine="sqlite" if sqlite_path is not None else "postgresql",
        customers=count,
        key=key,
        workspace_id=workspace_id,
        customer_ids=sample,
        deepest_cursor=deepest,
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="10k")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--sqlite", type=Path, default=Path("bench/.data/bench.db"))
    parser.add_argument("--json", action="store_true", help="print the seed info as JSON")
    args = parser.parse_args()
    if args.engine == "postgres":
        url = os.environ.get("PIVOTAL_BENCH_POSTGRES_URL")
        if not url:
            parser.error("--engine postgres needs PIVOTAL_BENCH_POSTGRES_URL")
    else:
        url = f"sqlite:///{args.sqlite.resolve()}"
    info = seed(url, SIZES[args.size], progress=not args.json)
    if args.json:
        print(json.dumps(asdict(info)))
    else:
        print(f"seeded {info.customers:,} customers into {info.engine} in {info.seconds:.1f} s")
        print(f"API key: {info.key}")


if __name__ == "__main__":
    main()
