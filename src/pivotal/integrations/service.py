"""Integration settings and the side effects of changes (SPEC §9).

Jobs are enqueued in the change's own transaction, so a rolled-back change sends
nothing; the runner (integrations/runner.py) performs them after commit. Whatever is
not sent (test mode, not configured, nothing to send to) is recorded as ``skipped`` in
the customer's activity at once, with the reason.
"""

from __future__ import annotations

import html
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pivotal.activity import service as activity
from pivotal.core import clock, crypto, ids
from pivotal.core.context import Tx
from pivotal.core.errors import InvalidRequest
from pivotal.db import tables

SERVICES = ("slack", "resend", "hubspot")
# The settings each service needs, and which of them are secrets.
FIELDS = {"slack": ("token",), "resend": ("api_key", "from"), "hubspot": ("token",)}
SECRET_FIELDS = {"token", "api_key"}
HUBSPOT_FIELDS = ("name", "domain", "plan", "mrr")
_settings = tables.integration_settings
_jobs = tables.integration_jobs
_contacts = tables.contacts


# ---- settings (the CLI's `pivotal integrations set|list`) ---------------------------------


def set_config(
    conn: Connection, server_secret: bytes, workspace_id: str, service: str, config: dict[str, str]
) -> dict[str, Any]:
    if service not in SERVICES:
        raise InvalidRequest("invalid_enum_value", f"service must be one of: {', '.join(SERVICES)}")
    missing = [name for name in FIELDS[service] if not config.get(name)]
    if missing:
        raise InvalidRequest("missing_field", f"{service} needs --{missing[0].replace('_', '-')}")
    sealed = crypto.seal(server_secret, orjson.dumps(config).decode())
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = {"workspace_id": workspace_id, "service": service, "config": sealed}
    stmt = dialect_insert(_settings).values(**values, updated_at=clock.now_us())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_settings.c.workspace_id, _settings.c.service],
            set_={"config": sealed, "updated_at": clock.now_us()},
        )
    )
    return masked(service, config)


def masked(service: str, config: dict[str, str]) -> dict[str, Any]:
    """A config fit to show: secrets only by their last 4 characters."""
    return {
        "service": service,
        **{
            name: ("…" + value[-4:] if name in SECRET_FIELDS else value)
            for name, value in config.items()
        },
    }


def load_config(
    conn: Connection, server_secret: bytes, workspace_id: str, service: str
) -> dict[str, str] | None:
    sealed = conn.execute(
        select(_settings.c.config).where(
            _settings.c.workspace_id == workspace_id, _settings.c.service == service
        )
    ).scalar_one_or_none()
    if sealed is None:
        return None
    return dict(orjson.loads(crypto.unseal(server_secret, sealed)))


def list_configs(conn: Connection, server_secret: bytes, workspace_id: str) -> list[dict[str, Any]]:
    found = []
    for service in SERVICES:
        config = load_config(conn, server_secret, workspace_id, service)
        found.append(
            masked(service, config) if config else {"service": service, "configured": False}
        )
    return found


# ---- side effects, enqueued in the change's transaction ----------------------------------


def _configured(tx: Tx, service: str) -> bool:
    query = select(_settings.c.service).where(
        _settings.c.workspace_id == tx.workspace_id, _settings.c.service == service
    )
    return tx.conn.execute(query).first() is not None


def record_outcome(
    tx: Tx,
    *,
    customer_id: str,
    target_type: str,
    target_id: str,
    service: str,
    action: str,
    outcome: str,
    reason: str | None = None,
) -> None:
    """An activity entry ``integration.sent|failed|skipped`` naming the service and why."""
    details: dict[str, Any] = {"service": service, "action": action}
    if reason is not None:
        details["reason"] = reason
    activity.record(
        tx,
        customer_id=customer_id,
        event_type=f"integration.{outcome}",
        target_type=target_type,
        target_id=target_id,
        changes=details,
    )


def _enqueue(
    tx: Tx,
    *,
    customer_id: str,
    target_type: str,
    target_id: str,
    service: str,
    action: str,
    payload: dict[str, Any],
    missing: str | None = None,
) -> None:
    """Queue one job, or record why it is skipped: test mode, not configured, no target."""
    reason = None
    if not tx.actor.livemode:
        reason = "test mode"
    elif not _configured(tx, service):
        reason = f"{service} is not configured for this workspace"
    elif missing is not None:
        reason = missing
    if reason is not None:
        record_outcome(
            tx,
            customer_id=customer_id,
            target_type=target_type,
            target_id=target_id,
            service=service,
            action=action,
            outcome="skipped",
            reason=reason,
        )
        return
    tx.conn.execute(
        insert(_jobs).values(
            id=ids.prefixed("job"),
            workspace_id=tx.workspace_id,
            customer_id=customer_id,
            target_type=target_type,
            target_id=target_id,
            service=service,
            action=action,
            payload=orjson.dumps(payload).decode(),
            status="pending",
            attempt_count=0,
            next_attempt_at=tx.now,
            created_at=tx.now,
            updated_at=tx.now,
        )
    )


def on_launch(tx: Tx, onboarding: dict[str, Any], customer: Any) -> None:
    """An onboarding reached ``launch``: tell the team's Slack channel, email a recap."""
    name = onboarding["name"] or customer.name
    text = f":rocket: {customer.name} has launched! ({name})"
    _enqueue(
        tx,
        customer_id=customer.id,
        target_type="onboarding",
        target_id=onboarding["id"],
        service="slack",
        action="chat.postMessage",
        payload={"channel": customer.slack_channel_id, "text": text},
        missing=None if customer.slack_channel_id else "the customer has no slack_channel_id",
    )
    primary = tx.conn.execute(
        select(_contacts.c.name, _contacts.c.email).where(
            _contacts.c.customer_id == customer.id,
            _contacts.c.is_primary.is_(True),
            _contacts.c.deleted_at.is_(None),
        )
    ).first()
    subject = f"{customer.name} is live"
    body = (
        f"<p>Hi {html.escape(primary.name) if primary else ''},</p>"
        f"<p>{html.escape(customer.name)} has launched. Thank you for getting here with us.</p>"
    )
    _enqueue(
        tx,
        customer_id=customer.id,
        target_type="onboarding",
        target_id=onboarding["id"],
        service="resend",
        action="emails.send",
        payload={"to": primary.email if primary else None, "subject": subject, "html": body},
        missing=None if primary else "the customer has no primary contact",
    )


def hubspot_properties(customer: Any) -> dict[str, str]:
    """The company properties HubSpot receives (it takes every value as a string)."""
    return {
        name: str(customer[name]) if customer[name] is not None else "" for name in HUBSPOT_FIELDS
    }


def on_customer_change(tx: Tx, customer: dict[str, Any], changed: set[str] | None) -> None:
    """Keep the HubSpot company in step when a customer with a company id changes.

    ``changed`` is None on create; on update only changes to what is pushed count.
    """
    company_id = customer.get("hubspot_company_id")
    if not company_id:
        return
    if changed is not None and not changed & {*HUBSPOT_FIELDS, "hubspot_company_id"}:
        return
    properties = hubspot_properties(customer)
    _enqueue(
        tx,
        customer_id=customer["id"],
        target_type="customer",
        target_id=customer["id"],
        service="hubspot",
        action="companies.update",
        payload={"company_id": company_id, "properties": properties},
    )
