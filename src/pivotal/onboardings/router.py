"""Onboarding endpoints, including the per-customer list and the phase transitions."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pivotal.core.context import Ctx
from pivotal.core.openapi import errors
from pivotal.core.pagination import Page
from pivotal.core.routing import API_PREFIX, route_class
from pivotal.onboardings import service
from pivotal.onboardings.schemas import (
    Onboarding,
    OnboardingCreate,
    OnboardingList,
    OnboardingUpdate,
    Phase,
    PhaseTransitionList,
    State,
)
from pivotal.shared_schemas import Deleted

router = APIRouter(prefix=API_PREFIX, tags=["onboardings"], route_class=route_class("onboardings"))


@router.get("/onboardings", response_model=OnboardingList, responses=errors())
async def list_onboardings(
    ctx: Ctx,
    page: Page,
    customer_id: str | None = None,
    phase: Phase | None = None,
    state: State | None = None,
) -> Response:
    """List onboardings, newest first; `customer_id` takes a display id or an id."""
    return await ctx.read(
        lambda tx: service.list_onboardings(
            tx, page, customer_ref=customer_id, phase=phase, state=state
        )
    )


@router.post(
    "/onboardings", status_code=201, response_model=Onboarding, responses=errors(404, body=True)
)
async def create_onboarding(body: OnboardingCreate, ctx: Ctx) -> Response:
    """Open an onboarding for a customer."""
    return await ctx.write(lambda tx: service.create(tx, body), 201)


@router.get(
    "/customers/{customerId}/onboardings", response_model=OnboardingList, responses=errors(404)
)
async def list_customer_onboardings(
    customerId: str,
    ctx: Ctx,
    page: Page,
    phase: Phase | None = None,
    state: State | None = None,
) -> Response:
    """List one customer's onboardings, newest first."""
    return await ctx.read(
        lambda tx: service.list_onboardings(
            tx, page, customer_ref=customerId, customer_must_exist=True, phase=phase, state=state
        )
    )


@router.get("/onboardings/{id}", response_model=Onboarding, responses=errors(404))
async def get_onboarding(id: str, ctx: Ctx) -> Response:
    """Retrieve an onboarding."""
    return await ctx.read(lambda tx: service.get(tx, id))


@router.patch("/onboardings/{id}", response_model=Onboarding, responses=errors(404, body=True))
async def update_onboarding(id: str, body: OnboardingUpdate, ctx: Ctx) -> Response:
    """Update the fields sent; phase changes are recorded as transitions."""
    return await ctx.write(lambda tx: service.update_onboarding(tx, id, body))


@router.delete("/onboardings/{id}", response_model=Deleted, responses=errors(404))
async def delete_onboarding(id: str, ctx: Ctx) -> Response:
    """Soft-delete an onboarding."""
    return await ctx.write(lambda tx: service.delete(tx, id))


@router.get(
    "/onboardings/{id}/transitions", response_model=PhaseTransitionList, responses=errors(404)
)
async def list_transitions(id: str, ctx: Ctx, page: Page) -> Response:
    """The onboarding's phase changes, newest first."""
    return await ctx.read(lambda tx: service.list_transitions(tx, id, page))
