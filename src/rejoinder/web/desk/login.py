"""Who is at the desk: sessions for people (cookie + CSRF token), bearer tokens for scripts.

Pages without a session redirect to /admin/login; the admin API answers 401. Every
state-changing desk request must carry the session's CSRF token (a form field `csrf`, or the
`X-CSRF-Token` header), or it is refused with 403 and changes nothing. The login form has a
CSRF token of its own (signed, in a cookie and in the form) since there is no session yet.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Forbidden, Invalid
from rejoinder.core.models import User
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import accounts
from rejoinder.web.addresses import address_hashes
from rejoinder.web.errors import ApiError
from rejoinder.web.rendering import as_typed

SESSION_COOKIE = "rj_desk"
LOGIN_CSRF_COOKIE = "rj_login"
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """A desk page was asked for without a live session: the handler redirects to login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Staff:
    """The person (or script) at the desk, and the CSRF token their forms must carry."""

    user: User
    csrf: str
    via_token: bool = False

    @property
    def actor_kind(self) -> str:
        return "token" if self.via_token else "user"


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _from_session(request: Request) -> Staff | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    found = await run_in_threadpool(accounts.session_user, _rt(request).db, token, utcnow())
    return Staff(user=found[0], csrf=found[1]) if found else None


async def desk_staff(request: Request) -> Staff:
    """For desk pages: the logged-in person, or a redirect to the login page."""
    staff = await _from_session(request)
    if staff is None:
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return staff


async def api_staff(request: Request) -> Staff:
    """For /api/v1/admin: a bearer token, or a desk session (then CSRF applies to writes)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = await run_in_threadpool(
            accounts.token_user, _rt(request).db, header[7:].strip(), utcnow()
        )
        if user is None:
            raise ApiError(
                401, "That API token is not valid.", headers={"WWW-Authenticate": "Bearer"}
            )
        return Staff(user=user, csrf="", via_token=True)
    staff = await _from_session(request)
    if staff is None:
        raise ApiError(
            401,
            "Log in at /admin/login or send an API token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
        request.headers.get("x-csrf-token", ""), staff.csrf
    ):
        raise ApiError(403, "The X-CSRF-Token header is missing or wrong.")
    return staff


def require_admin(staff: Staff) -> None:
    if not staff.user.is_admin:
        raise Forbidden("Only an admin can do that.")


def check_csrf(staff: Staff, submitted: str) -> None:
    """A desk form's token must be the session's; otherwise nothing happens (403)."""
    if staff.via_token:
        return
    if not submitted or not secrets.compare_digest(submitted, staff.csrf):
        raise Forbidden(
            "This form has expired or did not come from the desk; reload and try again."
        )


def _login_signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_rt(request).secret_key, salt="rejoinder.login")


def _safe_next(value: str) -> str:
    return value if value.startswith("/admin") and "//" not in value else "/admin"


def _login_page(
    request: Request, *, error: str = "", name: str = "", status: int = 200
) -> Response:
    nonce = secrets.token_urlsafe(16)
    token = _login_signer(request).dumps(nonce)
    body = request.app.state.render(
        "desk/login.html", error=error, name=as_typed(name), csrf=token,
        next=_safe_next(request.query_params.get("next", "/admin")),
    )  # fmt: skip
    response = HTMLResponse(body, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, nonce, max_age=3600, httponly=True, samesite="lax",
        secure=_rt(request).settings.secure_cookies, path="/admin",
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/admin/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/admin/login")
async def login(request: Request) -> Response:
    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    try:
        nonce = _login_signer(request).loads(str(form.get("csrf", "")), max_age=3600)
    except BadSignature:
        nonce = None
    if not nonce or nonce != request.cookies.get(LOGIN_CSRF_COOKIE):
        return _login_page(
            request, error="The form expired; please log in again.", name=name, status=403
        )
    rt = _rt(request)
    address, _group = address_hashes(rt.secret_key, request)
    try:
        done = await run_in_threadpool(accounts.log_in, rt.db, name, password, address, utcnow())
    except (Invalid, Forbidden) as error:
        status = 429 if isinstance(error, Forbidden) else 401
        return _login_page(request, error=error.message, name=name, status=status)
    target = _safe_next(str(form.get("next", "/admin")))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, done.token, max_age=accounts.SESSION_HOURS * 3600, httponly=True,
        samesite="lax", secure=rt.settings.secure_cookies,
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return response


@router.post("/admin/logout")
async def logout(request: Request) -> Response:
    staff = await desk_staff(request)
    form = await request.form()
    check_csrf(staff, str(form.get("csrf", "")))
    await run_in_threadpool(
        accounts.log_out, _rt(request).db, request.cookies.get(SESSION_COOKIE, "")
    )
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def login_redirect(exc: LoginRequired) -> Response:
    return RedirectResponse(
        f"/admin/login?next={quote(exc.next_path, safe='/?=&')}", status_code=303
    )
