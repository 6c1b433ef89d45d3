"""Secrets at rest (webhook signing secrets, integration tokens), sealed with AES-GCM
under a key derived from the server secret (PIVOTAL_SECRET_KEY)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


def _key(server_secret: bytes) -> bytes:
    # A purpose-bound subkey: the same server secret also peppers API key hashes.
    return hmac.new(server_secret, b"pivotal secrets at rest v1", hashlib.sha256).digest()


def seal(server_secret: bytes, plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(server_secret)).encrypt(nonce, plaintext.encode(), None)
    return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(server_secret: bytes, token: str) -> str:
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise ValueError(f"unknown sealed secret version {version!r}")
    raw = base64.b64decode(payload)
    return AESGCM(_key(server_secret)).decrypt(raw[:12], raw[12:], None).decode()
