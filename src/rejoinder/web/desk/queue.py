"""The desk's queues and actions as pages: plain forms, post/redirect/get with a flash message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Invalid
from rejoinder.core.models import QueueFilters, Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import desk
from rejoinder.web.deps import DeskStaffDep, RuntimeDep, Staff, check_csrf, site_for
from rejoinder.web.params import PathId, parse_cursor, parse_ids, parse_since, parse_until

router = APIRouter(include_in_schema=False)
FLASH_COOKIE = "rj_flash"
HEADINGS = {
    "held": "Held for a moderator",
    "reported": "Reported by readers",
    "published": f"Published in the last {desk.RECENT_DAYS} days",
    "refused": "Refused by the machine",
    "all": "All comments",
}
PATHS = {
    "held": "/admin",
    "reported": "/admin/reported",
    "published": "/admin/published",
    "refused": "/admin/refused",
    "all": "/admin/all",
}
STATUSES = ("published", "held", "rejected", "deleted")


def actor_of(staff: Staff) -> desk.Actor:
    return desk.Actor(kind=staff.actor_kind, name=staff.user.name)


def _signer(rt: Runtime) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(rt.secret_key, salt="rejoinder.usecases.desk.flash")


def _read_flash(request: Request, rt: Runtime) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        value = _signer(rt).loads(raw, max_age=120)
    except BadSignature:
        return None
    if not isinstance(value, dict):
        return None
    return {"message": str(value.get("m", "")), "kind": str(value.get("k", "ok"))}


def queue_params(
    q: str = "",
    email: str = "",
    article: str = "",
    group: str = "",
    status: str = "",
    since: Annotated[str, Query(alias="from")] = "",
    until: Annotated[str, Query(alias="to")] = "",
    cursor: str = "",
) -> dict[str, str]:
    """A queue's query as typed, by its names: the page's cursor and the All tab's search
    and filters (typed values fill the filter form again)."""
    return {
        "cursor": cursor,
        "q": q,
        "email": email,
        "article": article,
        "group": group,
        "status": status,
        "from": since,
        "to": until,
    }


QueueParamsDep = Annotated[dict[str, str], Depends(queue_params)]


def parse_filters(params: Mapping[str, str]) -> QueueFilters:
    """The All tab's search and filters from query parameters (dates are whole UTC days)."""

    def text(name: str, limit: int = 200) -> str:
        return params.get(name, "").replace("\x00", "").strip()[:limit]

    status = text("status")
    if status and status not in STATUSES:
        raise Invalid("status", f"status is one of {', '.join(STATUSES)}.")
    return QueueFilters(
        q=text("q"),
        email=text("email"),
        article=text("article"),
        group=text("group", 64),
        status=status,
        since=parse_since(text("from"), "from"),
        until=parse_until(text("to"), "to"),
    )


def _page_link(tab: str, params: dict[str, str], cursor: int) -> str:
    kept = {k: v for k, v in params.items() if v and k != "cursor"}
    return PATHS[tab] + "?" + urlencode({**kept, "cursor": str(cursor)})


async def _queue(
    request: Request,
    staff: Staff,
    rt: Runtime,
    site: Site,
    tab: str,
    params: dict[str, str],
) -> Response:
    error = ""
    filters = QueueFilters()
    if tab == "all":
        try:
            filters = parse_filters(params)
        except Invalid as bad:
            error = bad.message
    try:
        cursor = parse_cursor(params["cursor"])
    except Invalid as bad:
        error, cursor = bad.message, None
    page = await run_in_threadpool(
        desk.read_queue,
        rt.db,
        site_id=site.id,
        tab=tab,
        cursor=cursor,
        now=utcnow(),
        filters=filters,
    )
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    body = request.app.state.render(
        "desk/queue.html",
        staff=staff,
        tab=tab,
        counts=page.counts,
        page=page,
        heading=HEADINGS[tab],
        flash=_read_flash(request, rt),
        error=error,
        params=params,
        statuses=STATUSES,
        back=here,
        ban_kinds=list(desk.BAN_KINDS),
        next_link=_page_link(tab, params, page.next_cursor) if page.next_cursor else "",
    )
    response = HTMLResponse(body)
    response.headers["Cache-Control"] = "no-store"
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/admin")
    return response


@router.get("/admin")
async def held(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    params: QueueParamsDep,
) -> Response:
    return await _queue(request, staff, rt, staff.site, "held", params)


@router.get("/admin/reported")
async def reported(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    params: QueueParamsDep,
) -> Response:
    return await _queue(request, staff, rt, staff.site, "reported", params)


@router.get("/admin/published")
async def published(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    params: QueueParamsDep,
) -> Response:
    return await _queue(request, staff, rt, staff.site, "published", params)


@router.get("/admin/refused")
async def refused(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    params: QueueParamsDep,
) -> Response:
    return await _queue(request, staff, rt, staff.site, "refused", params)


@router.get("/admin/all")
async def all_comments(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    params: QueueParamsDep,
) -> Response:
    return await _queue(request, staff, rt, staff.site, "all", params)


async def _form(request: Request) -> FormData:
    try:
        return await request.form()
    except Exception:  # a body that is not a form: no token in it, so the CSRF check refuses
        return FormData()


def _field(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _back(form: FormData) -> str:
    """Where to go after the action: the queue the form came from, at the next item."""
    back = _field(form, "back")
    if not back.startswith("/admin") or "//" in back or "\\" in back or "\n" in back:
        back = "/admin"
    following = _field(form, "next")
    if following.isascii() and following.isdigit():
        back += f"#item-{following}"
    return back


async def _acted_on(rt: Runtime, staff: Staff, form: FormData) -> Site:
    """The site of the queue the form came from (its `back` address names it when the page
    was opened with ?site=), else the request's own."""
    named = parse_qs(urlsplit(_field(form, "back")).query).get("site", [""])[0]
    return await site_for(rt, staff, named or None)


def _done(rt: Runtime, target: str, message: str, kind: str = "ok") -> Response:
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        FLASH_COOKIE,
        _signer(rt).dumps({"m": message[:600], "k": kind}),
        max_age=120,
        httponly=True,
        samesite="lax",
        secure=rt.settings.cookies_secure,
        path="/admin",
    )
    return response


@router.post("/admin/comments/bulk")
async def bulk_action(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    form = await _form(request)
    check_csrf(staff, _field(form, "csrf"))
    site = await _acted_on(rt, staff, form)
    ids = parse_ids(form.getlist("ids"))
    try:
        result = await run_in_threadpool(
            desk.bulk,
            rt.db,
            rt.events,
            _field(form, "action"),
            site_id=site.id,
            ids=ids,
            actor=actor_of(staff),
            note=_field(form, "note"),
            now=utcnow(),
            seen=_field(form, "seen"),
        )
    except Invalid as error:
        return _done(rt, _back(form), error.message, "warn")
    verb = "Approved" if _field(form, "action") == "approve" else "Rejected"
    parts = [f"{verb} {len(result.done)} comment{'s' if len(result.done) != 1 else ''}."]
    parts += [message for _id, message in result.failed[:5]]
    return _done(rt, _back(form), " ".join(parts), "warn" if result.failed else "ok")


@router.post("/admin/comments/{comment_id}/{action}")
async def comment_action(
    request: Request,
    comment_id: PathId,
    action: str,
    staff: DeskStaffDep,
    rt: RuntimeDep,
) -> Response:
    form = await _form(request)
    check_csrf(staff, _field(form, "csrf"))
    site = await _acted_on(rt, staff, form)
    fields = {name: _field(form, name) for name in ("note", "body", "kind", "days", "seen")}
    try:
        outcome = await run_in_threadpool(
            desk.act,
            rt.db,
            rt.events,
            action,
            site_id=site.id,
            comment_id=comment_id,
            actor=actor_of(staff),
            fields=fields,
            limits=rt.limits,
            now=utcnow(),
        )
    except (Conflict, Invalid) as error:
        return _done(rt, _back(form), error.message, "warn")
    return _done(rt, _back(form), outcome.message)
