"""The HTML pages: front page, article with its discussion, the reply form, edit and delete."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from html import escape
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rejoinder.core.errors import Closed, Invalid, InvalidMany, NotFound, Refused
from rejoinder.core.messages import N_
from rejoinder.core.models import Article, CommentInput, Site, Sort, ThreadPage
from rejoinder.core.moderation.matching.phrasebook import patterns_ready, patterns_total
from rejoinder.core.structured_data import discussion_markup
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import discussion, publishing, verification
from rejoinder.usecases.moderation import Screening
from rejoinder.web.addresses import address_hashes
from rejoinder.web.closing import as_shown
from rejoinder.web.cookies import AUTHOR_COOKIE, OWN_COOKIE, Author, Identity
from rejoinder.web.deps import IdentityDep, LanguageDep, RuntimeDep, SiteDep
from rejoinder.web.i18n import Language
from rejoinder.web.params import PathId, parse_cursor, parse_int, parse_sort
from rejoinder.web.readcache import ReadCache
from rejoinder.web.rendering import as_typed, ld_json

router = APIRouter(include_in_schema=False)
# Reader pages are in the reader's language, which Accept-Language may choose.
VARY = "Accept-Language"
# The form's signed timestamp is made per request; the cached page holds this marker instead.
FORM_TOKEN = b"@@rejoinder-form-token@@"


NO_PARENT = N_("The comment you are replying to does not exist.")
UNDECODABLE = N_("This text has bytes that are not valid UTF-8; please type it again.")
HONEYPOT = "homepage"  # a field people never see or fill in; programs fill in every field


@dataclass
class FormValues:
    body: str = ""
    name: str = ""
    email: str = ""
    website: str = ""
    notify: bool = False
    follow: bool = False


@dataclass
class CachedThread:
    article: Article
    page: ThreadPage
    comments_html: str
    # schema.org markup of the shown comments, as JSON-LD
    markup: str = ""
    # The whole page as a reader without cookies sees it, made on the first such request,
    # with the discussion open (True) and closed (False).
    anonymous_pages: dict[bool, bytes] = field(default_factory=dict)


def _render(
    request: Request,
    site: Site,
    language: Language,
    template: str,
    /,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    body = request.app.state.render(template, lang=language.code, site=site, **context)
    return HTMLResponse(body, status_code=status, headers={"Vary": VARY})


@router.get("/healthz")
async def healthz() -> dict[str, str | int]:
    """Alive; and how many moderation phrase patterns this worker has ready, of how many
    (all of them before it serves)."""
    return {"status": "ok", "patterns_ready": patterns_ready(), "patterns_total": patterns_total()}


@router.get("/")
async def index(request: Request, rt: RuntimeDep, site: SiteDep, language: LanguageDep) -> Response:
    articles = await run_in_threadpool(publishing.list_articles, rt.db, site.id, limit=50)
    return _render(request, site, language, "index.html", articles=articles)


async def _thread(
    request: Request,
    rt: Runtime,
    site: Site,
    language: Language,
    slug: str,
    sort: Sort,
    cursor: int | None,
) -> tuple[int, CachedThread]:
    cache: ReadCache[CachedThread] = request.app.state.html_cache
    render = request.app.state.render

    def version() -> int | None:
        return discussion.article_version(rt.db, site.id, slug)

    def build() -> tuple[int, CachedThread]:
        article, page = discussion.read_thread_page(
            rt.db,
            site_id=site.id,
            slug=slug,
            sort=sort,
            cursor=cursor,
            page_size=rt.settings.page_size,
            max_level=rt.settings.display_depth,
        )
        html = render("_comments.html", lang=language.code, article=article, page=page)
        base = (site.base_url or rt.settings.base_url).rstrip("/")
        url = article.page_url or f"{base}/articles/{article.slug}"
        markup = ld_json(discussion_markup(article, page, url))
        thread = CachedThread(article=article, page=page, comments_html=html, markup=markup)
        return article.version, thread

    writer = OWN_COOKIE in request.cookies  # read-your-writes, whichever worker answers
    # Keyed by the whole site (a changed site, its title or its base URL, is a new page) and
    # by the language: the same thread is cached once per language it is read in.
    key = ("html", site, language.code, slug, sort, cursor)
    return await cache.get(key, version, build, revalidate=writer)


def _own_links(html: str, owned: frozenset[int], language: Language) -> str:
    """Give the writer Edit links on their own comments (the cached HTML is the same for all)."""
    words = escape(language.gettext("Edit or delete"))
    for comment_id in owned:
        marker = f"<!--own:{comment_id}-->"
        if marker in html:
            link = f' <a class="edit" href="/comments/{comment_id}/edit">{words}</a>'
            html = html.replace(marker, link)
    return html


async def _article_page(
    request: Request,
    rt: Runtime,
    site: Site,
    language: Language,
    identity: Identity,
    slug: str,
    *,
    sort: Sort = Sort.OLDEST,
    cursor: int | None = None,
    form: FormValues | None = None,
    errors: dict[str, str] | None = None,
    reply_to_id: int | None = None,
    status: int = 200,
) -> Response:
    version, thread = await _thread(request, rt, site, language, slug, sort, cursor)
    article = await as_shown(request, rt, thread.article)  # open or closed as of now
    is_open = article.comments_open
    personal = "|".join(
        (
            language.code,
            request.cookies.get(OWN_COOKIE, ""),
            request.cookies.get(AUTHOR_COOKIE, ""),
            str(reply_to_id),
        )
    )
    digest = hashlib.blake2b(personal.encode(), digest_size=8).hexdigest()
    etag = f'W/"{version}-{"open" if is_open else "closed"}-{digest}"'
    if status == 200 and form is None and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Vary": f"Cookie, {VARY}"})
    anonymous = form is None and reply_to_id is None and personal == f"{language.code}|||None"
    token = identity.form_token(utcnow()).encode()
    if anonymous and is_open in thread.anonymous_pages:
        return _page_response(thread.anonymous_pages[is_open].replace(FORM_TOKEN, token), etag)
    if form is None:
        author = identity.author(request)
        form = FormValues(name=author.name, email=author.email, website=author.website)
    reply_to = None
    if reply_to_id is not None:
        reply_to = await run_in_threadpool(
            discussion.find_reply_target, rt.db, thread.article.id, reply_to_id
        )
    owned = identity.owned(request)
    held = []
    awaiting: frozenset[int] = frozenset()
    if owned:
        held = await run_in_threadpool(discussion.list_own_held, rt.db, thread.article.id, owned)
    if held:
        awaiting = await run_in_threadpool(verification.awaiting_among, rt.db, [c.id for c in held])
    response = _render(
        request,
        site,
        language,
        "article.html",
        status=status,
        article=article,
        page=thread.page,
        comments_html=_own_links(thread.comments_html, identity.owned(request), language),
        sort=sort.value,
        cursor=cursor,
        form=form,
        errors=errors or {},
        reply_to=reply_to,
        limits=rt.limits,
        held=held,
        awaiting_address=awaiting,
        form_token=FORM_TOKEN.decode(),
        markup=thread.markup,
    )
    body = bytes(response.body)
    if status != 200:
        response.body = body.replace(FORM_TOKEN, token)
        response.headers["content-length"] = str(len(response.body))
        return response
    if anonymous:
        thread.anonymous_pages[is_open] = body
    return _page_response(body.replace(FORM_TOKEN, token), etag)


def _page_response(body: bytes, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": f"Cookie, {VARY}"}
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/articles/{slug}")
async def article_page(
    request: Request,
    slug: str,
    rt: RuntimeDep,
    site: SiteDep,
    language: LanguageDep,
    identity: IdentityDep,
    sort: str | None = None,
    cursor: str | None = None,
    replytocom: str | None = None,
) -> Response:
    try:
        reply_to_id = parse_int(replytocom, "replytocom", "No such comment to reply to.")
    except Invalid:
        reply_to_id = None  # a link to reply to nothing shows the page with the plain form
    return await _article_page(
        request,
        rt,
        site,
        language,
        identity,
        slug,
        sort=parse_sort(sort),
        cursor=parse_cursor(cursor),
        reply_to_id=reply_to_id,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _undecodable(values: dict[str, str], language: Language) -> dict[str, str]:
    # Starlette decodes form bytes leniently: invalid UTF-8 arrives as U+FFFD.
    return {name: language.say(UNDECODABLE) for name, value in values.items() if "\ufffd" in value}


def _raw_undecodable(request: Request, body: bytes) -> set[str]:
    """Fields sent as raw bytes that are not UTF-8 (Starlette reads those as Latin-1)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return set()
    names: set[str] = set()
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            names.add(unquote_plus(name.decode("latin-1")))
    return names


@router.post("/articles/{slug}/comments")
async def post_comment_form(
    request: Request,
    slug: str,
    rt: RuntimeDep,
    site: SiteDep,
    language: LanguageDep,
    identity: IdentityDep,
) -> Response:
    raw_bad = _raw_undecodable(request, await request.body())  # read first: form() reuses it
    form_data = await request.form()
    values = FormValues(
        body=_text(form_data, "body"),
        name=_text(form_data, "name"),
        email=_text(form_data, "email"),
        website=_text(form_data, "website"),
        notify=bool(_text(form_data, "notify")),
        follow=bool(_text(form_data, "follow")),
    )
    strings = {k: v for k, v in asdict(values).items() if isinstance(v, str)}
    errors = _undecodable(
        {k: "\ufffd" if k in raw_bad else v for k, v in strings.items()}, language
    )
    try:
        parent_id = parse_int(_text(form_data, "parent_id"), "parent_id", NO_PARENT)
    except Invalid as bad:
        parent_id = None
        errors["parent_id"] = language.say(bad.text)
    status = 0
    if not errors:
        raw = CommentInput(
            body=values.body,
            name=values.name,
            email=values.email,
            website=values.website,
            parent_id=parent_id,
            notify_replies=values.notify,
            follow=values.follow,
        )
        ip_hash, group_hash = address_hashes(rt.secret_key, request)
        screening = Screening(
            ip_hash=ip_hash,
            ip_group_hash=group_hash,
            via_form=True,
            form_issued_at=identity.form_issued_at(_text(form_data, "issued")),
            honeypot=_text(form_data, HONEYPOT),
            proven=identity.proven(request) if rt.mail else None,
        )
        try:
            posted = await run_in_threadpool(
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
        except InvalidMany as error:
            errors = {e.field or "body": language.say(e.text) for e in error.errors}
        except Closed as error:
            errors = {"body": language.say(error.text)}
            status = 403
        except Invalid as error:
            errors = {error.field or "body": language.say(error.text)}
        except Refused as error:
            errors = {error.field or "body": language.say(error.text)}
            status = 429 if error.retry_after else 403 if error.banned else 422
        else:
            comment = posted.comment
            root_number = await run_in_threadpool(discussion.root_number, rt.db, comment)
            cursor = f"?cursor={root_number - 1}" if root_number > rt.settings.page_size else ""
            response = RedirectResponse(
                f"/articles/{slug}{cursor}#comment-{comment.id}", status_code=303
            )
            identity.add_owned(request, response, comment.id)
            identity.remember_author(
                response,
                Author(
                    name=comment.author_name,
                    email=comment.author_email,
                    website=comment.author_website or "",
                ),
            )
            return response
    if status == 0:
        status = 422

    typed = replace(
        values,
        body=as_typed(values.body),
        name=as_typed(values.name),
        email=as_typed(values.email),
        website=as_typed(values.website),
    )
    return await _article_page(
        request,
        rt,
        site,
        language,
        identity,
        slug,
        form=typed,
        errors=errors,
        reply_to_id=parent_id,
        status=status,
    )


async def _own(
    request: Request, rt: Runtime, identity: Identity, comment_id: int
) -> discussion.OwnComment:
    if comment_id not in identity.owned(request):
        raise NotFound(
            N_("There is no comment of yours here to change, or its time to change has passed.")
        )
    return await run_in_threadpool(discussion.get_own_comment, rt.db, comment_id)


def _edit_page(
    request: Request,
    rt: Runtime,
    site: Site,
    language: Language,
    own: discussion.OwnComment,
    body: str,
    error: str | None,
) -> Response:
    window = timedelta(minutes=rt.settings.edit_window_minutes)
    return _render(
        request,
        site,
        language,
        "edit.html",
        status=422 if error else 200,
        comment=own.comment,
        article=own.article,
        body=as_typed(body),
        error=error,
        limits=rt.limits,
        has_replies=own.has_replies,
        deadline=own.comment.created_at + window,
    )


@router.get("/comments/{comment_id}/edit")
async def edit_form(
    request: Request,
    comment_id: PathId,
    rt: RuntimeDep,
    site: SiteDep,
    language: LanguageDep,
    identity: IdentityDep,
) -> Response:
    own = await _own(request, rt, identity, comment_id)
    return _edit_page(request, rt, site, language, own, own.comment.body_markdown, None)


@router.post("/comments/{comment_id}/edit")
async def edit_save(
    request: Request,
    comment_id: PathId,
    rt: RuntimeDep,
    site: SiteDep,
    language: LanguageDep,
    identity: IdentityDep,
) -> Response:
    body = _text(await request.form(), "body")
    try:
        edited = await run_in_threadpool(
            discussion.edit_comment,
            rt.db,
            rt.events,
            comment_id=comment_id,
            body=body,
            owned=identity.owned(request),
            limits=rt.limits,
            window=timedelta(minutes=rt.settings.edit_window_minutes),
            now=utcnow(),
            moderator=rt.moderator,
        )
    except (Invalid, Refused, Closed) as error:
        own = await _own(request, rt, identity, comment_id)
        return _edit_page(request, rt, site, language, own, body, language.say(error.text))
    article = await run_in_threadpool(discussion.get_article_by_id, rt.db, edited.article_id)
    return RedirectResponse(f"/articles/{article.slug}#comment-{edited.id}", status_code=303)


@router.post("/comments/{comment_id}/delete")
async def delete_save(
    request: Request, comment_id: PathId, rt: RuntimeDep, identity: IdentityDep
) -> Response:
    article = await run_in_threadpool(
        discussion.delete_comment,
        rt.db,
        rt.events,
        comment_id=comment_id,
        owned=identity.owned(request),
        window=timedelta(minutes=rt.settings.edit_window_minutes),
        now=utcnow(),
    )
    return RedirectResponse(f"/articles/{article.slug}#comments", status_code=303)
