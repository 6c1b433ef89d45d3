"""What the dashboard pages show and do. Changes go through the same domain services as
the API, in one transaction per request, with the signed-in person as the actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, get_args

from sqlalchemy import func, or_, select, update

from pivotal.activity import service as activity_service
from pivotal.contacts import service as contacts_service
from pivotal.core import clock
from pivotal.core.context import Actor, Services, Tx
from pivotal.core.errors import AuthenticationFailed, InvalidRequest, RateLimited, not_found
from pivotal.core.ids import parse_ref, storable
from pivotal.core.pagination import PageParams, page_of, parse_cursor
from pivotal.customers import service as customers_service
from pivotal.customers.schemas import CustomerStatus
from pivotal.dashboard import passwords, sessions, throttle, users
from pivotal.dashboard.sessions import SessionUser
from pivotal.db import tables
from pivotal.onboardings import service as onboardings_service
from pivotal.onboardings.schemas import PHASES, OnboardingUpdate
from pivotal.webhooks import service as webhooks_service
from pivotal.workspaces import service as workspaces_service

T = TypeVar("T")
CUSTOMER_STATUSES: tuple[str, ...] = get_args(CustomerStatus)
CUSTOMERS_PER_PAGE = 25
BOARD_LIMIT = 500
ACTIVITY_SHOWN = 50
DELIVERIES_SHOWN = 10


# ---- transactions ------------------------------------------------------------------


def _tx(conn: Any, user: SessionUser, *, livemode: bool = True) -> Tx:
    # Dashboard changes are always live mode (SPEC §12), made by the person.
    return Tx(conn, user.workspace_id, Actor(user.email, "user", livemode), clock.now_us())


def read(services: Services, user: SessionUser, work: Callable[[Tx], T]) -> T:
    with services.db.transaction(write=False) as conn:
        return work(_tx(conn, user))


def write(services: Services, user: SessionUser, work: Callable[[Tx], T]) -> T:
    with services.db.transaction(write=True) as conn:
        return work(_tx(conn, user))


# ---- sessions ----------------------------------------------------------------------


def current_user(services: Services, token: str | None) -> SessionUser | None:
    """The signed-in person for a session cookie, keeping the session alive."""
    if not token:
        return None
    now = clock.now_us()
    with services.db.transaction(write=False) as conn:
        user = sessions.load(conn, services.secret_key, token, now)
    if user is not None and sessions.needs_touch(user, now):
        with services.db.transaction(write=True) as conn:
            sessions.touch(conn, user.token_hash, now)
    return user


def sign_in(
    services: Services, email: str, password: str, address: str, old_token: str | None
) -> str:
    """Check the credentials and open a session; returns the new cookie value.

    Raises RateLimited while the email or address is throttled, AuthenticationFailed for
    a wrong email or password (the same message for both).
    """
    secret = services.secret_key
    now = clock.now_us()
    email = users.normalize_email(email)
    by_email = throttle.email_bucket(secret, email)
    buckets = {
        by_email: throttle.MAX_FAILURES_PER_EMAIL,
        throttle.address_bucket(address): throttle.MAX_FAILURES_PER_ADDRESS,
    }
    with services.db.transaction(write=False) as conn:
        wait = throttle.retry_after(conn, buckets, now)
        user = users.find_by_email(conn, email) if not wait else None
    if wait:
        raise RateLimited(
            "too_many_attempts",
            f"Too many attempts, try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    # Outside any transaction: ~0.2 s of hashing must not hold SQLite's write lock.
    if user is None:
        passwords.burn_equal_time(password)
        valid = False
    else:
        valid = passwords.verify_password(password, user.password_hash)
    # A hash made with fewer iterations is upgraded now that the password is at hand.
    upgraded = (
        passwords.hash_password(password)
        if user is not None and valid and passwords.needs_rehash(user.password_hash)
        else None
    )
    with services.db.transaction(write=True) as conn:
        if user is None or not valid:
            throttle.record_failure(conn, list(buckets), now)
            token = None
        else:
            throttle.forget(conn, by_email)
            if upgraded is not None:
                conn.execute(
                    update(tables.users)
                    .where(tables.users.c.id == user.id)
                    .values(password_hash=upgraded, updated_at=now)
                )
            token = sessions.start(conn, secret, user.id, now, old_token)
    if token is None:
        raise AuthenticationFailed("invalid_credentials", "Incorrect email or password.")
    return token


def sign_out(services: Services, user: SessionUser) -> None:
    with services.db.transaction(write=True) as conn:
        sessions.end(conn, user.token_hash)


def take_flash(services: Services, user: SessionUser) -> dict[str, Any] | None:
    if not user.has_flash:
        return None  # the common case costs no write transaction
    with services.db.transaction(write=True) as conn:
        return sessions.take_flash(conn, services.secret_key, user.token_hash)


def notice(services: Services, user: SessionUser, text: str) -> None:
    with services.db.transaction(write=True) as conn:
        sessions.set_flash(conn, services.secret_key, user.token_hash, {"notice": text})


# ---- customers ---------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_customers(tx: Tx, query: str, status: str, cursor: str) -> dict[str, Any]:
    """One page of live customers, newest first, matching name, slug or domain."""
    customers = tables.customers
    statement = select(customers).where(
        customers.c.workspace_id == tx.workspace_id, customers.c.deleted_at.is_(None)
    )
    if status:
        if status not in CUSTOMER_STATUSES:
            raise InvalidRequest(
                "invalid_enum_value",
                f"Status must be one of: {', '.join(CUSTOMER_STATUSES)}.",
                "status",
            )
        statement = statement.where(customers.c.status == status)
    if query:
        if "\x00" in query or len(query) > 255:
            raise InvalidRequest("invalid_parameter", "That search is not valid.", "q")
        pattern = _like(query.lower())
        statement = statement.where(
            or_(
                func.lower(customers.c.name).like(pattern, escape="\\"),
                customers.c.slug.like(pattern, escape="\\"),
                customers.c.domain.like(pattern, escape="\\"),
            )
        )
    before = parse_cursor(cursor or None, "That page link is not valid.")
    page = PageParams(limit=CUSTOMERS_PER_PAGE, before=before)
    return page_of(tx.conn, statement, customers.c.created_at, page, customers_service.render)


def customer_details(tx: Tx, display_id: str) -> dict[str, Any]:
    """The customer card with its contacts, onboardings and latest activity."""
    parsed = parse_ref(display_id)
    if parsed is None or parsed[0] != "display_id":
        raise not_found("customer")  # pages address customers by display id only
    customer = customers_service.get(tx, display_id)
    everything = PageParams(limit=100, before=None)
    contacts = contacts_service.list_contacts(tx, display_id, None, None, everything)["data"]
    contacts.sort(key=lambda contact: (not contact["is_primary"], contact["name"].lower()))
    onboardings = onboardings_service.list_onboardings(
        tx, everything, customer_ref=customer["id"], customer_must_exist=True
    )["data"]
    activity = activity_service.list_activity(
        tx, customer["id"], PageParams(limit=ACTIVITY_SHOWN, before=None)
    )["data"]
    return {
        "customer": customer,
        "contacts": contacts,
        "onboardings": onboardings,
        "activity": activity,
    }


# ---- onboardings -------------------------------------------------------------------


def board(tx: Tx) -> dict[str, list[dict[str, Any]]]:
    """Live onboardings (newest first, up to BOARD_LIMIT) grouped by phase, each with
    its customer's name and display id."""
    onboardings, customers = tables.onboardings, tables.customers
    rows = tx.conn.execute(
        select(
            onboardings,
            customers.c.name.label("customer_name"),
            customers.c.display_id.label("customer_display_id"),
        )
        .join(customers, customers.c.id == onboardings.c.customer_id)
        .where(
            onboardings.c.workspace_id == tx.workspace_id,
            onboardings.c.deleted_at.is_(None),
            customers.c.deleted_at.is_(None),
        )
        .order_by(onboardings.c.created_at.desc())
        .limit(BOARD_LIMIT)
    ).all()
    columns: dict[str, list[dict[str, Any]]] = {phase: [] for phase in PHASES}
    for row in rows:
        card = onboardings_service.render(row)
        card["customer_name"] = row.customer_name
        card["customer_display_id"] = row.customer_display_id
        columns[card["phase"]].append(card)
    return columns


def move_onboarding(tx: Tx, display_id: str, phase: str) -> dict[str, Any]:
    """Change the phase through the API's own rules: transition, activity and events."""
    if phase not in PHASES:
        raise InvalidRequest(
            "invalid_enum_value", f"Phase must be one of: {', '.join(PHASES)}.", "phase"
        )
    parsed = parse_ref(display_id)
    if parsed is None or parsed[0] != "display_id":
        raise not_found("onboarding")
    return onboardings_service.update_onboarding(
        tx, display_id, OnboardingUpdate.model_validate({"phase": phase})
    )


# ---- API keys ----------------------------------------------------------------------


def list_keys(tx: Tx, user: SessionUser) -> list[dict[str, Any]]:
    keys = workspaces_service.list_keys(tx.conn, user.workspace_slug)
    keys.reverse()  # newest first
    return keys


def create_key(services: Services, user: SessionUser, name: str, mode: str) -> dict[str, Any]:
    """Create a key and keep its cleartext, sealed, for the next page view only."""
    secret = services.secret_key
    with services.db.transaction(write=True) as conn:
        created = workspaces_service.create_key(conn, secret, user.workspace_slug, name, mode)
        sessions.set_flash(
            conn,
            secret,
            user.token_hash,
            {"new_key": created.cleartext, "name": created.record["name"]},
        )
    return created.record


def find_key(tx: Tx, key_id: str) -> dict[str, Any]:
    """One key of this workspace, or 404 (another workspace's key is invisible)."""
    keys = tables.api_keys
    row = None
    if storable(key_id):
        row = tx.conn.execute(
            select(keys).where(keys.c.id == key_id, keys.c.workspace_id == tx.workspace_id)
        ).first()
    if row is None:
        raise not_found("api_key")
    return workspaces_service.render_key(row)


def revoke_key(tx: Tx, key_id: str) -> dict[str, Any]:
    key = find_key(tx, key_id)  # checks the workspace before the CLI's global revoke
    return workspaces_service.revoke_key(tx.conn, key["id"])


# ---- webhooks ----------------------------------------------------------------------


def webhooks_overview(tx: Tx) -> list[dict[str, Any]]:
    """Each endpoint with its most recent deliveries."""
    endpoints: list[dict[str, Any]] = webhooks_service.list_endpoints(
        tx, PageParams(limit=100, before=None)
    )["data"]
    for endpoint in endpoints:
        endpoint["deliveries"] = webhooks_service.list_deliveries(
            tx, endpoint["id"], PageParams(limit=DELIVERIES_SHOWN, before=None)
        )["data"]
    return endpoints


def replay_delivery(services: Services, user: SessionUser, delivery_id: str) -> dict[str, Any]:
    """Queue the delivery again. The replay takes the endpoint's mode, so a person can
    replay a test endpoint's delivery (to that same test endpoint) too."""
    deliveries, endpoints = tables.webhook_deliveries, tables.webhook_endpoints
    with services.db.transaction(write=True) as conn:
        livemode = None
        if storable(delivery_id):
            livemode = conn.execute(
                select(endpoints.c.livemode)
                .join(deliveries, deliveries.c.endpoint_id == endpoints.c.id)
                .where(
                    deliveries.c.id == delivery_id,
                    deliveries.c.workspace_id == user.workspace_id,
                )
            ).scalar()
        if livemode is None:
            raise not_found("webhook_delivery")
        return webhooks_service.replay_delivery(
            _tx(conn, user, livemode=bool(livemode)), delivery_id
        )
