"""The desk's Notifications page (notify.html): each staff member's own alerts by mail for
the site the page is about (off, immediately, hourly or daily digest) and the site's reply
notification settings as this server has them."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import InvalidMany
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import notify
from rejoinder.web.deps import DeskStaffDep, RuntimeDep, Staff, check_csrf
from rejoinder.web.rendering import as_typed

router = APIRouter()
CHOICES = (
    ("off", "Off: no alerts by mail"),
    ("immediately", "Immediately: one mail per comment"),
    ("hourly", "Hourly digest"),
    ("daily", "Daily digest"),
)


def _page(
    request: Request,
    rt: Runtime,
    staff: Staff,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    flash: str = "",
    status: int = 200,
) -> Response:
    body = request.app.state.render(
        "desk/notify.html",
        staff=staff,
        tab="notifications",
        target=staff.site,
        values={key: as_typed(value) for key, value in values.items()},
        errors=errors or {},
        flash=flash,
        choices=CHOICES,
        mail_enabled=rt.mail is not None,
        digest_minutes=rt.settings.notify_digest_minutes,
        back=f"/admin/notifications?{urlencode({'site': staff.site.name})}",
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _values(choice: notify.AlertChoice) -> dict[str, str]:
    return {"frequency": choice.frequency, "address": choice.address}


@router.get("/admin/notifications", include_in_schema=False)
async def notifications_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = ""
) -> Response:
    site = staff.site
    choice = await run_in_threadpool(
        lambda: notify.alert_choice(rt.db, user_id=staff.user.id, site_id=site.id)
    )
    flash = "Saved your alert choice." if done == "saved" else ""
    return _page(request, rt, staff, values=_values(choice), flash=flash)


@router.post("/admin/notifications", include_in_schema=False)
async def save_notifications(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    site = staff.site
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception:  # a body that is not a form: no token in it, so the CSRF check refuses
        form = {}
    check_csrf(staff, form.get("csrf", ""))
    values = {"frequency": form.get("frequency", ""), "address": form.get("address", "")}
    try:
        await run_in_threadpool(
            lambda: notify.save_alert_choice(
                rt.db,
                user_id=staff.user.id,
                site_id=site.id,
                frequency=values["frequency"],
                address=values["address"],
                limits=rt.limits,
                now=utcnow(),
            )
        )
    except InvalidMany as problems:
        errors = {str(error.field): error.message for error in problems.errors}
        return _page(request, rt, staff, values=values, errors=errors, status=422)
    back = urlencode({"site": site.name, "done": "saved"})
    return RedirectResponse(f"/admin/notifications?{back}", status_code=303)
