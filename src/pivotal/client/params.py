"""Keyword arguments of the SDK methods: the API's own field names (SPEC §7-§8).

Each method takes ``**params: Unpack[...]`` of one of these, so type checkers and
editors know every field, and an update sends exactly the keys given (``plan=None``
clears the plan; leaving ``plan`` out keeps it).
"""

# No ``from __future__ import annotations`` here: TypedDict reads ``Required[...]`` only
# from evaluated annotations (``__required_keys__`` would be empty on Python 3.11).
from datetime import date, datetime
from typing import Any, Required, TypedDict

from pivotal.client.models import CustomerStatus, OnboardingState, Phase

__all__ = [
    "ContactCreateParams",
    "ContactListParams",
    "ContactUpdateParams",
    "CustomerCreateParams",
    "CustomerListParams",
    "CustomerOnboardingListParams",
    "CustomerUpdateParams",
    "EventListParams",
    "ListParams",
    "OnboardingCreateParams",
    "OnboardingListParams",
    "OnboardingUpdateParams",
    "TaskCreateParams",
    "TaskListParams",
    "TaskUpdateParams",
    "WebhookEndpointCreateParams",
    "WebhookEndpointUpdateParams",
]


class ListParams(TypedDict, total=False):
    """Every list: ``limit`` is the page size (1-100); ``cursor`` starts after a page."""

    limit: int
    cursor: str | datetime


class _CustomerFields(TypedDict, total=False):
    slug: str
    domain: str | None
    status: CustomerStatus
    plan: str | None
    mrr: int | None
    monthly_orders: int | None
    hubspot_company_id: str | None
    hubspot_deal_id: str | None
    stripe_customer_id: str | None
    intercom_company_id: str | None
    slack_channel_id: str | None
    metadata: dict[str, Any]


class CustomerCreateParams(_CustomerFields, total=False):
    name: Required[str]


class CustomerUpdateParams(_CustomerFields, total=False):
    name: str


class CustomerListParams(ListParams, total=False):
    status: CustomerStatus
    slug: str
    domain: str
    hubspot_company_id: str
    hubspot_deal_id: str
    stripe_customer_id: str
    intercom_company_id: str
    slack_channel_id: str


class _ContactFields(TypedDict, total=False):
    title: str | None
    phone: str | None
    is_primary: bool
    labels: list[str]
    metadata: dict[str, Any]


class ContactCreateParams(_ContactFields, total=False):
    name: Required[str]
    email: Required[str]


class ContactUpdateParams(_ContactFields, total=False):
    name: str
    email: str


class ContactListParams(ListParams, total=False):
    email: str
    is_primary: bool


class _OnboardingFields(TypedDict, total=False):
    name: str | None
    template_id: str | None
    phase: Phase
    state: OnboardingState
    waiting_on_customer: bool
    started_at: str | datetime | None
    target_launch_date: str | date | datetime | None
    csm_id: str | None
    se_id: str | None
    designer_id: str | None
    product_ops_id: str | None
    notes: str | None
    reminders_enabled: bool
    reminder_frequency_days: int
    metadata: dict[str, Any]


class OnboardingCreateParams(_OnboardingFields, total=False):
    customer_id: Required[str | int]


class OnboardingUpdateParams(_OnboardingFields, total=False):
    pass


class CustomerOnboardingListParams(ListParams, total=False):
    phase: Phase
    state: OnboardingState


class OnboardingListParams(CustomerOnboardingListParams, total=False):
    customer_id: str | int


class _TaskFields(TypedDict, total=False):
    parent_task_id: str | None
    description: str | None
    assignee_email: str | None
    due_date: str | date | None
    completed: bool
    position: int
    metadata: dict[str, Any]


class TaskCreateParams(_TaskFields, total=False):
    title: Required[str]


class TaskUpdateParams(_TaskFields, total=False):
    title: str


class TaskListParams(ListParams, total=False):
    completed: bool


class EventListParams(ListParams, total=False):
    type: str
    created_after: str | datetime


class WebhookEndpointCreateParams(TypedDict, total=False):
    url: Required[str]
    enabled_events: Required[list[str]]
    description: str | None


class WebhookEndpointUpdateParams(TypedDict, total=False):
    url: str
    enabled_events: list[str]
    description: str | None
    disabled: bool
