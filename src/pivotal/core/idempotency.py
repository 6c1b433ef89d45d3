"""Idempotency keys (SPEC §5): a retried POST replays its first result instead of acting twice.

Everything happens inside the request's one transaction. The key is claimed with a
transaction-scoped advisory lock on PostgreSQL (a second request with the same key, on
any process, gets 409 ``idempotency_key_in_use`` at once; a crashed process releases
it with its connection) and by SQLite's single writer. The stored result is inserted in
the same transaction as the change, so it exists exactly when the change committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, text

from pivotal.core import clock, crypto
from pivotal.core.errors import Conflict, InvalidRequest
from pivotal.db import tables
from pivotal.db.engine import fetch

HEADER = "Idempotency-Key"
RETENTION_US = 24 * 3600 * clock.MICROS_PER_SECOND
_keys = tables.idempotency_keys


@dataclass(frozen=True)
class IdempotentRequest:
    key: str
    method: str
    path: str
    request_hash: str


@dataclass(frozen=True)
class StoredResult:
    status_code: int
    body: bytes


def parse_header(value: str | None) -> str | None:
    """The header's key, or the SPEC's 400 when it is not 1-255 printable ASCII bytes."""
    if value is None:
        return None
    if not 1 <= len(value) <= 255 or not all(32 <= ord(ch) <= 126 for ch in value):
        raise InvalidRequest(
            "invalid_parameter",
            f"{HEADER} must be 1-255 printable ASCII characters.",
            HEADER,
        )
    return value


def request_hash(parsed_body: Any) -> str:
    """A hash of the canonical body: the same JSON with other key order or spacing matches."""
    if not parsed_body:
        return hashlib.sha256(b"").hexdigest()
    try:
        canonical = orjson.dumps(parsed_body, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits (refused later by validation, but hashed first).
        text = json.dumps(parsed_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        canonical = text.encode()
    return hashlib.sha256(canonical).hexdigest()


def _lock_id(workspace_id: str, request: IdempotentRequest) -> int:
    digest = hashlib.sha256(
        "\x1f".join((workspace_id, request.method, request.path, request.key)).encode()
    ).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _params(workspace_id: str, request: IdempotentRequest) -> dict[str, str]:
    return {
        "workspace_id": workspace_id,
        "method": request.method,
        "path": request.path,
        "key": request.key,
    }


# Built once: every POST with an Idempotency-Key runs them.
_ONE_KEY = (
    (_keys.c.workspace_id == bindparam("workspace_id"))
    & (_keys.c.method == bindparam("method"))
    & (_keys.c.path == bindparam("path"))
    & (_keys.c.key == bindparam("key"))
)
_FIND = select(_keys.c.request_hash, _keys.c.status_code, _keys.c.body, _keys.c.created_at).where(
    _ONE_KEY
)
_FORGET = delete(_keys).where(_ONE_KEY)
_INSERT = insert(_keys)
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)")


def claim(
    conn: Connection, workspace_id: str, request: IdempotentRequest, now: int, secret: bytes
) -> StoredResult | None:
    """Own the key for this transaction; return the stored result to replay, if any."""
    if conn.dialect.name == "postgresql":
        ((acquired,),) = fetch(conn, _TRY_LOCK, {"k": _lock_id(workspace_id, request)})
        if not acquired:
            raise Conflict(
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still in progress; retry shortly.",
            )
    rows = fetch(conn, _FIND, _params(workspace_id, request))  # the primary key: one at most
    if not rows:
        return None
    row = rows[0]
    if row.created_at <= now - RETENTION_US:
        # Expired: the key counts as fresh.
        conn.execute(_FORGET, _params(workspace_id, request))
        return None
    if row.request_hash != request.request_hash:
        raise Conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body.",
        )
    return StoredResult(status_code=row.status_code, body=crypto.unseal(secret, row.body).encode())


def store(
    conn: Connection,
    workspace_id: str,
    request: IdempotentRequest,
    result: StoredResult,
    now: int,
    secret: bytes,
) -> None:
    """Store the result, sealed: a body may hold a one-time secret (webhook endpoints)."""
    fetch(
        conn,
        _INSERT,
        {
            **_params(workspace_id, request),
            "request_hash": request.request_hash,
            "status_code": result.status_code,
            "body": crypto.seal(secret, result.body.decode()),
            "created_at": now,
        },
    )


def prune(conn: Connection, now: int) -> None:
    """Forget results older than the 24-hour retention."""
    conn.execute(delete(_keys).where(_keys.c.created_at <= now - RETENTION_US))
