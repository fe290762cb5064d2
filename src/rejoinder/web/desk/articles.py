"""Closing and reopening discussions: the desk's Articles page (articles.html) and the same
under /api/v1/admin/articles/{slug}/close and /open. Any moderator may; each is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Invalid
from rejoinder.core.models import Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import desk
from rejoinder.web.admin_schemas import DiscussionOut
from rejoinder.web.deps import (
    ApiStaffDep,
    DeskStaffDep,
    RuntimeDep,
    Staff,
    check_csrf,
    get_api_staff,
)
from rejoinder.web.desk.queue import actor_of
from rejoinder.web.errors import ADMIN_API_ERRORS, ApiError
from rejoinder.web.rendering import iso
from rejoinder.web.schemas import NoteIn, json_body

router = APIRouter()
DONE = {"close": "Closed the discussion.", "open": "Reopened the discussion."}
Change = Literal["close", "open"]


async def _page(
    request: Request,
    staff: Staff,
    rt: Runtime,
    site: Site,
    *,
    flash: str = "",
    warning: str = "",
    status: int = 200,
) -> Response:
    found = await run_in_threadpool(
        lambda: desk.list_discussions(rt.db, site_id=site.id, now=utcnow())
    )
    body = request.app.state.render(
        "desk/articles.html",
        staff=staff,
        tab="articles",
        target=site,
        discussions=found,
        flash=flash,
        warning=warning,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/admin/articles", include_in_schema=False)
async def articles_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = ""
) -> Response:
    return await _page(request, staff, rt, staff.site, flash=DONE.get(done, ""))


async def _change(
    rt: Runtime, site: Site, staff: Staff, slug: str, change: Change, note: str
) -> desk.Discussion:
    return await run_in_threadpool(
        lambda: desk.set_discussion_open(
            rt.db,
            rt.events,
            site_id=site.id,
            slug=slug,
            is_open=change == "open",
            actor=actor_of(staff),
            note=note,
            now=utcnow(),
        )
    )


@router.post("/admin/articles/{slug}/{change}", include_in_schema=False)
async def change_from_desk(
    request: Request,
    slug: str,
    change: str,
    staff: DeskStaffDep,
    rt: RuntimeDep,
) -> Response:
    site = staff.site
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception:  # a body that is not a form: no token in it, so the CSRF check refuses
        form = {}
    check_csrf(staff, form.get("csrf", ""))
    if change not in DONE:
        return await _page(request, staff, rt, site, warning="Close or open.", status=404)
    try:
        await _change(
            rt, site, staff, slug, "open" if change == "open" else "close", form.get("note", "")
        )
    except (Conflict, Invalid) as error:
        status = 409 if isinstance(error, Conflict) else 422
        return await _page(request, staff, rt, site, warning=error.message, status=status)
    back = urlencode({"site": site.name, "done": change})
    return RedirectResponse(f"/admin/articles?{back}", status_code=303)


def discussion_out(found: desk.Discussion) -> dict[str, Any]:
    article, state = found.article, found.state
    return {
        "slug": article.slug,
        "title": article.title,
        "comments_open": state.is_open,
        "closed_by": state.closed_by.value if state.closed_by else None,
        "closed_at": iso(state.closed_at) if state.closed_at else None,
        "reopened_at": iso(article.reopened_at) if article.reopened_at else None,
    }


async def _note(request: Request) -> str:
    """The optional JSON body's note ("" without a body)."""
    raw = await request.body()
    if not raw.strip():
        return ""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(422, "The body is a JSON object.")
    note = value.get("note", "")
    if not isinstance(note, str):
        raise Invalid("note", "The note is a string.")
    return note


@router.post(
    "/api/v1/admin/articles/{slug}/{change}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=DiscussionOut,
    summary="Close an article's discussion, or open it again (which restarts close_after_days)",
    openapi_extra=json_body(NoteIn, required=False),
    dependencies=[Depends(get_api_staff)],
)
async def change_from_api(
    request: Request,
    slug: str,
    change: Annotated[str, Path(json_schema_extra={"enum": list(DONE)})],
    staff: ApiStaffDep,
    rt: RuntimeDep,
) -> Response:
    target = staff.site
    if change not in DONE:
        raise ApiError(404, "There is no such change; they are close and open.")
    note = await _note(request)
    found = await _change(rt, target, staff, slug, "open" if change == "open" else "close", note)
    return Response(
        orjson.dumps(discussion_out(found)),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
