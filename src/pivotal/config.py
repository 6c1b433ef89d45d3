"""Settings, read once from the environment (SPEC §10)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///./pivotal.db"


def normalize_database_url(url: str) -> str:
    """Pick our drivers: ``postgresql://`` means psycopg 3, ``sqlite://`` the stdlib module."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str | None = None
    log_level: str = "INFO"
    # Bodies above this size are refused with 413 before they are parsed.
    max_body_bytes: int = 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: str | None) -> Settings:
        env = os.environ
        values: dict[str, str | None] = {
            "database_url": env.get("PIVOTAL_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "redis_url": env.get("PIVOTAL_REDIS_URL") or None,
            "secret_key": env.get("PIVOTAL_SECRET_KEY") or None,
            "log_level": env.get("PIVOTAL_LOG_LEVEL") or "INFO",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(
            database_url=normalize_database_url(values["database_url"] or DEFAULT_DATABASE_URL),
            redis_url=values["redis_url"],
            secret_key=values["secret_key"],
            log_level=(values["log_level"] or "INFO").upper(),
        )
