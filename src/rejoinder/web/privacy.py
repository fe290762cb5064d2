"""A reader's data (/privacy): they type their address and a signed link is mailed to it (the
page says the same whether or not anything is held); the link's page offers the export (a
JSON download) and erasure, which a second page confirms with a POST (mail scanners fetch
links, and a GET changes nothing)."""

from __future__ import annotations

import math

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.errors import Invalid
from rejoinder.core.messages import Nn_
from rejoinder.core.models import Site
from rejoinder.core.privacy import ErasureMode
from rejoinder.runtime import utcnow
from rejoinder.usecases import budgets, privacy
from rejoinder.web.addresses import address_hashes
from rejoinder.web.deps import LanguageDep, RuntimeDep, SiteDep
from rejoinder.web.i18n import Language

router = APIRouter(include_in_schema=False)
EXPORT_NAME = "my-comments-data.json"


def _page(
    request: Request,
    language: Language,
    site: Site,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: object,
) -> Response:
    values: dict[str, object] = {"errors": {}, "typed": "", **context}
    body = request.app.state.render("privacy.html", lang=language.code, site=site, **values)
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Vary": "Accept-Language", "Cache-Control": "no-store", **(headers or {})},
    )


@router.get("/privacy")
async def privacy_page(request: Request, site: SiteDep, language: LanguageDep) -> Response:
    return _page(request, language, site, state="ask")


@router.post("/privacy")
async def ask_for_link(
    request: Request, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    form = await request.form()
    typed = form.get("email")
    typed = typed if isinstance(typed, str) else ""
    mail = rt.mail
    if mail is None:
        return _page(request, language, site, state="ask", status=404)
    ip_hash, group_hash = address_hashes(rt.secret_key, request)
    wait = budgets.take(rt.budgets, budgets.PRIVACY, ip_hash, group_hash, utcnow().timestamp())
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        too_many = Nn_(
            "Too many requests from your network; try again in {n} minute.",
            "Too many requests from your network; try again in {n} minutes.",
            minutes,
        )
        errors = {"email": language.say(too_many)}
        return _page(
            request,
            language,
            site,
            state="ask",
            errors=errors,
            typed=typed,
            status=429,
            headers={"Retry-After": str(wait)},
        )
    try:
        await run_in_threadpool(
            lambda: privacy.ask_for_link(rt.db, mail, address=typed, site_id=site.id, now=utcnow())
        )
    except Invalid as bad:
        errors = {bad.field or "email": language.say(bad.text)}
        return _page(request, language, site, state="ask", errors=errors, typed=typed, status=422)
    return _page(request, language, site, state="asked")


def _address(rt: RuntimeDep, token: str) -> str:
    return privacy.read_privacy_token(rt.secret_key, token)[0]


@router.get("/privacy/{token}")
async def choose(
    request: Request, token: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    _address(rt, token)
    return _page(request, language, site, state="choose", token=token)


@router.get("/privacy/{token}/export")
async def export(token: str, rt: RuntimeDep) -> Response:
    address = _address(rt, token)
    data = await run_in_threadpool(
        lambda: privacy.export_data(rt.db, address, base_url=rt.settings.base_url, now=utcnow())
    )
    return Response(
        orjson.dumps(data, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_NAME}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/privacy/{token}/erase")
async def confirm_erase(
    request: Request, token: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    _address(rt, token)
    mode = ErasureMode(rt.settings.erasure)
    return _page(request, language, site, state="confirm", token=token, mode=mode.value)


@router.post("/privacy/{token}/erase")
async def erase(
    request: Request, token: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    address = _address(rt, token)
    await run_in_threadpool(
        lambda: privacy.erase(
            rt.db,
            rt.events,
            address=address,
            mode=ErasureMode(rt.settings.erasure),
            actor_kind="reader",
            actor="reader",
            now=utcnow(),
        )
    )
    return _page(request, language, site, state="erased")
