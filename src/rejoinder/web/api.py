"""The JSON API under /api/v1: articles, comment threads, posting, editing, counts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rejoinder.core.articlefile import draft_from_fields
from rejoinder.core.models import (
    Article,
    CommentInput,
    PublicComment,
    Site,
    Status,
    ThreadNode,
    ThreadPage,
)
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import accounts, articles, budgets, discussion, embed, publishing
from rejoinder.usecases.desk import Actor
from rejoinder.usecases.moderation import Screening, reason_out, verdict_out
from rejoinder.web.addresses import address_hashes
from rejoinder.web.closing import as_shown
from rejoinder.web.cookies import OWN_COOKIE, Identity
from rejoinder.web.deps import (
    IdentityDep,
    JsonBody,
    LanguageDep,
    PublisherDep,
    RuntimeDep,
    SiteDep,
    named_site,
)
from rejoinder.web.errors import API_ERRORS, ApiError, error_responses
from rejoinder.web.i18n import Language
from rejoinder.web.origins import VERIFIED_HEADER
from rejoinder.web.params import CURSOR, SORTS, PathId, parse_cursor, parse_sort
from rejoinder.web.readcache import ReadCache
from rejoinder.web.schemas import (
    ArticleIn,
    ArticleList,
    ArticleOut,
    CheckIn,
    CheckOut,
    CommentEdit,
    CommentIn,
    CommentOut,
    Counts,
    ThreadOut,
    article_out,
    comment_out,
    thread_out,
)

router = APIRouter(prefix="/api/v1", tags=["discussion"], responses=API_ERRORS)


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )


def _article(rt: Runtime, site: Site, article: Article) -> dict[str, Any]:
    return article_out(article, rt.site_url(site, f"/articles/{article.slug}"))


@router.get("/articles", response_model=ArticleList, summary="Articles, newest first")
async def list_articles(
    request: Request,
    rt: RuntimeDep,
    site: SiteDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,  # a bigger one overflows the database
) -> Response:
    articles = await run_in_threadpool(
        publishing.list_articles, rt.db, site.id, limit=limit, offset=offset
    )
    shown = [await as_shown(request, rt, a) for a in articles]
    return _json({"articles": [_article(rt, site, a) for a in shown]})


@router.get("/articles/{slug}", response_model=ArticleOut, summary="One article")
async def get_article(request: Request, slug: str, rt: RuntimeDep, site: SiteDep) -> Response:
    article = await run_in_threadpool(discussion.get_article, rt.db, site.id, slug)
    return _json(_article(rt, site, await as_shown(request, rt, article)))


@router.post(
    "/articles",
    status_code=201,
    response_model=ArticleOut,
    summary="Publish an article (an admin's API token; the admin token bootstraps)",
    description=(
        "Authorization: Bearer with the API token of a desk admin (`rejoinder token add`), "
        "who may publish on the sites the account acts on, named by `?site=` or the Host. "
        "The admin token of the settings (REJOINDER_ADMIN_TOKEN) is accepted too, as a "
        "bootstrap before any desk account exists; prefer an admin's own token, which the "
        "audit log names and which is limited to that admin's sites."
    ),
    dependencies=[JsonBody],
    responses=error_responses(401, 403),  # the only call here that takes a token
)
async def add_article(
    request: Request, payload: ArticleIn, rt: RuntimeDep, publisher: PublisherDep
) -> Response:
    site = publisher.site
    fields = {
        "title": payload.title,
        "slug": payload.slug or "",
        "dek": payload.dek,
        "author": payload.author,
        "source_name": payload.source_name or "",
        "source_url": payload.source_url or "",
        "comments_open": "true" if payload.comments_open else "false",
        "published": payload.published_at.isoformat() if payload.published_at else "",
    }
    draft = draft_from_fields(fields, payload.body, default_published=utcnow())
    article = await run_in_threadpool(
        lambda: articles.publish_article(
            rt.db,
            rt.events,
            site_id=site.id,
            draft=draft,
            actor=Actor(kind=publisher.actor_kind, name=publisher.actor),
            now=utcnow(),
        )
    )
    return _json(_article(rt, site, await as_shown(request, rt, article)), status=201)


@router.get(
    "/articles/{slug}/comments",
    response_model=ThreadOut,
    summary="A page of top-level comments, each with all its replies",
    responses={304: {"description": "Unchanged since the ETag sent in If-None-Match."}},
)
async def list_comments(
    request: Request,
    slug: str,
    rt: RuntimeDep,
    site: SiteDep,
    sort: Annotated[str, Query(description="oldest or newest", json_schema_extra=SORTS)] = "oldest",
    cursor: Annotated[
        str | None,
        Query(description="next_cursor of the previous page", json_schema_extra=CURSOR),
    ] = None,
) -> Response:
    order, after = parse_sort(sort), parse_cursor(cursor)
    cache: ReadCache[ThreadBodies] = request.app.state.api_cache

    def version() -> int | None:
        return discussion.article_version(rt.db, site.id, slug)

    def build() -> tuple[int, ThreadBodies]:
        article, page = discussion.read_thread_page(
            rt.db,
            site_id=site.id,
            slug=slug,
            sort=order,
            cursor=after,
            page_size=rt.settings.page_size,
            max_level=rt.settings.display_depth,
        )
        return article.version, ThreadBodies(article, page, order.value)

    version_now, bodies = await cache.get(
        ("api", site, slug, order, after),
        version,
        build,
        revalidate=OWN_COOKIE in request.cookies,  # a writer sees their own post at once
    )
    shown = await as_shown(request, rt, bodies.article)  # open or closed as of now
    etag = f'"{version_now}{"" if shown.comments_open else "-closed"}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(bodies.body(shown), media_type="application/json", headers=headers)


@dataclass
class ThreadBodies:
    """A page of a thread as the API sends it, made once for an open discussion and once for
    a closed one (the same page closes by age without any write)."""

    article: Article
    page: ThreadPage
    sort: str
    bodies: dict[bool, bytes] = field(default_factory=dict)

    def body(self, shown: Article) -> bytes:
        found = self.bodies.get(shown.comments_open)
        if found is None:
            found = orjson.dumps(thread_out(shown, self.page, self.sort))
            self.bodies[shown.comments_open] = found
        return found


async def _has_api_token(request: Request, rt: Runtime) -> bool:
    """Whether a post comes from a script of the site's own (the admin token, or a staff
    member's API token) rather than from a form a person filled in."""
    given = request.headers.get("authorization", "")
    if not given.lower().startswith("bearer "):
        return False
    token = given[7:].strip()
    expected = rt.settings.admin_token
    if expected and secrets.compare_digest(token, expected):
        return True
    return await run_in_threadpool(accounts.token_user, rt.db, token, utcnow()) is not None


async def screening_of(
    request: Request, rt: Runtime, identity: Identity, payload: CommentIn
) -> Screening:
    """How a JSON post arrived. A script with an API token skips the form's checks; anything
    else is judged as the form is: by the signed token of the form or widget it was written
    in (a forged one as a missing one), and the honeypot. A post with no token at all is
    judged as a form sent back at once."""
    ip_hash, group_hash = address_hashes(rt.secret_key, request)
    if await _has_api_token(request, rt):
        return Screening(ip_hash=ip_hash, ip_group_hash=group_hash)
    now = utcnow()
    issued = identity.form_issued_at(payload.form_token) if payload.form_token else now
    return Screening(
        ip_hash=ip_hash,
        ip_group_hash=group_hash,
        via_form=True,
        form_issued_at=issued,
        honeypot=payload.homepage,
        proven=identity.proven(request, VERIFIED_HEADER) if rt.mail else None,
    )


def _single(comment: PublicComment, slug: str) -> dict[str, Any]:
    return comment_out(ThreadNode(comment=comment, level=min(comment.depth, 4)), slug)


async def post_json_comment(
    request: Request,
    rt: Runtime,
    identity: Identity,
    site: Site,
    slug: str,
    payload: CommentIn,
) -> discussion.Posted:
    """A comment posted as JSON (the API's and the widget's), screened as `screening_of` says."""
    raw = CommentInput(
        body=payload.body,
        name=payload.name,
        email=payload.email,
        website=payload.website,
        parent_id=payload.parent_id,
        notify_replies=payload.notify_replies,
        follow=payload.follow_discussion,
    )
    screening = await screening_of(request, rt, identity, payload)
    return await run_in_threadpool(
        discussion.post_comment,
        rt.db,
        rt.events,
        site_id=site.id,
        slug=slug,
        raw=raw,
        limits=rt.limits,
        now=utcnow(),
        moderator=rt.moderator,
        screening=screening,
        mail=rt.mail,
    )


@router.post(
    "/articles/{slug}/comments",
    status_code=201,
    response_model=CommentOut,
    summary="Post a comment or a reply (202 when it is held for a moderator)",
    dependencies=[JsonBody],
    responses={202: {"model": CommentOut, "description": "Held for a moderator."}},
)
async def post_comment(
    request: Request,
    slug: str,
    payload: CommentIn,
    rt: RuntimeDep,
    site: SiteDep,
    identity: IdentityDep,
) -> Response:
    posted = await post_json_comment(request, rt, identity, site, slug, payload)
    public = discussion.public_view(posted.comment)
    held = public.status is Status.HELD
    response = _json(_single(public, slug), status=202 if held else 201)
    identity.add_owned(request, response, posted.comment.id)
    return response


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentOut,
    summary="Edit your own comment within the edit window (202 when the new text is held)",
    dependencies=[JsonBody],
)
async def edit_comment(
    request: Request,
    comment_id: PathId,
    payload: CommentEdit,
    rt: RuntimeDep,
    identity: IdentityDep,
) -> Response:
    edited = await run_in_threadpool(
        discussion.edit_comment,
        rt.db,
        rt.events,
        comment_id=comment_id,
        body=payload.body,
        owned=identity.owned(request),
        limits=rt.limits,
        window=timedelta(minutes=rt.settings.edit_window_minutes),
        now=utcnow(),
        moderator=rt.moderator,
    )
    public = await run_in_threadpool(discussion.get_public_comment, rt.db, edited.id)
    article = await run_in_threadpool(discussion.get_article_by_id, rt.db, edited.article_id)
    # 202: the new text waits for a moderator, as a held post does.
    return _json(_single(public, article.slug), status=202 if public.status is Status.HELD else 200)


@router.delete(
    "/comments/{comment_id}", status_code=204, summary="Delete your own comment within the window"
)
async def delete_comment(
    request: Request, comment_id: PathId, rt: RuntimeDep, identity: IdentityDep
) -> Response:
    await run_in_threadpool(
        discussion.delete_comment,
        rt.db,
        rt.events,
        comment_id=comment_id,
        owned=identity.owned(request),
        window=timedelta(minutes=rt.settings.edit_window_minutes),
        now=utcnow(),
    )
    return Response(status_code=204)


@router.get(
    "/counts",
    response_model=Counts,
    summary="Comment counts for many articles at once (readable from the site's origins)",
)
async def counts(
    rt: RuntimeDep,
    host_site: SiteDep,
    slug: Annotated[list[str], Query(description="Repeat for each article: ?slug=a&slug=b")] = [],  # noqa: B006
    page_id: Annotated[
        list[str], Query(description="Repeat for each page hosted elsewhere: ?page_id=a")
    ] = [],  # noqa: B006
    site: Annotated[
        str | None, Query(description="The site's name; by default the site of the Host.")
    ] = None,
) -> Response:
    if len(slug) > 200:
        raise ApiError(422, "Ask for at most 200 articles at once.", "slug")
    if len(page_id) > 200:
        raise ApiError(422, "Ask for at most 200 pages at once.", "page_id")
    chosen = await named_site(rt, site) if site else host_site
    found = await run_in_threadpool(publishing.count_comments, rt.db, chosen.id, slug)
    pages = await run_in_threadpool(embed.count_pages, rt.db, chosen.id, page_id)
    return _json({"counts": found, "pages": pages})


@router.post(
    "/moderation/check",
    response_model=CheckOut,
    tags=["moderation"],
    summary="What moderation would say of a comment; stores nothing",
    dependencies=[JsonBody],
)
async def check(
    request: Request, payload: CheckIn, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    return await run_check(request, payload, rt, site, language)


async def run_check(
    request: Request, payload: CheckIn, rt: Runtime, site: Site, language: Language
) -> Response:
    """The pre-submit check, for the article page and the widget alike, with its reasons in
    the writer's language."""
    if rt.moderator is None:
        raise ApiError(404, "Moderation is switched off on this server.")
    if len(payload.text) > rt.limits.body_max:
        # what a post may hold, so a check costs no more than a post
        raise ApiError(
            422,
            f"The text is {len(payload.text):,} characters long; "
            f"a comment holds at most {rt.limits.body_max:,}.",
            field="text",
        )
    ip_hash, group_hash = address_hashes(rt.secret_key, request)
    wait = budgets.take(rt.budgets, budgets.CHECKS, ip_hash, group_hash, utcnow().timestamp())
    if wait:
        raise ApiError(
            429,
            f"Too many checks; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    result = await run_in_threadpool(
        rt.moderator.check,
        site_id=site.id,
        text=payload.text,
        name=payload.name,
        email=payload.email,
        website=payload.website,
        now=utcnow(),
    )
    verdict = verdict_out(result)
    # The reasons in the writer's language (the form shows them as they are); codes and spans
    # are the same in every language.
    verdict["reasons"] = [
        {**reason_out(signal), "message": language.say(signal.wording)}
        for signal in result.decision.reasons
    ]
    response = _json(verdict)
    response.headers["Vary"] = "Accept-Language"
    return response
