"""The sites in the desk (/admin/sites: list, add, edit, remove; admins of every site only),
the desk's site chooser, and the same under /api/v1/admin/sites."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Forbidden, Invalid, InvalidMany
from rejoinder.core.models import Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import sites
from rejoinder.web.deps import (
    SITE_COOKIE,
    ApiStaffDep,
    DeskStaffDep,
    JsonDep,
    RuntimeDep,
    Staff,
    check_csrf,
    fresh_sites,
    site_for,
)
from rejoinder.web.errors import ADMIN_API_ERRORS
from rejoinder.web.rendering import as_typed
from rejoinder.web.schemas import SiteIn, SiteList, SiteOut, SitePatch, json_body

router = APIRouter()
SiteName = Annotated[str, Path(max_length=60, description="The site's name.")]
# The form's fields, as typed; origins one per line.
FORM_FIELDS = ("name", "title", "domain", "base_url", "origins", "language")


def may_manage_sites(staff: Staff) -> bool:
    """Adding, changing and removing sites is for admins who act on every site."""
    return staff.user.is_admin and not staff.user.is_limited


async def get_site_manager(staff: ApiStaffDep) -> Staff:
    """For the calls that add, change or remove sites: 403 for anyone else, before the body
    is read."""
    if not may_manage_sites(staff):
        raise Forbidden("Only an admin of every site can add, change or remove sites.")
    return staff


SiteManagerDep = Annotated[Staff, Depends(get_site_manager)]


# The desk.


def _values(site: Site | None) -> dict[str, str]:
    if site is None:
        return {name: "" for name in FORM_FIELDS} | {"language": sites.LANGUAGES[0]}
    return {
        "name": site.name,
        "title": site.title,
        "domain": site.domain or "",
        "base_url": site.base_url or "",
        "origins": "\n".join(site.origins),
        "language": site.language,
    }


def _page(
    request: Request,
    rt: Runtime,
    staff: Staff,
    *,
    editing: Site | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flash: str = "",
    warning: str = "",
    status: int = 200,
) -> Response:
    body = request.app.state.render(
        "desk/sites.html",
        staff=staff,
        tab="sites",
        forbidden=not may_manage_sites(staff),
        all_sites=rt.sites.all(),
        default_name=rt.default_site.name,
        editing=editing,
        values={k: as_typed(v) for k, v in (values or _values(editing)).items()},
        errors=errors or {},
        flash=flash,
        warning=warning,
        languages=sites.LANGUAGES,
        site_url=rt.site_url,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _form_data(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields as `SiteFields` reads them."""
    data: dict[str, Any] = {k: form.get(k, "") for k in ("title", "domain", "base_url", "language")}
    data["origins"] = [line for line in form.get("origins", "").splitlines() if line.strip()]
    data["domain"] = data["domain"] or None
    data["base_url"] = data["base_url"] or None
    return data


def _errors(error: InvalidMany) -> dict[str, str]:
    found: dict[str, str] = {}
    for each in error.errors:
        found.setdefault(each.field or "name", each.message)
    return found


async def _form(request: Request, staff: Staff) -> dict[str, str]:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(staff, form.get("csrf", ""))
    return form


@router.get("/admin/sites", include_in_schema=False)
async def sites_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = ""
) -> Response:
    await fresh_sites(rt)
    flash = {"added": "Site added.", "saved": "Site saved.", "removed": "Site removed."}
    status = 200 if may_manage_sites(staff) else 403
    return _page(request, rt, staff, flash=flash.get(done, ""), status=status)


@router.post("/admin/sites", include_in_schema=False)
async def add_site(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    if not may_manage_sites(staff):
        return _page(request, rt, staff, status=403)
    form = await _form(request, staff)
    try:
        await run_in_threadpool(
            lambda: sites.add_site(
                rt.db,
                rt.events,
                {"name": form.get("name", ""), **_form_data(form)},
                actor_kind=staff.actor_kind,
                actor=staff.user.name,
                now=utcnow(),
            )
        )
    except InvalidMany as error:
        return _page(request, rt, staff, values=form, errors=_errors(error), status=422)
    except Conflict as error:
        field = "name" if "named" in error.message else "domain"
        return _page(request, rt, staff, values=form, errors={field: error.message}, status=409)
    return RedirectResponse("/admin/sites?done=added", status_code=303)


@router.get("/admin/sites/{name}", include_in_schema=False)
async def edit_site_page(
    request: Request, name: SiteName, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    if not may_manage_sites(staff):
        return _page(request, rt, staff, status=403)
    site = await site_for(rt, staff, name)
    return _page(request, rt, staff, editing=site)


@router.post("/admin/sites/{name}", include_in_schema=False)
async def save_site(
    request: Request, name: SiteName, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    if not may_manage_sites(staff):
        return _page(request, rt, staff, status=403)
    form = await _form(request, staff)
    site = await site_for(rt, staff, name)
    try:
        await run_in_threadpool(
            lambda: sites.update_site(
                rt.db,
                rt.events,
                site.name,
                _form_data(form),
                actor_kind=staff.actor_kind,
                actor=staff.user.name,
                now=utcnow(),
            )
        )
    except InvalidMany as error:
        values = {**form, "name": site.name}
        return _page(
            request, rt, staff, editing=site, values=values, errors=_errors(error), status=422
        )
    except Conflict as error:
        values = {**form, "name": site.name}
        errors = {"domain": error.message}
        return _page(request, rt, staff, editing=site, values=values, errors=errors, status=409)
    return RedirectResponse("/admin/sites?done=saved", status_code=303)


@router.post("/admin/sites/{name}/remove", include_in_schema=False)
async def remove_site(
    request: Request, name: SiteName, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    if not may_manage_sites(staff):
        return _page(request, rt, staff, status=403)
    await _form(request, staff)
    site = await site_for(rt, staff, name)
    try:
        await run_in_threadpool(
            lambda: sites.remove_site(
                rt.db,
                rt.events,
                site.name,
                actor_kind=staff.actor_kind,
                actor=staff.user.name,
                now=utcnow(),
            )
        )
    except (Conflict, Forbidden) as error:
        status = 403 if isinstance(error, Forbidden) else 409
        return _page(request, rt, staff, warning=error.message, status=status)
    return RedirectResponse("/admin/sites?done=removed", status_code=303)


def _back(value: str) -> str:
    """Back to the desk page the chooser was on (never anywhere else)."""
    path = value.split("?")[0]
    if not path.startswith("/admin") or "//" in path or "\\" in path or "\n" in path:
        return "/admin"
    return path


@router.post("/admin/site", include_in_schema=False)
async def choose_site(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    """The site chooser: the desk acts on this site from now on (a cookie remembers it)."""
    form = await _form(request, staff)
    site = await site_for(rt, staff, form.get("site", "") or staff.site.name)
    back = _back(form.get("back", ""))
    response = RedirectResponse(f"{back}?site={quote(site.name)}", status_code=303)
    response.set_cookie(
        SITE_COOKIE,
        site.name,
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=rt.settings.cookies_secure,
        path="/admin",
    )
    return response


# The admin API.


def _json(content: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(content),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidMany([Invalid("name", "The body is a JSON object of a site's fields.")])
    return data


@router.get(
    "/api/v1/admin/sites",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=SiteList,
    summary="The sites the caller acts on",
)
async def list_sites(staff: ApiStaffDep) -> Response:
    return _json({"sites": [sites.site_out(site) for site in staff.sites]})


@router.post(
    "/api/v1/admin/sites",
    tags=["admin"],
    status_code=201,
    responses=ADMIN_API_ERRORS,
    response_model=SiteOut,
    summary="Add a site (admins of every site)",
    openapi_extra=json_body(SiteIn),
)
async def post_site(staff: SiteManagerDep, data: JsonDep, rt: RuntimeDep) -> Response:
    added = await run_in_threadpool(
        lambda: sites.add_site(
            rt.db,
            rt.events,
            _object(data),
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            now=utcnow(),
        )
    )
    return _json(sites.site_out(added), status=201)


@router.get(
    "/api/v1/admin/sites/{name}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=SiteOut,
    summary="One site",
)
async def get_site(name: SiteName, staff: ApiStaffDep, rt: RuntimeDep) -> Response:
    return _json(sites.site_out(await site_for(rt, staff, name)))


@router.patch(
    "/api/v1/admin/sites/{name}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=SiteOut,
    summary="Change a site's fields; those left out stay (admins of every site)",
    openapi_extra=json_body(SitePatch),
)
async def patch_site(
    name: SiteName, staff: SiteManagerDep, data: JsonDep, rt: RuntimeDep
) -> Response:
    changes = _object(data)
    updated = await run_in_threadpool(
        lambda: sites.update_site(
            rt.db,
            rt.events,
            name,
            changes,
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            now=utcnow(),
        )
    )
    return _json(sites.site_out(updated))


@router.delete(
    "/api/v1/admin/sites/{name}",
    tags=["admin"],
    status_code=204,
    responses=ADMIN_API_ERRORS,
    summary="Remove a site without articles; never the default one (admins of every site)",
)
async def delete_site(name: SiteName, staff: SiteManagerDep, rt: RuntimeDep) -> Response:
    await run_in_threadpool(
        lambda: sites.remove_site(
            rt.db,
            rt.events,
            name,
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            now=utcnow(),
        )
    )
    return Response(status_code=204)
