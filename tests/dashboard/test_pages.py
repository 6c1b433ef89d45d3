"""The pages themselves: what they show and what their forms change, checked against
the API (the same data, the same rules, the same activity and events)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import SECRET
from dashboard.helpers import PASSWORD, csrf_of, post_form, sign_in
from pivotal.cli import app as cli_app
from pivotal.db import tables
from support import assert_error, auth

NEW_KEY = re.compile(r'data-testid="new-key">([^<]+)<')


def _customer_with_everything(api: TestClient) -> dict[str, Any]:
    customer = api.post(
        "/api/v1/customers",
        json={"name": "Aurora Foods", "domain": "https://Aurora.example/", "plan": "growth"},
    ).json()
    api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Ada Lovelace", "email": "ada@aurora.example", "is_primary": True},
    )
    api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Bob Byte", "email": "bob@aurora.example", "title": "CTO"},
    )
    onboarding = api.post(
        "/api/v1/onboardings",
        json={"customer_id": customer["id"], "name": "Aurora rollout", "phase": "review"},
    ).json()
    return {"customer": customer, "onboarding": onboarding}


def test_customer_page_shows_card_contacts_onboardings_and_activity(
    api: TestClient, owner: TestClient, people: None
) -> None:
    made = _customer_with_everything(api)
    page = owner.get(f"/customers/{made['customer']['display_id']}")
    assert page.status_code == 200
    html = page.text
    assert "Aurora Foods" in html and "aurora.example" in html and "growth" in html
    contacts = html[html.index('data-testid="contacts"') :]
    assert re.search(r"Ada Lovelace</strong>\s*<span class=\"badge badge--primary\">Primary", html)
    assert "Bob Byte" in contacts and "CTO" in contacts
    assert "Aurora rollout" in html and "Review" in html and "active" in html
    activity = html[html.index('data-testid="activity"') :]
    assert "API: CRM sync" in activity and "onboarding.created" in activity


def test_unknown_customers_are_friendly_404_pages(owner: TestClient) -> None:
    for path in ("/customers/999", "/customers/abc", "/customers/0", "/customers/" + "9" * 30):
        response = owner.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "No such customer." in response.text


def test_customer_search_filter_and_pages(api: TestClient, owner: TestClient) -> None:
    for number in range(1, 28):
        api.post(
            "/api/v1/customers",
            json={
                "name": f"Shop {number:02d}",
                "domain": f"shop{number}.example",
                "status": "at_risk" if number % 9 == 0 else "active",
            },
        )
    api.post("/api/v1/customers", json={"name": "Zeta 100% Corp", "slug": "zeta-main"})
    first = owner.get("/customers").text
    assert first.count('<th scope="row">') == 25
    older = re.search(r'href="(/customers\?cursor=[^"]+)"[^>]*rel="next"', first)
    assert older is not None
    second = owner.get(older.group(1).replace("&amp;", "&")).text
    assert second.count('<th scope="row">') == 3 and "Shop 01" in second
    assert "Shop 01" not in first
    # Search by name (case-insensitive), slug and domain; % is taken literally.
    assert owner.get("/customers?q=zeta 100%").text.count('<th scope="row">') == 1
    assert owner.get("/customers?q=ZETA-MAIN").text.count('<th scope="row">') == 1
    assert "Shop 12" in owner.get("/customers?q=shop12.example").text
    assert owner.get("/customers?q=%25").text.count('<th scope="row">') == 1
    at_risk = owner.get("/customers?status=at_risk").text
    assert at_risk.count('<th scope="row">') == 3
    assert owner.get("/customers?q=nothing-like-this").text.count('<th scope="row">') == 0
    bad = owner.get("/customers?status=sleeping")
    assert bad.status_code == 400 and "Status must be one of" in bad.text
    assert owner.get("/customers?cursor=yesterday").status_code == 400


def test_moving_a_card_changes_the_phase_like_the_api_does(
    app: FastAPI, api: TestClient, member: TestClient
) -> None:
    made = _customer_with_everything(api)
    onboarding = made["onboarding"]
    board = member.get("/onboardings").text
    assert f'data-testid="onboarding-{onboarding["display_id"]}"' in board
    response = post_form(
        member,
        "/onboardings",
        f"/onboardings/{onboarding['display_id']}/phase",
        {"phase": "launch"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/onboardings"
    assert "Aurora rollout is now in Launch." in member.get("/onboardings").text
    assert api.get(f"/api/v1/onboardings/{onboarding['id']}").json()["phase"] == "launch"
    [transition] = api.get(f"/api/v1/onboardings/{onboarding['id']}/transitions").json()["data"]
    assert (transition["from"], transition["to"]) == ("review", "launch")
    assert transition["actor"] == "member@acme.example" and transition["livemode"] is True
    activity = api.get(f"/api/v1/customers/{made['customer']['id']}/activity").json()["data"]
    moved = [a for a in activity if a["event_type"] == "onboarding.phase_changed"]
    assert moved[0]["actor"] == "member@acme.example" and moved[0]["actor_type"] == "user"
    assert moved[0]["changes"] == {"phase": {"from": "review", "to": "launch"}}
    launched = api.get("/api/v1/events?type=onboarding.launched").json()["data"]
    assert len(launched) == 1 and launched[0]["livemode"] is True
    assert launched[0]["data"]["previous_attributes"] == {"phase": "review"}
    # The notice is shown once.
    assert "is now in Launch" not in member.get("/onboardings").text


def test_bad_moves_are_refused_on_a_page(api: TestClient, member: TestClient) -> None:
    onboarding = _customer_with_everything(api)["onboarding"]
    action = f"/onboardings/{onboarding['display_id']}/phase"
    bad = post_form(member, "/onboardings", action, {"phase": "orbit"})
    assert bad.status_code == 400 and "Phase must be one of" in bad.text
    missing = post_form(member, "/onboardings", "/onboardings/999/phase", {"phase": "launch"})
    assert missing.status_code == 404 and "No such onboarding." in missing.text
    assert api.get(f"/api/v1/onboardings/{onboarding['id']}").json()["phase"] == "review"


def test_a_new_key_is_shown_once_works_and_is_never_logged(
    app: FastAPI, client: TestClient, owner: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = post_form(owner, "/admin/api-keys", "/admin/api-keys", {"name": "Deploy bot"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/api-keys"
    page = owner.get("/admin/api-keys")
    assert page.headers["cache-control"] == "no-store"
    key = NEW_KEY.search(page.text)
    assert key is not None and key.group(1).startswith("pivotal_")
    cleartext = key.group(1)
    assert page.text.count(cleartext) == 1
    assert "Deploy bot" in page.text and cleartext[:12] in page.text
    me = client.get("/api/v1/me", headers=auth(cleartext)).json()
    assert me["api_key"]["name"] == "Deploy bot" and me["livemode"] is True
    again = owner.get("/admin/api-keys").text
    assert NEW_KEY.search(again) is None and cleartext not in again
    assert all(cleartext not in record.getMessage() for record in caplog.records)
    with app.state.services.db.transaction(write=False) as conn:
        rows = conn.execute(select(tables.dashboard_sessions)).all()
    assert all(cleartext not in str(row) for row in rows)


def test_a_test_mode_key(client: TestClient, owner: TestClient) -> None:
    post_form(owner, "/admin/api-keys", "/admin/api-keys", {"name": "CI", "test_mode": "1"})
    cleartext = NEW_KEY.search(owner.get("/admin/api-keys").text)
    assert cleartext is not None and cleartext.group(1).startswith("pivotal_test_")
    assert client.get("/api/v1/me", headers=auth(cleartext.group(1))).json()["livemode"] is False


def test_a_bad_key_name_re_renders_the_form(owner: TestClient) -> None:
    empty = post_form(owner, "/admin/api-keys", "/admin/api-keys", {"name": "   "})
    assert empty.status_code == 400 and "name must be 1-100 characters" in empty.text
    long = post_form(owner, "/admin/api-keys", "/admin/api-keys", {"name": "k" * 101})
    assert long.status_code == 400 and 'value="' + "k" * 101 + '"' in long.text


def test_revoking_asks_first_then_the_api_refuses_the_key(
    app: FastAPI, client: TestClient, owner: TestClient
) -> None:
    post_form(owner, "/admin/api-keys", "/admin/api-keys", {"name": "Old"})
    found = NEW_KEY.search(owner.get("/admin/api-keys").text)
    assert found is not None
    cleartext = found.group(1)
    assert client.get("/api/v1/me", headers=auth(cleartext)).status_code == 200
    with app.state.services.db.transaction(write=False) as conn:
        key_id = conn.execute(select(tables.api_keys.c.id)).scalar_one()
    confirm = owner.get(f"/admin/api-keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke key" in confirm.text
    assert client.get("/api/v1/me", headers=auth(cleartext)).status_code == 200  # not yet
    response = owner.post(
        f"/admin/api-keys/{key_id}/revoke",
        data={"csrf_token": csrf_of(confirm.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert_error(client.get("/api/v1/me", headers=auth(cleartext)), 401, "api_key_revoked")
    listing = owner.get("/admin/api-keys").text
    assert "Key &#39;Old&#39;" in listing and "is revoked" in listing
    assert ">Revoke</button>" not in listing
    assert owner.get("/admin/api-keys/key_nope/revoke").status_code == 404


def test_webhooks_page_lists_deliveries_and_replays_one(api: TestClient, owner: TestClient) -> None:
    endpoint = api.post(
        "/api/v1/webhook_endpoints",
        json={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"], "description": "CRM"},
    ).json()
    page = owner.get("/admin/webhooks").text
    assert "http://127.0.0.1:9/hook" in page and "webhook.ping" in page and "pending" in page
    assert endpoint["secret"] not in page
    [delivery_id] = re.findall(r'data-delivery-id="(msg_[a-z0-9]+)"', page)
    response = post_form(
        owner, "/admin/webhooks", f"/admin/webhooks/deliveries/{delivery_id}/replay"
    )
    assert response.status_code == 303
    deliveries = api.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert len(deliveries) == 2 and {d["event_type"] for d in deliveries} == {"webhook.ping"}
    assert "queued again" in owner.get("/admin/webhooks").text
    missing = post_form(owner, "/admin/webhooks", "/admin/webhooks/deliveries/msg_nope/replay")
    assert missing.status_code == 404


def test_pages_carry_protective_headers(owner: TestClient) -> None:
    for path in ("/customers", "/admin/api-keys", "/login"):
        headers = owner.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
    css = owner.get("/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_users_are_created_with_the_cli(database_url: str, client: TestClient) -> None:
    runner = CliRunner()
    env = {"PIVOTAL_DATABASE_URL": database_url, "PIVOTAL_SECRET_KEY": SECRET}

    def pivotal(*args: str, stdin: str | None = None) -> Any:
        return runner.invoke(cli_app, list(args), env=env, input=stdin)

    assert pivotal("workspaces", "create", "--name", "Initech").exit_code == 0
    made = pivotal(
        "users", "create", "--workspace", "initech", "--email", "Peter@Initech.example",
        "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "created admin peter@initech.example" in made.stdout
    assert PASSWORD not in made.output
    assert sign_in(client, "peter@initech.example").status_code == 303
    assert client.get("/admin/api-keys").status_code == 200
    for args, stdin, reason in [
        (("--email", "peter@initech.example", "--role", "admin"), PASSWORD, "already exists"),
        (("--email", "x@initech.example", "--role", "boss"), PASSWORD, "role must be one of"),
        (("--email", "x@initech.example", "--role", "member"), "short", "at least 10"),
        (("--email", "not-an-email", "--role", "member"), PASSWORD, "not a valid email"),
    ]:
        failed = pivotal(
            "users", "create", "--workspace", "initech", *args, "--password-stdin", stdin=stdin
        )
        assert failed.exit_code == 1 and reason in failed.stderr, failed.output
    prompted = pivotal(
        "users", "create", "--workspace", "initech", "--email", "m@initech.example",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert prompted.exit_code == 0 and "created member m@initech.example" in prompted.stdout
