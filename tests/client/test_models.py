"""Models and client options, without a server."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime

import httpx
import pytest

from pivotal import PivotalApi
from pivotal.client.models import Customer, Event, PhaseTransition, Task, WebhookDelivery

CUSTOMER = {
    "object": "customer",
    "id": "c1",
    "display_id": 3,
    "name": "Aurora",
    "slug": "aurora",
    "metadata": {"tier": {"level": 2}},
    "created_at": "2026-05-26T17:21:09.412345Z",
    "updated_at": "2026-05-26T17:21:09.412345Z",
    "added_in_a_later_version": "kept",
}


def test_fields_are_typed_and_unknown_keys_kept() -> None:
    customer = Customer.from_dict(CUSTOMER)
    assert customer.display_id == 3 and customer.slug == "aurora"
    assert customer.created_at == datetime(2026, 5, 26, 17, 21, 9, 412345, tzinfo=UTC)
    assert customer.plan is None  # documented, absent here: None, not an error
    assert customer.added_in_a_later_version == "kept"  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        customer.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    raw = customer.to_dict()
    assert raw == CUSTOMER
    raw["metadata"]["tier"]["level"] = 9  # a copy: the object does not change
    assert customer.to_dict()["metadata"] == {"tier": {"level": 2}}
    assert pickle.loads(pickle.dumps(customer)) == customer


def test_nested_and_renamed_fields() -> None:
    transition = PhaseTransition.from_dict({"from": "review", "to": "launch"})
    assert (transition.from_, transition.to) == ("review", "launch")
    task = Task.from_dict({"due_date": "2027-01-02", "completed_at": None})
    assert task.due_date == date(2027, 1, 2) and task.completed_at is None
    delivery = WebhookDelivery.from_dict(
        {"attempts": [{"attempted_at": "2026-05-26T17:21:09Z", "status_code": 500}]}
    )
    assert delivery.attempts[0].status_code == 500
    assert delivery.attempts[0].attempted_at.tzinfo is not None
    event = Event.from_dict(
        {
            "id": "evt_1",
            "type": "customer.updated",
            "data": {"object": CUSTOMER, "previous_attributes": {"plan": None}},
        }
    )
    assert isinstance(event.data.object, Customer) and event.data.object.id == "c1"
    assert event.data.previous_attributes == {"plan": None}
    unknown = Event.from_dict({"data": {"object": {"object": "gizmo", "x": 1}}})
    assert unknown.data.object == {"object": "gizmo", "x": 1}  # an unknown type stays a dict


def test_options_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOTAL_API_KEY", "pivotal_env")
    monkeypatch.setenv("PIVOTAL_BASE_URL", "http://pivotal.internal:9000/")
    with PivotalApi() as api:
        assert api.api_key == "pivotal_env" and api.base_url == "http://pivotal.internal:9000"
        assert api.timeout == 30 and api.max_retries == 2
    with PivotalApi(api_key="pivotal_arg", base_url="http://x.example/api/v1") as api:
        assert api.api_key == "pivotal_arg" and api.base_url == "http://x.example"
    monkeypatch.delenv("PIVOTAL_API_KEY")
    monkeypatch.delenv("PIVOTAL_BASE_URL")
    with PivotalApi() as api:
        assert api.api_key is None and api.base_url == "http://127.0.0.1:8000"
    with pytest.raises(ValueError):
        PivotalApi(max_retries=-1)


def test_requests_are_shaped_as_the_api_reads_them() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with PivotalApi(api_key="pivotal_k", base_url="http://x.example", http_client=http) as api:
        api.contacts.list("cus/1", is_primary=True, limit=5).first_page()
        api.events.list(created_after=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)).first_page()
        api.onboardings.update(4, target_launch_date=date(2027, 1, 15), notes=None)
    http.close()
    assert seen[0].url.raw_path.split(b"?")[0] == b"/api/v1/customers/cus%2F1/contacts"
    assert dict(seen[0].url.params) == {"is_primary": "true", "limit": "5"}
    assert seen[1].url.params["created_after"] == "2026-01-02T03:04:05+00:00"
    assert seen[2].content == b'{"target_launch_date":"2027-01-15","notes":null}'
    assert seen[2].headers["content-type"] == "application/json"
    assert seen[2].headers["user-agent"].startswith("pivotal-python/")
    assert "idempotency-key" not in seen[2].headers  # PATCH is idempotent already
