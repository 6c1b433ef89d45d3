"""Customer endpoints: parse, call one service function, answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pivotal.core.context import Ctx
from pivotal.core.openapi import errors
from pivotal.core.pagination import Page
from pivotal.core.routing import API_PREFIX, route_class
from pivotal.customers import service
from pivotal.customers.schemas import (
    Customer,
    CustomerCreate,
    CustomerList,
    CustomerStatus,
    CustomerUpdate,
)
from pivotal.shared_schemas import Deleted

router = APIRouter(
    prefix=f"{API_PREFIX}/customers", tags=["customers"], route_class=route_class("customers")
)


@router.get("", response_model=CustomerList, responses=errors())
async def list_customers(
    ctx: Ctx,
    page: Page,
    status: CustomerStatus | None = None,
    slug: str | None = None,
    domain: str | None = None,
    hubspot_company_id: str | None = None,
    hubspot_deal_id: str | None = None,
    stripe_customer_id: str | None = None,
    intercom_company_id: str | None = None,
    slack_channel_id: str | None = None,
) -> Response:
    """List customers, newest first."""
    filters = {
        "status": status,
        "slug": slug,
        "domain": domain,
        "hubspot_company_id": hubspot_company_id,
        "hubspot_deal_id": hubspot_deal_id,
        "stripe_customer_id": stripe_customer_id,
        "intercom_company_id": intercom_company_id,
        "slack_channel_id": slack_channel_id,
    }
    return await ctx.read(lambda tx: service.list_customers(tx, filters, page))


@router.post("", status_code=201, response_model=Customer, responses=errors(409, body=True))
async def create_customer(body: CustomerCreate, ctx: Ctx) -> Response:
    """Create a customer."""
    return await ctx.write(lambda tx: service.create(tx, body), 201)


@router.get("/{id}", response_model=Customer, responses=errors(404))
async def get_customer(id: str, ctx: Ctx) -> Response:
    """Retrieve a customer by display id or id."""
    return await ctx.read(lambda tx: service.get(tx, id))


@router.patch("/{id}", response_model=Customer, responses=errors(404, 409, body=True))
async def update_customer(id: str, body: CustomerUpdate, ctx: Ctx) -> Response:
    """Update the fields sent; `{}` changes nothing."""
    return await ctx.write(lambda tx: service.update_customer(tx, id, body))


@router.delete("/{id}", response_model=Deleted, responses=errors(404))
async def delete_customer(id: str, ctx: Ctx) -> Response:
    """Soft-delete a customer; its contacts, onboardings and tasks are hidden with it."""
    return await ctx.write(lambda tx: service.delete(tx, id))
