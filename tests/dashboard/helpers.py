"""Helpers for driving dashboard pages with a TestClient, as a browser would."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx2
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
OWNER, ADMIN, MEMBER = "owner@acme.example", "admin@acme.example", "member@acme.example"
# browser(email): a TestClient signed in as that person, with its own cookie jar.
Browser = Callable[[str], TestClient]
# make_user(email, role="member", workspace="acme"): a user with the PASSWORD below.
MakeUser = Callable[..., str]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def sign_in(
    client: TestClient, email: str, password: str = PASSWORD, next_page: str | None = None
) -> httpx2.Response:
    """Open the sign-in page (for its token and cookie) and post the form; no redirects."""
    page = client.get("/login")
    form = {"csrf_token": csrf_of(page.text), "email": email, "password": password}
    if next_page is not None:
        form["next"] = next_page
    return client.post("/login", data=form, follow_redirects=False)


def post_form(
    client: TestClient, page: str, action: str, data: dict[str, str] | None = None
) -> httpx2.Response:
    """Load ``page`` for its CSRF token, then post ``data`` to ``action``; no redirects."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=False)
