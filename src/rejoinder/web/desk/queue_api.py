"""The desk for scripts: JSON under /api/v1/admin (bearer token, or a session + X-CSRF-Token)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rejoinder.core.errors import Invalid
from rejoinder.core.models import QUEUE_TABS, QueueFilters
from rejoinder.runtime import utcnow
from rejoinder.usecases import desk
from rejoinder.web.admin_schemas import ActionOut, BulkOut, QueueCountsOut, QueueOut
from rejoinder.web.deps import ApiStaffDep, RuntimeDep, get_api_staff
from rejoinder.web.desk.queue import QueueParamsDep, actor_of, parse_filters
from rejoinder.web.errors import ADMIN_API_ERRORS, ApiError
from rejoinder.web.params import PathId, parse_cursor
from rejoinder.web.rendering import iso
from rejoinder.web.schemas import ActionIn, BulkIn, json_body

# Every call here is made by someone at the desk: checked first, before anything else is.
router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    dependencies=[Depends(get_api_staff)],
)


def _json(content: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(content),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent, or {} for an empty body."""
    raw = await request.body()
    if not raw.strip():
        return {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(422, "The body is a JSON object.")
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "days":
        return str(value)
    if not isinstance(value, str):
        raise Invalid(name, f"{name} is a string.")
    return value


def item_out(shown: desk.Shown) -> dict[str, Any]:
    it = shown.item
    return {
        "id": it.id,
        "kind": it.kind,
        "status": it.status,
        "number": it.number or None,
        "article": {"id": it.article_id, "slug": it.article_slug, "title": it.article_title},
        "parent_id": it.parent_id,
        "parent": {
            "author": shown.parent.author_name,
            "body": shown.parent.body,
            "status": shown.parent.status,
        }
        if shown.parent
        else None,
        "author": {"name": it.author_name, "email": it.author_email, "website": it.author_website},
        "ip_group": it.ip_group_hash[:8] if it.ip_group_hash else None,
        "body": it.body,
        "created_at": iso(it.created_at),
        "verdict": shown.verdict,
        "reasons": [
            {"code": r.code, "message": r.message, "action": r.action} for r in shown.reasons
        ],
        "marked": list(shown.marked),
        "scores": dict(shown.scores),
        "history": shown.history,
        "featured": it.featured,
        "pinned": it.pinned,
        "report_count": it.report_count,
        "hidden": it.hidden,
        "moderated_by": it.moderated_by,
        "moderated_at": iso(it.moderated_at) if it.moderated_at else None,
    }


@router.get("/counts", response_model=QueueCountsOut, summary="Every queue's count")
async def counts(rt: RuntimeDep, staff: ApiStaffDep) -> Response:
    site = staff.site
    found = await run_in_threadpool(desk.read_counts, rt.db, site_id=site.id, now=utcnow())
    return _json({"counts": found})


@router.get(
    "/queues/{tab}",
    response_model=QueueOut,
    summary="A page of a queue: held, reported, published, refused, all",
)
async def queue(
    tab: Annotated[str, Path(json_schema_extra={"enum": list(QUEUE_TABS)})],
    rt: RuntimeDep,
    staff: ApiStaffDep,
    params: QueueParamsDep,
) -> Response:
    site = staff.site
    if tab not in QUEUE_TABS:
        raise ApiError(404, f"There is no such queue; they are {', '.join(QUEUE_TABS)}.")
    filters = parse_filters(params) if tab == "all" else QueueFilters()
    page = await run_in_threadpool(
        desk.read_queue,
        rt.db,
        site_id=site.id,
        tab=tab,
        cursor=parse_cursor(params["cursor"]),
        now=utcnow(),
        filters=filters,
    )
    return _json(
        {
            "queue": tab,
            "counts": page.counts,
            "next_cursor": page.next_cursor,
            "items": [item_out(shown) for shown in page.items],
        }
    )


@router.post(
    "/comments/bulk",
    response_model=BulkOut,
    summary="Approve or reject several comments",
    openapi_extra=json_body(BulkIn),
)
async def bulk(request: Request, staff: ApiStaffDep, rt: RuntimeDep) -> Response:
    site = staff.site
    body = await _body(request)
    ids = body.get("ids", [])
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise Invalid("ids", "ids is a list of comment ids.")
    result = await run_in_threadpool(
        desk.bulk,
        rt.db,
        rt.events,
        _text(body, "action"),
        site_id=site.id,
        ids=ids,
        actor=actor_of(staff),
        note=_text(body, "note"),
        now=utcnow(),
        seen=_text(body, "seen"),
    )
    found = await run_in_threadpool(desk.read_counts, rt.db, site_id=site.id, now=utcnow())
    return _json(
        {
            "done": [
                {"id": o.comment_id, "status": o.status, "message": o.message} for o in result.done
            ],
            "failed": [{"id": i, "message": m} for i, m in result.failed],
            "counts": found,
        }
    )


@router.post(
    "/comments/{comment_id}/{action}",
    response_model=ActionOut,
    summary=(
        "approve, reject, edit {body}, feature, unfeature, pin, unpin, ban {kind, days}; "
        "note optional"
    ),
    openapi_extra=json_body(ActionIn, required=False),
)
async def act(
    request: Request,
    comment_id: PathId,
    action: Annotated[str, Path(json_schema_extra={"enum": list(desk.ACTIONS)})],
    staff: ApiStaffDep,
    rt: RuntimeDep,
) -> Response:
    site = staff.site
    if action not in desk.ACTIONS:
        raise ApiError(404, f"There is no such action; they are {', '.join(desk.ACTIONS)}.")
    body = await _body(request)
    fields = {name: _text(body, name) for name in ("note", "body", "kind", "days", "seen")}
    outcome = await run_in_threadpool(
        desk.act,
        rt.db,
        rt.events,
        action,
        site_id=site.id,
        comment_id=comment_id,
        actor=actor_of(staff),
        fields=fields,
        limits=rt.limits,
        now=utcnow(),
    )
    return _json(
        {
            "id": outcome.comment_id,
            "action": outcome.action,
            "status": outcome.status,
            "message": outcome.message,
        }
    )
