"""Unsubscribe links of reply notifications: GET shows a button and changes nothing (mail
scanners fetch links); a POST to the same address unsubscribes, whether the page's button
sends it or a mail client's one-click unsubscribe (RFC 8058: `List-Unsubscribe=One-Click`
in the body, no cookie, no other step)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.models import Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import notify
from rejoinder.web.deps import LanguageDep, RuntimeDep, SiteDep

router = APIRouter(include_in_schema=False)


def _site(rt: Runtime, site_id: int, fallback: Site) -> Site:
    for site in rt.sites.all():
        if site.id == site_id:
            return site
    return fallback


def _page(
    request: Request, language: LanguageDep, site: Site, found: notify.Unsubscription, **ctx: object
) -> Response:
    body = request.app.state.render(
        "unsubscribe.html", lang=language.code, site=site, article=found.article, **ctx
    )
    return HTMLResponse(body, headers={"Vary": "Accept-Language", "Cache-Control": "no-store"})


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(
    request: Request, token: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    found = await run_in_threadpool(notify.unsubscription, rt.db, rt.secret_key, token)
    return _page(request, language, _site(rt, found.site_id, site), found, token=token, done=False)


@router.post("/unsubscribe/{token}")
async def unsubscribe(
    request: Request, token: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    found = await run_in_threadpool(notify.unsubscribe, rt.db, rt.secret_key, token, utcnow())
    return _page(request, language, _site(rt, found.site_id, site), found, token=token, done=True)
