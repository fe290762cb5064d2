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
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import policy as policies
from rejoinder.usecases.moderation import ModelPresets
from rejoinder.web.deps import require_json
from rejoinder.web.desk.login import Staff, api_staff, check_csrf, desk_staff, require_admin
from rejoinder.web.errors import ApiError
from rejoinder.web.rendering import as_typed

router = APIRouter()


def desk_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def model_presets(request: Request) -> ModelPresets | None:
    """The shipped model's presets, when this server judges with the model."""
    moderator = desk_runtime(request).moderator
    return moderator.presets if moderator is not None else None


async def _read(request: Request, site: Site) -> policies.SiteRules:
    return await run_in_threadpool(
        policies.read_rules, desk_runtime(request).db, site.id, model_presets(request)
    )


async def desk_site(request: Request, name: str | None) -> Site:
    """The site an admin page is about: the default one, or one named in the query."""
    rt = desk_runtime(request)
    if not name or name == rt.default_site.name:
        return rt.default_site
    return await run_in_threadpool(rt.site_named, name)


def _page(
    request: Request,
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
    typed = {key: as_typed(value) for key, value in values.items()}  # as sent, but for NUL
    body = request.app.state.render(
        "desk/policy.html", staff=staff, tab="policy", target=site, rules=rules,
        values=typed, errors=errors or {}, preview=preview, flash=flash, warning=warning,
        modes=policies.MODES, categories=policies.CATEGORIES, limits=policies.LIMITS,
        sizes=policies.default_sizes(), verdicts=policies.VERDICTS,
        preview_size=policies.PREVIEW_SIZE, forbidden=False, presets=model_presets(request),
        preset_labels=policies.PRESET_LABELS,
    )  # fmt: skip
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
async def policy_page(request: Request) -> Response:
    staff = await desk_staff(request)
    if refused := _admins_only(request, staff):
        return refused
    site = await desk_site(request, request.query_params.get("site"))
    rules = await _read(request, site)
    flash = "Policy saved." if request.query_params.get("saved") == "1" else ""
    return _page(
        request, staff, site, rules=rules, values=policies.form_values(rules), flash=flash,
        warning=rules.problem,
    )  # fmt: skip


async def _edited(
    request: Request,
) -> tuple[Staff, Site, dict[str, str], policies.SiteRules] | Response:
    """Who, which site, the form as sent and the current rules; or the 403 page."""
    staff = await desk_staff(request)
    if refused := _admins_only(request, staff):
        return refused
    form = _form_dict(await request.form())
    check_csrf(staff, form.get("csrf", ""))
    site = await desk_site(request, form.get("site"))
    current = await _read(request, site)
    return staff, site, form, current


def _invalid(
    request: Request,
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
        request, staff, site, rules=current, values=form, errors=errors, status=422,
        warning="Nothing was saved: correct the fields marked below.",
    )  # fmt: skip


@router.post("/admin/policy/preview", include_in_schema=False)
async def preview_policy(request: Request) -> Response:
    found = await _edited(request)
    if isinstance(found, Response):
        return found
    staff, site, form, current = found
    try:
        edited = policies.rules_from_form(form, current, model_presets(request))
    except InvalidMany as error:
        return _invalid(request, staff, site, current, form, error)
    result = await run_in_threadpool(
        policies.preview, desk_runtime(request).db, site.id, edited.policy, current.policy
    )
    return _page(request, staff, site, rules=current, values=form, preview=result)


@router.post("/admin/policy", include_in_schema=False)
async def save_policy(request: Request) -> Response:
    found = await _edited(request)
    if isinstance(found, Response):
        return found
    staff, site, form, current = found
    try:
        edited = policies.rules_from_form(form, current, model_presets(request))
    except InvalidMany as error:
        return _invalid(request, staff, site, current, form, error)
    try:
        await run_in_threadpool(
            lambda: policies.save_rules(
                desk_runtime(request).db, site.id, edited, actor_kind=staff.actor_kind,
                actor=staff.user.name, now=utcnow(), note=form.get("note", ""),
                basis=form.get("basis") or None, presets=model_presets(request),
            )
        )  # fmt: skip
    except Conflict as error:
        # Show their edit over the new current rules; a second save then goes through.
        current = await _read(request, site)
        return _page(
            request, staff, site, rules=current, values=form, warning=error.message, status=409
        )
    query = {
        "saved": "1",
        **({} if site.id == desk_runtime(request).default_site.id else {"site": site.name}),
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
    summary="The site's moderation policy and reports settings",
)
async def get_policy(request: Request, site: str | None = None) -> Response:
    await api_staff(request)
    target = await desk_site(request, site)
    rules = await _read(request, target)
    return _json(
        policies.rules_out(rules, target.name, model_presets(request)),
        headers={"ETag": f'"{rules.basis}"'},
    )


@router.put(
    "/api/v1/admin/policy", tags=["admin"], summary="Replace the site's moderation policy (admins)"
)
async def put_policy(request: Request, site: str | None = None) -> Response:
    staff = await api_staff(request)
    require_admin(staff)
    await require_json(request)
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "The request body is not valid JSON.") from error
    target = await desk_site(request, site)
    current = await _read(request, target)
    rules = policies.rules_from_json(data, current, model_presets(request))
    note = data.get("note", "") if isinstance(data.get("note", ""), str) else ""
    basis = request.headers.get("if-match", "").strip().strip('"') or None
    saved = await run_in_threadpool(
        lambda: policies.save_rules(
            desk_runtime(request).db, target.id, rules, actor_kind=staff.actor_kind,
            actor=staff.user.name, now=utcnow(), note=note, basis=basis,
            presets=model_presets(request),
        )
    )  # fmt: skip
    return _json(
        policies.rules_out(saved, target.name, model_presets(request)),
        headers={"ETag": f'"{saved.basis}"'},
    )
