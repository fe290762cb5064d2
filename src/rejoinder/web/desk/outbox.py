"""A site's outbox in the desk (/admin/outbox: its messages pending, being sent or failed,
each with "retry now"; admins only) and the same under /api/v1/admin/outbox. No recipient's
address is shown, and of a mail's failure only its kind (a mail server's words may quote the
address)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import NotFound
from rejoinder.core.outbox import OutboxMessage
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import webhooks
from rejoinder.web.admin_schemas import OutboxOut
from rejoinder.web.deps import ApiAdminDep, DeskStaffDep, RuntimeDep, Staff, check_csrf
from rejoinder.web.errors import ADMIN_API_ERRORS
from rejoinder.web.rendering import iso

router = APIRouter()
MessageId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The message's number.")]


def about(message: OutboxMessage) -> str:
    """What a message is, in a few words and without its recipient."""
    payload = message.payload
    if message.kind == webhooks.WEBHOOK:
        return f"{payload.get('event')} to webhook {payload.get('webhook_id')}"
    return f"mail: {payload.get('template', '?')}"


def shown_error(message: OutboxMessage) -> str | None:
    if message.last_error is None or message.kind == webhooks.WEBHOOK:
        return message.last_error
    return message.last_error.partition(":")[0]


def message_out(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "kind": message.kind,
        "about": about(message),
        "state": message.state,
        "attempts": message.attempts,
        "next_attempt_at": iso(message.next_attempt_at),
        "last_error": shown_error(message),
        "created_at": iso(message.created_at),
    }


async def _page(
    request: Request, rt: Runtime, staff: Staff, *, flash: str = "", status: int = 200
) -> Response:
    forbidden = not staff.user.is_admin
    site = staff.site
    counts: dict[str, int] = {}
    found: list[OutboxMessage] = []
    paused = 0
    if not forbidden:
        counts, found = await run_in_threadpool(lambda: webhooks.site_outbox(rt.db, site.id))
        views = await run_in_threadpool(lambda: webhooks.list_endpoints(rt.db, site.id, 0))
        paused = sum(1 for view in views if not view.endpoint.active)
    body = request.app.state.render(
        "desk/outbox.html",
        staff=staff,
        tab="outbox",
        target=site,
        forbidden=forbidden,
        counts=None,
        outbox_counts=counts,
        messages=[message_out(each) for each in found],
        paused=paused,
        flash=flash,
    )
    return HTMLResponse(
        body, status_code=403 if forbidden else status, headers={"Cache-Control": "no-store"}
    )


@router.get("/admin/outbox", include_in_schema=False)
async def outbox_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = ""
) -> Response:
    return await _page(request, rt, staff, flash="Due again now." if done == "retry" else "")


@router.post("/admin/outbox/{message_id}/retry", include_in_schema=False)
async def retry_from_desk(
    request: Request, message_id: MessageId, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    if not staff.user.is_admin:
        return await _page(request, rt, staff)
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception:  # not a form: no token in it, so the CSRF check refuses
        form = {}
    check_csrf(staff, form.get("csrf", ""))
    site = staff.site
    try:
        await run_in_threadpool(
            lambda: webhooks.retry_message(
                rt.db, site_id=site.id, message_row=message_id, now=utcnow()
            )
        )
    except NotFound as error:
        return await _page(request, rt, staff, flash=error.message, status=404)
    request.app.state.sender.wake()
    back = urlencode({"site": site.name, "done": "retry"})
    return RedirectResponse(f"/admin/outbox?{back}", status_code=303)


@router.get(
    "/api/v1/admin/outbox",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=OutboxOut,
    summary="The site's outbox: counts per state, and the messages pending or failed (admins)",
)
async def get_outbox(staff: ApiAdminDep, rt: RuntimeDep) -> Response:
    site = staff.site
    counts, found = await run_in_threadpool(lambda: webhooks.site_outbox(rt.db, site.id))
    body = {"counts": counts, "messages": [message_out(each) for each in found]}
    return Response(orjson.dumps(body), media_type="application/json")


@router.post(
    "/api/v1/admin/outbox/{message_id}/retry",
    tags=["admin"],
    status_code=204,
    responses=ADMIN_API_ERRORS,
    summary="Make a pending or failed message due now, its tries counted afresh (admins)",
)
async def retry_message(
    request: Request, message_id: MessageId, staff: ApiAdminDep, rt: RuntimeDep
) -> Response:
    site = staff.site
    await run_in_threadpool(
        lambda: webhooks.retry_message(rt.db, site_id=site.id, message_row=message_id, now=utcnow())
    )
    request.app.state.sender.wake()
    return Response(status_code=204)
