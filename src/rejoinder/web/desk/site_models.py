"""The site's own model in the desk (admins only): versions, agreement figures, activate and
roll back; and the same under /api/v1/admin/models."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.models import Site
from rejoinder.runtime import utcnow
from rejoinder.usecases import site_models
from rejoinder.web.admin_schemas import ModelsOut
from rejoinder.web.deps import (
    ApiAdminDep,
    DeskStaffDep,
    JsonDep,
    RuntimeDep,
    Staff,
    check_csrf,
    site_for,
)
from rejoinder.web.errors import ADMIN_API_ERRORS
from rejoinder.web.params import parse_int
from rejoinder.web.schemas import ModelSwitchIn, json_body

router = APIRouter()
_DONE = {"shipped": "The site now uses the shipped model."}
VERSION_MAX = 2**31 - 1
CHOOSE_VERSION = "Choose a version number or the shipped model."


def _page(
    request: Request,
    staff: Staff,
    site: Site,
    *,
    flash: str = "",
    warning: str = "",
    status: int = 200,
    page: site_models.ModelsPage | None = None,
) -> Response:
    body = request.app.state.render(
        "desk/site_models.html",
        staff=staff,
        tab="models",
        target=site,
        page=page,
        flash=flash,
        warning=warning,
        forbidden=page is None,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/admin/models", include_in_schema=False)
async def models_page(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    done: str = "",
) -> Response:
    if not staff.user.is_admin:
        return _page(request, staff, rt.default_site, status=403)
    # Asked for after the admin check: a moderator gets the 403 page whatever site they name.
    target = staff.site
    page = await run_in_threadpool(site_models.read_models, rt.db, target.id)
    try:
        version = parse_int(done, "done", CHOOSE_VERSION, low=1, high=VERSION_MAX)
    except Invalid:
        version = None  # a made-up address: no message
    flash = _DONE.get(done) or (f"The site now uses version {version}." if version else "")
    return _page(request, staff, target, page=page, flash=flash)


def _version(value: str) -> int | None:
    """The form's version: "shipped" or a version number."""
    if value.strip() == "shipped":
        return None
    version = parse_int(value, "version", CHOOSE_VERSION, low=1, high=VERSION_MAX)
    if version is None:
        raise Invalid("version", CHOOSE_VERSION)
    return version


@router.post("/admin/models/activate", include_in_schema=False)
async def activate_model(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    if not staff.user.is_admin:
        return _page(request, staff, rt.default_site, status=403)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(staff, form.get("csrf", ""))
    site = await site_for(rt, staff, form.get("site"))
    try:
        version = _version(form.get("version", ""))
        await run_in_threadpool(
            lambda: site_models.activate(
                rt.db,
                site.id,
                version,
                actor_kind=staff.actor_kind,
                actor=staff.user.name,
                now=utcnow(),
                note=form.get("note", ""),
                expected=form.get("expected", ""),
            )
        )
    except (Conflict, NotFound, Invalid) as error:
        status = {Conflict: 409, NotFound: 404, Invalid: 422}[type(error)]
        page = await run_in_threadpool(site_models.read_models, rt.db, site.id)
        return _page(request, staff, site, page=page, warning=error.message, status=status)
    query = {
        "done": "shipped" if version is None else str(version),
        **({} if site.id == rt.default_site.id else {"site": site.name}),
    }
    return RedirectResponse(f"/admin/models?{urlencode(query)}", status_code=303)


# The admin API.


def models_out(page: site_models.ModelsPage, site: Site) -> dict[str, Any]:
    return {
        "site": site.name,
        "decisions": {"approved": page.approved, "rejected": page.rejected},
        "active": page.active,
        "versions": [
            {
                "version": m.version,
                "created_at": m.created_at.isoformat().replace("+00:00", "Z"),
                "active": m.active,
                "usable": page.usable(m),
                "metrics": m.metrics,
            }
            for m in page.versions
        ],
    }


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


@router.get(
    "/api/v1/admin/models",
    tags=["admin"],
    response_model=ModelsOut,
    responses=ADMIN_API_ERRORS,
    summary="The site's model versions, their agreement figures and the active one",
)
async def get_models(rt: RuntimeDep, staff: ApiAdminDep) -> Response:
    target = staff.site
    page = await run_in_threadpool(site_models.read_models, rt.db, target.id)
    return _json(models_out(page, target))


async def _activation(data: JsonDep) -> tuple[int | None, str]:
    """The version asked for (None: the shipped model) and the note, checked before the site
    is looked up: a bad body is a 422 whichever site it names."""
    if not isinstance(data, dict) or "version" not in data:
        raise Invalid("version", 'Send {"version": N} or {"version": null}.')
    version = data["version"]
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not 0 < version < 2**31
    ):
        raise Invalid("version", "The version is a positive whole number, or null.")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise Invalid("note", "The note is a string.")
    return version, note


@router.put(
    "/api/v1/admin/models/active",
    tags=["admin"],
    response_model=ModelsOut,
    responses=ADMIN_API_ERRORS,
    summary='Switch the site\'s model: {"version": N} or {"version": null} for the shipped one',
    openapi_extra=json_body(ModelSwitchIn),
)
async def put_active_model(
    staff: ApiAdminDep,
    sent: Annotated[tuple[int | None, str], Depends(_activation)],
    rt: RuntimeDep,
) -> Response:
    version, note = sent
    target = staff.site
    await run_in_threadpool(
        lambda: site_models.activate(
            rt.db,
            target.id,
            version,
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            now=utcnow(),
            note=note,
        )
    )
    page = await run_in_threadpool(site_models.read_models, rt.db, target.id)
    return _json(models_out(page, target))
