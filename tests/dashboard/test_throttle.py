"""Sign-in throttling: failures counted per email and per client address, in the
database, so every process sees them; past the limit, a 429 page with Retry-After."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from conftest import Settings
from dashboard.helpers import MEMBER, OWNER, sign_in
from pivotal.app import create_app
from pivotal.core import clock
from pivotal.dashboard import sessions, throttle
from pivotal.db import tables

WRONG = "definitely not the password"


def _fail(client: TestClient, email: str, times: int) -> None:
    for _ in range(times):
        assert sign_in(client, email, password=WRONG).status_code == 401


def test_five_failures_lock_the_email_even_against_the_right_password(
    client: TestClient, people: None
) -> None:
    _fail(client, OWNER, throttle.MAX_FAILURES_PER_EMAIL)
    response = sign_in(client, OWNER)
    assert response.status_code == 429
    wait = int(response.headers["retry-after"])
    assert 0 < wait <= throttle.WINDOW_US // clock.MICROS_PER_SECOND
    assert re.search(rf"Too many attempts, try again in {wait} s\.", response.text)
    assert sessions.COOKIE_NAME not in client.cookies
    # Another person signing in from the same address is not locked out.
    assert sign_in(client, MEMBER).status_code == 303


def test_the_lock_lifts_when_the_failures_leave_the_window(
    app: FastAPI, client: TestClient, people: None
) -> None:
    _fail(client, OWNER, throttle.MAX_FAILURES_PER_EMAIL)
    assert sign_in(client, OWNER).status_code == 429
    with app.state.services.db.transaction(write=True) as conn:
        conn.execute(
            update(tables.sign_in_attempts).values(
                at_us=tables.sign_in_attempts.c.at_us - throttle.WINDOW_US
            )
        )
    assert sign_in(client, OWNER).status_code == 303


def test_a_successful_sign_in_forgives_earlier_failures(client: TestClient, people: None) -> None:
    _fail(client, OWNER, throttle.MAX_FAILURES_PER_EMAIL - 1)
    assert sign_in(client, OWNER).status_code == 303
    client.cookies.clear()
    _fail(client, OWNER, throttle.MAX_FAILURES_PER_EMAIL - 1)
    assert sign_in(client, OWNER).status_code == 303


def test_unknown_emails_are_counted_like_known_ones(client: TestClient, people: None) -> None:
    ghost = "ghost@acme.example"
    _fail(client, ghost, throttle.MAX_FAILURES_PER_EMAIL)
    response = sign_in(client, ghost, password=WRONG)
    assert response.status_code == 429  # no hint that the account does not exist


def test_one_address_trying_many_emails_is_slowed_down(
    app: FastAPI, client: TestClient, people: None
) -> None:
    # The TestClient's address; the earlier failures are recorded as the app records them.
    address = throttle.address_bucket("testclient")
    with app.state.services.db.transaction(write=True) as conn:
        throttle.record_failure(
            conn, [address] * (throttle.MAX_FAILURES_PER_ADDRESS - 1), clock.now_us()
        )
    assert sign_in(client, "someone@acme.example", password=WRONG).status_code == 401
    response = sign_in(client, OWNER)
    assert response.status_code == 429 and "retry-after" in response.headers


def test_every_process_sees_the_same_count(
    app: FastAPI, client: TestClient, settings: Settings, people: None
) -> None:
    _fail(client, OWNER, throttle.MAX_FAILURES_PER_EMAIL - 1)
    other_process = create_app(settings)
    try:
        with TestClient(other_process) as elsewhere:
            _fail(elsewhere, OWNER, 1)
            assert sign_in(elsewhere, OWNER).status_code == 429
        assert sign_in(client, OWNER).status_code == 429
    finally:
        other_process.state.services.db.dispose()
