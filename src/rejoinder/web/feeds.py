"""Atom feeds of the articles and of each article's comments, made with feedgen."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rejoinder.core.errors import NotFound
from rejoinder.core.messages import N_
from rejoinder.core.models import Article, PublicComment, Site
from rejoinder.usecases import publishing
from rejoinder.web.deps import LanguageDep, RuntimeDep, SiteDep
from rejoinder.web.i18n import Language

router = APIRouter(include_in_schema=False)
ATOM = "application/atom+xml; charset=utf-8"


# The site's public address of a path: `Runtime.site_url` bound to the site.
SiteUrl = Callable[[str], str]


def _articles_feed(site: Site, language: Language, at: SiteUrl, articles: list[Article]) -> bytes:
    from feedgen.feed import FeedGenerator  # lxml is heavy: load it only when a feed is asked for

    feed = FeedGenerator()
    feed.id(at("/"))
    feed.title(language.say(N_("{site}: articles", site=site.title)))
    feed.language(language.code)
    feed.link(href=at("/"), rel="alternate")
    feed.link(href=at("/feed.atom"), rel="self")
    feed.updated(max((a.published_at for a in articles), default=None))
    for article in reversed(articles):
        entry = feed.add_entry()
        url = at(f"/articles/{article.slug}")
        entry.id(url)
        entry.title(article.title)
        entry.link(href=url, rel="alternate")
        if article.source_url:
            entry.link(href=article.source_url, rel="via")
        entry.author(name=article.author or site.title)
        entry.published(article.published_at)
        entry.updated(article.published_at)
        entry.summary(article.dek or article.title)
        entry.content(article.body_html, type="html")
    return bytes(feed.atom_str(pretty=True))


def _comments_feed(
    site: Site, language: Language, at: SiteUrl, article: Article, comments: list[PublicComment]
) -> bytes:
    from feedgen.feed import FeedGenerator

    url = at(f"/articles/{article.slug}")
    feed = FeedGenerator()
    feed.id(f"{url}#comments")
    feed.title(language.say(N_("Comments on {title}", title=article.title)))
    feed.language(language.code)
    feed.link(href=url, rel="alternate")
    feed.link(href=f"{url}/comments.atom", rel="self")
    feed.updated(max((c.created_at for c in comments), default=article.published_at))
    for comment in reversed(comments):
        entry = feed.add_entry()
        entry.id(f"{url}#comment-{comment.id}")
        entry.title(
            language.say(N_("{name} on {title}", name=comment.author_name, title=article.title))
        )
        entry.link(href=f"{url}#comment-{comment.id}", rel="alternate")
        # a name only: never an email
        entry.author(name=comment.author_name or language.say(N_("[deleted]")))
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
        entry.content(comment.body_html or "<p></p>", type="html")
    return bytes(feed.atom_str(pretty=True))


@router.get("/feed.atom")
async def articles_feed(rt: RuntimeDep, site: SiteDep, language: LanguageDep) -> Response:
    articles = await run_in_threadpool(publishing.list_articles, rt.db, site.id, limit=30)
    body = await run_in_threadpool(
        _articles_feed, site, language, partial(rt.site_url, site), articles
    )
    return Response(body, media_type=ATOM, headers={"Vary": "Accept-Language"})


@router.get("/articles/{slug}/comments.atom")
async def comments_feed(
    slug: str, rt: RuntimeDep, site: SiteDep, language: LanguageDep
) -> Response:
    article, comments = await run_in_threadpool(publishing.article_feed, rt.db, site.id, slug)
    if article is None:
        raise NotFound(N_("There is no such article."))
    body = await run_in_threadpool(
        _comments_feed, site, language, partial(rt.site_url, site), article, comments
    )
    return Response(body, media_type=ATOM, headers={"Vary": "Accept-Language"})
