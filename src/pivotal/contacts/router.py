"""Contact endpoints, under their customer for list/create and on their own otherwise."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pivotal.contacts import service
from pivotal.contacts.schemas import Contact, ContactCreate, ContactList, ContactUpdate
from pivotal.core.context import Ctx
from pivotal.core.openapi import errors
from pivotal.core.pagination import Page
from pivotal.core.routing import API_PREFIX, route_class
from pivotal.shared_schemas import Deleted

router = APIRouter(prefix=API_PREFIX, tags=["contacts"], route_class=route_class("contacts"))


@router.get("/customers/{customerId}/contacts", response_model=ContactList, responses=errors(404))
async def list_contacts(
    customerId: str,
    ctx: Ctx,
    page: Page,
    email: str | None = None,
    is_primary: bool | None = None,
) -> Response:
    """List a customer's contacts, newest first."""
    return await ctx.read(lambda tx: service.list_contacts(tx, customerId, email, is_primary, page))


@router.post(
    "/customers/{customerId}/contacts",
    status_code=201,
    response_model=Contact,
    responses=errors(404, 409, body=True),
)
async def create_contact(customerId: str, body: ContactCreate, ctx: Ctx) -> Response:
    """Attach a contact to a customer."""
    return await ctx.write(lambda tx: service.create(tx, customerId, body), 201)


@router.get("/contacts/{id}", response_model=Contact, responses=errors(404))
async def get_contact(id: str, ctx: Ctx) -> Response:
    """Retrieve a contact."""
    return await ctx.read(lambda tx: service.get(tx, id))


@router.patch("/contacts/{id}", response_model=Contact, responses=errors(404, 409, body=True))
async def update_contact(id: str, body: ContactUpdate, ctx: Ctx) -> Response:
    """Update the fields sent; setting `is_primary` clears it on the customer's other contacts."""
    return await ctx.write(lambda tx: service.update_contact(tx, id, body))


@router.delete("/contacts/{id}", response_model=Deleted, responses=errors(404))
async def delete_contact(id: str, ctx: Ctx) -> Response:
    """Soft-delete a contact."""
    return await ctx.write(lambda tx: service.delete(tx, id))
