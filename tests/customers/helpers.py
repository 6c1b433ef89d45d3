"""Constants and value tables shared by the customers tests (SPEC §7.2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

URL = "/api/v1/customers"
NewCustomer = Callable[..., dict[str, Any]]
ClientFor = Callable[..., Any]  # (**make_key args) -> an authenticated TestClient
CUID = re.compile(r"^[a-z][a-z0-9]{23}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

FIELDS = [
    "object",
    "id",
    "display_id",
    "name",
    "slug",
    "domain",
    "status",
    "plan",
    "mrr",
    "monthly_orders",
    "hubspot_company_id",
    "hubspot_deal_id",
    "stripe_customer_id",
    "intercom_company_id",
    "slack_channel_id",
    "metadata",
    "created_at",
    "updated_at",
]
STATUSES = ["onboarding", "active", "at_risk", "churned", "archived"]
INTEGRATION_IDS = [
    "hubspot_company_id",
    "hubspot_deal_id",
    "stripe_customer_id",
    "intercom_company_id",
    "slack_channel_id",
]
NULLABLE = ["domain", "plan", "mrr", "monthly_orders", *INTEGRATION_IDS]
NON_NULLABLE = ["name", "slug", "status", "metadata"]
READ_ONLY = ["id", "object", "display_id", "created_at", "updated_at", "deleted_at"]


def many_keys(count: int) -> dict[str, int]:
    return {f"k{i}": i for i in range(count)}


# (field, value, expected code): values every write (POST and PATCH) must refuse.
INVALID_VALUES: list[tuple[str, Any, str]] = [
    # name: required string, 1-255 after trimming
    ("name", None, "invalid_type"),
    ("name", "", "too_small"),
    ("name", "   ", "too_small"),
    ("name", " \t\n ", "too_small"),
    ("name", "a" * 256, "too_big"),
    ("name", "  " + "a" * 256 + "  ", "too_big"),
    ("name", 123, "invalid_type"),
    ("name", True, "invalid_type"),
    ("name", ["Aurora"], "invalid_type"),
    ("name", {"first": "Aurora"}, "invalid_type"),
    # slug: 1-120, ^[a-z0-9]+(-[a-z0-9]+)*$
    ("slug", None, "invalid_type"),
    ("slug", "", "too_small"),
    ("slug", "   ", "too_small"),
    ("slug", "a" * 121, "too_big"),
    ("slug", "Aurora", "invalid_string"),
    ("slug", "aurora_cafe", "invalid_string"),
    ("slug", "aurora--cafe", "invalid_string"),
    ("slug", "-aurora", "invalid_string"),
    ("slug", "aurora-", "invalid_string"),
    ("slug", "aurora cafe", "invalid_string"),
    ("slug", "café", "invalid_string"),
    ("slug", "aurora.com", "invalid_string"),
    ("slug", 7, "invalid_type"),
    ("slug", False, "invalid_type"),
    # domain: nullable string <= 255
    ("domain", "a" * 256, "too_big"),
    ("domain", 42, "invalid_type"),
    ("domain", True, "invalid_type"),
    ("domain", {"host": "aurora.com"}, "invalid_type"),
    # status: enum, not nullable
    ("status", None, "invalid_type"),
    ("status", "paused", "invalid_enum_value"),
    ("status", "Active", "invalid_enum_value"),
    ("status", "", "invalid_enum_value"),
    ("status", 1, "invalid_type"),
    ("status", ["active"], "invalid_type"),
    # plan: nullable string <= 120
    ("plan", "p" * 121, "too_big"),
    ("plan", 3, "invalid_type"),
    ("plan", ["growth"], "invalid_type"),
    # mrr and monthly_orders: nullable integers >= 0
    *[
        case
        for field in ("mrr", "monthly_orders")
        for case in [
            (field, -1, "too_small"),
            (field, -100_000, "too_small"),
            (field, "100", "invalid_type"),
            (field, 1.5, "invalid_type"),
            (field, 100.0, "invalid_type"),
            (field, True, "invalid_type"),
            (field, False, "invalid_type"),
            (field, [1], "invalid_type"),
            (field, {"cents": 1}, "invalid_type"),
        ]
    ],
    # the five integration ids: nullable strings <= 255
    *[
        case
        for field in INTEGRATION_IDS
        for case in [
            (field, "x" * 256, "too_big"),
            (field, 123, "invalid_type"),
            (field, True, "invalid_type"),
            (field, ["x"], "invalid_type"),
        ]
    ],
    # metadata: object, not nullable, <= 50 keys, keys <= 40 chars, <= 8 KiB serialized
    ("metadata", None, "invalid_type"),
    ("metadata", [], "invalid_type"),
    ("metadata", [{"a": 1}], "invalid_type"),
    ("metadata", "{}", "invalid_type"),
    ("metadata", 1, "invalid_type"),
    ("metadata", True, "invalid_type"),
    ("metadata", many_keys(51), "too_big"),
    ("metadata", {"k" * 41: 1}, "too_big"),
    ("metadata", {"é" * 41: 1}, "too_big"),
    ("metadata", {**many_keys(10), "k" * 41: 1}, "too_big"),
    ("metadata", {"k": "x" * 8185}, "too_big"),
    ("metadata", {"a": "x" * 5000, "b": "y" * 5000}, "too_big"),
]
