"""Webhooks in the desk (/admin/webhooks: add, pause, resume, rotate the secret, send a test
event, remove; the latest deliveries of each) and the same under /api/v1/admin/webhooks.
Admins only; the secret is shown once, in the answer that made or rotated it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core import webhooks as rules
from rejoinder.core.errors import Invalid, InvalidMany, NotFound
from rejoinder.core.webhooks import Delivery, Endpoint
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import webhooks
from rejoinder.web.admin_schemas import (
    WebhookList,
    WebhookOut,
    WebhookTestOut,
    WebhookWithSecret,
)
from rejoinder.web.deps import ApiAdminDep, DeskStaffDep, JsonDep, RuntimeDep, Staff, check_csrf
from rejoinder.web.errors import ADMIN_API_ERRORS
from rejoinder.web.rendering import as_typed, iso
from rejoinder.web.schemas import WebhookIn, WebhookPatch, json_body

router = APIRouter()
WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The webhook's id.")]
DONE = {
    "paused": "Paused: no events are sent to it until it is resumed.",
    "resumed": "Resumed: events are sent to it again.",
    "removed": "Webhook removed.",
    "tested": "A test event is on its way; its delivery shows below in a moment.",
    "saved": "Webhook saved.",
}
ACTIONS = ("pause", "resume", "remove", "test", "rotate", "edit")


def actor_of(staff: Staff) -> webhooks.Actor:
    return webhooks.Actor(kind=staff.actor_kind, name=staff.user.name)


def _wake(request: Request) -> None:
    request.app.state.sender.wake()


# The desk.


async def _page(
    request: Request,
    rt: Runtime,
    staff: Staff,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    made: webhooks.Made | None = None,
    flash: str = "",
    warning: str = "",
    status: int = 200,
) -> Response:
    forbidden = not staff.user.is_admin
    site = staff.site
    found = (
        []
        if forbidden
        else await run_in_threadpool(lambda: webhooks.list_endpoints(rt.db, site.id))
    )
    shown = values or {"url": "", "events": list(rules.EVENTS), "notify": ""}
    body = request.app.state.render(
        "desk/webhooks.html",
        staff=staff,
        tab="webhooks",
        target=site,
        forbidden=forbidden,
        endpoints=found,
        paused=[view.endpoint for view in found if not view.endpoint.active],
        all_events=rules.EVENTS,
        values={
            "url": as_typed(str(shown.get("url", ""))),
            "notify": as_typed(str(shown.get("notify", ""))),
            "events": list(shown.get("events", [])),
        },
        errors=errors or {},
        made=made,
        flash=flash,
        warning=warning,
    )
    return HTMLResponse(
        body, status_code=403 if forbidden else status, headers={"Cache-Control": "no-store"}
    )


@router.get("/admin/webhooks", include_in_schema=False)
async def webhooks_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = ""
) -> Response:
    return await _page(request, rt, staff, flash=DONE.get(done, ""))


async def _form(request: Request, staff: Staff) -> tuple[dict[str, str], list[str]]:
    try:
        form = await request.form()
    except Exception:  # not a form: no token in it, so the CSRF check refuses
        check_csrf(staff, "")
        raise
    check_csrf(staff, str(form.get("csrf", "")))
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    events = [v for v in form.getlist("events") if isinstance(v, str)]
    return fields, events


@router.post("/admin/webhooks", include_in_schema=False)
async def add_from_desk(request: Request, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    if not staff.user.is_admin:
        return await _page(request, rt, staff)
    form, events = await _form(request, staff)
    site = staff.site
    try:
        made = await run_in_threadpool(
            lambda: webhooks.add_endpoint(
                rt.db,
                site_id=site.id,
                url=form.get("url", ""),
                events=events,
                notify=form.get("notify", ""),
                allow_private=rt.settings.webhooks_allow_private,
                actor=actor_of(staff),
                now=utcnow(),
            )
        )
    except InvalidMany as error:
        found: dict[str, str] = {}
        for each in error.errors:
            found.setdefault(each.field or "url", each.message)
        values = {"url": form.get("url", ""), "notify": form.get("notify", ""), "events": events}
        return await _page(request, rt, staff, values=values, errors=found, status=422)
    return await _page(request, rt, staff, made=made, status=201)


@router.post("/admin/webhooks/{webhook_id}/{action}", include_in_schema=False)
async def act_from_desk(
    request: Request, webhook_id: WebhookId, action: str, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    if not staff.user.is_admin:
        return await _page(request, rt, staff)
    form, events = await _form(request, staff)
    if action not in ACTIONS:
        return await _page(request, rt, staff, warning="No such action.", status=404)
    site, now = staff.site, utcnow()
    try:
        if action == "rotate":
            made = await run_in_threadpool(
                lambda: webhooks.rotate_secret(
                    rt.db, site_id=site.id, webhook_id=webhook_id, actor=actor_of(staff), now=now
                )
            )
            return await _page(request, rt, staff, made=made)
        if action == "edit":
            try:
                await run_in_threadpool(
                    lambda: webhooks.change_endpoint(
                        rt.db,
                        site_id=site.id,
                        webhook_id=webhook_id,
                        actor=actor_of(staff),
                        now=now,
                        allow_private=rt.settings.webhooks_allow_private,
                        url=form.get("url", ""),
                        events=events,
                        notify=form.get("notify", ""),
                    )
                )
            except Invalid as error:
                errors = {f"{webhook_id}-{error.field}": error.message}
                return await _page(request, rt, staff, errors=errors, status=422)
            done = "saved"
        elif action == "remove":
            await run_in_threadpool(
                lambda: webhooks.remove_endpoint(
                    rt.db, site_id=site.id, webhook_id=webhook_id, actor=actor_of(staff), now=now
                )
            )
            done = "removed"
        elif action == "test":
            await run_in_threadpool(
                lambda: webhooks.send_test(rt.db, site_id=site.id, webhook_id=webhook_id, now=now)
            )
            _wake(request)
            done = "tested"
        else:
            await run_in_threadpool(
                lambda: webhooks.change_endpoint(
                    rt.db,
                    site_id=site.id,
                    webhook_id=webhook_id,
                    actor=actor_of(staff),
                    now=now,
                    allow_private=rt.settings.webhooks_allow_private,
                    active=action == "resume",
                )
            )
            done = "resumed" if action == "resume" else "paused"
    except NotFound as error:
        return await _page(request, rt, staff, warning=error.message, status=404)
    back = urlencode({"site": site.name, "done": done})
    return RedirectResponse(f"/admin/webhooks?{back}", status_code=303)


# The admin API.


def delivery_out(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery": delivery.message_id,
        "event": delivery.event,
        "attempt": delivery.attempt,
        "status_code": delivery.status_code,
        "ok": delivery.ok,
        "error": delivery.error,
        "at": iso(delivery.at),
    }


def webhook_out(endpoint: Endpoint, deliveries: tuple[Delivery, ...] = ()) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "paused_reason": endpoint.paused_reason,
        "notify": endpoint.notify,
        "failures": endpoint.failures,
        "created_at": iso(endpoint.created_at),
        "deliveries": [delivery_out(each) for each in deliveries],
    }


def _json(value: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(value),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid("url", "The body is a JSON object of the webhook's fields.")
    return data


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise Invalid(name, f"{name} is a string.")
    return value


def _events(data: dict[str, Any]) -> list[str] | None:
    value = data.get("events")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(each, str) for each in value):
        raise Invalid("events", "events is a list of event names.")
    return list(value)


@router.get(
    "/api/v1/admin/webhooks",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=WebhookList,
    summary="The site's webhooks (admins)",
)
async def list_webhooks(staff: ApiAdminDep, rt: RuntimeDep) -> Response:
    site = staff.site
    found = await run_in_threadpool(lambda: webhooks.list_endpoints(rt.db, site.id))
    return _json({"webhooks": [webhook_out(v.endpoint, v.deliveries) for v in found]})


@router.post(
    "/api/v1/admin/webhooks",
    tags=["admin"],
    status_code=201,
    responses=ADMIN_API_ERRORS,
    response_model=WebhookWithSecret,
    summary="Add a webhook; the answer holds its secret, which is never shown again (admins)",
    openapi_extra=json_body(WebhookIn),
)
async def post_webhook(staff: ApiAdminDep, data: JsonDep, rt: RuntimeDep) -> Response:
    site, fields = staff.site, _object(data)
    unknown = sorted(set(fields) - {"url", "events", "notify"})
    if unknown:
        raise Invalid(unknown[0], f"There is no field {unknown[0]!r}.")
    url, notify, events = _text(fields, "url") or "", _text(fields, "notify"), _events(fields)
    made = await run_in_threadpool(
        lambda: webhooks.add_endpoint(
            rt.db,
            site_id=site.id,
            url=url,
            events=events or [],
            notify=notify,
            allow_private=rt.settings.webhooks_allow_private,
            actor=actor_of(staff),
            now=utcnow(),
        )
    )
    return _json({**webhook_out(made.endpoint), "secret": made.secret}, status=201)


@router.get(
    "/api/v1/admin/webhooks/{webhook_id}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=WebhookOut,
    summary="One webhook with its latest deliveries (admins)",
)
async def get_webhook(webhook_id: WebhookId, staff: ApiAdminDep, rt: RuntimeDep) -> Response:
    site = staff.site
    found = await run_in_threadpool(lambda: webhooks.get_endpoint(rt.db, site.id, webhook_id))
    return _json(webhook_out(found.endpoint, found.deliveries))


@router.patch(
    "/api/v1/admin/webhooks/{webhook_id}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=WebhookOut,
    summary="Change a webhook's URL, events or notify address, or pause or resume it (admins)",
    openapi_extra=json_body(WebhookPatch),
)
async def patch_webhook(
    webhook_id: WebhookId, staff: ApiAdminDep, data: JsonDep, rt: RuntimeDep
) -> Response:
    site, fields = staff.site, _object(data)
    unknown = sorted(set(fields) - {"url", "events", "notify", "active"})
    if unknown:
        raise Invalid(unknown[0], f"There is no field {unknown[0]!r}.")
    active = fields.get("active")
    if active is not None and not isinstance(active, bool):
        raise Invalid("active", "active is true or false.")
    url, notify, events = _text(fields, "url"), _text(fields, "notify"), _events(fields)
    changed = await run_in_threadpool(
        lambda: webhooks.change_endpoint(
            rt.db,
            site_id=site.id,
            webhook_id=webhook_id,
            actor=actor_of(staff),
            now=utcnow(),
            allow_private=rt.settings.webhooks_allow_private,
            url=url,
            events=events,
            notify=notify,
            active=active,
        )
    )
    return _json(webhook_out(changed))


@router.delete(
    "/api/v1/admin/webhooks/{webhook_id}",
    tags=["admin"],
    status_code=204,
    responses=ADMIN_API_ERRORS,
    summary="Remove a webhook and its delivery log (admins)",
)
async def delete_webhook(webhook_id: WebhookId, staff: ApiAdminDep, rt: RuntimeDep) -> Response:
    site = staff.site
    await run_in_threadpool(
        lambda: webhooks.remove_endpoint(
            rt.db, site_id=site.id, webhook_id=webhook_id, actor=actor_of(staff), now=utcnow()
        )
    )
    return Response(status_code=204)


@router.post(
    "/api/v1/admin/webhooks/{webhook_id}/rotate",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=WebhookWithSecret,
    summary="A new secret for a webhook, shown this once (admins)",
)
async def rotate_webhook(webhook_id: WebhookId, staff: ApiAdminDep, rt: RuntimeDep) -> Response:
    site = staff.site
    made = await run_in_threadpool(
        lambda: webhooks.rotate_secret(
            rt.db, site_id=site.id, webhook_id=webhook_id, actor=actor_of(staff), now=utcnow()
        )
    )
    return _json({**webhook_out(made.endpoint), "secret": made.secret})


@router.post(
    "/api/v1/admin/webhooks/{webhook_id}/test",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=WebhookTestOut,
    summary="Send a test event (webhook.test) to a webhook, paused or not (admins)",
)
async def test_webhook(
    request: Request, webhook_id: WebhookId, staff: ApiAdminDep, rt: RuntimeDep
) -> Response:
    site = staff.site
    delivery = await run_in_threadpool(
        lambda: webhooks.send_test(rt.db, site_id=site.id, webhook_id=webhook_id, now=utcnow())
    )
    _wake(request)
    return _json({"delivery": delivery})
