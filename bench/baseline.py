"""The bare baseline: a minimal ASGI app (no framework) doing the endpoints' SQL directly.

Same statements as the server's essential work, through the same drivers (sqlite3 from
the standard library, psycopg 3 for PostgreSQL), rendered with orjson into roughly the
same JSON. No authentication, rate limiting, validation, events or activity: this is
the ceiling the server is measured against (ratios, never absolute times).

    PIVOTAL_DATABASE_URL=sqlite:///bench/.data/bench.db PIVOTAL_SECRET_KEY=bench-secret-key \\
        .venv/bin/granian --interface asgi --factory bench.baseline:create_app

Routes (workspace from PIVOTAL_BENCH_WORKSPACE_ID, or the only workspace):
  GET   /api/v1/health
  GET   /api/v1/customers/{display_id or id}
  GET   /api/v1/customers?limit=100[&cursor=ISO]
  POST  /api/v1/customers              {"name": ...}: counter upsert + INSERT, one transaction
  PATCH /api/v1/onboardings/{display_id}  {"phase": ...}: one UPDATE ... RETURNING
  GET   /api/v1/me                      key lookup by HMAC hash (one SELECT with a join)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

import orjson

from pivotal.config import normalize_database_url
from pivotal.core import clock, ids

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

CUSTOMER_COLUMNS = (
    "id, display_id, name, slug, domain, status, plan, mrr, monthly_orders, hubspot_company_id,"
    " hubspot_deal_id, stripe_customer_id, intercom_company_id, slack_channel_id, metadata,"
    " created_at, updated_at"
)
ONBOARDING_COLUMNS = (
    "id, display_id, customer_id, name, template_id, phase, state, waiting_on_customer,"
    " started_at, completed_at, target_launch_date, csm_id, se_id, designer_id,"
    " product_ops_id, notes, reminders_enabled, reminder_frequency_days, metadata,"
    " created_at, updated_at"
)
CUSTOMER_KEYS = [c.strip() for c in CUSTOMER_COLUMNS.split(",")]
ONBOARDING_KEYS = [c.strip() for c in ONBOARDING_COLUMNS.split(",")]
SQL = {
    "customer_by_display_id": f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE workspace_id = ?"
    " AND display_id = ? AND deleted_at IS NULL",
    "customer_by_id": f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE workspace_id = ?"
    " AND id = ? AND deleted_at IS NULL",
    "customers_first": f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE workspace_id = ?"
    " AND deleted_at IS NULL ORDER BY created_at DESC LIMIT ?",
    "customers_before": f"SELECT {CUSTOMER_COLUMNS} FROM customers WHERE workspace_id = ?"
    " AND deleted_at IS NULL AND created_at < ? ORDER BY created_at DESC LIMIT ?",
    "allocate": "INSERT INTO display_counters (workspace_id, resource, last_display_id,"
    " last_created_at) VALUES (?, 'customer', 1, ?) ON CONFLICT (workspace_id, resource)"
    " DO UPDATE SET last_display_id = display_counters.last_display_id + 1,"
    " last_created_at = CASE WHEN display_counters.last_created_at >= excluded.last_created_at"
    " THEN display_counters.last_created_at + 1 ELSE excluded.last_created_at END"
    " RETURNING last_display_id, last_created_at",
    "insert_customer": "INSERT INTO customers (id, workspace_id, display_id, name, slug, status,"
    " metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', '{}', ?, ?)"
    f" RETURNING {CUSTOMER_COLUMNS}",
    "update_phase": "UPDATE onboardings SET phase = ?, updated_at = ? WHERE workspace_id = ?"
    f" AND display_id = ? AND deleted_at IS NULL RETURNING {ONBOARDING_COLUMNS}",
    "key": "SELECT k.id, k.key_hash, k.name, k.prefix, k.mode, k.scopes, k.rate_limit,"
    " k.revoked_at, w.id, w.slug, w.name FROM api_keys k JOIN workspaces w"
    " ON w.id = k.workspace_id WHERE k.key_hash = ?",
}
PG_SQL = {name: statement.replace("?", "%s") for name, statement in SQL.items()}
JSON_HEADERS = [(b"content-type", b"application/json")]


def render_customer(row: Sequence[Any]) -> dict[str, Any]:
    r = dict(zip(CUSTOMER_KEYS, row, strict=True))
    r["object"] = "customer"
    r["metadata"] = orjson.loads(r["metadata"])
    r["created_at"] = clock.iso(r["created_at"])
    r["updated_at"] = clock.iso(r["updated_at"])
    return r


def render_onboarding(row: Sequence[Any]) -> dict[str, Any]:
    r = dict(zip(ONBOARDING_KEYS, row, strict=True))
    r["object"] = "onboarding"
    r["waiting_on_customer"] = bool(r["waiting_on_customer"])
    r["reminders_enabled"] = bool(r["reminders_enabled"])
    r["metadata"] = orjson.loads(r["metadata"])
    for name in ("started_at", "completed_at", "target_launch_date", "created_at", "updated_at"):
        r[name] = clock.iso(r[name])
    return r


def slug_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:120] or "customer"


class SqliteBackend:
    """One sqlite3 connection, used straight from the event loop (each call is microseconds)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    async def start(self) -> None:
        pass

    async def one(self, name: str, params: Sequence[Any]) -> Any:
        return self.conn.execute(SQL[name], params).fetchone()

    async def all(self, name: str, params: Sequence[Any]) -> list[Any]:
        return self.conn.execute(SQL[name], params).fetchall()

    async def write(self, steps: Callable[[Callable[[str, Sequence[Any]], Any]], Any]) -> Any:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = steps(lambda name, params: conn.execute(SQL[name], params).fetchone())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result


class PostgresBackend:
    """A small pool of psycopg async connections; reads in autocommit (one round trip)."""

    def __init__(self, url: str, size: int = 10) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.size = size
        self.pool: asyncio.Queue[Any] = asyncio.Queue()

    async def start(self) -> None:
        import psycopg

        for _ in range(self.size):
            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
            self.pool.put_nowait(conn)

    async def one(self, name: str, params: Sequence[Any]) -> Any:
        conn = await self.pool.get()
        try:
            cursor = await conn.execute(PG_SQL[name], params)
            return await cursor.fetchone()
        finally:
            self.pool.put_nowait(conn)

    async def all(self, name: str, params: Sequence[Any]) -> list[Any]:
        conn = await self.pool.get()
        try:
            cursor = await conn.execute(PG_SQL[name], params)
            return await cursor.fetchall()
        finally:
            self.pool.put_nowait(conn)

    async def write(self, steps: Callable[..., Any]) -> Any:
        conn = await self.pool.get()
        try:
            async with conn.transaction():
                results: list[Any] = []

                async def run(name: str, params: Sequence[Any]) -> Any:
                    cursor = await conn.execute(PG_SQL[name], params)
                    return await cursor.fetchone()

                for name, make_params in steps.plan:  # type: ignore[attr-defined]
                    results.append(await run(name, make_params(results)))
                return steps.finish(results)  # type: ignore[attr-defined]
        finally:
            self.pool.put_nowait(conn)


class Plan:
    """A write as a list of (statement, params from earlier results) and a final render.

    SQLite runs it synchronously inside BEGIN IMMEDIATE; PostgreSQL awaits each step.
    """

    def __init__(
        self,
        plan: list[tuple[str, Callable[[list[Any]], Sequence[Any]]]],
        finish: Callable[[list[Any]], Any],
    ) -> None:
        self.plan = plan
        self.finish = finish

    def __call__(self, run: Callable[[str, Sequence[Any]], Any]) -> Any:
        results: list[Any] = []
        for name, make_params in self.plan:
            results.append(run(name, make_params(results)))
        return self.finish(results)


class Baseline:
    def __init__(self, url: str, pepper: bytes, workspace_id: str | None) -> None:
        self.url = normalize_database_url(url)
        self.pepper = pepper
        self.workspace_id = workspace_id
        if self.url.startswith("sqlite"):
            self.db: Any = SqliteBackend(self.url.removeprefix("sqlite:///"))
        else:
            self.db = PostgresBackend(self.url)

    async def startup(self) -> None:
        await self.db.start()
        if self.workspace_id is None:
            if isinstance(self.db, SqliteBackend):
                row = self.db.conn.execute("SELECT id FROM workspaces LIMIT 1").fetchone()
            else:
                conn = await self.db.pool.get()
                row = await (await conn.execute("SELECT id FROM workspaces LIMIT 1")).fetchone()
                self.db.pool.put_nowait(conn)
            self.workspace_id = row[0]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        status, payload = await self.route(scope, receive)
        body = orjson.dumps(payload)
        await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": body})

    async def route(self, scope: Scope, receive: Receive) -> tuple[int, Any]:
        method, path = scope["method"], scope["path"]
        ws = self.workspace_id
        if path == "/api/v1/health":
            return 200, {"status": "ok"}
        if path == "/api/v1/me":
            token = ""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    token = value.decode().partition(" ")[2].strip()
            digest = hmac.new(self.pepper, token.encode(), hashlib.sha256).hexdigest()
            row = await self.db.one("key", (digest,))
            if row is None or row[7] is not None:
                return 401, {"error": {"code": "invalid_api_key"}}
            return 200, {
                "object": "me",
                "livemode": row[4] == "live",
                "api_key": {
                    "id": row[0],
                    "name": row[2],
                    "prefix": row[3],
                    "mode": row[4],
                    "scopes": orjson.loads(row[5]),
                    "rate_limit": {"limit": row[6], "window_seconds": 60},
                },
                "organization": {"id": row[8], "slug": row[9], "name": row[10]},
            }
        if path == "/api/v1/customers":
            if method == "POST":
                data = orjson.loads(await _body(receive))
                name = data["name"]
                now = clock.now_us()
                plan = Plan(
                    [
                        ("allocate", lambda _: (ws, now)),
                        (
                            "insert_customer",
                            lambda r: (
                                ids.cuid(),
                                ws,
                                r[0][0],
                                name,
                                slug_of(name),
                                r[0][1],
                                r[0][1],
                            ),
                        ),
                    ],
                    lambda r: render_customer(r[1]),
                )
                return 201, await self.db.write(plan)
            query = parse_qs(scope["query_string"].decode())
            limit = int(query.get("limit", ["20"])[0])
            cursor = query.get("cursor", [None])[0]
            if cursor is None:
                rows = await self.db.all("customers_first", (ws, limit + 1))
            else:
                before = clock.parse_datetime(cursor)
                rows = await self.db.all("customers_before", (ws, before, limit + 1))
            has_more = len(rows) > limit
            rows = rows[:limit]
            return 200, {
                "object": "list",
                "data": [render_customer(row) for row in rows],
                "has_more": has_more,
                "next_cursor": clock.iso(rows[-1][15]) if has_more else None,
            }
        if path.startswith("/api/v1/customers/"):
            ref = path.rsplit("/", 1)[1]
            if ref.isdigit():
                row = await self.db.one("customer_by_display_id", (ws, int(ref)))
            else:
                row = await self.db.one("customer_by_id", (ws, ref))
            if row is None:
                return 404, {"error": {"code": "customer_not_found"}}
            return 200, render_customer(row)
        if path.startswith("/api/v1/onboardings/") and method == "PATCH":
            display_id = int(path.rsplit("/", 1)[1])
            phase = orjson.loads(await _body(receive))["phase"]
            now = clock.now_us()
            plan = Plan(
                [("update_phase", lambda _: (phase, now, ws, display_id))],
                lambda r: r[0] and render_onboarding(r[0]),
            )
            onboarding = await self.db.write(plan)
            if not onboarding:
                return 404, {"error": {"code": "onboarding_not_found"}}
            return 200, onboarding
        return 404, {"error": {"code": "not_found"}}


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def create_app() -> Baseline:
    return Baseline(
        os.environ["PIVOTAL_DATABASE_URL"],
        os.environ.get("PIVOTAL_SECRET_KEY", "bench-secret-key").encode(),
        os.environ.get("PIVOTAL_BENCH_WORKSPACE_ID") or None,
    )
