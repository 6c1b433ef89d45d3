"""Identifiers: cuid2-shaped ids, prefixed ids, and path lookups by id or display id."""

from __future__ import annotations

import os
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
_LETTERS = string.ascii_lowercase
# Random bytes to base36 digits in one C call: 252 = 7 * 36 byte values map evenly onto
# the alphabet, and the four above are dropped, so every digit is uniform.
_BASE36 = bytes.maketrans(bytes(range(252)), (_ALPHABET * 7).encode())
_OVER_252 = bytes(range(252, 256))
MAX_DISPLAY_ID = 2**63 - 1
MAX_REF_LENGTH = 64


def cuid() -> str:
    """A 24-character cuid2-shaped id: lowercase letters and digits, first a letter."""
    while True:  # 32 bytes hold 23 digits in all but about one draw in 10^10
        digits = os.urandom(32).translate(_BASE36, _OVER_252)
        if len(digits) >= 23:
            return _LETTERS[secrets.randbelow(26)] + digits[:23].decode()


def prefixed(prefix: str) -> str:
    """An id for the objects the SPEC gives a type prefix (``org_``, ``key_``, ``evt_`` ...)."""
    return f"{prefix}_{cuid()}"


def storable(value: str) -> bool:
    """Whether ``value`` could be an id at all: PostgreSQL refuses NUL in text."""
    return "\x00" not in value and len(value) <= MAX_REF_LENGTH


def parse_ref(ref: str) -> tuple[str, str | int] | None:
    """Classify a path reference: ("display_id", n) for digits, ("id", ref) otherwise.

    None means the reference cannot name any row (a display id beyond BIGINT), so the
    caller answers 404 without asking the database.
    """
    if "\x00" in ref:
        return None  # no stored id has one, and PostgreSQL refuses it in a text parameter
    if len(ref) > MAX_REF_LENGTH:
        return None  # longer than any id or display id (and than the columns that hold paths)
    if ref.isascii() and ref.isdigit():
        number = int(ref)
        if number < 1 or number > MAX_DISPLAY_ID:
            return None
        return ("display_id", number)
    return ("id", ref)
