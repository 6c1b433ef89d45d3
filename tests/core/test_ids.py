"""Identifier generation: shape and an even spread over the alphabet."""

from __future__ import annotations

import re
import string
from collections import Counter

import pytest

from pivotal.core import ids


def test_cuids_are_shaped_unique_and_spread_evenly() -> None:
    drawn = [ids.cuid() for _ in range(10_000)]
    assert all(re.fullmatch(r"[a-z][a-z0-9]{23}", cuid) for cuid in drawn)
    assert len(set(drawn)) == len(drawn)
    # 230,000 digits: each of the 36 symbols is expected 6,389 times (sd about 79), so
    # 8% either way is 6.5 sd (a false failure about once in 10^8 runs, over all 36).
    # Mapping a byte to byte % 36 without dropping the four values above 251 would give
    # a, b, c and d 12.5% too many (10 sd).
    digits = Counter("".join(cuid[1:] for cuid in drawn))
    expected = len(drawn) * 23 / 36
    assert set(digits) == set(string.ascii_lowercase + string.digits)
    assert all(abs(count - expected) < 0.08 * expected for count in digits.values()), digits
    firsts = Counter(cuid[0] for cuid in drawn)
    assert set(firsts) == set(string.ascii_lowercase)


def test_a_draw_short_of_digits_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # 32 random bytes of which only 9 map to digits (the rest are above 251), then plenty.
    draws = iter([bytes([252] * 23 + list(range(9))), bytes(range(32))])
    monkeypatch.setattr(ids.os, "urandom", lambda size: next(draws))
    cuid = ids.cuid()
    assert re.fullmatch(r"[a-z][a-z0-9]{23}", cuid)
    assert cuid[1:] == "abcdefghijklmnopqrstuvw"  # bytes 0-22 of the second draw
