"""One JSON log line per request (issue 3): method, route, status, duration, request id,
key prefix; never a full key or a request body."""

from __future__ import annotations

import logging

import orjson


def test_one_json_line_per_request_without_secrets(api, keys, caplog):
    caplog.set_level(logging.INFO, logger="pivotal.access")
    response = api.post(
        "/api/v1/customers",
        json={"name": "Secret Body Value"},
        headers={"X-Request-Id": "req-log-1"},
    )
    assert response.status_code == 201
    lines = [r.getMessage() for r in caplog.records if r.name == "pivotal.access"]
    assert len(lines) == 1
    entry = orjson.loads(lines[0])
    assert entry["method"] == "POST"
    assert entry["route"] == "/api/v1/customers"
    assert entry["status"] == 201
    assert entry["request_id"] == "req-log-1"
    assert entry["key_prefix"] == keys.live[: len("pivotal_") + 4]
    assert isinstance(entry["duration_ms"], float)
    assert keys.live not in lines[0] and "Secret Body Value" not in lines[0]


def test_errors_and_unknown_routes_are_logged_too(client, caplog):
    caplog.set_level(logging.INFO, logger="pivotal.access")
    client.get("/api/v1/nope")
    client.get("/api/v1/me", headers={"Authorization": "Bearer pivotal_" + "x" * 40})
    entries = [orjson.loads(r.getMessage()) for r in caplog.records if r.name == "pivotal.access"]
    assert [e["status"] for e in entries] == [404, 401]
    assert all(e["key_prefix"] is None for e in entries)
