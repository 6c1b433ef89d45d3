"""Who may open what: members see customers and onboardings; only owners and admins
see the admin pages; nobody sees another workspace; strangers are sent to sign in."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import MakeKey
from dashboard.helpers import ADMIN, MEMBER, OWNER, Browser, MakeUser, csrf_of
from pivotal.db import tables

ADMIN_PAGES = ("/admin/api-keys", "/admin/webhooks")
MEMBER_PAGES = ("/customers", "/onboardings")


def test_members_get_a_403_page_on_admin_pages(member: TestClient) -> None:
    for path in ADMIN_PAGES:
        response = member.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Only workspace owners and admins" in response.text
    for path in MEMBER_PAGES:
        assert member.get(path).status_code == 200, path
    assert 'href="/admin/api-keys"' not in member.get("/customers").text


def test_members_cannot_post_to_admin_forms_either(app: FastAPI, member: TestClient) -> None:
    token = csrf_of(member.get("/customers").text)
    response = member.post("/admin/api-keys", data={"csrf_token": token, "name": "Mine"})
    assert response.status_code == 403
    with app.state.services.db.transaction(write=False) as conn:
        assert conn.execute(select(func.count()).select_from(tables.api_keys)).scalar_one() == 0
    replay = member.post("/admin/webhooks/deliveries/msg_x/replay", data={"csrf_token": token})
    assert replay.status_code == 403


@pytest.mark.parametrize("email", [OWNER, ADMIN])
def test_owners_and_admins_open_every_page(browser: Browser, email: str) -> None:
    person = browser(email)
    for path in (*MEMBER_PAGES, *ADMIN_PAGES):
        assert person.get(path).status_code == 200, path
    assert 'href="/admin/api-keys"' in person.get("/customers").text


def test_strangers_are_sent_to_sign_in_and_brought_back(client: TestClient, people: None) -> None:
    for path in (*MEMBER_PAGES, *ADMIN_PAGES, "/customers/1", "/customers?q=a%20b"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/")
    assert client.get("/customers?q=a%20b", follow_redirects=False).headers["location"] == (
        "/login?next=/customers%3Fq%3Da%2520b"
    )
    post = client.post("/admin/api-keys", data={"name": "x"}, follow_redirects=False)
    assert post.status_code == 303 and post.headers["location"].startswith("/login")
    assert client.get("/", follow_redirects=False).headers["location"] == "/customers"


def test_people_see_only_their_own_workspace(
    app: FastAPI, browser: Browser, make_user: MakeUser, make_key: MakeKey
) -> None:
    make_key(workspace="globex", name="Globex key")
    make_user("boss@globex.example", "owner", workspace="globex")
    with app.state.services.db.transaction(write=False) as conn:
        globex_key = conn.execute(select(tables.api_keys.c.id)).scalar_one()
    owner = browser(OWNER)
    assert "Globex key" not in owner.get("/admin/api-keys").text
    assert owner.get(f"/admin/api-keys/{globex_key}/revoke").status_code == 404
    token = csrf_of(owner.get("/admin/api-keys").text)
    response = owner.post(f"/admin/api-keys/{globex_key}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    with app.state.services.db.transaction(write=False) as conn:
        assert conn.execute(select(tables.api_keys.c.revoked_at)).scalar_one() is None
    globex = browser("boss@globex.example")
    assert "Globex key" in globex.get("/admin/api-keys").text
    assert "Globex" in globex.get("/customers").text  # the workspace name in the header
    assert MEMBER not in globex.get("/customers").text
