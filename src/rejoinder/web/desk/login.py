"""The desk's login and logout pages.

Who is at the desk is found in `rejoinder.web.deps`, which sends pages without a session to
/admin/login with the path to come back to. The login form has a CSRF token of its own
(signed, in a cookie and in the form) since there is no session yet.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Forbidden, Invalid
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import accounts
from rejoinder.web.addresses import address_hashes
from rejoinder.web.deps import SESSION_COOKIE, DeskSessionDep, LoginRequired, RuntimeDep, check_csrf
from rejoinder.web.rendering import as_typed

LOGIN_CSRF_COOKIE = "rj_login"
router = APIRouter(include_in_schema=False)


def _login_signer(rt: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(rt.secret_key, salt="rejoinder.login")


def _safe_next(value: str) -> str:
    return value if value.startswith("/admin") and "//" not in value else "/admin"


def _login_page(
    request: Request, rt: Runtime, *, error: str = "", name: str = "", status: int = 200
) -> Response:
    nonce = secrets.token_urlsafe(16)
    token = _login_signer(rt).dumps(nonce)
    body = request.app.state.render(
        "desk/login.html",
        error=error,
        name=as_typed(name),
        csrf=token,
        next=_safe_next(request.query_params.get("next", "/admin")),
    )
    response = HTMLResponse(body, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=rt.settings.cookies_secure,
        path="/admin",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/admin/login")
async def login_form(request: Request, rt: RuntimeDep) -> Response:
    return _login_page(request, rt)


@router.post("/admin/login")
async def login(request: Request, rt: RuntimeDep) -> Response:
    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    try:
        nonce = _login_signer(rt).loads(str(form.get("csrf", "")), max_age=3600)
    except BadSignature:
        nonce = None
    if not nonce or nonce != request.cookies.get(LOGIN_CSRF_COOKIE):
        return _login_page(
            request, rt, error="The form expired; please log in again.", name=name, status=403
        )
    address, group = address_hashes(rt.secret_key, request)
    try:
        done = await run_in_threadpool(
            accounts.log_in, rt.db, name, password, address, group, utcnow()
        )
    except (Invalid, Forbidden) as error:
        status = 429 if isinstance(error, Forbidden) else 401
        return _login_page(request, rt, error=error.message, name=name, status=status)
    target = _safe_next(str(form.get("next", "/admin")))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        done.token,
        max_age=accounts.SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=rt.settings.cookies_secure,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return response


@router.post("/admin/logout")
async def logout(request: Request, staff: DeskSessionDep, rt: RuntimeDep) -> Response:
    form = await request.form()
    check_csrf(staff, str(form.get("csrf", "")))
    await run_in_threadpool(accounts.log_out, rt.db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def login_redirect(exc: LoginRequired) -> Response:
    """Where a desk page without a session sends the browser: the login form, then back."""
    return RedirectResponse(
        f"/admin/login?next={quote(exc.next_path, safe='/?=&')}", status_code=303
    )
