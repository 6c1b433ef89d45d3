"""Assertions and small helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import httpx2

from pivotal.config import Settings


def loopback_settings(database_url: str, secret_key: str) -> Settings:
    """Settings that let webhook endpoints point at receivers on loopback (plain http,
    private addresses), as the webhook and dashboard tests need."""
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        webhooks_allow_http=True,
        webhooks_allow_private=True,
    )


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_error(
    response: httpx2.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """Check the SPEC §3 envelope: status, type pairing, code, field and request id."""
    types = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found",
        405: "invalid_request_error",
        409: "conflict",
        413: "invalid_request_error",
        415: "invalid_request_error",
        429: "rate_limit_error",
        500: "internal_error",
        503: "internal_error",
    }
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == types[status], error
    assert error["code"] == code, error
    assert error.get("field") == field, error
    assert error["request_id"] == response.headers["x-request-id"]
    assert isinstance(error["message"], str) and error["message"]
    return error


def walk(api: Any, path: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of ``path``, following next_cursor, checking the list envelope on the way."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["object"] == "list"
        assert len(body["data"]) <= limit
        pages.append(body["data"])
        if body["has_more"]:
            assert len(body["data"]) == limit
            assert body["next_cursor"] == body["data"][-1]["created_at"]
            cursor = body["next_cursor"]
        else:
            assert body["next_cursor"] is None
            return pages
        assert len(pages) < 1000, "pagination does not end"
