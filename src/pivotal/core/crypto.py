"""Secrets at rest (webhook signing secrets, integration tokens), sealed with AES-GCM
under a key derived from the server secret (PIVOTAL_SECRET_KEY)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


@functools.lru_cache(maxsize=4)
def _cipher(server_secret: bytes) -> AESGCM:
    """The cipher under a purpose-bound subkey (the same server secret also peppers API
    key hashes); kept, as every idempotent POST seals its stored answer."""
    subkey = hmac.new(server_secret, b"pivotal secrets at rest v1", hashlib.sha256).digest()
    return AESGCM(subkey)


def seal(server_secret: bytes, plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(server_secret).encrypt(nonce, plaintext.encode(), None)
    return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(server_secret: bytes, token: str) -> str:
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise ValueError(f"unknown sealed secret version {version!r}")
    raw = base64.b64decode(payload)
    return _cipher(server_secret).decrypt(raw[:12], raw[12:], None).decode()
