"""The audit log at the desk (/admin/audit) and in the admin API: read-only, filtered, paged."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.errors import Invalid
from rejoinder.core.models import AuditEntry
from rejoinder.runtime import Runtime
from rejoinder.usecases import audit
from rejoinder.web.admin_schemas import AuditOut
from rejoinder.web.deps import ApiStaffDep, DeskStaffDep, RuntimeDep, Staff
from rejoinder.web.errors import ADMIN_API_ERRORS, ApiError
from rejoinder.web.params import parse_int, parse_since, parse_until

PAGE = 100
router = APIRouter()


@dataclass
class AuditFilter:
    """The filters of the form, as typed (to fill the form again) and as parsed."""

    action: str = ""
    actor: str = ""
    comment: str = ""
    since: str = ""
    until: str = ""
    before: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, Any]:
        """Arguments for `list_entries`; unparseable values were put in `errors` instead."""
        args: dict[str, Any] = {
            "action": self.action or None,
            "actor": self.actor or None,
        }
        parsers: dict[str, tuple[str, Callable[[], object]]] = {
            "comment": (
                "comment_id",
                lambda: parse_int(self.comment, "comment", "A comment number is digits only."),
            ),
            "before": (
                "before_id",
                lambda: parse_int(self.before, "before", "That is not a position in the log."),
            ),
            "since": ("since", lambda: parse_since(self.since, "since")),
            "until": ("until", lambda: parse_until(self.until, "until")),  # the whole day
        }
        for key, (target, parse) in parsers.items():
            try:
                value = parse()
            except Invalid as bad:
                self.errors[key] = bad.message
                continue
            if value is not None:
                args[target] = value
        return args

    def link(self, **changes: str) -> str:
        values = {
            "action": self.action,
            "actor": self.actor,
            "comment": self.comment,
            "since": self.since,
            "until": self.until,
            "before": self.before,
            **changes,
        }
        kept = {k: v for k, v in values.items() if v}
        return "/admin/audit" + (f"?{urlencode(kept)}" if kept else "")


def _filter(
    action: str = "",
    actor: str = "",
    comment: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
) -> AuditFilter:
    """The filters from the query, as typed (trimmed)."""

    def typed(value: str) -> str:
        return value.strip()[:200]

    return AuditFilter(
        action=typed(action),
        actor=typed(actor),
        comment=typed(comment),
        since=typed(since),
        until=typed(until),
        before=typed(before),
    )


AuditFilterDep = Annotated[AuditFilter, Depends(_filter)]


def _list(rt: Runtime, staff: Staff, args: dict[str, Any]) -> list[AuditEntry]:
    """One page and one entry more (to know whether there is an older page). An account
    limited to some sites reads the entries of the site it acts on, and only those."""
    site_id = staff.site.id if staff.user.is_limited else None
    return audit.list_entries(rt.db, limit=PAGE + 1, site_id=site_id, **args)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def data_items(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The entry's data in a few short lines: reason codes, scores, then anything else."""
    items: list[tuple[str, str]] = []
    for key, value in data.items():
        if key == "reasons" and isinstance(value, list):
            codes = [str(r.get("code", "?")) if isinstance(r, dict) else str(r) for r in value]
            items.append(("reasons", ", ".join(codes) or "none"))
        elif key == "scores" and isinstance(value, dict):
            parts = [
                f"{name} {score:.2f}" if isinstance(score, int | float) else f"{name} {score}"
                for name, score in sorted(value.items())
            ]
            items.append(("scores", ", ".join(parts) or "none"))
        else:
            text = value if isinstance(value, str) else _compact(value)
            items.append((key, text if len(text) <= 300 else text[:299] + "…"))
    return items


@router.get("/admin/audit", include_in_schema=False)
async def audit_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, wanted: AuditFilterDep
) -> Response:
    args = wanted.query()
    entries = await run_in_threadpool(_list, rt, staff, args) if not wanted.errors else []
    older = ""
    if len(entries) > PAGE:
        entries = entries[:PAGE]
        older = wanted.link(before=str(entries[-1].id))
    body = request.app.state.render(
        "desk/audit.html",
        staff=staff,
        tab="audit",
        entries=entries,
        wanted=wanted,
        older=older,
        newest=wanted.link(before="") if wanted.before else "",
        data_items=data_items,
    )
    status = 422 if wanted.errors else 200
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return entry.to_dict(timespec="seconds")


@router.get(
    "/api/v1/admin/audit",
    tags=["admin"],
    response_model=AuditOut,
    responses=ADMIN_API_ERRORS,
    summary="The audit log, newest first (filters as in the desk)",
)
async def audit_api(rt: RuntimeDep, staff: ApiStaffDep, wanted: AuditFilterDep) -> Response:
    args = wanted.query()
    if wanted.errors:
        key, message = next(iter(wanted.errors.items()))
        raise ApiError(422, message, field=key)
    entries = await run_in_threadpool(_list, rt, staff, args)
    more = len(entries) > PAGE
    entries = entries[:PAGE]
    payload = {
        "entries": [entry_json(e) for e in entries],
        "next_before": entries[-1].id if more else None,
    }
    response = Response(json.dumps(payload, ensure_ascii=False), media_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
