"""The site's own model in the desk (admins only): versions, agreement figures, activate and
roll back; and the same under /api/v1/admin/models."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.models import Site
from rejoinder.runtime import utcnow
from rejoinder.usecases import site_models
from rejoinder.web.deps import require_json
from rejoinder.web.desk.login import Staff, api_staff, check_csrf, desk_staff, require_admin
from rejoinder.web.desk.policy import desk_runtime, desk_site
from rejoinder.web.errors import ApiError

router = APIRouter()
_DONE = {"shipped": "The site now uses the shipped model."}


def _page(
    request: Request, staff: Staff, site: Site, *, flash: str = "", warning: str = "",
    status: int = 200, page: site_models.ModelsPage | None = None,
) -> Response:  # fmt: skip
    body = request.app.state.render(
        "desk/models.html", staff=staff, tab="models", target=site, page=page, flash=flash,
        warning=warning, forbidden=page is None,
    )  # fmt: skip
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/admin/models", include_in_schema=False)
async def models_page(request: Request) -> Response:
    staff = await desk_staff(request)
    if not staff.user.is_admin:
        return _page(request, staff, desk_runtime(request).default_site, status=403)
    site = await desk_site(request, request.query_params.get("site"))
    page = await run_in_threadpool(site_models.read_models, desk_runtime(request).db, site.id)
    done = request.query_params.get("done", "")
    flash = _DONE.get(done) or (
        f"The site now uses version {done}." if done.isascii() and done.isdigit() else ""
    )
    return _page(request, staff, site, page=page, flash=flash)


def _version(value: str) -> int | None:
    """The form's version: "shipped" or a version number."""
    value = value.strip()
    if value == "shipped":
        return None
    if value.isascii() and value.isdigit() and 0 < int(value) < 2**31:
        return int(value)
    raise Invalid("version", "Choose a version number or the shipped model.")


@router.post("/admin/models/activate", include_in_schema=False)
async def activate_model(request: Request) -> Response:
    staff = await desk_staff(request)
    if not staff.user.is_admin:
        return _page(request, staff, desk_runtime(request).default_site, status=403)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(staff, form.get("csrf", ""))
    site = await desk_site(request, form.get("site"))
    db = desk_runtime(request).db
    try:
        version = _version(form.get("version", ""))
        await run_in_threadpool(
            lambda: site_models.activate(
                db, site.id, version, actor_kind=staff.actor_kind, actor=staff.user.name,
                now=utcnow(), note=form.get("note", ""), expected=form.get("expected", ""),
            )
        )  # fmt: skip
    except (Conflict, NotFound, Invalid) as error:
        status = {Conflict: 409, NotFound: 404, Invalid: 422}[type(error)]
        page = await run_in_threadpool(site_models.read_models, db, site.id)
        return _page(request, staff, site, page=page, warning=error.message, status=status)
    query = {
        "done": "shipped" if version is None else str(version),
        **({} if site.id == desk_runtime(request).default_site.id else {"site": site.name}),
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
    summary="The site's model versions, their agreement figures and the active one",
)
async def get_models(request: Request, site: str | None = None) -> Response:
    staff = await api_staff(request)
    require_admin(staff)
    target = await desk_site(request, site)
    page = await run_in_threadpool(site_models.read_models, desk_runtime(request).db, target.id)
    return _json(models_out(page, target))


@router.put(
    "/api/v1/admin/models/active",
    tags=["admin"],
    summary='Switch the site\'s model: {"version": N} or {"version": null} for the shipped one',
)
async def put_active_model(request: Request, site: str | None = None) -> Response:
    staff = await api_staff(request)
    require_admin(staff)
    await require_json(request)
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "The request body is not valid JSON.") from error
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
    target = await desk_site(request, site)
    db = desk_runtime(request).db
    await run_in_threadpool(
        lambda: site_models.activate(
            db, target.id, version, actor_kind=staff.actor_kind, actor=staff.user.name,
            now=utcnow(), note=note,
        )
    )  # fmt: skip
    page = await run_in_threadpool(site_models.read_models, db, target.id)
    return _json(models_out(page, target))
