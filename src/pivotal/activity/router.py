"""The customer's activity log: one read endpoint, under the customers scope."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pivotal.activity import service
from pivotal.activity.schemas import ActivityList
from pivotal.core.context import Ctx
from pivotal.core.openapi import errors
from pivotal.core.pagination import Page
from pivotal.core.routing import API_PREFIX, route_class

router = APIRouter(prefix=API_PREFIX, tags=["activity"], route_class=route_class("customers"))


@router.get("/customers/{id}/activity", response_model=ActivityList, responses=errors(404))
async def list_activity(id: str, ctx: Ctx, page: Page) -> Response:
    """Every change to the customer and its contacts, onboardings and tasks, newest first."""
    return await ctx.read(lambda tx: service.list_activity(tx, id, page))
