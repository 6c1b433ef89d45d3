"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright,
against a real `pivotal serve` process, on each engine. Every page is photographed at
desktop and phone widths into artifacts/screenshots/ (git-ignored) for people to look at.

Chromium missing is a skip on a laptop and a failure under CI (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import SECRET
from dashboard.helpers import PASSWORD
from live_server import LiveServer, serve
from pivotal.dashboard import users
from pivotal.db.engine import Database
from pivotal.workspaces import service as workspaces

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
OWNER, MEMBER = "olivia@aurora-labs.example", "max@aurora-labs.example"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for this module's tests (per test worker).

    Module scope, not session: while Playwright's sync API is open, the thread has a
    running asyncio loop, and later tests that call asyncio.run() in the same worker
    would fail. Leaving the module closes it.
    """
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


class Site:
    """A running server with a workspace, an owner, a member and a live API key."""

    def __init__(self, server: LiveServer, api_key: str) -> None:
        self.server = server
        self.url = server.base_url
        self.api = httpx.Client(
            base_url=f"{server.base_url}/api/v1",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10,
        )

    def engine_label(self, database_url: str) -> str:
        return "postgres" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    db = Database(database_url, pool_size=1)
    try:
        with db.transaction(write=True) as conn:
            workspaces.create_workspace(conn, "Aurora Labs", "aurora-labs")
            users.create_user(conn, "aurora-labs", OWNER, "owner", PASSWORD)
            users.create_user(conn, "aurora-labs", MEMBER, "member", PASSWORD)
            key = workspaces.create_key(
                conn, SECRET.encode(), "aurora-labs", "Seed script", rate_limit=10_000
            ).cleartext
    finally:
        db.dispose()
    env = {"PIVOTAL_WEBHOOKS_ALLOW_HTTP": "1", "PIVOTAL_WEBHOOKS_ALLOW_PRIVATE": "1"}
    with serve(database_url, SECRET, "--no-worker", env=env) as server:
        site = Site(server, key)
        yield site
        site.api.close()


def shoot(page: Page, name: str, engine: str) -> None:
    """Save the page at desktop and phone widths; screenshots come from the SQLite run
    (the PostgreSQL run shows the same pages)."""
    if engine != "sqlite":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def sign_in(page: Page, site: Site, email: str) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site.url}/customers")


def seed_customer(site: Site) -> dict[str, Any]:
    customer = site.api.post(
        "/customers",
        json={"name": "Borealis Bikes", "domain": "borealis.example", "plan": "growth",
              "mrr": 249_900, "status": "onboarding"},
    ).json()  # fmt: skip
    site.api.post(
        f"/customers/{customer['id']}/contacts",
        json={"name": "Ada Lovelace", "email": "ada@borealis.example", "title": "COO",
              "is_primary": True},
    )  # fmt: skip
    site.api.post(
        f"/customers/{customer['id']}/contacts",
        json={"name": "Grace Hopper", "email": "grace@borealis.example"},
    )
    onboarding = site.api.post(
        "/onboardings",
        json={"customer_id": customer["id"], "name": "Borealis rollout", "phase": "review",
              "target_launch_date": "2026-12-15"},
    ).json()  # fmt: skip
    for name, phase, state in [
        ("Cascade Coffee", "program_design", "waiting"),
        ("Delta Dental", "internal_qa", "at_risk"),
        ("Evergreen Health", "completed", "active"),
    ]:
        other = site.api.post("/customers", json={"name": name}).json()
        site.api.post(
            "/onboardings", json={"customer_id": other["id"], "phase": phase, "state": state}
        )
    return {"customer": customer, "onboarding": onboarding}


def test_an_owner_works_through_every_page(
    chromium: Browser, site: Site, database_url: str
) -> None:
    engine = site.engine_label(database_url)
    made = seed_customer(site)
    endpoint = site.api.post(
        "/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hooks", "enabled_events": ["*"],
              "description": "CRM listener"},
    ).json()  # fmt: skip
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()

    # Sign in (the first visit is sent to the sign-in page and brought back).
    page.goto(f"{site.url}/customers")
    expect(page).to_have_url(f"{site.url}/login?next=/customers")
    shoot(page, "login", engine)
    sign_in(page, site, OWNER)
    expect(page.get_by_role("link", name="Borealis Bikes")).to_be_visible()
    shoot(page, "customers", engine)

    # Create a key: its cleartext is shown once, and not after a reload.
    page.goto(f"{site.url}/admin/api-keys")
    page.get_by_label("Name").fill("Browser key")
    page.get_by_role("button", name="Create key").click()
    new_key = page.get_by_test_id("new-key")
    expect(new_key).to_be_visible()
    cleartext = new_key.inner_text().strip()
    assert cleartext.startswith("pivotal_") and not cleartext.startswith("pivotal_test_")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    shoot(page, "api-keys-new-key", engine)
    page.reload()
    expect(page.get_by_test_id("new-key")).to_have_count(0)
    assert cleartext not in page.content()

    # The key works against the API ...
    me = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {cleartext}"})
    assert me.status_code == 200 and me.json()["api_key"]["name"] == "Browser key"

    # ... until it is revoked in the page, after a confirmation step.
    page.locator("tr", has_text="Browser key").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke key “Browser key”?")).to_be_visible()
    shoot(page, "api-keys-revoke", engine)
    page.get_by_role("button", name="Revoke key").click()
    expect(page).to_have_url(f"{site.url}/admin/api-keys")
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    shoot(page, "api-keys", engine)
    refused = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {cleartext}"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "api_key_revoked"

    # A customer made through the API: card, contacts, onboarding, activity.
    page.goto(f"{site.url}/customers")
    page.get_by_label("Search").fill("borealis")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Borealis Bikes").click()
    expect(page).to_have_url(f"{site.url}/customers/{made['customer']['display_id']}")
    contacts = page.get_by_test_id("contacts")
    expect(contacts.locator("li", has_text="Ada Lovelace")).to_contain_text("Primary")
    expect(contacts.locator("li", has_text="Grace Hopper")).not_to_contain_text("Primary")
    expect(page.get_by_test_id("onboardings")).to_contain_text("Borealis rollout")
    expect(page.get_by_test_id("onboardings")).to_contain_text("Review")
    expect(page.get_by_test_id("activity")).to_contain_text("API: Seed script")
    shoot(page, "customer", engine)

    # Move the card to launch: the API sees the new phase and the person as the actor.
    page.goto(f"{site.url}/onboardings")
    card = page.get_by_test_id(f"onboarding-{made['onboarding']['display_id']}")
    card.get_by_label("Phase").select_option("launch")
    card.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Borealis rollout is now in Launch.")
    launch_column = page.locator('section[data-phase="launch"]')
    expect(
        launch_column.get_by_test_id(f"onboarding-{made['onboarding']['display_id']}")
    ).to_be_visible()
    shoot(page, "onboardings", engine)
    onboarding = site.api.get(f"/onboardings/{made['onboarding']['id']}").json()
    assert onboarding["phase"] == "launch"
    activity = site.api.get(f"/customers/{made['customer']['id']}/activity").json()["data"]
    [moved] = [entry for entry in activity if entry["event_type"] == "onboarding.phase_changed"]
    assert moved["actor"] == OWNER and moved["actor_type"] == "user"
    page.goto(f"{site.url}/customers/{made['customer']['display_id']}")
    feed = page.get_by_test_id("activity")
    expect(feed.locator("li", has_text="onboarding.phase_changed").first).to_contain_text(OWNER)
    expect(feed).to_contain_text("review → launch")

    # The webhook log, and a replay.
    page.goto(f"{site.url}/admin/webhooks")
    expect(page.get_by_role("heading", name="http://127.0.0.1:9/hooks")).to_be_visible()
    page.get_by_role("row", name="webhook.ping").get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
    shoot(page, "webhooks", engine)
    deliveries = site.api.get(f"/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert [d["event_type"] for d in deliveries].count("webhook.ping") == 2

    # Sign out ends the session.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{site.url}/login")
    page.goto(f"{site.url}/admin/api-keys")
    expect(page).to_have_url(f"{site.url}/login?next=/admin/api-keys")
    context.close()


def test_a_member_is_kept_out_of_admin_pages_and_forged_forms_fail(
    chromium: Browser, site: Site, database_url: str
) -> None:
    engine = site.engine_label(database_url)
    made = seed_customer(site)
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, site, MEMBER)
    expect(page.get_by_role("link", name="API keys")).to_have_count(0)
    response = page.goto(f"{site.url}/admin/api-keys")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You cannot do that")).to_be_visible()
    shoot(page, "forbidden", engine)

    # A form whose CSRF token was stripped (as a forged cross-site form would lack it).
    page.goto(f"{site.url}/onboardings")
    card = page.get_by_test_id(f"onboarding-{made['onboarding']['display_id']}")
    card.locator('input[name="csrf_token"]').evaluate("input => input.remove()")
    card.get_by_label("Phase").select_option("completed")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        card.get_by_role("button", name="Move").click()
    assert posted.value.status == 403
    expect(page.get_by_text("did not come from this site")).to_be_visible()
    assert site.api.get(f"/onboardings/{made['onboarding']['id']}").json()["phase"] == "review"

    # With the token, a member may move phases.
    page.goto(f"{site.url}/onboardings")
    card = page.get_by_test_id(f"onboarding-{made['onboarding']['display_id']}")
    card.get_by_label("Phase").select_option("program_buildout")
    card.get_by_role("button", name="Move").click()
    expect(page.get_by_role("status")).to_contain_text("Program buildout")
    assert site.api.get(f"/onboardings/{made['onboarding']['id']}").json()["phase"] == (
        "program_buildout"
    )

    # Dragging the card onto another column does the same (dashboard.js).
    card = page.get_by_test_id(f"onboarding-{made['onboarding']['display_id']}")
    card.drag_to(page.locator('section[data-phase="completed"]'))
    expect(page.get_by_role("status")).to_contain_text("Borealis rollout is now in Completed.")
    completed = site.api.get(f"/onboardings/{made['onboarding']['id']}").json()
    assert completed["phase"] == "completed" and completed["completed_at"] is not None
    context.close()
