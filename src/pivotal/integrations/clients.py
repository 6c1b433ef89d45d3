"""One small client per service (SPEC §9), each shaped as the service documents its API
and each turning the service's own way of failing into one Result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


@dataclass(frozen=True)
class Result:
    ok: bool
    error: str | None = None
    permanent: bool = False  # retrying cannot help (bad token, unknown record)
    retry_after: float | None = None  # the service asked us to wait this long


def _from_response(response: httpx.Response) -> Result:
    status = response.status_code
    if 200 <= status < 300:
        return Result(ok=True)
    if status == 429:
        return Result(False, "HTTP 429 rate limited", retry_after=_retry_after(response))
    return Result(False, f"HTTP {status}: {response.text[:200]}", permanent=400 <= status < 500)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def slack_post_message(
    client: httpx.AsyncClient, base_url: str, token: str, channel: str, text: str
) -> Result:
    """Slack Web API chat.postMessage; Slack answers 200 with ``ok: false`` on errors."""
    response = await client.post(
        f"{base_url}/chat.postMessage",
        headers={"Authorization": f"Bearer {token}"},
        json={"channel": channel, "text": text},
    )
    if response.status_code != 200:
        return _from_response(response)
    try:
        body: Any = response.json()
    except ValueError:
        return Result(False, "Slack answered with a body that is not JSON")
    if body.get("ok") is True:
        return Result(ok=True)
    error = str(body.get("error", "unknown_error"))
    if error == "ratelimited":
        return Result(False, "slack: ratelimited", retry_after=_retry_after(response))
    # Errors such as channel_not_found or invalid_auth will not fix themselves.
    transient = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
    return Result(False, f"slack: {error}", permanent=error not in transient)


async def resend_send_email(
    client: httpx.AsyncClient,
    base_url: str,
    api_key: str,
    sender: str,
    to: str,
    subject: str,
    html: str,
) -> Result:
    """Resend POST /emails."""
    response = await client.post(
        f"{base_url}/emails",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"from": sender, "to": [to], "subject": subject, "html": html},
    )
    return _from_response(response)


async def hubspot_update_company(
    client: httpx.AsyncClient,
    base_url: str,
    token: str,
    company_id: str,
    properties: dict[str, Any],
) -> Result:
    """HubSpot CRM v3 PATCH /crm/v3/objects/companies/{id}; 429 comes with Retry-After."""
    response = await client.patch(
        f"{base_url}/crm/v3/objects/companies/{quote(company_id, safe='')}",
        headers={"Authorization": f"Bearer {token}"},
        json={"properties": properties},
    )
    return _from_response(response)
