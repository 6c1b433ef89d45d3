"""The server secret: the pepper for API key hashes and the key for secrets at rest."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from pivotal.db import tables

_SETTING = "secret_key"


def load_secret_key(engine: Engine, configured: str | None) -> bytes:
    """PIVOTAL_SECRET_KEY when set; otherwise the one kept in the database, made on first use."""
    if configured:
        return configured.encode()
    query = select(tables.server_settings.c.value).where(tables.server_settings.c.key == _SETTING)
    with engine.begin() as conn:
        stored = conn.execute(query).scalar_one_or_none()
    if stored is None:
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(tables.server_settings).values(key=_SETTING, value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another process made it first; read theirs
        with engine.begin() as conn:
            stored = conn.execute(query).scalar_one()
    return str(stored).encode()
