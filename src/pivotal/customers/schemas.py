"""Customer request bodies and the response shape (SPEC §7.2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel

from pivotal.core.validation import (
    InputModel,
    Metadata,
    Name255,
    NonNegativeBigInt,
    NotNull,
    Slug,
    Text120,
    Text255,
    domain_normalized,
)

CustomerStatus = Literal["onboarding", "active", "at_risk", "churned", "archived"]

Domain = Annotated[Text255, AfterValidator(domain_normalized)]
INTEGRATION_ID_FIELDS = (
    "hubspot_company_id",
    "hubspot_deal_id",
    "stripe_customer_id",
    "intercom_company_id",
    "slack_channel_id",
)


class _CustomerFields(InputModel):
    name: Annotated[Name255 | None, NotNull] = None
    slug: Annotated[Slug | None, NotNull] = None
    domain: Domain | None = None
    status: Annotated[CustomerStatus | None, NotNull] = None
    plan: Text120 | None = None
    mrr: NonNegativeBigInt | None = None
    monthly_orders: NonNegativeBigInt | None = None
    hubspot_company_id: Text255 | None = None
    hubspot_deal_id: Text255 | None = None
    stripe_customer_id: Text255 | None = None
    intercom_company_id: Text255 | None = None
    slack_channel_id: Text255 | None = None
    metadata: Annotated[Metadata | None, NotNull] = None


class CustomerCreate(_CustomerFields):
    """A new customer; only ``name`` is required."""

    name: Name255  # required here, optional on update


class CustomerUpdate(_CustomerFields):
    """A partial update: only the keys sent change."""


class Customer(BaseModel):
    object: Literal["customer"]
    id: str
    display_id: int
    name: str
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
    created_at: str
    updated_at: str


class CustomerList(BaseModel):
    object: Literal["list"]
    data: list[Customer]
    has_more: bool
    next_cursor: str | None
