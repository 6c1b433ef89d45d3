"""One JSON log line per request (issue 3): method, route, status, duration, request id,
key prefix; never a full key or a request body."""

from __future__ import annotations

import logging
import re
import subprocess
import sys

import orjson
import pytest

from pivotal.core import clock
from pivotal.core.middleware import new_request_id


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


def _boom(*_args: object) -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize("target", ["/api/v1/customers/1", "/api/v1/customers/1?x=1"])
def test_an_unexpected_error_is_a_500_envelope_logged_once(api, caplog, monkeypatch, target):
    """Whether the fast lane or FastAPI served the request (the query sends it the long
    way), an error nobody expected answers the envelope with the key's rate-limit headers
    and the request id, logs its traceback once and writes one access line."""
    assert api.post("/api/v1/customers", json={"name": "Acme"}).json()["display_id"] == 1
    # Rendering the customer fails: after admission, on both paths and both engines.
    monkeypatch.setattr(clock, "iso", _boom)
    caplog.set_level(logging.INFO)
    response = api.get(target, headers={"X-Request-Id": "req-boom"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-boom"
    assert int(response.headers["x-ratelimit-remaining"]) == 58  # after the POST
    assert response.json() == {
        "error": {
            "type": "internal_error",
            "code": "internal_error",
            "message": "An internal error occurred.",
            "request_id": "req-boom",
        }
    }
    errors = [r for r in caplog.records if r.name == "pivotal.error"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "boom" in str(errors[0].exc_info[1])
    access = [orjson.loads(r.getMessage()) for r in caplog.records if r.name == "pivotal.access"]
    assert [(e["status"], e["request_id"]) for e in access] == [(500, "req-boom")]
    # The failed request counted against the limit, as any answered request does.
    assert int(api.get("/api/v1/me").headers["x-ratelimit-remaining"]) == 57


_FORKED_IDS = """
import os
from pivotal.core.middleware import new_request_id
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, new_request_id().encode())
    os._exit(0)
os.close(write)
child = os.read(read, 100).decode()
os.waitpid(pid, 0)
print(child, new_request_id())
"""


def test_generated_request_ids_differ_and_a_forked_worker_makes_its_own() -> None:
    """Granian forks its workers: each must draw other ids than its parent's, or two
    workers would answer with the same ones. (Forked in a fresh interpreter: this one
    has threads.)"""
    made = {new_request_id() for _ in range(1000)}
    assert len(made) == 1000
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", request_id) for request_id in made)
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_IDS], capture_output=True, text=True, check=True
    )
    child, parent = done.stdout.split()
    assert re.fullmatch(r"req_[0-9a-f]{24}", child) and child != parent
