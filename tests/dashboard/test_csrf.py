"""CSRF: every form carries a token tied to the session; posts without it are refused."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dashboard.helpers import OWNER, PASSWORD, Browser, csrf_of, sign_in
from pivotal.dashboard import sessions
from pivotal.db import tables


def _key_count(app: FastAPI) -> int:
    with app.state.services.db.transaction(write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(tables.api_keys)).scalar_one())


def test_every_form_on_every_page_carries_the_token(owner: TestClient) -> None:
    token = csrf_of(owner.get("/customers").text)
    for path in ("/customers", "/onboardings", "/admin/api-keys", "/admin/webhooks"):
        html = owner.get(path).text
        assert html.count('method="post"') == html.count(f'name="csrf_token" value="{token}"')


def test_a_post_without_the_token_is_refused_with_a_403_page(
    app: FastAPI, owner: TestClient
) -> None:
    response = owner.post("/admin/api-keys", data={"name": "Sneaky"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "did not come from this site" in response.text
    assert _key_count(app) == 0


def test_a_wrong_or_foreign_token_is_refused(app: FastAPI, browser: Browser) -> None:
    owner, other = browser(OWNER), browser("admin@acme.example")
    others_token = csrf_of(other.get("/customers").text)
    for token in ("", "0" * 64, others_token):
        response = owner.post("/admin/api-keys", data={"csrf_token": token, "name": "Nope"})
        assert response.status_code == 403, token
    assert _key_count(app) == 0


def test_the_token_changes_with_the_session(owner: TestClient) -> None:
    old_token = csrf_of(owner.get("/customers").text)
    owner.post("/logout", data={"csrf_token": old_token})
    sign_in(owner, OWNER)
    new_token = csrf_of(owner.get("/customers").text)
    assert new_token != old_token
    response = owner.post("/admin/api-keys", data={"csrf_token": old_token, "name": "Old"})
    assert response.status_code == 403


def test_sign_out_needs_the_token_too(owner: TestClient) -> None:
    assert owner.post("/logout", data={}).status_code == 403
    assert owner.get("/customers", follow_redirects=False).status_code == 200


def test_a_post_from_another_origin_is_refused_even_with_the_token(
    app: FastAPI, owner: TestClient
) -> None:
    token = csrf_of(owner.get("/admin/api-keys").text)
    response = owner.post(
        "/admin/api-keys",
        data={"csrf_token": token, "name": "Cross"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    same_site = owner.post(
        "/admin/api-keys",
        data={"csrf_token": token, "name": "Same"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303
    assert _key_count(app) == 1


def test_the_sign_in_form_needs_its_pre_session_token(client: TestClient, people: None) -> None:
    # No token at all (a forged cross-site sign-in form).
    response = client.post("/login", data={"email": OWNER, "password": PASSWORD})
    assert response.status_code == 403
    assert sessions.COOKIE_NAME not in client.cookies
    # A token without the cookie it belongs to.
    token = csrf_of(client.get("/login").text)
    client.cookies.delete(sessions.LOGIN_COOKIE_NAME)
    response = client.post(
        "/login", data={"csrf_token": token, "email": OWNER, "password": PASSWORD}
    )
    assert response.status_code == 403 and "expired" in response.text
    assert sessions.COOKIE_NAME not in client.cookies


def test_only_url_encoded_forms_of_sane_size_are_read(owner: TestClient) -> None:
    token = csrf_of(owner.get("/admin/api-keys").text)
    as_json = owner.post("/admin/api-keys", json={"csrf_token": token, "name": "JSON"})
    assert as_json.status_code == 415
    huge = owner.post("/admin/api-keys", data={"csrf_token": token, "name": "x" * 70_000})
    assert huge.status_code == 413
    nul = owner.post("/admin/api-keys", data={"csrf_token": token, "name": "a\x00b"})
    assert nul.status_code == 400
    for response in (as_json, huge, nul):
        assert response.headers["content-type"].startswith("text/html")
