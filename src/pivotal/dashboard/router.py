"""Dashboard pages (SPEC §12). Thin: read the form, call the dashboard service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from pivotal.core.errors import AuthenticationFailed, InvalidRequest, RateLimited
from pivotal.dashboard import service, sessions
from pivotal.dashboard.web import (
    PHASE_LABELS,
    clear_session_cookie,
    error_page,
    form_of,
    page_route,
    redirect,
    render,
    safe_next,
    services_of,
    set_session_cookie,
    user_of,
)

public = APIRouter(route_class=page_route("public"), include_in_schema=False)
members = APIRouter(route_class=page_route("member"), include_in_schema=False)
admins = APIRouter(route_class=page_route("admin"), include_in_schema=False)
LOGIN_COOKIE_SECONDS = 24 * 3600


# ---- sign-in -----------------------------------------------------------------------


def _login_page(
    request: Request, status_code: int = 200, error: str | None = None, email: str = ""
) -> Response:
    """The sign-in form, with a CSRF token bound to a pre-session cookie."""
    login_cookie = request.cookies.get(sessions.LOGIN_COOKIE_NAME) or sessions.new_token()
    secret = services_of(request).secret_key
    response = render(
        request,
        "login.html",
        status_code,
        login_csrf=sessions.login_csrf_token(secret, login_cookie),
        next=safe_next(request.query_params.get("next") or form_of_or_empty(request).get("next")),
        error=error,
        email=email,
    )
    response.set_cookie(
        sessions.LOGIN_COOKIE_NAME,
        login_cookie,
        max_age=LOGIN_COOKIE_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def form_of_or_empty(request: Request) -> dict[str, str]:
    return getattr(request.state, "form", None) or {}


@public.get("/")
def home() -> Response:
    return redirect("/customers")


@public.get("/login")
def login_form(request: Request) -> Response:
    if getattr(request.state, "dashboard_user", None) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return _login_page(request)


@public.post("/login")
def login(request: Request) -> Response:
    form = form_of(request)
    services = services_of(request)
    email, password = form.get("email", "").strip(), form.get("password", "")
    if not sessions.login_csrf_valid(
        services.secret_key, request.cookies.get(sessions.LOGIN_COOKIE_NAME), form.get("csrf_token")
    ):
        return _login_page(request, 403, "This sign-in form has expired. Please try again.", email)
    if not email or not password:
        return _login_page(request, 400, "Enter your email and your password.", email)
    address = request.client.host if request.client else "unknown"
    try:
        token = service.sign_in(
            services, email, password, address, request.cookies.get(sessions.COOKIE_NAME)
        )
    except RateLimited as exc:
        response = _login_page(request, 429, exc.message, email)
        response.headers.update(exc.headers)
        return response
    except AuthenticationFailed as exc:
        return _login_page(request, 401, exc.message, email)
    response = redirect(safe_next(form.get("next")))
    set_session_cookie(request, response, token)
    response.delete_cookie(sessions.LOGIN_COOKIE_NAME, path="/login")
    return response


@members.post("/logout")
def logout(request: Request) -> Response:
    service.sign_out(services_of(request), user_of(request))
    response = redirect("/login")
    clear_session_cookie(response)
    return response


# ---- customers and onboardings ----------------------------------------------------


@members.get("/customers")
def customers(request: Request) -> Response:
    params = request.query_params
    query, status, cursor = (
        params.get("q", "").strip(),
        params.get("status", ""),
        params.get("cursor", ""),
    )
    user = user_of(request)
    try:
        page = service.read(
            services_of(request),
            user,
            lambda tx: service.search_customers(tx, query, status, cursor),
        )
        error, status_code = None, 200
    except InvalidRequest as exc:
        page = {"data": [], "has_more": False, "next_cursor": None}
        error, status_code = exc.message, 400
    next_link = None
    if page["next_cursor"]:
        next_link = "/customers?" + urlencode(
            {k: v for k, v in {"q": query, "status": status}.items() if v}
            | {"cursor": page["next_cursor"]}
        )
    return render(
        request,
        "customers.html",
        status_code,
        customers=page["data"],
        query=query,
        status=status,
        statuses=service.CUSTOMER_STATUSES,
        next_link=next_link,
        paged=bool(cursor),
        error=error,
    )


@members.get("/customers/{display_id}")
def customer(request: Request, display_id: str) -> Response:
    details = service.read(
        services_of(request), user_of(request), lambda tx: service.customer_details(tx, display_id)
    )
    return render(request, "customer.html", **details)


def _board(request: Request, status_code: int = 200, error: str | None = None) -> Response:
    user = user_of(request)
    columns = service.read(services_of(request), user, service.board)
    flash = service.take_flash(services_of(request), user)
    return render(
        request, "onboardings.html", status_code, columns=columns, flash=flash, error=error
    )


@members.get("/onboardings")
def onboardings(request: Request) -> Response:
    return _board(request)


@members.post("/onboardings/{display_id}/phase")
def move_onboarding(request: Request, display_id: str) -> Response:
    services, user = services_of(request), user_of(request)
    phase = form_of(request).get("phase", "")
    try:
        moved = service.write(
            services, user, lambda tx: service.move_onboarding(tx, display_id, phase)
        )
    except InvalidRequest as exc:
        return _board(request, 400, exc.message)
    label = moved["name"] or f"Onboarding #{moved['display_id']}"
    service.notice(services, user, f"{label} is now in {PHASE_LABELS[moved['phase']]}.")
    return redirect("/onboardings")


# ---- admin: API keys and webhooks --------------------------------------------------


def _keys_page(
    request: Request, status_code: int = 200, error: str | None = None, name: str = ""
) -> Response:
    services, user = services_of(request), user_of(request)
    keys = service.read(services, user, lambda tx: service.list_keys(tx, user))
    flash = service.take_flash(services, user)
    return render(
        request, "api_keys.html", status_code, keys=keys, flash=flash, error=error, name=name
    )


@admins.get("/admin/api-keys")
def api_keys(request: Request) -> Response:
    return _keys_page(request)


@admins.post("/admin/api-keys")
def create_api_key(request: Request) -> Response:
    form = form_of(request)
    name = form.get("name", "")
    mode = "test" if form.get("test_mode") else "live"
    try:
        service.create_key(services_of(request), user_of(request), name, mode)
    except InvalidRequest as exc:
        return _keys_page(request, 400, f"Name: {exc.message}.", name)
    # Post/redirect/get: the cleartext is shown by the next GET, once, from the session.
    return redirect("/admin/api-keys")


@admins.get("/admin/api-keys/{key_id}/revoke")
def confirm_revoke(request: Request, key_id: str) -> Response:
    key = service.read(
        services_of(request), user_of(request), lambda tx: service.find_key(tx, key_id)
    )
    return render(request, "revoke_key.html", key=key)


@admins.post("/admin/api-keys/{key_id}/revoke")
def revoke_api_key(request: Request, key_id: str) -> Response:
    services, user = services_of(request), user_of(request)
    key = service.write(services, user, lambda tx: service.revoke_key(tx, key_id))
    service.notice(services, user, f"Key '{key['name']}' ({key['prefix']}) is revoked.")
    return redirect("/admin/api-keys")


@admins.get("/admin/webhooks")
def webhooks(request: Request) -> Response:
    services, user = services_of(request), user_of(request)
    endpoints = service.read(services, user, service.webhooks_overview)
    flash = service.take_flash(services, user)
    return render(request, "webhooks.html", endpoints=endpoints, flash=flash)


@admins.post("/admin/webhooks/deliveries/{delivery_id}/replay")
def replay_delivery(request: Request, delivery_id: str) -> Response:
    services, user = services_of(request), user_of(request)
    try:
        delivery = service.replay_delivery(services, user, delivery_id)
    except InvalidRequest as exc:
        return error_page(request, 400, exc.message)
    service.notice(
        services, user, f"Delivery of {delivery['event_type']} queued again ({delivery['id']})."
    )
    return redirect("/admin/webhooks")


routers = (public, members, admins)
