"""The web layer shared by every dashboard page: the session, role and CSRF checks,
form parsing, HTML rendering, and friendly error pages instead of JSON or tracebacks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pivotal.core import clock
from pivotal.core.context import Services
from pivotal.core.errors import ApiError
from pivotal.dashboard import service, sessions
from pivotal.dashboard.sessions import SessionUser
from pivotal.onboardings.schemas import PHASES

log = logging.getLogger("pivotal.dashboard")
Handler = Callable[[Request], Coroutine[Any, Any, Response]]
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50
DEFAULT_PAGE = "/customers"

PHASE_LABELS = {
    "before_getting_started": "Before getting started",
    "program_design": "Program design",
    "review": "Review",
    "program_buildout": "Program buildout",
    "internal_qa": "Internal QA",
    "launch": "Launch",
    "completed": "Completed",
}
# Pages are ours only: no inline script or style, no framing, forms post back to us.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages can hold a key's cleartext; nothing may keep a copy (nor the back button).
    "Cache-Control": "no-store",
}


def _when(iso: str | None) -> str:
    """``2026-05-26 17:21 UTC`` for an API timestamp."""
    if not iso:
        return "—"
    return f"{iso[:10]} {iso[11:16]} UTC"


def _money(cents: int | None) -> str:
    if cents is None:
        return "—"
    return f"${cents / 100:,.2f}"


templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = _when
templates.filters["money"] = _money
templates.filters["phase_label"] = lambda phase: PHASE_LABELS.get(phase, phase)
templates.filters["humanize"] = lambda text: str(text).replace("_", " ")
templates.globals["PHASES"] = PHASES
templates.globals["PHASE_LABELS"] = PHASE_LABELS


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def user_of(request: Request) -> SessionUser:
    """The signed-in person (routes behind ``page_route("member"|"admin")`` always have one)."""
    user: SessionUser = request.state.dashboard_user
    return user


def form_of(request: Request) -> dict[str, str]:
    form: dict[str, str] = request.state.form
    return form


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    user: SessionUser | None = getattr(request.state, "dashboard_user", None)
    csrf = None
    if user is not None:
        csrf = sessions.csrf_token(services_of(request).secret_key, user.token_hash)
    html = templates.get_template(template).render(
        user=user, csrf_token=csrf, path=request.url.path, **context
    )
    return HTMLResponse(html, status_code)


def error_page(request: Request, status_code: int, message: str) -> Response:
    titles = {
        400: "That request was not valid",
        401: "Please sign in",
        403: "You cannot do that",
        404: "Page not found",
        413: "That form was too large",
        415: "That form was not sent as a form",
        429: "Too many attempts",
        500: "Something went wrong",
        503: "Temporarily unavailable",
    }
    title = titles.get(status_code, "Something went wrong")
    return render(request, "error.html", status_code, title=title, message=message)


def redirect(location: str) -> Response:
    return RedirectResponse(location, status_code=303)


def safe_next(target: str | None) -> str:
    """A post-sign-in destination only if it is a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DEFAULT_PAGE
    if any(ord(ch) < 32 or ch == "\\" for ch in target) or len(target) > 2000:
        return DEFAULT_PAGE
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_PAGE
    return target


def login_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/login?next={quote(here, safe='/')}")


class FormError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, bounded, as {name: first value}."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise FormError(413, "The form is larger than this page ever sends.")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(413, "The form is larger than this page ever sends.")
    if not body:
        return {}  # no fields at all: the CSRF check will say what is missing
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise FormError(415, "Send this form from its page.")
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError(400, "The form could not be read.") from exc
    form = {name: values[0] for name, values in fields.items()}
    if any("\x00" in name or "\x00" in value for name, value in form.items()):
        raise FormError(400, "The form contains characters that are not allowed.")
    return form


def _same_origin(request: Request) -> bool:
    """A browser's Origin header, when sent, must name this site (defence in depth
    beside the CSRF token and SameSite=Lax)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


class PageRoute(APIRoute):
    """A dashboard page. ``access`` is "public", "member" (any signed-in person) or
    "admin" (owners and admins)."""

    access: str = "member"

    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()
        access = self.access

        async def handler(request: Request) -> Response:
            services = services_of(request)
            try:
                token = request.cookies.get(sessions.COOKIE_NAME)
                user = await run_in_threadpool(service.current_user, services, token)
                request.state.dashboard_user = user
                if access != "public":
                    if user is None:
                        return login_redirect(request)
                    if access == "admin" and not user.is_admin:
                        return error_page(
                            request, 403, "Only workspace owners and admins can open this page."
                        )
                if request.method == "POST":
                    request.state.form = await read_form(request)
                    if not _same_origin(request):
                        return error_page(request, 403, "This form was sent from another site.")
                    if access != "public" and user is not None:
                        sent = request.state.form.get("csrf_token")
                        if not sessions.csrf_valid(services.secret_key, user.token_hash, sent):
                            return error_page(
                                request,
                                403,
                                "This form has expired or did not come from this site. "
                                "Reload the page and try again.",
                            )
                response = await inner(request)
            except FormError as exc:
                response = error_page(request, exc.status_code, exc.message)
            except ApiError as exc:
                response = error_page(request, exc.status, exc.message)
                response.headers.update(exc.headers)
            except Exception:
                # Never a traceback on a page; the log has it (without request bodies).
                log.exception("dashboard page failed: %s %s", request.method, request.url.path)
                response = error_page(request, 500, "Please try again in a moment.")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handler


def page_route(access: str) -> type[PageRoute]:
    return type(f"{access.title()}PageRoute", (PageRoute,), {"access": access})


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    # Secure when the request came over HTTPS. The scheme is what the ASGI server says:
    # uvicorn takes X-Forwarded-Proto only from trusted proxies (127.0.0.1 by default,
    # --forwarded-allow-ips), never from any client.
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        max_age=sessions.ABSOLUTE_TIMEOUT_US // clock.MICROS_PER_SECOND,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(sessions.COOKIE_NAME, path="/", httponly=True, samesite="lax")
