"""Password hashes: PBKDF2-HMAC-SHA256 at 600,000 iterations, salted, self-describing."""

from __future__ import annotations

import hashlib
import time

from pivotal.dashboard import passwords


def test_hash_format_and_verification() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    algorithm, iterations, salt, digest = stored.split("$")
    assert (algorithm, iterations) == ("pbkdf2_sha256", "600000")
    assert len(salt) >= 22 and len(digest) == 43  # 16 random bytes, 32-byte SHA-256
    assert passwords.verify_password("correct horse battery staple", stored)
    assert not passwords.verify_password("correct horse battery stapler", stored)
    assert not passwords.needs_rehash(stored)


def test_each_hash_has_its_own_salt() -> None:
    first = passwords.hash_password("same password!", iterations=1000)
    second = passwords.hash_password("same password!", iterations=1000)
    assert first != second
    assert passwords.verify_password("same password!", first)
    assert passwords.verify_password("same password!", second)


def test_weaker_hashes_still_verify_and_are_marked_for_rehash() -> None:
    weak = passwords.hash_password("long enough password", iterations=1000)
    assert passwords.verify_password("long enough password", weak)
    assert passwords.needs_rehash(weak)


def test_malformed_stored_values_never_verify() -> None:
    for stored in ("", "plain", "md5$1$a$b", "pbkdf2_sha256$x$a$b", "pbkdf2_sha256$0$AA$AA"):
        assert not passwords.verify_password("anything at all", stored)


def test_password_rules() -> None:
    assert passwords.password_problem("short") is not None
    assert passwords.password_problem("x" * 10) is None
    assert passwords.password_problem("x" * 1025) is not None


def test_an_unknown_email_costs_a_full_hash() -> None:
    started = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", b"reference", b"salt" * 4, passwords.ITERATIONS)
    one_hash = time.perf_counter() - started
    passwords.burn_equal_time("warm up the decoy")
    started = time.perf_counter()
    passwords.burn_equal_time("some guess")
    assert time.perf_counter() - started >= one_hash * 0.5
