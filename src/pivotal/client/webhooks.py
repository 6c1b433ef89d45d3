"""Verify webhook deliveries (SPEC §8.3): the Standard Webhooks / Svix signature scheme.

Standard library only: a receiver can verify deliveries without the HTTP client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "WebhookVerificationError", "verify"]

DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """The delivery is not authentic, too old or too new, or not a JSON object."""


Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def _lower_headers(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    lowered: dict[str, str] = {}
    for name, value in items:
        lowered.setdefault(name.lower(), value)
    return lowered


def _header(headers: dict[str, str], name: str) -> str:
    value = headers.get(f"webhook-{name}") or headers.get(f"svix-{name}")
    if not value:
        raise WebhookVerificationError(f"Missing webhook-{name} (or svix-{name}) header")
    return value


def _secret_key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from exc
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def _signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a space-separated signature header."""
    found = []
    for part in header.split():
        version, _, encoded = part.partition(",")
        if version != "v1" or not encoded:
            continue  # other schemes (e.g. asymmetric v1a) are not ours to check
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    payload: bytes | str,
    headers: Headers,
    secret: str | bytes | Sequence[str | bytes],
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery and return its parsed event; raise ``WebhookVerificationError``.

    ``payload`` must be the raw request body, byte for byte. ``headers`` is any mapping
    (case-insensitive lookups are done here) or list of pairs; both the ``webhook-*``
    and the ``svix-*`` names are accepted. ``secret`` is the endpoint's ``whsec_...``
    secret, or several of them (e.g. old and new while rotating). The timestamp must be
    within ``tolerance`` seconds (5 minutes) of ``now``, which blocks replays.
    """
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    lowered = _lower_headers(headers)
    message_id = _header(lowered, "id")
    timestamp_text = _header(lowered, "timestamp")
    signature_header = _header(lowered, "signature")

    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError("Invalid webhook-timestamp header") from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("Message timestamp too old")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("Message timestamp too new")

    secrets = [secret] if isinstance(secret, str | bytes) else list(secret)
    if not secrets:
        raise ValueError("no webhook secret given")
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = [hmac.new(_secret_key(s), signed, hashlib.sha256).digest() for s in secrets]
    matched = False
    for candidate in _signatures(signature_header):
        for digest in expected:
            # No early exit: the time taken does not depend on which signature matched.
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise WebhookVerificationError("No matching signature found")

    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("The payload is not valid JSON") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("The payload is not a JSON object")
    return event
