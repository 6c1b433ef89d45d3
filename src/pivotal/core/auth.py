"""API keys: format, hashing (HMAC with the server pepper), scopes and authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, text, update

from pivotal.core import clock
from pivotal.core.errors import AuthenticationFailed, PermissionDenied
from pivotal.db import tables
from pivotal.db.engine import fetch

LIVE_PREFIX = "pivotal_"
TEST_PREFIX = "pivotal_test_"
SECRET_LENGTH = 40  # base62: ~238 bits, above the SPEC's 190-bit floor
MIN_SECRET_LENGTH = 32
MAX_SECRET_LENGTH = 128
VISIBLE_SECRET_CHARS = 4
_BASE62 = string.ascii_letters + string.digits
_BASE62_SET = frozenset(_BASE62)

RESOURCES = ("customers", "contacts", "onboardings", "tasks", "webhooks")
ALL_SCOPES = tuple(f"{action}:{resource}" for resource in RESOURCES for action in ("read", "write"))
DEFAULT_RATE_LIMITS = {"live": 60, "test": 30}
LAST_USED_GRANULARITY_US = 60 * clock.MICROS_PER_SECOND


@dataclass(frozen=True)
class ApiKey:
    """The authenticated caller: one key and the workspace it belongs to."""

    id: str
    name: str
    prefix: str
    mode: str
    scopes: tuple[str, ...]
    rate_limit: int
    workspace_id: str
    workspace_slug: str
    workspace_name: str
    last_used_at: int | None = None

    @property
    def livemode(self) -> bool:
        return self.mode == "live"

    @property
    def actor(self) -> str:
        return f"API: {self.name}"


def generate_key(mode: str) -> tuple[str, str]:
    """A new cleartext key and its visible prefix (e.g. ``pivotal_K8s9``)."""
    secret = "".join(secrets.choice(_BASE62) for _ in range(SECRET_LENGTH))
    head = TEST_PREFIX if mode == "test" else LIVE_PREFIX
    return head + secret, head + secret[:VISIBLE_SECRET_CHARS]


def split_key(token: str) -> tuple[str, str] | None:
    """(mode, secret) for a token in the key format, None for anything else."""
    if token.startswith(TEST_PREFIX):
        mode, secret = "test", token[len(TEST_PREFIX) :]
    elif token.startswith(LIVE_PREFIX):
        mode, secret = "live", token[len(LIVE_PREFIX) :]
    else:
        return None
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        return None
    if not _BASE62_SET.issuperset(secret):
        return None
    return mode, secret


def hash_key(pepper: bytes, token: str) -> str:
    return hmac.new(pepper, token.encode(), hashlib.sha256).hexdigest()


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <key>`` header, or the SPEC's 401."""
    if header is None or not header.strip():
        raise AuthenticationFailed(
            "missing_api_key",
            "No API key provided. Send it as 'Authorization: Bearer <key>'.",
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or split_key(token) is None:
        raise AuthenticationFailed(
            "malformed_api_key",
            "The Authorization header must be 'Bearer <key>' with a key in the Pivotal format.",
        )
    return token


# The columns ApiKey needs, shared by every statement that admits a key: the lookup
# below and PostgreSQL's admission statement (core/admission.py).
KEY_COLUMNS = (
    "k.id, k.key_hash, k.name, k.prefix, k.mode, k.scopes, k.rate_limit, k.last_used_at,"
    " k.revoked_at, w.id AS workspace_id, w.slug AS workspace_slug, w.name AS workspace_name"
)
KEY_TABLES = "api_keys AS k JOIN workspaces AS w ON w.id = k.workspace_id"
KEY_COLUMN_NAMES = tuple(part.split()[-1].removeprefix("k.") for part in KEY_COLUMNS.split(","))
_KEY_LOOKUP = text(f"SELECT {KEY_COLUMNS} FROM {KEY_TABLES} WHERE k.key_hash = :key_hash")


def key_from_row(row: Any, digest: str) -> ApiKey:
    """The active key a lookup by ``digest`` found, or the matching 401.

    Nothing is cached: a revoked key is refused on the very next request, whichever
    process serves it.
    """
    # The index probe compares HMAC digests, which reveal nothing about the key; the
    # final comparison is constant-time all the same.
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        raise AuthenticationFailed("invalid_api_key", "The API key is not valid.")
    if row.revoked_at is not None:
        raise AuthenticationFailed("api_key_revoked", "The API key has been revoked.")
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        mode=row.mode,
        scopes=_scopes(row.scopes),
        rate_limit=row.rate_limit,
        workspace_id=row.workspace_id,
        workspace_slug=row.workspace_slug,
        workspace_name=row.workspace_name,
        last_used_at=row.last_used_at,
    )


@lru_cache(maxsize=64)
def _scopes(stored: str) -> tuple[str, ...]:
    # Keys share a handful of scope lists; each is parsed once, not on every request.
    return tuple(orjson.loads(stored))


def lookup(conn: Connection, digest: str) -> ApiKey:
    """The active key whose HMAC digest is ``digest``, or the matching 401.

    On the driver's cursor (see ``fetch``): every authenticated request pays for it.
    """
    rows = fetch(conn, _KEY_LOOKUP, {"key_hash": digest})  # key_hash is unique
    return key_from_row(rows[0] if rows else None, digest)


def needs_touch(key: ApiKey, now: int) -> bool:
    """Whether ``last_used_at`` is stale enough to write (at most once a minute per key)."""
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_GRANULARITY_US


_TOUCH = (
    update(tables.api_keys)
    .where(tables.api_keys.c.id == bindparam("key_id"))
    .values(last_used_at=bindparam("now"))
)


def touch(conn: Connection, key_id: str, now: int) -> None:
    fetch(conn, _TOUCH, {"key_id": key_id, "now": now})


def require_scope(key: ApiKey, scope: str) -> None:
    if scope not in key.scopes:
        raise PermissionDenied(
            "missing_scope", f"This API key does not have the required scope '{scope}'."
        )
