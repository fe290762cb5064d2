"""A commenter's data at the desk (/admin/privacy, admins only): the export of everything held
about an address (a JSON download) and its erasure, which asks for a confirmation first.
Both are audited without naming whose data it was."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.errors import Forbidden, Invalid
from rejoinder.core.privacy import ErasureMode
from rejoinder.runtime import utcnow
from rejoinder.usecases import privacy
from rejoinder.web.deps import DeskStaffDep, RuntimeDep, Staff, check_csrf, require_admin

router = APIRouter(include_in_schema=False)
EXPORT_NAME = "commenter-data.json"


def _may(staff: Staff) -> None:
    """An admin of every site: a person's data spans the sites."""
    require_admin(staff)
    if staff.user.is_limited:
        raise Forbidden("Only an admin of every site can export or erase a commenter's data.")


def _page(
    request: Request,
    staff: Staff,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: str = "",
    flash: str = "",
    mode: str = "remove",
) -> Response:
    body = request.app.state.render(
        "desk/privacy.html",
        staff=staff,
        tab="privacy",
        errors=errors or {},
        typed=typed,
        flash=flash,
        mode=mode,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _form(request: Request) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:  # not a form: no CSRF token in it, so the check refuses
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.get("/admin/privacy")
async def privacy_page(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    _may(staff)
    return _page(request, staff, mode=rt.settings.erasure)


@router.post("/admin/privacy/export")
async def export(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    _may(staff)
    form = await _form(request)
    check_csrf(staff, form.get("csrf", ""))
    typed = form.get("email", "")
    try:
        address = privacy.check_address(typed)
    except Invalid as bad:
        errors = {"email": bad.message}
        return _page(
            request, staff, status=422, errors=errors, typed=typed, mode=rt.settings.erasure
        )
    data = await run_in_threadpool(
        lambda: privacy.staff_export(
            rt.db,
            address,
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            base_url=rt.settings.base_url,
            now=utcnow(),
        )
    )
    return Response(
        orjson.dumps(data, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_NAME}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/admin/privacy/erase")
async def erase(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    _may(staff)
    form = await _form(request)
    check_csrf(staff, form.get("csrf", ""))
    typed = form.get("email", "")
    mode = rt.settings.erasure
    errors: dict[str, str] = {}
    try:
        address = privacy.check_address(typed)
    except Invalid as bad:
        errors["email"] = bad.message
    if form.get("confirm") != "yes":
        errors["confirm"] = "Tick the box to confirm: an erasure cannot be undone."
    if errors:
        return _page(request, staff, status=422, errors=errors, typed=typed, mode=mode)
    erased = await run_in_threadpool(
        lambda: privacy.erase(
            rt.db,
            rt.events,
            address=address,
            mode=ErasureMode(mode),
            actor_kind=staff.actor_kind,
            actor=staff.user.name,
            now=utcnow(),
        )
    )
    flash = (
        f"Erased: {erased.comments} comments {'anonymised' if mode == 'anonymise' else 'removed'}, "
        + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in erased.tables.items())
        + "."
    )
    return _page(request, staff, flash=flash, mode=mode)
