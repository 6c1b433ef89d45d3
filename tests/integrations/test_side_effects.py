"""Side effects (SPEC §9): what reaches Slack, Resend and HubSpot, and what is skipped."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from pivotal.core import clock
from pivotal.integrations.runner import IntegrationRunner
from support import auth


def run_jobs(app, now=None) -> int:
    runner = IntegrationRunner(app.state.services, now=now or clock.now_us)
    total = 0
    while attempted := asyncio.run(runner.run_once()):
        total += attempted
    return total


def integration_entries(api, customer_id: str) -> list[dict]:
    entries = api.get(f"/api/v1/customers/{customer_id}/activity", params={"limit": 100}).json()[
        "data"
    ]
    return [e for e in entries if e["event_type"].startswith("integration.")]


@pytest.fixture
def launched_customer(api):
    """A customer with a Slack channel and a primary contact, and its onboarding."""
    customer = api.post(
        "/api/v1/customers", json={"name": "Aurora", "slack_channel_id": "C123"}
    ).json()
    api.post(
        f"/api/v1/customers/{customer['id']}/contacts",
        json={"name": "Ana", "email": "ana@aurora.io", "is_primary": True},
    )
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    return customer, onboarding


def test_launch_with_a_live_key_posts_to_slack_and_emails_the_primary_contact(
    api, app, fake, configure, launched_customer
):
    configure("slack", token="xoxb-live-token")
    configure("resend", api_key="re_live_key", **{"from": "Pivotal <hi@pivotal.example>"})
    customer, onboarding = launched_customer
    response = api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": "launch"})
    assert response.status_code == 200
    assert fake.calls == []  # nothing is sent before commit, nor from the request itself
    assert run_jobs(app) == 2
    [slack] = fake.to("/slack/")
    assert (slack.method, slack.path) == ("POST", "/slack/chat.postMessage")
    assert slack.headers["authorization"] == "Bearer xoxb-live-token"
    assert slack.json["channel"] == "C123" and "Aurora" in slack.json["text"]
    [email] = fake.to("/resend/")
    assert (email.method, email.path) == ("POST", "/resend/emails")
    assert email.headers["authorization"] == "Bearer re_live_key"
    assert email.json["to"] == ["ana@aurora.io"]
    assert email.json["from"] == "Pivotal <hi@pivotal.example>"
    assert email.json["subject"] and "Aurora" in email.json["html"]
    sent = integration_entries(api, customer["id"])
    assert sorted(e["changes"]["service"] for e in sent) == ["resend", "slack"]
    assert {e["event_type"] for e in sent} == {"integration.sent"}
    assert run_jobs(app) == 0  # each side effect happens once


def test_the_same_launch_with_a_test_key_sends_nothing_and_records_two_skips(
    client, keys, app, fake, configure, launched_customer
):
    configure("slack", token="xoxb-live-token")
    configure("resend", api_key="re_live_key", **{"from": "hi@pivotal.example"})
    customer, onboarding = launched_customer
    response = client.patch(
        f"/api/v1/onboardings/{onboarding['id']}", headers=auth(keys.test), json={"phase": "launch"}
    )
    assert response.status_code == 200
    assert run_jobs(app) == 0
    assert fake.calls == []
    skipped = integration_entries(client_for(client, keys.live), customer["id"])
    assert sorted(e["changes"]["service"] for e in skipped) == ["resend", "slack"]
    assert all(e["event_type"] == "integration.skipped" for e in skipped)
    assert all(e["changes"]["reason"] == "test mode" and e["livemode"] is False for e in skipped)


class client_for:
    def __init__(self, client, key: str) -> None:
        self.client, self.headers = client, auth(key)

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)


def test_not_configured_or_nothing_to_send_to_is_skipped_with_the_reason(api, app, fake, configure):
    configure("resend", api_key="re_key", **{"from": "hi@pivotal.example"})
    customer = api.post(
        "/api/v1/customers", json={"name": "Quiet"}
    ).json()  # no channel, no contact
    onboarding = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]}).json()
    api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": "launch"})
    assert run_jobs(app) == 0 and fake.calls == []
    reasons = {
        e["changes"]["service"]: e["changes"]["reason"]
        for e in integration_entries(api, customer["id"])
    }
    assert reasons == {
        "slack": "slack is not configured for this workspace",
        "resend": "the customer has no primary contact",
    }


def test_customer_changes_patch_the_hubspot_company(api, app, fake, configure):
    configure("hubspot", token="pat-hub")
    customer = api.post(
        "/api/v1/customers",
        json={
            "name": "Aurora",
            "domain": "aurora.io",
            "plan": "pro",
            "mrr": 9900,
            "hubspot_company_id": "HS 1/2",
        },
    ).json()
    api.patch(f"/api/v1/customers/{customer['id']}", json={"plan": "enterprise"})
    api.patch(f"/api/v1/customers/{customer['id']}", json={"metadata": {"x": 1}})  # not pushed
    assert run_jobs(app) == 2
    calls = fake.to("/hubspot/")
    assert len(calls) == 2  # the create and the plan change; the metadata change pushes nothing
    for call in calls:
        assert call.method == "PATCH"
        assert call.path == "/hubspot/crm/v3/objects/companies/HS%201%2F2"
        assert call.headers["authorization"] == "Bearer pat-hub"
        # Each job pushes the customer as it is when the job runs: never stale data.
        assert call.json["properties"] == {
            "name": "Aurora",
            "domain": "aurora.io",
            "plan": "enterprise",
            "mrr": "9900",
        }
    plain = api.post("/api/v1/customers", json={"name": "No HubSpot id"}).json()
    api.patch(f"/api/v1/customers/{plain['id']}", json={"plan": "pro"})
    assert run_jobs(app) == 0


def test_a_failing_service_is_retried_and_never_fails_the_request(
    api, app, fake, configure, launched_customer
):
    configure("slack", token="xoxb")
    fake.replies["/slack/"] = [
        (200, {"ok": False, "error": "internal_error"}, {}),
        (200, {"ok": True}, {}),
    ]
    customer, onboarding = launched_customer
    assert (
        api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": "launch"}).status_code
        == 200
    )
    now = [clock.now_us()]
    assert run_jobs(app, lambda: now[0]) == 1
    slack_outcomes = [
        e for e in integration_entries(api, customer["id"]) if e["changes"]["service"] == "slack"
    ]
    assert slack_outcomes == []  # a retry is pending: no outcome recorded yet
    now[0] += 6 * clock.MICROS_PER_SECOND  # past the first retry delay
    assert run_jobs(app, lambda: now[0]) == 1
    assert len(fake.to("/slack/")) == 2
    outcomes = {
        e["changes"]["service"]: e["event_type"] for e in integration_entries(api, customer["id"])
    }
    assert outcomes["slack"] == "integration.sent"


def test_permanent_slack_errors_fail_at_once_with_the_reason(
    api, app, fake, configure, launched_customer
):
    configure("slack", token="xoxb")
    fake.replies["/slack/"] = [(200, {"ok": False, "error": "channel_not_found"}, {})]
    customer, onboarding = launched_customer
    api.patch(f"/api/v1/onboardings/{onboarding['id']}", json={"phase": "launch"})
    assert run_jobs(app) == 1
    [failed] = [
        e for e in integration_entries(api, customer["id"]) if e["changes"]["service"] == "slack"
    ]
    assert failed["event_type"] == "integration.failed"
    assert failed["changes"]["reason"] == "slack: channel_not_found"


def test_hubspot_429_waits_for_retry_after(api, app, db, fake, configure):
    configure("hubspot", token="pat")
    fake.replies["/hubspot/"] = [(429, {"status": "error"}, {"Retry-After": "120"}), (200, {}, {})]
    api.post("/api/v1/customers", json={"name": "Aurora", "hubspot_company_id": "42"})
    start = clock.now_us()
    now = [start]
    assert run_jobs(app, lambda: now[0]) == 1
    with db.transaction(write=False) as conn:
        next_at = conn.execute(text("SELECT next_attempt_at FROM integration_jobs")).scalar_one()
    assert next_at >= start + 120 * clock.MICROS_PER_SECOND  # longer than our own 5 s retry
    now[0] = next_at
    assert run_jobs(app, lambda: now[0]) == 1
    assert len(fake.to("/hubspot/")) == 2


def test_a_rolled_back_change_enqueues_nothing(api, app, fake, configure):
    configure("hubspot", token="pat")
    api.post("/api/v1/customers", json={"name": "Taken", "slug": "taken"})
    run_jobs(app)
    fake.calls.clear()
    refused = api.post(
        "/api/v1/customers", json={"name": "X", "slug": "taken", "hubspot_company_id": "9"}
    )
    assert refused.status_code == 409
    assert run_jobs(app) == 0 and fake.calls == []


def test_secrets_are_sealed_at_rest(api, db, configure):
    configure("slack", token="xoxb-very-secret-token")
    with db.transaction(write=False) as conn:
        stored = conn.execute(text("SELECT config FROM integration_settings")).scalar_one()
    assert "xoxb-very-secret-token" not in stored and stored.startswith("v1:")
