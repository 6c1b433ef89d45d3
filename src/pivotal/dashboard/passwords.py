"""Password hashing for dashboard users: PBKDF2-HMAC-SHA256, 600,000 iterations (SPEC §12).

Stored as ``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (salt and hash in unpadded
URL-safe base64), so the iteration count can rise later without breaking old hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
SALT_BYTES = 16
MIN_LENGTH = 10
MAX_LENGTH = 1024  # long enough for any passphrase; bounds the work per request


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password must have at most {MAX_LENGTH} characters."
    return None


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """A new salted hash. ``iterations`` is lowered only by tests, to stay fast."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(password, salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; compares in constant time."""
    try:
        algorithm, iterations_text, salt_text, digest_text = stored.split("$")
        iterations = int(iterations_text)
        salt, expected = _unb64(salt_text), _unb64(digest_text)
    except ValueError:
        return False
    if algorithm != ALGORITHM or iterations < 1 or len(password) > MAX_LENGTH:
        return False
    return hmac.compare_digest(_derive(password, salt, iterations), expected)


def needs_rehash(stored: str) -> bool:
    """Whether a hash was made with fewer iterations than we use now."""
    parts = stored.split("$")
    return (
        len(parts) != 4
        or parts[0] != ALGORITHM
        or not parts[1].isdigit()
        or (int(parts[1]) < ITERATIONS)
    )


@functools.cache
def _decoy() -> str:
    return hash_password(secrets.token_urlsafe(16))


def burn_equal_time(password: str) -> None:
    """Spend what a real check costs: an unknown email must answer no faster than a
    wrong password, or response times would tell which emails have accounts."""
    verify_password(password, _decoy())
