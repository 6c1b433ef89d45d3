"""``import pivotal`` and the SDK load no server code (SPEC §11), in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SERVER_PACKAGES = ("fastapi", "starlette", "sqlalchemy", "alembic", "pydantic", "uvicorn")
SDK_MODULES = {
    "pivotal",
    "pivotal.client",
    "pivotal.client._core",
    "pivotal.client._routes",
    "pivotal.client.api",
    "pivotal.client.errors",
    "pivotal.client.models",
    "pivotal.client.pagination",
    "pivotal.client.params",
    "pivotal.client.resources",
    "pivotal.client.webhooks",
    "pivotal.errors",
    "pivotal.webhooks",
}


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import pivotal",
        "from pivotal import PivotalApi, AsyncPivotalApi",
        "import pivotal.errors",
        "import pivotal.webhooks",
        "import pivotal; pivotal.PivotalApi(api_key='pivotal_x').close()",
        "from pivotal.webhooks import verify, WebhookVerificationError",
    ],
)
def test_no_server_code_is_loaded(code: str) -> None:
    loaded = _modules_after(code)
    server = sorted(
        name
        for name in loaded
        if name.split(".")[0] in SERVER_PACKAGES
        or (name.startswith("pivotal") and name not in SDK_MODULES)
    )
    assert not server, f"{code!r} loaded {server}"


def test_plain_import_is_light() -> None:
    loaded = _modules_after("import pivotal")
    assert {name for name in loaded if name.startswith("pivotal")} == {"pivotal"}
    assert "httpx" not in loaded
    # Verifying webhooks and catching errors need no HTTP client either.
    assert "httpx" not in _modules_after("import pivotal.webhooks, pivotal.errors")
