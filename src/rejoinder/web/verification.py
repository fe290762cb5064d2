"""The confirmation link's page: GET shows a button and changes nothing (mail scanners fetch
links); the button POSTs, which marks the address verified and this browser as its owner
(a signed cookie; for the widget, a proof it keeps and sends back in a header)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.models import Article, Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import verification
from rejoinder.web.deps import IdentityDep, LanguageDep, RuntimeDep, SiteDep

router = APIRouter(include_in_schema=False)
# The widget reads the proof from this fragment of the discussion's address (a fragment never
# reaches any server) and keeps it.
PROOF_FRAGMENT = "rejoinder-verified="


def _back_link(rt: Runtime, site: Site, article: Article | None, proof: str | None) -> str:
    """Where the reader goes back to: the discussion the confirmation was asked from (for a
    page hosted elsewhere, with the widget's proof in the fragment), else the front page."""
    if article is None:
        return rt.site_url(site, "/")
    if article.page_url:
        return article.page_url + (f"#{PROOF_FRAGMENT}{quote(proof)}" if proof else "")
    return rt.site_url(site, f"/articles/{article.slug}")


def _page(request: Request, language: LanguageDep, site: Site, **context: object) -> Response:
    body = request.app.state.render("confirm.html", lang=language.code, site=site, **context)
    return HTMLResponse(body, headers={"Vary": "Accept-Language", "Cache-Control": "no-store"})


@router.get("/confirm/{token}")
async def confirm_page(
    request: Request, token: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    await run_in_threadpool(verification.confirmation_details, rt.db, rt.secret_key, token)
    return _page(request, language, site, token=token, done=False)


@router.post("/confirm/{token}")
async def confirm(
    request: Request,
    token: str,
    rt: RuntimeDep,
    site: SiteDep,
    language: LanguageDep,
    identity: IdentityDep,
) -> Response:
    confirmed = await run_in_threadpool(
        verification.confirm_address, rt.db, rt.events, rt.secret_key, token, utcnow()
    )
    proof = identity.proof_with(request, confirmed.address)
    back = _back_link(rt, site, confirmed.article, proof)
    response = _page(request, language, site, token=token, done=True, back=back)
    identity.keep_proof(response, proof)
    return response
