"""Dashboard users: people who sign in, each in one workspace with one role (SPEC §12)."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from pivotal.core import clock, ids
from pivotal.core.errors import Conflict, InvalidRequest
from pivotal.dashboard import passwords
from pivotal.db import tables
from pivotal.workspaces.service import find_workspace

users = tables.users
ROLES = ("owner", "admin", "member")
ADMIN_ROLES = frozenset({"owner", "admin"})


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively, as people type them."""
    return email.strip().lower()


def create_user(
    conn: Connection,
    workspace_slug: str,
    email: str,
    role: str,
    password: str,
    *,
    iterations: int = passwords.ITERATIONS,
) -> dict[str, Any]:
    """Create a user; the password is kept only as a PBKDF2 hash."""
    workspace = find_workspace(conn, workspace_slug)
    email = normalize_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRequest("invalid_string", f"'{email}' is not a valid email", "email") from exc
    if len(email) > 254:
        raise InvalidRequest("too_big", "email must be at most 254 characters", "email")
    if role not in ROLES:
        raise InvalidRequest(
            "invalid_enum_value", f"role must be one of: {', '.join(ROLES)}", "role"
        )
    problem = passwords.password_problem(password)
    if problem is not None:
        raise InvalidRequest("too_small", problem, "password")
    now = clock.now_us()
    values = {
        "id": ids.prefixed("usr"),
        "workspace_id": workspace.id,
        "email": email,
        "role": role,
        "password_hash": passwords.hash_password(password, iterations=iterations),
        "created_at": now,
        "updated_at": now,
    }
    try:
        conn.execute(insert(users).values(values))
    except IntegrityError as exc:
        raise Conflict(
            "email_taken", f"A user with email {email} already exists.", "email"
        ) from exc
    return {
        "object": "user",
        "id": values["id"],
        "email": email,
        "role": role,
        "workspace": workspace.slug,
        "created_at": clock.iso(now),
    }


def find_by_email(conn: Connection, email: str) -> Any:
    return conn.execute(select(users).where(users.c.email == normalize_email(email))).first()
