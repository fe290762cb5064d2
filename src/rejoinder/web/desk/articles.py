"""The desk's Articles page (articles.html): closing and reopening discussions, which any
moderator may, and editing (article_edit.html) and deleting (article_delete.html, a
confirmation first) an article, which only an admin of the site may. The same under
/api/v1/admin/articles: POST .../{slug}/close and /open, PATCH .../{slug}, and
DELETE .../{slug}?confirm={slug}. Each is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Conflict, Invalid, NotFound
from rejoinder.core.models import Article, Site
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import articles, desk
from rejoinder.web.admin_schemas import ArticleDeletedOut, ArticleManagedOut, DiscussionOut
from rejoinder.web.deps import (
    ApiAdminDep,
    ApiStaffDep,
    DeskStaffDep,
    JsonDep,
    RuntimeDep,
    Staff,
    check_csrf,
    get_api_staff,
)
from rejoinder.web.desk.queue import actor_of
from rejoinder.web.errors import ADMIN_API_ERRORS, ApiError
from rejoinder.web.rendering import as_typed, iso
from rejoinder.web.schemas import ArticleEditIn, NoteIn, json_body

router = APIRouter()
DONE = {"close": "Closed the discussion.", "open": "Reopened the discussion."}
FLASH = {**DONE, "edit": "Saved the article.", "delete": "Deleted the article and its discussion."}
Change = Literal["close", "open"]


async def _page(
    request: Request,
    staff: Staff,
    rt: Runtime,
    site: Site,
    *,
    flash: str = "",
    warning: str = "",
    status: int = 200,
) -> Response:
    found = await run_in_threadpool(
        lambda: desk.list_discussions(rt.db, site_id=site.id, now=utcnow())
    )
    body = request.app.state.render(
        "desk/articles.html",
        staff=staff,
        tab="articles",
        target=site,
        discussions=found,
        flash=flash,
        warning=warning,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/admin/articles", include_in_schema=False)
async def articles_page(
    request: Request, staff: DeskStaffDep, rt: RuntimeDep, done: str = ""
) -> Response:
    return await _page(request, staff, rt, staff.site, flash=FLASH.get(done, ""))


async def _change(
    rt: Runtime, site: Site, staff: Staff, slug: str, change: Change, note: str
) -> desk.Discussion:
    return await run_in_threadpool(
        lambda: desk.set_discussion_open(
            rt.db,
            rt.events,
            site_id=site.id,
            slug=slug,
            is_open=change == "open",
            actor=actor_of(staff),
            note=note,
            now=utcnow(),
        )
    )


ADMINS_ONLY = "Only an admin of the site can edit or delete articles."
# The edit form's fields, in its order, as `core.articlefile.EDITABLE` names them.
FORM_FIELDS = ("title", "dek", "author", "body", "source_name", "source_url", "published")


def _values(article: Article) -> dict[str, str]:
    return {
        "title": article.title,
        "dek": article.dek,
        "author": article.author,
        "body": article.body_markdown,
        "source_name": article.source_name or "",
        "source_url": article.source_url or "",
        "published": iso(article.published_at),
    }


def _edit_page(
    request: Request,
    staff: Staff,
    site: Site,
    article: Article,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    note: str = "",
    status: int = 200,
) -> Response:
    body = request.app.state.render(
        "desk/article_edit.html",
        staff=staff,
        tab="articles",
        target=site,
        article=article,
        values={k: as_typed(v) for k, v in (values or _values(article)).items()},
        errors=errors or {},
        note=as_typed(note),
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def _admin_article(
    request: Request, staff: Staff, rt: Runtime, slug: str
) -> tuple[Site, Article | None, Response | None]:
    """The site and the article an admin's edit or delete is about; for anyone else, or for
    no such article, the Articles page saying why (403, 404) instead."""
    if not staff.user.is_admin:
        return (
            staff.site,
            None,
            await _page(request, staff, rt, staff.site, warning=ADMINS_ONLY, status=403),
        )
    site = staff.site
    try:
        found = await run_in_threadpool(articles.get_article, rt.db, site.id, slug)
    except NotFound as error:
        return site, None, await _page(request, staff, rt, site, warning=error.message, status=404)
    return site, found, None


async def _desk_form(request: Request, staff: Staff) -> dict[str, str]:
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception:  # a body that is not a form: no token in it, so the CSRF check refuses
        form = {}
    check_csrf(staff, form.get("csrf", ""))
    return form


@router.get("/admin/articles/{slug}/edit", include_in_schema=False)
async def edit_form(request: Request, slug: str, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    site, article, refused = await _admin_article(request, staff, rt, slug)
    if refused is not None or article is None:
        return refused or Response(status_code=404)
    return _edit_page(request, staff, site, article)


@router.post("/admin/articles/{slug}/edit", include_in_schema=False)
async def edit_from_desk(
    request: Request, slug: str, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    form = await _desk_form(request, staff)
    site, article, refused = await _admin_article(request, staff, rt, slug)
    if refused is not None or article is None:
        return refused or Response(status_code=404)
    current = _values(article)
    values = {name: form.get(name, current[name]) for name in FORM_FIELDS}  # absent: unchanged
    changes = {k: v for k, v in values.items() if v.replace("\r\n", "\n") != current[k]}
    try:
        await run_in_threadpool(
            lambda: articles.edit_article(
                rt.db,
                rt.events,
                site_id=site.id,
                slug=slug,
                changes=changes,
                actor=actor_of(staff),
                note=form.get("note", ""),
                now=utcnow(),
            )
        )
    except Invalid as error:
        field = error.field if error.field in (*FORM_FIELDS, "note") else "title"
        return _edit_page(
            request,
            staff,
            site,
            article,
            values=values,
            errors={field: error.message},
            note=form.get("note", ""),
            status=422,
        )
    except (NotFound, Conflict) as error:
        status = 404 if isinstance(error, NotFound) else 409
        return await _page(request, staff, rt, site, warning=error.message, status=status)
    back = urlencode({"site": site.name, "done": "edit"})
    return RedirectResponse(f"/admin/articles?{back}", status_code=303)


@router.get("/admin/articles/{slug}/delete", include_in_schema=False)
async def delete_form(request: Request, slug: str, staff: DeskStaffDep, rt: RuntimeDep) -> Response:
    """The confirmation: what goes (the article, its comments), and one button."""
    site, article, refused = await _admin_article(request, staff, rt, slug)
    if refused is not None or article is None:
        return refused or Response(status_code=404)
    body = request.app.state.render(
        "desk/article_delete.html", staff=staff, tab="articles", target=site, article=article
    )
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/admin/articles/{slug}/delete", include_in_schema=False)
async def delete_from_desk(
    request: Request, slug: str, staff: DeskStaffDep, rt: RuntimeDep
) -> Response:
    form = await _desk_form(request, staff)
    site, article, refused = await _admin_article(request, staff, rt, slug)
    if refused is not None or article is None:
        return refused or Response(status_code=404)
    if form.get("confirm", "") != article.slug:
        return await _page(
            request,
            staff,
            rt,
            site,
            warning="Nothing was deleted: confirm on the article's Delete page.",
            status=422,
        )
    try:
        await run_in_threadpool(
            lambda: articles.delete_article(
                rt.db,
                rt.events,
                site_id=site.id,
                slug=slug,
                actor=actor_of(staff),
                note=form.get("note", ""),
                now=utcnow(),
            )
        )
    except (NotFound, Invalid) as error:
        status = 404 if isinstance(error, NotFound) else 422
        return await _page(request, staff, rt, site, warning=error.message, status=status)
    back = urlencode({"site": site.name, "done": "delete"})
    return RedirectResponse(f"/admin/articles?{back}", status_code=303)


@router.post("/admin/articles/{slug}/{change}", include_in_schema=False)
async def change_from_desk(
    request: Request,
    slug: str,
    change: str,
    staff: DeskStaffDep,
    rt: RuntimeDep,
) -> Response:
    site = staff.site
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except Exception:  # a body that is not a form: no token in it, so the CSRF check refuses
        form = {}
    check_csrf(staff, form.get("csrf", ""))
    if change not in DONE:
        return await _page(request, staff, rt, site, warning="Close or open.", status=404)
    try:
        await _change(
            rt, site, staff, slug, "open" if change == "open" else "close", form.get("note", "")
        )
    except (Conflict, Invalid) as error:
        status = 409 if isinstance(error, Conflict) else 422
        return await _page(request, staff, rt, site, warning=error.message, status=status)
    back = urlencode({"site": site.name, "done": change})
    return RedirectResponse(f"/admin/articles?{back}", status_code=303)


def discussion_out(found: desk.Discussion) -> dict[str, Any]:
    article, state = found.article, found.state
    return {
        "slug": article.slug,
        "title": article.title,
        "comments_open": state.is_open,
        "closed_by": state.closed_by.value if state.closed_by else None,
        "closed_at": iso(state.closed_at) if state.closed_at else None,
        "reopened_at": iso(article.reopened_at) if article.reopened_at else None,
    }


async def _note(request: Request) -> str:
    """The optional JSON body's note ("" without a body)."""
    raw = await request.body()
    if not raw.strip():
        return ""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "Send the body as JSON with Content-Type: application/json.")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(422, "The body is a JSON object.")
    note = value.get("note", "")
    if not isinstance(note, str):
        raise Invalid("note", "The note is a string.")
    return note


@router.post(
    "/api/v1/admin/articles/{slug}/{change}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=DiscussionOut,
    summary="Close an article's discussion, or open it again (which restarts close_after_days)",
    openapi_extra=json_body(NoteIn, required=False),
    dependencies=[Depends(get_api_staff)],
)
async def change_from_api(
    request: Request,
    slug: str,
    change: Annotated[str, Path(json_schema_extra={"enum": list(DONE)})],
    staff: ApiStaffDep,
    rt: RuntimeDep,
) -> Response:
    target = staff.site
    if change not in DONE:
        raise ApiError(404, "There is no such change; they are close and open.")
    note = await _note(request)
    found = await _change(rt, target, staff, slug, "open" if change == "open" else "close", note)
    return Response(
        orjson.dumps(discussion_out(found)),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def managed_out(rt: Runtime, site: Site, article: Article) -> dict[str, Any]:
    """An article as the admin API answers an edit."""
    return {
        "slug": article.slug,
        "title": article.title,
        "dek": article.dek,
        "author": article.author,
        "body": article.body_markdown,
        "published_at": iso(article.published_at),
        "source_name": article.source_name,
        "source_url": article.source_url,
        "comment_count": article.comment_count,
        "url": rt.site_url(site, f"/articles/{article.slug}"),
    }


def _edit_body(data: Any) -> tuple[dict[str, str], str]:
    """The changes and the note of an edit's JSON body, each value checked to be a string."""
    if not isinstance(data, dict):
        raise ApiError(422, "The body is a JSON object of the fields to change.")
    changes: dict[str, str] = {}
    for key, value in data.items():
        if key != "note" and key not in FORM_FIELDS:
            raise Invalid(key, f"{key!r} cannot be changed; these can: {', '.join(FORM_FIELDS)}.")
        if value is None and key in ("dek", "source_name", "source_url"):
            value = ""  # null clears an optional field
        if not isinstance(value, str):
            raise Invalid(key, f"{key} is a string.")
        if key != "note":
            changes[key] = value
    note = data.get("note", "")
    return changes, note


def _json_response(content: dict[str, Any]) -> Response:
    return Response(
        orjson.dumps(content), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


@router.patch(
    "/api/v1/admin/articles/{slug}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=ArticleManagedOut,
    summary="Edit an article: title, dek, author, body, source, publication time (admins)",
    openapi_extra=json_body(ArticleEditIn),
)
async def edit_from_api(
    slug: Annotated[str, Path(max_length=120)], staff: ApiAdminDep, data: JsonDep, rt: RuntimeDep
) -> Response:
    site = staff.site
    changes, note = _edit_body(data)
    article, _names = await run_in_threadpool(
        lambda: articles.edit_article(
            rt.db,
            rt.events,
            site_id=site.id,
            slug=slug,
            changes=changes,
            actor=actor_of(staff),
            note=note,
            now=utcnow(),
        )
    )
    return _json_response(managed_out(rt, site, article))


@router.delete(
    "/api/v1/admin/articles/{slug}",
    tags=["admin"],
    responses=ADMIN_API_ERRORS,
    response_model=ArticleDeletedOut,
    summary="Delete an article and its whole discussion (admins; ?confirm= repeats the slug)",
)
async def delete_from_api(
    slug: Annotated[str, Path(max_length=120)],
    staff: ApiAdminDep,
    rt: RuntimeDep,
    confirm: Annotated[
        str,
        Query(
            max_length=120,
            description="The article's slug again: a deletion cannot be undone, so the call "
            "names what it deletes twice.",
        ),
    ] = "",
    note: Annotated[str, Query(max_length=1000, description="Why, for the audit log.")] = "",
) -> Response:
    site = staff.site
    if confirm != slug:
        raise Invalid("confirm", "To delete, repeat the article's slug: ?confirm=SLUG.")
    gone = await run_in_threadpool(
        lambda: articles.delete_article(
            rt.db,
            rt.events,
            site_id=site.id,
            slug=slug,
            actor=actor_of(staff),
            note=note,
            now=utcnow(),
        )
    )
    return _json_response({"deleted": gone.slug, "title": gone.title, "comments": gone.comments})
