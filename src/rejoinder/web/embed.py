"""The discussion embedded in pages Rejoinder does not host: the widget's files, its one
HTML fragment, its posts, edits and deletions (CORS for them: `web/origins.py`).

``<script src=".../embed.js" data-site="news" async>`` loads `static/embed.js`, which asks
``GET /embed/{site}/thread`` for the page's discussion as HTML: the same comment markup as
the article page (`_comments.html`), with the reply form and schema.org markup. A crawler
or a server-side include can fetch the same address. Only a request whose Origin is on the
site's list may make a page's discussion or post to it; a browser on any other origin is
refused (403) and cannot read the answers (no CORS headers for it).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rejoinder.core.embed import is_allowed_origin, page_ref
from rejoinder.core.models import (
    Article,
    PublicComment,
    Site,
    Sort,
    Status,
    ThreadNode,
)
from rejoinder.core.structured_data import discussion_markup
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import discussion, embed, verification
from rejoinder.web.admin_schemas import EmbeddingOut
from rejoinder.web.api import post_json_comment, run_check
from rejoinder.web.deps import ApiAdminDep, IdentityDep, JsonBody, JsonDep, RuntimeDep, site_for
from rejoinder.web.errors import ADMIN_API_ERRORS, API_ERRORS, ApiError
from rejoinder.web.i18n import language_of
from rejoinder.web.origins import EDIT_HEADER
from rejoinder.web.pages import FormValues
from rejoinder.web.params import CURSOR, SORTS, PathId, parse_cursor, parse_sort
from rejoinder.web.readcache import ReadCache
from rejoinder.web.rendering import ld_json
from rejoinder.web.schemas import ArticleOut, CheckIn, CommentEdit, CommentIn, article_out
from rejoinder.web.schemas import comment_out as comment_json

STATIC = Path(__file__).with_name("static")
_ASSETS = {
    "/embed.js": ("embed.js", "text/javascript; charset=utf-8"),
    "/embed.css": ("embed.css", "text/css; charset=utf-8"),
    "/count.js": ("count.js", "text/javascript; charset=utf-8"),
}

router = APIRouter(tags=["embed"], responses=API_ERRORS)
admin_router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ADMIN_API_ERRORS)


# The widget's files, read on first use and kept.

_files: dict[str, bytes] = {}


def _asset(path: str) -> Response:
    name, media = _ASSETS[path]
    if name not in _files:
        _files[name] = (STATIC / name).read_bytes()
    # Host pages load these on every view: a short cache, then a revalidation by ETag.
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
    return Response(_files[name], media_type=media, headers=headers)


@router.get("/embed.js", include_in_schema=False)
async def embed_js() -> Response:
    return _asset("/embed.js")


@router.get("/embed.css", include_in_schema=False)
async def embed_css() -> Response:
    return _asset("/embed.css")


@router.get("/count.js", include_in_schema=False)
async def count_js() -> Response:
    return _asset("/count.js")


async def _site(rt: Runtime, name: str) -> Site:
    """The site a widget call names, read afresh: its origins may have just changed."""
    return await run_in_threadpool(rt.site_named, name)


def _require_origin(request: Request, site: Site) -> None:
    """Making or changing anything needs an Origin on the site's list: a browser cannot
    forge its Origin, so no other site's page can post here."""
    origin = request.headers.get("origin")
    if not is_allowed_origin(origin, site.origins):
        raise ApiError(403, f"The site {site.name!r} is not embedded on this origin.")


# The fragment.


def _page_url(rt: Runtime, site: Site, article: Article) -> str:
    base = (site.base_url or rt.settings.base_url).rstrip("/")
    return article.page_url or f"{base}/articles/{article.slug}"


def _thread_query(page_id: str, sort: str, cursor: int | None = None) -> str:
    values: dict[str, str] = {"page_id": page_id, "sort": sort}
    if cursor is not None:
        values["cursor"] = str(cursor)
    return urlencode(values)


@router.get(
    "/embed/{site}/thread",
    summary="A page's discussion as an HTML fragment (made on the first load from its site)",
    responses={200: {"content": {"text/html": {}}, "description": "The HTML fragment."}},
)
async def thread(
    request: Request,
    site: str,
    rt: RuntimeDep,
    identity: IdentityDep,
    page_id: Annotated[str | None, Query(description="The page's id on the site.")] = None,
    title: Annotated[str | None, Query(description="The page's title, for a new one.")] = None,
    url: Annotated[str | None, Query(description="The page's canonical URL.")] = None,
    sort: Annotated[str, Query(description="oldest or newest", json_schema_extra=SORTS)] = "oldest",
    cursor: Annotated[
        str | None,
        Query(description="From data-cursor of the previous page", json_schema_extra=CURSOR),
    ] = None,
    fresh: Annotated[
        bool, Query(description="A writer's read: skip the worker's shortcut, see their post")
    ] = False,
) -> Response:
    the_site = await _site(rt, site)
    order, after = parse_sort(sort), parse_cursor(cursor)
    ref = page_ref(page_id, title, url)
    origin = request.headers.get("origin")
    if origin and not is_allowed_origin(origin, the_site.origins):
        _require_origin(request, the_site)
    article = await run_in_threadpool(
        embed.open_discussion,
        rt.db,
        rt.events,
        the_site.id,
        ref,
        utcnow(),
        may_create=origin is not None,
    )
    cache: ReadCache[tuple[Article, Any, str, str]] = request.app.state.html_cache
    render = request.app.state.render
    slug = article.slug
    # The embedding tag's data-lang (the lang parameter), the reader's, or the site's.
    language = language_of(request, the_site)

    def version() -> int | None:
        return discussion.article_version(rt.db, the_site.id, slug)

    def build() -> tuple[int, tuple[Article, Any, str, str]]:
        current, page = discussion.read_thread_page(
            rt.db,
            site_id=the_site.id,
            slug=slug,
            sort=order,
            cursor=after,
            page_size=rt.settings.page_size,
            max_level=rt.settings.display_depth,
        )
        html = render("_comments.html", lang=language.code, article=current, page=page)
        markup = discussion_markup(current, page, _page_url(rt, the_site, current))
        return current.version, (current, page, html, ld_json(markup))

    _version, (shown, page, comments_html, markup) = await cache.get(
        ("embed", the_site.id, language.code, slug, order, after),
        version,
        build,
        revalidate=fresh,
    )
    body = render(
        "embed/thread.html",
        lang=language.code,
        site=the_site,
        article=shown,
        page=page,
        comments_html=comments_html,
        markup=markup,
        sort=order.value,
        cursor=after,
        form=FormValues(),
        errors={},
        reply_to=None,
        limits=rt.limits,
        edit_minutes=rt.settings.edit_window_minutes,
        form_token=identity.form_token(utcnow()),
        newest_query=_thread_query(ref.page_id, Sort.NEWEST.value),
        oldest_query=_thread_query(ref.page_id, Sort.OLDEST.value),
        more_query=_thread_query(ref.page_id, order.value, page.next_cursor),
    )
    return HTMLResponse(body, headers={"Cache-Control": "no-cache", "Vary": "Accept-Language"})


# Posting, editing and deleting from the widget.


async def _written(
    request: Request, rt: Runtime, comment: PublicComment, article: Article
) -> dict[str, Any]:
    """What the widget shows of a comment its writer just posted or changed: the comment as
    JSON, its list item as the thread shows it (or as its writer sees it held, or waiting for
    the link mailed to their address), the count."""
    render = request.app.state.render
    node = ThreadNode(comment=comment, level=min(comment.depth, 4))
    held = comment.status is Status.HELD
    template = "embed/_held.html" if held else "embed/_one.html"
    awaiting = held and comment.id in await run_in_threadpool(
        verification.awaiting_among, rt.db, [comment.id]
    )
    html = render(
        template,
        lang=language_of(request).code,
        node=node,
        slug=article.slug,
        awaiting_address=awaiting,
    )
    return {
        "comment": comment_json(node, article.slug),
        "html": str(html),
        "comment_count": article.comment_count,
    }


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


@router.post(
    "/embed/{site}/articles/{slug}/comments",
    status_code=201,
    summary="Post from the widget: the comment, its HTML and the writer's edit token",
    dependencies=[JsonBody],
    responses={202: {"description": "Held for a moderator: shown to its writer only."}},
)
async def post(
    request: Request,
    site: str,
    slug: str,
    payload: CommentIn,
    rt: RuntimeDep,
    identity: IdentityDep,
) -> Response:
    the_site = await _site(rt, site)
    _require_origin(request, the_site)
    posted = await post_json_comment(request, rt, identity, the_site, slug, payload)
    public = discussion.public_view(posted.comment)
    held = public.status is Status.HELD
    article = await run_in_threadpool(discussion.get_article_by_id, rt.db, posted.article.id)
    return _json(
        {
            **await _written(request, rt, public, article),
            "edit_token": identity.edit_token(public.id),
        },
        status=202 if held else 201,
    )


@router.get(
    "/embed/{site}/comments/{comment_id}",
    summary=f"The writer's own text as written, with the {EDIT_HEADER} header, to edit it",
)
async def own_text(
    request: Request, site: str, comment_id: PathId, rt: RuntimeDep, identity: IdentityDep
) -> Response:
    the_site = await _site(rt, site)
    _require_origin(request, the_site)
    if comment_id not in identity.edit_owned(request.headers.get(EDIT_HEADER)):
        raise ApiError(403, "Only the writer of a comment can read it to change it.")
    own = await run_in_threadpool(discussion.get_own_comment, rt.db, comment_id)
    return _json({"id": comment_id, "body": own.comment.body_markdown})


@router.patch(
    "/embed/{site}/comments/{comment_id}",
    summary=f"Edit from the widget, with the {EDIT_HEADER} header, within the window",
    dependencies=[JsonBody],
    responses={202: {"description": "The new text waits for a moderator."}},
)
async def edit(
    request: Request,
    site: str,
    comment_id: PathId,
    payload: CommentEdit,
    rt: RuntimeDep,
    identity: IdentityDep,
) -> Response:
    the_site = await _site(rt, site)
    _require_origin(request, the_site)
    edited = await run_in_threadpool(
        discussion.edit_comment,
        rt.db,
        rt.events,
        comment_id=comment_id,
        body=payload.body,
        owned=identity.edit_owned(request.headers.get(EDIT_HEADER)),
        limits=rt.limits,
        window=timedelta(minutes=rt.settings.edit_window_minutes),
        now=utcnow(),
        moderator=rt.moderator,
    )
    public = await run_in_threadpool(discussion.get_public_comment, rt.db, edited.id)
    article = await run_in_threadpool(discussion.get_article_by_id, rt.db, edited.article_id)
    held = public.status is Status.HELD
    return _json(await _written(request, rt, public, article), status=202 if held else 200)


@router.delete(
    "/embed/{site}/comments/{comment_id}",
    summary=f"Delete from the widget, with the {EDIT_HEADER} header, within the window",
)
async def delete(
    request: Request, site: str, comment_id: PathId, rt: RuntimeDep, identity: IdentityDep
) -> Response:
    the_site = await _site(rt, site)
    _require_origin(request, the_site)
    article = await run_in_threadpool(
        discussion.delete_comment,
        rt.db,
        rt.events,
        comment_id=comment_id,
        owned=identity.edit_owned(request.headers.get(EDIT_HEADER)),
        window=timedelta(minutes=rt.settings.edit_window_minutes),
        now=utcnow(),
    )
    after = await run_in_threadpool(discussion.get_public_comment, rt.db, comment_id)
    # With replies under it, "[deleted]" keeps its place; without, it is gone.
    return _json(
        {
            "kept_place": after.status is Status.DELETED,
            "placeholder": after.placeholder,
            "comment_count": article.comment_count,
        }
    )


@router.post(
    "/embed/{site}/check",
    summary="What moderation would say of a comment, for the widget; stores nothing",
    dependencies=[JsonBody],
)
async def check(request: Request, site: str, payload: CheckIn, rt: RuntimeDep) -> Response:
    the_site = await _site(rt, site)
    _require_origin(request, the_site)
    return await run_check(request, payload, rt, the_site, language_of(request, the_site))


# Made ahead of time, for sites that want no discussion made by a page load.


@admin_router.post(
    "/sites/{name}/discussions",
    status_code=201,
    response_model=ArticleOut,
    summary="Make a page's discussion ahead of time (admin)",
)
async def add_discussion(
    name: str, payload: JsonDep, rt: RuntimeDep, staff: ApiAdminDep
) -> Response:
    the_site = await site_for(rt, staff, name)  # one the account may act on
    ref = page_ref(_text(payload, "page_id"), _text(payload, "title"), _text(payload, "url"))
    article = await run_in_threadpool(
        embed.add_discussion, rt.db, rt.events, the_site.id, ref, utcnow()
    )
    url = rt.site_url(the_site, f"/articles/{article.slug}")
    return _json({**article_out(article, url), "page_id": article.page_id}, status=201)


@admin_router.put(
    "/sites/{name}/embedding",
    response_model=EmbeddingOut,
    summary="Whether a page's first load makes its discussion, or only the API and CLI (admin)",
)
async def set_embedding(
    name: str, payload: JsonDep, rt: RuntimeDep, staff: ApiAdminDep
) -> Response:
    the_site = await site_for(rt, staff, name)  # one the account may act on
    value = payload.get("create_on_load") if isinstance(payload, dict) else None
    if not isinstance(value, bool):
        raise ApiError(422, "create_on_load must be true or false.", "create_on_load")
    await run_in_threadpool(embed.set_create_on_load, rt.db, the_site.id, value)
    return _json({"site": the_site.name, "create_on_load": value})


def _text(payload: Any, name: str) -> str | None:
    value = payload.get(name) if isinstance(payload, dict) else None
    if value is not None and not isinstance(value, str):
        raise ApiError(422, f"{name} must be a string.", name)
    return value
