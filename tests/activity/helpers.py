"""Helpers for the activity tests."""

from __future__ import annotations

from typing import Any

ENTRY_KEYS = [
    "object", "id", "customer_id", "actor", "actor_type", "livemode", "event_type",
    "target_type", "target_id", "changes", "created_at",
]  # fmt: skip


def activity_url(customer: dict[str, Any] | str) -> str:
    ref = customer if isinstance(customer, str) else customer["id"]
    return f"/api/v1/customers/{ref}/activity"


def entries(api: Any, customer: dict[str, Any] | str) -> list[dict[str, Any]]:
    """All of the customer's entries, oldest first (walking every page)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        body = api.get(activity_url(customer), params=params).json()
        found += body["data"]
        if not body["has_more"]:
            return list(reversed(found))
        params["cursor"] = body["next_cursor"]


def summary(api: Any, customer: dict[str, Any] | str) -> list[tuple[str, str]]:
    return [(e["event_type"], e["target_id"]) for e in entries(api, customer)]
