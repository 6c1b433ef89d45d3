"""Sessions: cookie flags, only hashes stored, rotation at sign-in, sign-out, expiry,
and the wall between the dashboard's cookies and the API's keys."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from conftest import Keys
from dashboard.helpers import MEMBER, OWNER, PASSWORD, Browser, csrf_of, sign_in
from pivotal.core import clock
from pivotal.dashboard import sessions
from pivotal.db import tables
from support import assert_error, auth


def _session_rows(app: FastAPI) -> list[tuple[str, str]]:
    with app.state.services.db.transaction(write=False) as conn:
        rows = conn.execute(
            select(tables.dashboard_sessions.c.token_hash, tables.users.c.email).join(
                tables.users, tables.users.c.id == tables.dashboard_sessions.c.user_id
            )
        ).all()
    return [(row.token_hash, row.email) for row in rows]


def test_sign_in_sets_an_httponly_samesite_cookie_and_stores_only_its_hash(
    app: FastAPI, client: TestClient, people: None
) -> None:
    response = sign_in(client, OWNER, next_page="/onboardings")
    assert response.status_code == 303
    assert response.headers["location"] == "/onboardings"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    token = client.cookies[sessions.COOKIE_NAME]
    [(stored, email)] = _session_rows(app)
    assert email == OWNER
    assert token not in stored and stored == sessions.token_hash(
        app.state.services.secret_key, token
    )
    assert client.get("/customers").status_code == 200


def test_the_cookie_is_secure_over_https(app: FastAPI, people: None) -> None:
    with TestClient(app, base_url="https://testserver") as secure:
        response = sign_in(secure, OWNER)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_sign_in_always_starts_a_new_session(
    app: FastAPI, client: TestClient, people: None
) -> None:
    # A token planted in the browser beforehand (session fixation) is never adopted.
    client.cookies.set(sessions.COOKIE_NAME, "planted-by-someone-else", domain="testserver.local")
    sign_in(client, MEMBER)
    first = client.cookies[sessions.COOKIE_NAME]
    assert first != "planted-by-someone-else"
    # A sign-in posted while the browser still holds a session (say, from a sign-in
    # page opened before) replaces that session instead of keeping it.
    client.cookies.delete(sessions.COOKIE_NAME)
    page = client.get("/login")
    client.cookies.set(sessions.COOKIE_NAME, first, domain="testserver.local")
    form = {"csrf_token": csrf_of(page.text), "email": OWNER, "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    second = client.cookies[sessions.COOKIE_NAME]
    assert second != first
    assert [email for _, email in _session_rows(app)] == [OWNER]
    with TestClient(app, cookies={sessions.COOKIE_NAME: first}) as stale:
        assert stale.get("/customers", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_everywhere(app: FastAPI, owner: TestClient) -> None:
    token = owner.cookies[sessions.COOKIE_NAME]
    page = owner.get("/customers")
    assert "Sign out" in page.text
    response = owner.post(
        "/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert f'{sessions.COOKIE_NAME}=""' in response.headers["set-cookie"]
    assert _session_rows(app) == []
    # Even a copy of the old cookie is worthless now.
    with TestClient(app, cookies={sessions.COOKIE_NAME: token}) as copy:
        assert copy.get("/customers", follow_redirects=False).headers["location"] == (
            "/login?next=/customers"
        )


def _age_session(app: FastAPI, **values: int) -> None:
    with app.state.services.db.transaction(write=True) as conn:
        conn.execute(update(tables.dashboard_sessions).values(**values))


def test_a_session_ends_after_12_idle_hours(app: FastAPI, owner: TestClient) -> None:
    now = clock.now_us()
    _age_session(app, last_seen_at=now - sessions.IDLE_TIMEOUT_US + 60 * 10**6)
    assert owner.get("/customers", follow_redirects=False).status_code == 200
    _age_session(app, last_seen_at=now - sessions.IDLE_TIMEOUT_US - 1)
    assert owner.get("/customers", follow_redirects=False).status_code == 303


def test_a_session_ends_7_days_after_sign_in_however_active(
    app: FastAPI, owner: TestClient
) -> None:
    _age_session(app, expires_at=clock.now_us() - 1)
    response = owner.get("/onboardings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/onboardings"


def test_activity_keeps_a_session_alive(app: FastAPI, owner: TestClient) -> None:
    stale = clock.now_us() - sessions.TOUCH_INTERVAL_US - 10**6
    _age_session(app, last_seen_at=stale)
    owner.get("/customers")
    with app.state.services.db.transaction(write=False) as conn:
        seen = conn.execute(select(tables.dashboard_sessions.c.last_seen_at)).scalar_one()
    assert seen > stale + sessions.TOUCH_INTERVAL_US


def test_a_session_cookie_does_not_authenticate_the_api(owner: TestClient) -> None:
    assert_error(owner.get("/api/v1/customers"), 401, "missing_api_key")


def test_an_api_key_does_not_open_dashboard_pages(app: FastAPI, keys: Keys, people: None) -> None:
    with TestClient(app, headers=auth(keys.live)) as api_client:
        for path in ("/customers", "/admin/api-keys"):
            response = api_client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")


def test_after_sign_in_only_local_paths_are_followed(client: TestClient, people: None) -> None:
    for target, expected in [
        ("/customers/3?tab=activity", "/customers/3?tab=activity"),
        ("//evil.example/phish", "/customers"),
        ("https://evil.example/", "/customers"),
        ("/\\evil.example", "/customers"),
        ("customers", "/customers"),
    ]:
        client.cookies.clear()
        response = sign_in(client, OWNER, next_page=target)
        assert response.headers["location"] == expected, target


def test_signed_in_people_skip_the_sign_in_page(owner: TestClient) -> None:
    response = owner.get("/login?next=/onboardings", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/onboardings"


def test_wrong_credentials_re_render_the_form_with_one_message(
    client: TestClient, people: None
) -> None:
    wrong_password = sign_in(client, OWNER, password="not the password at all")
    unknown_email = sign_in(client, "nobody@acme.example")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert "Incorrect email or password." in response.text
        assert sessions.COOKIE_NAME not in client.cookies
    # The email typed is kept; the password never comes back.
    assert 'value="owner@acme.example"' in wrong_password.text
    assert "not the password at all" not in wrong_password.text
    page = client.get("/login")
    empty = client.post(
        "/login", data={"csrf_token": csrf_of(page.text), "email": OWNER, "password": ""}
    )
    assert empty.status_code == 400 and "Enter your email and your password." in empty.text


def test_the_first_sign_in_upgrades_a_weak_hash_to_600000_iterations(
    app: FastAPI, owner: TestClient
) -> None:
    with app.state.services.db.transaction(write=False) as conn:
        stored = conn.execute(
            select(tables.users.c.password_hash).where(tables.users.c.email == OWNER)
        ).scalar_one()
    assert stored.startswith("pbkdf2_sha256$600000$")


def test_two_browsers_have_independent_sessions(browser: Browser) -> None:
    first, second = browser(OWNER), browser(OWNER)
    assert first.cookies[sessions.COOKIE_NAME] != second.cookies[sessions.COOKIE_NAME]
    page = first.get("/customers")
    first.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert second.get("/customers", follow_redirects=False).status_code == 200
