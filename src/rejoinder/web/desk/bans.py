"""A site's bans in the desk (/admin/bans, bans.html): who made each, when, why, until when;
lifting one or making it end sooner. The same under /api/v1/admin/bans. Any staff member of
the site may, as any may ban; each change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.models import BanRecord, Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import bans
from rejoinder.web.admin_schemas import BanList, BanOut
from rejoinder.web.deps import ApiStaffDep, DeskStaffDep, JsonDep, RuntimeDep, Staff, check_csrf
from rejoinder.web.desk.queue import actor_of
from rejoinder.web.errors import ADMIN_API_ERRORS, ApiError
from rejoinder.web.params import PathId
from rejoinder.web.rendering import as_typed, iso
from rejoinder.web.schemas import BanShortenIn, NoteIn, json_body

router = APIRouter()
DONE = {"lift": "Lifted the ban.", "shorten": "The ban ends sooner now."}
AllQuery = Annotated[bool, Query(description="Ended and lifted bans too.")]


async def _page(
    request: Request,
    staff: Staff,
    rt: Runtime,
    site: Site,
    *,
    every: bool = False,
    flash: str = "",
    failed: int | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    now = utcnow()
    found = await run_in_threadpool(
        lambda: bans.list_bans(rt.db, site_id=site.id, now=now, include_ended=every)
    )
    body = request.app.state.render(
        "desk/bans.html",
        staff=staff,
        tab="bans",
        target=site,
        bans=found,
        now=now,
        every=every,
        flash=flash,
        failed=failed,
        errors=errors or {},
        typed={k: as_typed(v) for k, v in (typed or {}).items()},
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/admin/bans", include_in_schema=False)
async def bans_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = "", all: bool = False
) -> Response:
    return await _page(request, staff, rt, staff.site, every=all, flash=DONE.get(done, ""))


async def _change(
    rt: Runtime, site: Site, staff: Staff, ban_id: int, change: str, fields: dict[str, str]
) -> BanRecord:
    now = utcnow()
    if change == "lift":
        return await run_in_threadpool(
            lambda: bans.lift_ban(
                rt.db,
                site_id=site.id,
                ban_id=ban_id,
                actor=actor_of(staff),
                note=fields.get("note", ""),
                now=now,
            )
        )
    end = bans.new_end(days=fields.get("days", ""), until=fields.get("until", ""), now=now)
    return await run_in_threadpool(
        lambda: bans.shorten_ban(
            rt.db,
            site_id=site.id,
            ban_id=ban_id,
            end=end,
            actor=actor_of(staff),
            note=fields.get("note", ""),
            now=now,
        )
    )


async def _from_desk(
    request: Request, ban_id: int, change: str, staff: Staff, rt: Runtime
) -> Response:
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception:  # a body that is not a form: no token in it, so the CSRF check refuses
        form = {}
    check_csrf(staff, form.get("csrf", ""))
    site = staff.site
    try:
        await _change(rt, site, staff, ban_id, change, form)
    except Invalid as error:
        field = error.field if error.field in ("days", "until", "note") else "days"
        return await _page(
            request,
            staff,
            rt,
            site,
            failed=ban_id,
            errors={field: error.message},
            typed={k: form.get(k, "") for k in ("days", "until", "note")},
            status=422,
        )
    except (NotFound, Conflict) as error:
        status = 404 if isinstance(error, NotFound) else 409
        return await _page(request, staff, rt, site, errors={"ban": error.message}, status=status)
    back = urlencode({"site": site.name, "done": change})
    return RedirectResponse(f"/admin/bans?{back}", status_code=303)


@router.post("/admin/bans/{ban_id}/lift", include_in_schema=False)
async def lift_from_desk(
    request: Request, ban_id: PathId, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    return await _from_desk(request, ban_id, "lift", staff, rt)


@router.post("/admin/bans/{ban_id}/shorten", include_in_schema=False)
async def shorten_from_desk(
    request: Request, ban_id: PathId, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    return await _from_desk(request, ban_id, "shorten", staff, rt)


def _when(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def ban_out(ban: BanRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": ban.id,
        "kind": ban.kind,
        "value": ban.shown,
        "until": _when(ban.until),
        "active": ban.is_active(now),
        "created_at": iso(ban.created_at),
        "created_by": ban.created_by,
        "why": ban.why,
    }


def _json(content: Any) -> Response:
    return Response(
        orjson.dumps(content), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


@router.get(
    "/api/v1/admin/bans",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=BanList,
    summary="The site's bans in force (all=true: ended ones too), newest first",
)
async def list_from_api(staff: ApiStaffDep, rt: RuntimeDep, all: AllQuery = False) -> Response:
    site = staff.site
    now = utcnow()
    found = await run_in_threadpool(
        lambda: bans.list_bans(rt.db, site_id=site.id, now=now, include_ended=all)
    )
    return _json({"bans": [ban_out(ban, now) for ban in found]})


def _fields(data: Any, names: tuple[str, ...]) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ApiError(422, "The body is a JSON object.")
    fields: dict[str, str] = {}
    for key, value in data.items():
        if key not in names:
            raise Invalid(key, f"{key!r} is not a field here; these are: {', '.join(names)}.")
        if key == "days" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise Invalid(key, f"{key} is a string.")
        fields[key] = value
    return fields


async def _optional_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None


@router.post(
    "/api/v1/admin/bans/{ban_id}/lift",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=BanOut,
    summary="Lift a ban: it ends now",
    openapi_extra=json_body(NoteIn, required=False),
)
async def lift_from_api(
    request: Request, ban_id: PathId, staff: ApiStaffDep, rt: RuntimeDep
) -> Response:
    site = staff.site
    fields = _fields(await _optional_json(request), ("note",))
    changed = await _change(rt, site, staff, ban_id, "lift", fields)
    return _json(ban_out(changed, utcnow()))


@router.post(
    "/api/v1/admin/bans/{ban_id}/shorten",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=BanOut,
    summary="Make a ban end sooner: days from now, or until a date",
    openapi_extra=json_body(BanShortenIn),
)
async def shorten_from_api(
    ban_id: PathId, staff: ApiStaffDep, data: JsonDep, rt: RuntimeDep
) -> Response:
    site = staff.site
    fields = _fields(data, ("days", "until", "note"))
    changed = await _change(rt, site, staff, ban_id, "shorten", fields)
    return _json(ban_out(changed, utcnow()))
