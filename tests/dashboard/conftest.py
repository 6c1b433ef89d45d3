"""Dashboard fixtures: a workspace with an owner, an admin and a member, and browsers
(TestClients with their own cookie jars) signed in as each of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from conftest import SECRET
from dashboard.helpers import ADMIN, MEMBER, OWNER, PASSWORD, Browser, MakeUser, sign_in
from pivotal.config import Settings
from pivotal.dashboard import users
from pivotal.workspaces import service as workspaces
from support import loopback_settings

# Users made by the fixtures hash with few iterations so tests stay fast; the first
# sign-in upgrades each hash to the full 600,000 (as it would for an old hash).
FAST_ITERATIONS = 1_000


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Webhook endpoints on loopback are allowed, for the webhooks page."""
    return loopback_settings(database_url, SECRET)


@pytest.fixture
def make_user(app: FastAPI) -> MakeUser:
    """make_user(email, role="member", workspace="acme") creates the workspace if needed."""

    def make(email: str, role: str = "member", workspace: str = "acme") -> str:
        with app.state.services.db.transaction(write=True) as conn:
            exists = conn.execute(
                text("SELECT 1 FROM workspaces WHERE slug = :s"), {"s": workspace}
            ).first()
            if exists is None:
                workspaces.create_workspace(conn, workspace.title(), workspace)
            users.create_user(conn, workspace, email, role, PASSWORD, iterations=FAST_ITERATIONS)
        return email

    return make


@pytest.fixture
def people(make_user: MakeUser) -> None:
    make_user(OWNER, "owner")
    make_user(ADMIN, "admin")
    make_user(MEMBER, "member")


@pytest.fixture
def browser(app: FastAPI, people: None) -> Iterator[Browser]:
    """browser(email) gives a client signed in as that person (one cookie jar each)."""
    opened: list[TestClient] = []

    def open_as(email: str) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        response = sign_in(client, email)
        assert response.status_code == 303, response.text
        return client

    yield open_as
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def owner(browser: Browser) -> TestClient:
    return browser(OWNER)


@pytest.fixture
def member(browser: Browser) -> TestClient:
    return browser(MEMBER)
