"""Settings, read once from the environment (SPEC §10)."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
    # auto (Redis when configured, else the database) | memory | database | redis
    rate_limit_storage: str = "auto"
    # Whether this process also runs the delivery worker (`pivotal serve` without
    # --no-worker); tests drive the worker themselves.
    run_worker: bool = False
    webhooks_allow_http: bool = False
    webhooks_allow_private: bool = False
    slack_api_url: str = "https://slack.com/api"
    resend_api_url: str = "https://api.resend.com"
    hubspot_api_url: str = "https://api.hubapi.com"
    # Threads for blocking work (database calls) per process; see app._lifespan.
    threads: int = 8
    # Bodies above this size are refused with 413 before they are parsed.
    max_body_bytes: int = 1024 * 1024
    # FastAPI's own OpenTelemetry instrumentation (spans, metrics and logs sent to the
    # providers the process has configured). Off unless asked for: while on, FastAPI
    # looks for configured providers on every request, about a tenth of a GET's CPU.
    opentelemetry: bool = False

    @classmethod
    def from_env(cls, **overrides: str | None) -> Settings:
        env = os.environ
        values: dict[str, str | None] = {
            "database_url": env.get("PIVOTAL_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "redis_url": env.get("PIVOTAL_REDIS_URL") or None,
            "secret_key": env.get("PIVOTAL_SECRET_KEY") or None,
            "log_level": env.get("PIVOTAL_LOG_LEVEL") or "INFO",
            "rate_limit_storage": env.get("PIVOTAL_RATE_LIMIT_STORAGE") or "auto",
            "run_worker": env.get("PIVOTAL_RUN_WORKER") or "0",
            "webhooks_allow_http": env.get("PIVOTAL_WEBHOOKS_ALLOW_HTTP") or "0",
            "webhooks_allow_private": env.get("PIVOTAL_WEBHOOKS_ALLOW_PRIVATE") or "0",
            "slack_api_url": env.get("PIVOTAL_SLACK_API_URL") or cls.slack_api_url,
            "resend_api_url": env.get("PIVOTAL_RESEND_API_URL") or cls.resend_api_url,
            "hubspot_api_url": env.get("PIVOTAL_HUBSPOT_API_URL") or cls.hubspot_api_url,
            "threads": env.get("PIVOTAL_THREADS") or None,
            "opentelemetry": env.get("PIVOTAL_OPENTELEMETRY") or "0",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(
            database_url=normalize_database_url(values["database_url"] or DEFAULT_DATABASE_URL),
            redis_url=values["redis_url"],
            secret_key=values["secret_key"],
            log_level=(values["log_level"] or "INFO").upper(),
            rate_limit_storage=(values["rate_limit_storage"] or "auto").lower(),
            run_worker=_flag(values["run_worker"]),
            webhooks_allow_http=_flag(values["webhooks_allow_http"]),
            webhooks_allow_private=_flag(values["webhooks_allow_private"]),
            slack_api_url=(values["slack_api_url"] or cls.slack_api_url).rstrip("/"),
            resend_api_url=(values["resend_api_url"] or cls.resend_api_url).rstrip("/"),
            hubspot_api_url=(values["hubspot_api_url"] or cls.hubspot_api_url).rstrip("/"),
            threads=_positive_int("PIVOTAL_THREADS", values["threads"], cls.threads),
            opentelemetry=_flag(values["opentelemetry"]),
        )


def _positive_int(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
