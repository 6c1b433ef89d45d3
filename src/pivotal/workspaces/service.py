"""Workspaces and their API keys: what the CLI (and later the dashboard) manages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from pivotal.core import auth, clock, ids
from pivotal.core.errors import Conflict, InvalidRequest, NotFound
from pivotal.core.validation import SLUG_PATTERN
from pivotal.customers.service import derive_slug
from pivotal.db import tables

workspaces = tables.workspaces
api_keys = tables.api_keys


def create_workspace(conn: Connection, name: str, slug: str | None = None) -> dict[str, Any]:
    name = name.strip()
    if not 1 <= len(name) <= 255:
        raise InvalidRequest(
            "too_small" if not name else "too_big", "name must be 1-255 characters", "name"
        )
    slug = (slug or derive_slug(name) or "workspace").strip()
    if not re.fullmatch(SLUG_PATTERN, slug) or len(slug) > 120:
        raise InvalidRequest("invalid_string", f"'{slug}' is not a valid slug", "slug")
    created_at = clock.now_us()
    values = {"id": ids.prefixed("org"), "name": name, "slug": slug, "created_at": created_at}
    try:
        conn.execute(insert(workspaces).values(values))
    except IntegrityError as exc:
        raise Conflict(
            "slug_taken", f"A workspace with slug '{slug}' already exists.", "slug"
        ) from exc
    return {"object": "workspace", **values, "created_at": clock.iso(created_at)}


def find_workspace(conn: Connection, slug: str) -> Any:
    row = conn.execute(select(workspaces).where(workspaces.c.slug == slug)).first()
    if row is None:
        raise NotFound("workspace_not_found", f"No workspace with slug '{slug}'.")
    return row


@dataclass(frozen=True)
class CreatedKey:
    record: dict[str, Any]
    cleartext: str


def render_key(row: Any) -> dict[str, Any]:
    r = row._mapping
    return {
        "object": "api_key",
        "id": r["id"],
        "name": r["name"],
        "prefix": r["prefix"],
        "mode": r["mode"],
        "scopes": orjson.loads(r["scopes"]),
        "rate_limit": r["rate_limit"],
        "created_at": clock.iso(r["created_at"]),
        "last_used_at": clock.iso(r["last_used_at"]),
        "revoked_at": clock.iso(r["revoked_at"]),
    }


def create_key(
    conn: Connection,
    pepper: bytes,
    workspace_slug: str,
    name: str,
    mode: str = "live",
    rate_limit: int | None = None,
    scopes: list[str] | None = None,
) -> CreatedKey:
    """Create a key; its cleartext exists only in the returned value, never in storage."""
    workspace = find_workspace(conn, workspace_slug)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidRequest(
            "too_big" if name else "too_small", "name must be 1-100 characters", "name"
        )
    if mode not in ("live", "test"):
        raise InvalidRequest("invalid_enum_value", "mode must be one of: live, test", "mode")
    if rate_limit is not None and rate_limit < 1:
        raise InvalidRequest(
            "too_small", "rate limit must be at least 1 request a minute", "rate_limit"
        )
    chosen = list(dict.fromkeys(scopes)) if scopes else list(auth.ALL_SCOPES)
    unknown = [scope for scope in chosen if scope not in auth.ALL_SCOPES]
    if unknown:
        raise InvalidRequest(
            "invalid_enum_value",
            f"unknown scope {unknown[0]!r}; scopes are: {', '.join(auth.ALL_SCOPES)}",
            "scope",
        )
    cleartext, prefix = auth.generate_key(mode)
    values = {
        "id": ids.prefixed("key"),
        "workspace_id": workspace.id,
        "name": name,
        "prefix": prefix,
        "mode": mode,
        "key_hash": auth.hash_key(pepper, cleartext),
        "scopes": orjson.dumps(chosen).decode(),
        "rate_limit": rate_limit or auth.DEFAULT_RATE_LIMITS[mode],
        "created_at": clock.now_us(),
    }
    row = conn.execute(insert(api_keys).values(values).returning(api_keys)).one()
    return CreatedKey(record=render_key(row), cleartext=cleartext)


def list_keys(conn: Connection, workspace_slug: str) -> list[dict[str, Any]]:
    workspace = find_workspace(conn, workspace_slug)
    rows = conn.execute(
        select(api_keys)
        .where(api_keys.c.workspace_id == workspace.id)
        .order_by(api_keys.c.created_at)
    ).all()
    return [render_key(row) for row in rows]


def revoke_key(conn: Connection, id_or_prefix: str) -> dict[str, Any]:
    """Revoke by id or visible prefix; a prefix that matches several keys is refused."""
    rows = conn.execute(
        select(api_keys).where(
            or_(api_keys.c.id == id_or_prefix, api_keys.c.prefix == id_or_prefix)
        )
    ).all()
    if not rows:
        raise NotFound("api_key_not_found", f"No API key with id or prefix '{id_or_prefix}'.")
    if len(rows) > 1:
        raise Conflict(
            "ambiguous_prefix",
            f"{len(rows)} keys share the prefix '{id_or_prefix}'; use the key id.",
        )
    row = rows[0]
    if row.revoked_at is None:
        row = conn.execute(
            update(api_keys)
            .where(api_keys.c.id == row.id)
            .values(revoked_at=clock.now_us())
            .returning(api_keys)
        ).one()
    return render_key(row)
