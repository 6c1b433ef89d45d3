"""Each error class of ``pivotal.errors`` with its status, type, code, field and request id,
from the real server where it can produce the error (SPEC §3)."""

from __future__ import annotations

import pytest

from client.helpers import FakeServer, MakeSdk, Reply, envelope
from conftest import MakeKey
from pivotal import PivotalApi
from pivotal.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PivotalError,
    RateLimitError,
)

ERROR_TYPES = {
    InvalidRequestError: "invalid_request_error",
    AuthenticationError: "authentication_error",
    PermissionDeniedError: "permission_error",
    NotFoundError: "not_found",
    ConflictError: "conflict",
    RateLimitError: "rate_limit_error",
    InternalServerError: "internal_error",
}


def assert_envelope(
    error: PivotalError, cls: type[PivotalError], status: int, code: str, field: str | None = None
) -> None:
    assert type(error) is cls
    assert isinstance(error, PivotalError)
    assert (error.status, error.type, error.code, error.field) == (
        status,
        ERROR_TYPES[cls],
        code,
        field,
    )
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert error.request_id == error.headers["x-request-id"]
    assert error.message and error.message in str(error) and error.request_id in str(error)


@pytest.mark.slow
def test_errors_from_the_real_server(sdk: PivotalApi, make_sdk: MakeSdk, make_key: MakeKey) -> None:
    with pytest.raises(InvalidRequestError) as invalid:
        sdk.customers.create(name="Aurora", mrr=-1)
    assert_envelope(invalid.value, InvalidRequestError, 400, "too_small", "mrr")

    with pytest.raises(InvalidRequestError) as unknown:
        sdk.customers.create(name="Aurora", nmae="typo")  # type: ignore[call-arg]
    assert_envelope(unknown.value, InvalidRequestError, 400, "unrecognized_keys", "nmae")

    with pytest.raises(InvalidRequestError) as bad_limit:
        sdk.customers.list(limit=500).first_page()
    assert_envelope(bad_limit.value, InvalidRequestError, 400, "invalid_parameter", "limit")

    with pytest.raises(NotFoundError) as missing:
        sdk.customers.retrieve(404_404)
    assert_envelope(missing.value, NotFoundError, 404, "customer_not_found")

    customer = sdk.customers.create(name="Aurora")
    with pytest.raises(ConflictError) as taken:
        sdk.customers.create(name="Aurora")  # the derived slug "aurora" is taken
    assert_envelope(taken.value, ConflictError, 409, "slug_taken", "slug")
    sdk.contacts.create(customer.id, name="Ana", email="ana@aurora.example")
    with pytest.raises(ConflictError) as email:
        sdk.contacts.create(customer.id, name="Ana 2", email="ANA@aurora.example")
    assert_envelope(email.value, ConflictError, 409, "email_taken", "email")

    unknown_key = make_sdk("pivotal_" + "A" * 40)
    with pytest.raises(AuthenticationError) as unauthenticated:
        unknown_key.me()
    assert_envelope(unauthenticated.value, AuthenticationError, 401, "invalid_api_key")

    reader = make_sdk(make_key(name="Reader", scopes=["read:customers"]))
    assert [c.id for c in reader.customers.list()] == [customer.id]
    with pytest.raises(PermissionDeniedError) as denied:
        reader.customers.create(name="Nope")
    assert_envelope(denied.value, PermissionDeniedError, 403, "missing_scope")
    assert "write:customers" in denied.value.message

    limited = make_sdk(make_key(name="Tiny", rate_limit=1), max_retries=0)
    limited.me()
    with pytest.raises(RateLimitError) as refused:
        limited.me()
    assert_envelope(refused.value, RateLimitError, 429, "rate_limited")


@pytest.mark.slow
def test_missing_key_is_the_servers_401(make_sdk: MakeSdk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIVOTAL_API_KEY", raising=False)
    anonymous = make_sdk(None)
    assert anonymous.health().status == "ok"  # no key needed
    with pytest.raises(AuthenticationError) as caught:
        anonymous.me()
    assert_envelope(caught.value, AuthenticationError, 401, "missing_api_key")


def test_internal_error_and_odd_answers() -> None:
    """500 cannot be provoked on a healthy server: a scripted one stands in."""
    broken = envelope(500, "internal_error", "internal_error")
    with (
        FakeServer(Reply(500, broken, {"X-Request-Id": "req_fake500"})) as fake,
        PivotalApi(base_url=fake.base_url, max_retries=0) as api,
        pytest.raises(InternalServerError) as caught,
    ):
        api.me()
    assert_envelope(caught.value, InternalServerError, 500, "internal_error")

    # A proxy's page instead of the envelope: still the right class, with what is known.
    page = Reply(503, b"<html>maintenance</html>", {"Content-Type": "text/html"})
    with (
        FakeServer(page) as fake,
        PivotalApi(base_url=fake.base_url, max_retries=0) as api,
        pytest.raises(InternalServerError) as unavailable,
    ):
        api.me()
    assert unavailable.value.status == 503 and unavailable.value.code is None
    assert "maintenance" in unavailable.value.message

    teapot = Reply(418, {"error": {"type": "teapot", "code": "short_and_stout", "message": "no"}})
    with (
        FakeServer(teapot) as fake,
        PivotalApi(base_url=fake.base_url, max_retries=0) as api,
        pytest.raises(PivotalError) as odd,
    ):
        api.me()
    assert type(odd.value) is PivotalError and odd.value.code == "short_and_stout"


def test_hierarchy() -> None:
    for cls in (*ERROR_TYPES, APIConnectionError):
        assert issubclass(cls, PivotalError)
    assert issubclass(APITimeoutError, APIConnectionError)
    import pivotal.client.errors as client_errors
    import pivotal.errors as public_errors

    assert public_errors.NotFoundError is client_errors.NotFoundError
