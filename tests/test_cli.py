"""The `pivotal` command (SPEC §10), run against the same database as the API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import SECRET
from pivotal.cli import app as cli_app
from support import assert_error, auth


@pytest.fixture
def pivotal(database_url: str):  # type: ignore[no-untyped-def]
    """Run `pivotal ARGS...` in-process with the test database; returns the result."""
    runner = CliRunner()
    env = {"PIVOTAL_DATABASE_URL": database_url, "PIVOTAL_SECRET_KEY": SECRET}

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli_app, list(args), env=env)

    return run


def test_workspace_and_key_created_by_the_cli_work_against_the_api(
    pivotal, client: TestClient
) -> None:  # type: ignore[no-untyped-def]
    made = pivotal("workspaces", "create", "--name", "Initech Labs", "--json")
    assert made.exit_code == 0, made.output
    workspace = json.loads(made.stdout)
    assert workspace["slug"] == "initech-labs" and workspace["id"].startswith("org_")

    created = pivotal(
        "keys", "create", "--workspace", "initech-labs", "--name", "Deploy bot",
        "--mode", "test", "--rate-limit", "600", "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    key = json.loads(created.stdout)
    assert {"id", "prefix", "mode", "key"} <= key.keys()
    assert key["mode"] == "test" and key["key"].startswith("pivotal_test_")
    assert key["prefix"] == key["key"][: len("pivotal_test_") + 4]

    me = client.get("/api/v1/me", headers=auth(key["key"])).json()
    assert me["organization"]["slug"] == "initech-labs"
    assert me["api_key"]["name"] == "Deploy bot"
    assert me["api_key"]["rate_limit"] == {"limit": 600, "window_seconds": 60}
    assert me["livemode"] is False


def test_default_rate_limits_and_scopes(pivotal, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    assert pivotal("workspaces", "create", "--name", "Acme", "--slug", "acme").exit_code == 0
    live = json.loads(
        pivotal("keys", "create", "--workspace", "acme", "--name", "L", "--json").stdout
    )
    scoped = json.loads(
        pivotal(
            "keys", "create", "--workspace", "acme", "--name", "R", "--json",
            "--scope", "read:customers", "--scope", "read:contacts",
        ).stdout
    )  # fmt: skip
    assert client.get("/api/v1/me", headers=auth(live["key"])).json()["api_key"]["rate_limit"] == {
        "limit": 60,
        "window_seconds": 60,
    }
    assert scoped["scopes"] == ["read:customers", "read:contacts"]
    assert client.get("/api/v1/customers", headers=auth(scoped["key"])).status_code == 200
    assert_error(
        client.post("/api/v1/customers", headers=auth(scoped["key"]), json={"name": "x"}),
        403,
        "missing_scope",
    )


def test_list_never_shows_secrets_and_revoke_takes_effect_at_once(
    pivotal, client: TestClient
) -> None:  # type: ignore[no-untyped-def]
    pivotal("workspaces", "create", "--name", "Acme", "--slug", "acme")
    key = json.loads(
        pivotal("keys", "create", "--workspace", "acme", "--name", "K", "--json").stdout
    )
    assert client.get("/api/v1/me", headers=auth(key["key"])).status_code == 200

    listed = pivotal("keys", "list", "--workspace", "acme", "--json")
    assert listed.exit_code == 0
    assert key["key"] not in listed.stdout
    rows = json.loads(listed.stdout)
    assert [row["prefix"] for row in rows] == [key["prefix"]]
    assert rows[0]["last_used_at"] is not None and rows[0]["revoked_at"] is None

    revoked = pivotal("keys", "revoke", key["prefix"])
    assert revoked.exit_code == 0, revoked.output
    assert_error(client.get("/api/v1/me", headers=auth(key["key"])), 401, "api_key_revoked")
    again = json.loads(pivotal("keys", "list", "--workspace", "acme", "--json").stdout)
    assert again[0]["revoked_at"] is not None


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "--workspace", "missing", "--name", "x"),
        ("keys", "create", "--workspace", "acme", "--name", "x", "--mode", "staging"),
        ("keys", "create", "--workspace", "acme", "--name", "x", "--scope", "read:everything"),
        ("keys", "revoke", "key_doesnotexist"),
        ("workspaces", "create", "--name", "Acme", "--slug", "acme"),
        ("workspaces", "create", "--name", "Bad", "--slug", "Not A Slug"),
    ],
)
def test_errors_exit_1_with_one_line_on_stderr(pivotal, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    pivotal("workspaces", "create", "--name", "Acme", "--slug", "acme")
    result = pivotal(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_console_entry_point_runs(database_url: str) -> None:
    env = {"PIVOTAL_DATABASE_URL": database_url, "PIVOTAL_SECRET_KEY": SECRET, "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "pivotal", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_integrations_set_and_list_never_show_a_whole_secret(pivotal) -> None:  # type: ignore[no-untyped-def]
    pivotal("workspaces", "create", "--name", "Acme", "--slug", "acme")
    assert (
        pivotal(
            "integrations", "set", "slack", "--workspace", "acme", "--token", "xoxb-1234567890"
        ).exit_code
        == 0
    )
    resend = pivotal(
        "integrations", "set", "resend", "--workspace", "acme",
        "--api-key", "re_abcdefghij", "--from", "hi@acme.io", "--json",
    )  # fmt: skip
    assert json.loads(resend.stdout) == {
        "service": "resend",
        "api_key": "…ghij",
        "from": "hi@acme.io",
    }
    listed = pivotal("integrations", "list", "--workspace", "acme", "--json")
    assert "xoxb-1234567890" not in listed.stdout and "re_abcdefghij" not in listed.stdout
    assert json.loads(listed.stdout) == [
        {"service": "slack", "token": "…7890"},
        {"service": "resend", "api_key": "…ghij", "from": "hi@acme.io"},
        {"service": "hubspot", "configured": False},
    ]
    missing = pivotal("integrations", "set", "resend", "--workspace", "acme", "--api-key", "k")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: resend needs --from")
