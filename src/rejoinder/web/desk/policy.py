"""The site's moderation policy in the desk (admins only), and the same under /api/v1/admin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, InvalidMany
from rejoinder.core.models import Site
from rejoinder.core.moderation.categories import CATEGORIES
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import policy as policies
from rejoinder.usecases.policy import ModelPresets
from rejoinder.web.admin_schemas import PolicyOut
from rejoinder.web.deps import (
    ApiAdminDep,
    ApiStaffDep,
    DeskStaffDep,
    JsonDep,
    RuntimeDep,
    Staff,
    check_csrf,
    site_for,
)
from rejoinder.web.errors import ADMIN_API_ERRORS
from rejoinder.web.rendering import as_typed
from rejoinder.web.schemas import PolicyIn, json_body

router = APIRouter()


def model_presets(rt: Runtime) -> ModelPresets | None:
    """The shipped model's presets, when this server judges with the model."""
    return rt.moderator.presets if rt.moderator is not None else None


async def _read(rt: Runtime, site: Site) -> policies.SiteRules:
    return await run_in_threadpool(policies.read_rules, rt.db, site.id, model_presets(rt))


def _page(
    request: Request,
    rt: Runtime,
    staff: Staff,
    site: Site,
    *,
    rules: policies.SiteRules,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    preview: policies.Preview | None = None,
    flash: str = "",
    warning: str = "",
    status: int = 200,
) -> Response:
    """The policy page: a form for an admin, the same values to read for a moderator."""
    typed = {key: as_typed(value) for key, value in values.items()}  # as sent, but for NUL
    body = request.app.state.render(
        "desk/policy.html",
        staff=staff,
        tab="policy",
        target=site,
        rules=rules,
        values=typed,
        errors=errors or {},
        preview=preview,
        flash=flash,
        warning=warning,
        modes=policies.MODES,
        profanity_choices=policies.PROFANITY_CHOICES,
        categories=CATEGORIES,
        limits=policies.LIMITS,
        sizes=policies.default_sizes(),
        verdicts=policies.VERDICTS,
        preview_size=policies.PREVIEW_SIZE,
        forbidden=False,
        read_only=not staff.user.is_admin,
        presets=model_presets(rt),
        preset_labels=policies.PRESET_LABELS,
    )
    response = HTMLResponse(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _admins_only(request: Request, staff: Staff) -> Response | None:
    """A moderator gets a desk page that says why, with 403."""
    if staff.user.is_admin:
        return None
    body = request.app.state.render("desk/policy.html", staff=staff, tab="policy", forbidden=True)
    return HTMLResponse(body, status_code=403, headers={"Cache-Control": "no-store"})


def _form_dict(form: Any) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


@router.get("/admin/policy", include_in_schema=False)
async def policy_page(
    request: Request,
    staff: DeskStaffDep,
    rt: RuntimeDep,
    saved: str = "",
) -> Response:
    # Every member of the staff reads the policy (as the API lets them); only admins change it.
    target = staff.site
    rules = await _read(rt, target)
    flash = "Policy saved." if saved == "1" else ""
    return _page(
        request,
        rt,
        staff,
        target,
        rules=rules,
        values=policies.form_values(rules),
        flash=flash,
        warning=rules.problem,
    )


async def _edited(
    request: Request, rt: Runtime, staff: Staff
) -> tuple[Site, dict[str, str], policies.SiteRules] | Response:
    """Which site, the form as sent and the current rules; or the 403 page."""
    if refused := _admins_only(request, staff):
        return refused
    form = _form_dict(await request.form())
    check_csrf(staff, form.get("csrf", ""))
    site = await site_for(rt, staff, form.get("site"))
    current = await _read(rt, site)
    return site, form, current


def _invalid(
    request: Request,
    rt: Runtime,
    staff: Staff,
    site: Site,
    current: policies.SiteRules,
    form: dict[str, str],
    error: InvalidMany,
) -> Response:
    errors: dict[str, str] = {}
    for each in error.errors:
        errors.setdefault(each.field or "mode", each.message)
    return _page(
        request,
        rt,
        staff,
        site,
        rules=current,
        values=form,
        errors=errors,
        status=422,
        warning="Nothing was saved: correct the fields marked below.",
    )


@router.post("/admin/policy/preview", include_in_schema=False)
async def preview_policy(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    found = await _edited(request, rt, staff)
    if isinstance(found, Response):
        return found
    site, form, current = found
    try:
        edited = policies.rules_from_form(form, current, model_presets(rt))
    except InvalidMany as error:
        return _invalid(request, rt, staff, site, current, form, error)
    result = await run_in_threadpool(
        policies.preview, rt.db, site.id, edited.policy, current.policy
    )
    return _page(request, rt, staff, site, rules=current, values=form, preview=result)


@router.post("/admin/policy", include_in_schema=False)
async def save_policy(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    found = await _edited(request, rt, staff)
    if isinstance(found, Response):
        return found
    site, form, current = found
    try:
        edited = policies.rules_from_form(form, current, model_presets(rt))
    except InvalidMany as error:
        return _invalid(request, rt, staff, site, current, form, error)
    try:
        await run_in_threadpool(
            lambda: policies.save_rules(
                rt.db,
                site.id,
                edited,
                actor_kind=staff.actor_kind,
                actor=staff.user.name,
                now=utcnow(),
                note=form.get("note", ""),
                basis=form.get("basis") or None,
                presets=model_presets(rt),
            )
        )
        rt.changes.announce()  # other workers read close_after_days again (web/closing.py)
    except Conflict as error:
        # Show their edit over the new current rules; a second save then goes through.
        current = await _read(rt, site)
        return _page(
            request,
            rt,
            staff,
            site,
            rules=current,
            values=form,
            warning=error.message,
            status=409,
        )
    query = {
        "saved": "1",
        **({} if site.id == rt.default_site.id else {"site": site.name}),
    }
    return RedirectResponse(f"/admin/policy?{urlencode(query)}", status_code=303)


# The admin API.


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


@router.get(
    "/api/v1/admin/policy",
    tags=["admin"],
    response_model=PolicyOut,
    responses=ADMIN_API_ERRORS,
    summary="The site's moderation policy and reports settings",
)
async def get_policy(rt: RuntimeDep, staff: ApiStaffDep) -> Response:
    target = staff.site
    rules = await _read(rt, target)
    return _json(
        policies.rules_out(rules, target.name, model_presets(rt)),
        headers={"ETag": f'"{rules.basis}"'},
    )


@router.put(
    "/api/v1/admin/policy",
    tags=["admin"],
    response_model=PolicyOut,
    responses=ADMIN_API_ERRORS,
    summary="Replace the site's moderation policy (admins)",
    openapi_extra=json_body(PolicyIn),
)
async def put_policy(
    request: Request, staff: ApiAdminDep, data: JsonDep, rt: RuntimeDep
) -> Response:
    target = staff.site
    current = await _read(rt, target)
    rules = policies.rules_from_json(data, current, model_presets(rt))
    note = data.get("note", "") if isinstance(data.get("note", ""), str) else ""
    basis = request.headers.get("if-match", "").strip().strip('"') or None
    saved = await run_in_threadpool(
        lambda: policies.save_rules(
            rt.db,
            target.id,
            rules,
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            now=utcnow(),
            note=note,
            basis=basis,
            presets=model_presets(rt),
        )
    )
    rt.changes.announce()  # other workers read close_after_days again (web/closing.py)
    return _json(
        policies.rules_out(saved, target.name, model_presets(rt)),
        headers={"ETag": f'"{saved.basis}"'},
    )
