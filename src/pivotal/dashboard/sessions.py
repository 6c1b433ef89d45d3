"""Dashboard sessions, CSRF tokens and one-time flash messages.

The cookie holds an opaque random token; the database holds only HMAC(server secret,
token), so neither a database copy nor a log line can be turned back into a cookie.
A session ends after 12 hours without a request or 7 days after sign-in, whichever
comes first. CSRF tokens are synchronizer tokens derived from the session, so they need
no storage and change whenever the session does (at every sign-in).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, or_, select, update

from pivotal.core import clock, crypto
from pivotal.db import tables

COOKIE_NAME = "pivotal_session"
# The pre-session cookie behind the sign-in form's CSRF token (login CSRF would let an
# attacker sign a victim in to the attacker's account).
LOGIN_COOKIE_NAME = "pivotal_login"
HOUR_US = 3600 * clock.MICROS_PER_SECOND
IDLE_TIMEOUT_US = 12 * HOUR_US
ABSOLUTE_TIMEOUT_US = 7 * 24 * HOUR_US
# last_seen_at is written at most this often, so page views stay reads.
TOUCH_INTERVAL_US = 5 * 60 * clock.MICROS_PER_SECOND

sessions = tables.dashboard_sessions
users = tables.users
workspaces = tables.workspaces


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def token_hash(secret: bytes, token: str) -> str:
    return _mac(secret, "dashboard-session", token)


@dataclass(frozen=True)
class SessionUser:
    """The signed-in person, their workspace, and their session."""

    user_id: str
    email: str
    role: str
    workspace_id: str
    workspace_slug: str
    workspace_name: str
    token_hash: str
    last_seen_at: int
    has_flash: bool

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")


def csrf_token(secret: bytes, session_hash: str) -> str:
    return _mac(secret, "dashboard-csrf", session_hash)


def csrf_valid(secret: bytes, session_hash: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(secret, session_hash), sent or "")


def login_csrf_token(secret: bytes, login_cookie: str) -> str:
    return _mac(secret, "dashboard-login-csrf", login_cookie)


def login_csrf_valid(secret: bytes, login_cookie: str | None, sent: str | None) -> bool:
    if not login_cookie or not sent:
        return False
    return hmac.compare_digest(login_csrf_token(secret, login_cookie), sent)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start(conn: Connection, secret: bytes, user_id: str, now: int, replaces: str | None) -> str:
    """A fresh session for ``user_id``; the one the browser had before (if any) ends.

    Always a new token at sign-in, so a token planted before sign-in (session
    fixation) never becomes a signed-in session. Returns the cookie value.
    """
    if replaces:
        conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(secret, replaces)))
    # Expired sessions are swept here, where a write happens anyway.
    conn.execute(
        delete(sessions).where(
            or_(sessions.c.expires_at <= now, sessions.c.last_seen_at <= now - IDLE_TIMEOUT_US)
        )
    )
    token = new_token()
    conn.execute(
        insert(sessions).values(
            token_hash=token_hash(secret, token),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_TIMEOUT_US,
            flash=None,
        )
    )
    return token


_SESSION_QUERY = (
    select(
        sessions.c.token_hash,
        sessions.c.last_seen_at,
        sessions.c.expires_at,
        sessions.c.flash.is_not(None).label("has_flash"),
        users.c.id.label("user_id"),
        users.c.email,
        users.c.role,
        workspaces.c.id.label("workspace_id"),
        workspaces.c.slug.label("workspace_slug"),
        workspaces.c.name.label("workspace_name"),
    )
    .join(users, users.c.id == sessions.c.user_id)
    .join(workspaces, workspaces.c.id == users.c.workspace_id)
)


def load(conn: Connection, secret: bytes, token: str | None, now: int) -> SessionUser | None:
    """The session named by the cookie's token, if it exists and has not expired."""
    if not token or len(token) > 100:
        return None
    row = conn.execute(
        _SESSION_QUERY.where(sessions.c.token_hash == token_hash(secret, token))
    ).first()
    if row is None or row.expires_at <= now or row.last_seen_at <= now - IDLE_TIMEOUT_US:
        return None
    return SessionUser(
        user_id=row.user_id,
        email=row.email,
        role=row.role,
        workspace_id=row.workspace_id,
        workspace_slug=row.workspace_slug,
        workspace_name=row.workspace_name,
        token_hash=row.token_hash,
        last_seen_at=row.last_seen_at,
        has_flash=bool(row.has_flash),
    )


def needs_touch(user: SessionUser, now: int) -> bool:
    return now - user.last_seen_at >= TOUCH_INTERVAL_US


def touch(conn: Connection, session_hash: str, now: int) -> None:
    conn.execute(
        update(sessions).where(sessions.c.token_hash == session_hash).values(last_seen_at=now)
    )


def end(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == session_hash))


def set_flash(conn: Connection, secret: bytes, session_hash: str, message: dict[str, Any]) -> None:
    """Keep a message for the next page; sealed, because it may hold a new key."""
    sealed = crypto.seal(secret, orjson.dumps(message).decode())
    conn.execute(update(sessions).where(sessions.c.token_hash == session_hash).values(flash=sealed))


def take_flash(conn: Connection, secret: bytes, session_hash: str) -> dict[str, Any] | None:
    """The pending message, removed in the same transaction: it is shown exactly once,
    even to two tabs reloading at the same moment."""
    sealed = conn.execute(
        select(sessions.c.flash).where(sessions.c.token_hash == session_hash).with_for_update()
    ).scalar()
    if sealed is None:
        return None
    conn.execute(update(sessions).where(sessions.c.token_hash == session_hash).values(flash=None))
    message: dict[str, Any] = orjson.loads(crypto.unseal(secret, sealed))
    return message
