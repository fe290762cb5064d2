"""The Report link's pages: a form to report a comment, and a thank-you. No JavaScript needed."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import InvalidMany, Refused
from rejoinder.core.messages import N_
from rejoinder.core.models import Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import reports
from rejoinder.web.addresses import address_hashes
from rejoinder.web.deps import LanguageDep, RuntimeDep, SiteDep
from rejoinder.web.i18n import Language
from rejoinder.web.params import PathId

router = APIRouter(include_in_schema=False)

READER_COOKIE = "rj_reader"
_YEAR = 365 * 86400


def _signer(rt: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(rt.secret_key, salt="rejoinder.reader")


def _reader_id(request: Request, rt: Runtime) -> str | None:
    """The reader's random id from the signed cookie; None if missing or forged."""
    raw = request.cookies.get(READER_COOKIE)
    if not raw:
        return None
    try:
        value = _signer(rt).loads(raw, max_age=_YEAR)
    except BadSignature:
        return None
    return value if isinstance(value, str) and value else None


def _keep_reader(request: Request, rt: Runtime, response: Response, reader_id: str) -> None:
    if _reader_id(request, rt) == reader_id:
        return  # the browser has it already
    response.set_cookie(
        READER_COOKIE,
        _signer(rt).dumps(reader_id),
        max_age=_YEAR,
        httponly=True,
        samesite="lax",
        secure=rt.settings.cookies_secure,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _page(
    request: Request,
    site: Site,
    language: Language,
    target: reports.ReportTarget,
    *,
    status: int = 200,
    reason: str = "",
    text: str = "",
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "site": site,
        "comment": target.comment,
        "article": target.article,
        "reasons": reports.REASONS,
        "text_max": reports.TEXT_MAX,
        "reason": reason,
        "text": text,
        "errors": errors or {},
        "notice": notice,
    }
    html = request.app.state.render("report.html", lang=language.code, **context)
    return HTMLResponse(html, status_code=status, headers={"Vary": "Accept-Language"})


@router.get("/comments/{comment_id}/report")
async def report_form(
    request: Request, comment_id: PathId, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    target = await run_in_threadpool(reports.get_target, rt.db, comment_id)
    reader_id = _reader_id(request, rt) or secrets.token_urlsafe(18)
    done = await run_in_threadpool(
        reports.has_reported, rt.db, comment_id, reports.reporter_key(rt.secret_key, reader_id)
    )
    notice = N_("You have already reported this comment. Thank you.") if done else None
    response = _page(
        request, site, language, target, notice=language.say(notice) if notice else None
    )
    _keep_reader(request, rt, response, reader_id)
    return response


@router.post("/comments/{comment_id}/report")
async def report_save(
    request: Request, comment_id: PathId, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    target = await run_in_threadpool(reports.get_target, rt.db, comment_id)
    form = await request.form()
    reason, text = _text(form, "reason"), _text(form, "text")
    reader_id = _reader_id(request, rt) or secrets.token_urlsafe(18)
    ip_hash, group_hash = address_hashes(rt.secret_key, request)
    try:
        await run_in_threadpool(
            reports.report_comment,
            rt.db,
            rt.events,
            comment_id=comment_id,
            reason=reason,
            text=text,
            reporter=reports.reporter_key(rt.secret_key, reader_id),
            ip_hash=ip_hash,
            group_hash=group_hash,
            budgets=rt.budgets,
            now=utcnow(),
        )
    except InvalidMany as error:
        errors = {e.field or "reason": language.say(e.text) for e in error.errors}
        response: Response = _page(
            request, site, language, target, status=422, reason=reason, text=text, errors=errors
        )
    except reports.AlreadyReported as error:
        response = _page(
            request, site, language, target, status=409, notice=language.say(error.text)
        )
    except Refused as error:
        response = _page(
            request,
            site,
            language,
            target,
            status=429,
            reason=reason,
            text=text,
            errors={error.field or "reason": language.say(error.text)},
        )
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
    else:
        response = RedirectResponse(f"/comments/{comment_id}/reported", status_code=303)
    _keep_reader(request, rt, response, reader_id)
    return response


@router.get("/comments/{comment_id}/reported")
async def report_thanks(
    request: Request, comment_id: PathId, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    article, shown = await run_in_threadpool(reports.get_reported, rt.db, comment_id)
    html = request.app.state.render(
        "report.html",
        lang=language.code,
        site=site,
        article=article,
        comment_id=comment_id,
        thanks=True,
        shown=shown,
    )
    return HTMLResponse(html, headers={"Vary": "Accept-Language"})
