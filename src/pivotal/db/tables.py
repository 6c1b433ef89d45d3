"""The schema, as SQLAlchemy Core tables shared by both engines.

Timestamps are BIGINT microseconds since the epoch (see core/clock.py); JSON values are
stored as text rendered by orjson so they come back exactly as stored on both engines.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

LIVE = text("deleted_at IS NULL")


def _timestamps() -> list[Column[int]]:
    return [
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
        Column("deleted_at", BigInteger, nullable=True),
    ]


server_settings = Table(
    "server_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("slug", String(120), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("rate_limit", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_api_keys_workspace_id", "workspace_id"),
    Index("ix_api_keys_prefix", "prefix"),
)

# One row per workspace and resource type: the last display id and the last created_at
# handed out. Updating it takes a row lock, which is what makes display ids strictly
# increasing and created_at unique (the pagination cursor) under concurrent creates.
display_counters = Table(
    "display_counters",
    metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("last_display_id", BigInteger, nullable=False),
    Column("last_created_at", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("display_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("slug", String(120), nullable=False),
    Column("domain", String(255), nullable=True),
    Column("status", String(16), nullable=False),
    Column("plan", String(120), nullable=True),
    Column("mrr", BigInteger, nullable=True),
    Column("monthly_orders", BigInteger, nullable=True),
    Column("hubspot_company_id", String(255), nullable=True),
    Column("hubspot_deal_id", String(255), nullable=True),
    Column("stripe_customer_id", String(255), nullable=True),
    Column("intercom_company_id", String(255), nullable=True),
    Column("slack_channel_id", String(255), nullable=True),
    Column("metadata", Text, nullable=False),
    *_timestamps(),
    Index("uq_customers_workspace_display", "workspace_id", "display_id", unique=True),
    Index("ix_customers_workspace_created", "workspace_id", "created_at"),
    Index(
        "uq_customers_workspace_slug_live",
        "workspace_id",
        "slug",
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    ),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False),
    Column("display_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("email", String(254), nullable=False),
    Column("title", String(255), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("is_primary", Boolean, nullable=False),
    Column("labels", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    *_timestamps(),
    Index("uq_contacts_workspace_display", "workspace_id", "display_id", unique=True),
    Index("ix_contacts_customer_created", "customer_id", "created_at"),
    Index(
        "uq_contacts_customer_email_live",
        "customer_id",
        "email",
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    ),
)

onboardings = Table(
    "onboardings",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False),
    Column("display_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=True),
    Column("template_id", String(255), nullable=True),
    Column("phase", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("waiting_on_customer", Boolean, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("completed_at", BigInteger, nullable=True),
    Column("target_launch_date", BigInteger, nullable=True),
    Column("csm_id", String(255), nullable=True),
    Column("se_id", String(255), nullable=True),
    Column("designer_id", String(255), nullable=True),
    Column("product_ops_id", String(255), nullable=True),
    Column("notes", Text, nullable=True),
    Column("reminders_enabled", Boolean, nullable=False),
    Column("reminder_frequency_days", Integer, nullable=False),
    Column("metadata", Text, nullable=False),
    *_timestamps(),
    Index("uq_onboardings_workspace_display", "workspace_id", "display_id", unique=True),
    Index("ix_onboardings_workspace_created", "workspace_id", "created_at"),
    Index("ix_onboardings_customer_created", "customer_id", "created_at"),
)

phase_transitions = Table(
    "phase_transitions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("onboarding_id", String(40), ForeignKey("onboardings.id"), nullable=False),
    Column("from_phase", String(32), nullable=False),
    Column("to_phase", String(32), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_phase_transitions_onboarding_created", "onboarding_id", "created_at"),
)

# The transactional outbox: one row per event, written with the change it describes.
events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_events_workspace_created", "workspace_id", "created_at"),
)

activity = Table(
    "activity",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("actor_type", String(16), nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(40), nullable=False),
    Column("changes", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_activity_customer_created", "customer_id", "created_at"),
)

# Stored results of POSTs sent with an Idempotency-Key (SPEC §5), kept 24 hours. Written
# in the same transaction as the change, so a result exists exactly when the change does.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("method", String(8), primary_key=True),
    Column("path", String(512), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_idempotency_keys_created", "created_at"),
)

# The database-backed rate-limit window (core/ratelimit.py), used when several processes
# share the database without Redis: hits per bucket and Unix second. UNLOGGED on
# PostgreSQL (migration 0008): a crash empties it, and every key starts a fresh minute.
rate_limit_slots = Table(
    "rate_limit_slots",
    metadata,
    Column("bucket", String(128), primary_key=True),
    Column("second", BigInteger, primary_key=True),
    Column("hits", Integer, nullable=False),
)

# Tasks under an onboarding (SPEC §7.5). customer_id is the onboarding's, copied so a
# task's visibility (its customer not deleted) needs no extra join. due_date is stored as
# its "YYYY-MM-DD" text. Lists walk (onboarding_id, position, created_at).
tasks = Table(
    "tasks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("onboarding_id", String(40), ForeignKey("onboardings.id"), nullable=False),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False),
    Column("parent_task_id", String(40), ForeignKey("tasks.id"), nullable=True),
    Column("display_id", BigInteger, nullable=False),
    Column("title", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("assignee_email", String(254), nullable=True),
    Column("due_date", String(10), nullable=True),
    Column("completed", Boolean, nullable=False),
    Column("completed_at", BigInteger, nullable=True),
    Column("completed_by", String(255), nullable=True),
    Column("position", BigInteger, nullable=False),
    Column("metadata", Text, nullable=False),
    *_timestamps(),
    Index("uq_tasks_workspace_display", "workspace_id", "display_id", unique=True),
    Index("ix_tasks_onboarding_position_created", "onboarding_id", "position", "created_at"),
    Index("ix_tasks_parent_task_id", "parent_task_id"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    Column("enabled_events", Text, nullable=False),
    Column("livemode", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("disabled_reason", String(255), nullable=True),
    # Signing secrets, sealed with the server secret (core/crypto.py). The previous
    # secret keeps signing beside the new one until previous_secret_expires_at.
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    Column("previous_secret_expires_at", BigInteger, nullable=True),
    Column("consecutive_failures", Integer, nullable=False),
    *_timestamps(),
    Index("ix_webhook_endpoints_workspace_created", "workspace_id", "created_at"),
)

# One row per (event, endpoint): the unit of delivery, retried on its schedule. A worker
# claims a due row by moving next_attempt_at forward by a lease and stamping lease_token.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", String(40), ForeignKey("events.id"), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt_count", Integer, nullable=False),
    Column("first_attempt_at", BigInteger, nullable=True),
    Column("next_attempt_at", BigInteger, nullable=True),
    Column("lease_token", String(40), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("delivery_id", String(40), ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("error", String(500), nullable=True),
    Index("ix_webhook_attempts_delivery", "delivery_id", "attempted_at"),
)

# Per-workspace integration credentials (Slack bot token, Resend key and sender, HubSpot
# token), sealed with the server secret like webhook secrets.
integration_settings = Table(
    "integration_settings",
    metadata,
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), primary_key=True),
    Column("service", String(16), primary_key=True),
    Column("config", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Side effects of changes (SPEC §9), enqueued in the change's transaction and run after
# commit by the same kind of leased queue as webhook deliveries.
integration_jobs = Table(
    "integration_jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(40), nullable=False),
    Column("service", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt_count", Integer, nullable=False),
    Column("first_attempt_at", BigInteger, nullable=True),
    Column("next_attempt_at", BigInteger, nullable=True),
    Column("lease_token", String(40), nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_integration_jobs_due", "status", "next_attempt_at"),
)

# People who sign in to the dashboard (SPEC §12). Emails are unique across the server,
# so the sign-in form needs no workspace field. password_hash is
# "pbkdf2_sha256$<iterations>$<salt>$<hash>" (dashboard/passwords.py).
users = Table(
    "users",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_users_workspace_id", "workspace_id"),
)

# Dashboard sessions. Only an HMAC of the cookie's token is stored, so a copy of this
# table cannot be replayed as cookies. flash holds a one-time message for the next page
# (e.g. a new key's cleartext), sealed with the server secret and cleared when shown.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(40), ForeignKey("users.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("flash", Text, nullable=True),
    Index("ix_dashboard_sessions_user_id", "user_id"),
    Index("ix_dashboard_sessions_expires_at", "expires_at"),
)

# Failed sign-ins, one row per failure and per bucket ("email:<hmac>" or "ip:<address>"),
# in the database so every server process sees the same counts.
sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("bucket", String(128), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Index("ix_sign_in_attempts_bucket_at", "bucket", "at_us"),
)
