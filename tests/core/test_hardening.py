"""Inputs that once reached past validation: deep JSON, long path references."""

from __future__ import annotations

from support import assert_error


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def test_deeply_nested_bodies_are_invalid_json(api):
    for depth in (70, 990, 1010):
        body = '{"name": "a", "metadata": {"x": ' + nested(depth) + "}}"
        response = api.post(
            "/api/v1/customers",
            content=body.encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": f"deep-{depth}"},
        )
        assert_error(response, 400, "invalid_json")
    big_number = '{"name": "a", "metadata": {"x": ' + nested(990).replace("1", "1" * 25) + "}}"
    response = api.post(
        "/api/v1/customers",
        content=big_number.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_json")


def test_moderate_nesting_is_fine(api):
    metadata = {"a": {"b": {"c": [[{"d": [1, 2, {"e": None}]}]]}}}
    response = api.post("/api/v1/customers", json={"name": "a", "metadata": metadata})
    assert response.status_code == 201
    assert response.json()["metadata"] == metadata


def test_overlong_path_references_are_404_even_with_an_idempotency_key(api):
    customer = api.post("/api/v1/customers", json={"name": "a"}).json()
    ref = "0" * 600 + str(customer["display_id"])
    response = api.post(
        f"/api/v1/customers/{ref}/contacts",
        json={"name": "A", "email": "a@x.io"},
        headers={"Idempotency-Key": "long"},
    )
    assert_error(response, 404, "customer_not_found")


def test_request_ids_may_contain_spaces(client):
    response = client.get("/api/v1/health", headers={"X-Request-Id": "my request 1"})
    assert response.headers["x-request-id"] == "my request 1"
