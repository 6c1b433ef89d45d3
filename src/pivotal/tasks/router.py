"""Task endpoints, under their onboarding for list/create and on their own otherwise."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from pivotal.core.context import Ctx
from pivotal.core.openapi import errors
from pivotal.core.pagination import Page
from pivotal.core.routing import API_PREFIX, route_class
from pivotal.shared_schemas import Deleted
from pivotal.tasks import service
from pivotal.tasks.schemas import Task, TaskCreate, TaskList, TaskUpdate

router = APIRouter(prefix=API_PREFIX, tags=["tasks"], route_class=route_class("tasks"))


@router.get("/onboardings/{id}/tasks", response_model=TaskList, responses=errors(404))
async def list_tasks(id: str, ctx: Ctx, page: Page, completed: bool | None = None) -> Response:
    """List an onboarding's tasks by `position`, then creation; `next_cursor` continues."""
    return await ctx.read(lambda tx: service.list_tasks(tx, id, completed, page))


@router.post(
    "/onboardings/{id}/tasks",
    status_code=201,
    response_model=Task,
    responses=errors(404, body=True),
)
async def create_task(id: str, body: TaskCreate, ctx: Ctx) -> Response:
    """Add a task (or, with `parent_task_id`, a subtask) to an onboarding."""
    return await ctx.write(lambda tx: service.create(tx, id, body), 201)


@router.get("/tasks/{id}", response_model=Task, responses=errors(404))
async def get_task(id: str, ctx: Ctx) -> Response:
    """Retrieve a task."""
    return await ctx.read(lambda tx: service.get(tx, id))


@router.patch("/tasks/{id}", response_model=Task, responses=errors(404, body=True))
async def update_task(id: str, body: TaskUpdate, ctx: Ctx) -> Response:
    """Update the fields sent; completing a task records who and when."""
    return await ctx.write(lambda tx: service.update_task(tx, id, body))


@router.delete("/tasks/{id}", response_model=Deleted, responses=errors(404))
async def delete_task(id: str, ctx: Ctx) -> Response:
    """Soft-delete a task and its subtasks."""
    return await ctx.write(lambda tx: service.delete(tx, id))
