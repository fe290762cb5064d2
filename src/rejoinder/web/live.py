"""Live updates over Server-Sent Events: the streams, and the listener that feeds them.

Streams (`text/event-stream`; the format is in docs/LIVE.md):

- `GET /api/v1/articles/{slug}/events` and `GET /api/v1/discussions/{id}/events`: a
  discussion's readers, on the site of the Host; `GET /embed/{site}/discussions/{id}/events`
  the same for the widget on another origin (CORS by the site's list, as its other calls).
  Events `comment`, `approved`, `edited`, `deleted`, `count`; first `ready` (or `reset` when
  a `Last-Event-ID` is older than the ring), after any replay.
- `GET /admin/events`: the desk's `queue` events for the site (a desk session), with every
  queue's count.

`LiveFeed` listens to the use cases' events (fired after commit, in the thread that wrote)
and publishes what readers may see: a held comment reaches only the desk's stream, and an
event carries the comment's public fields and its HTML as the page renders it, never an email.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from rejoinder.core.models import Article, Comment, Status, ThreadPage
from rejoinder.events import (
    COMMENT_APPROVED,
    COMMENT_DELETED,
    COMMENT_EDITED,
    COMMENT_POSTED,
    COMMENT_REPORTED,
    Events,
)
from rejoinder.live import Hub, Opened, Subscription, article_topic, desk_topic, frame
from rejoinder.metrics import LIVE_STREAMS
from rejoinder.runtime import Runtime, utcnow
from rejoinder.usecases import desk, discussion, live
from rejoinder.web.deps import DeskStaffDep, RuntimeDep, SiteDep
from rejoinder.web.errors import API_ERRORS, ApiError
from rejoinder.web.i18n import SOURCE_LANGUAGE
from rejoinder.web.params import PathId

router = APIRouter(tags=["live"], responses=API_ERRORS)
log = logging.getLogger("rejoinder.live")
RETRY = b"retry: 3000\n\n"  # the browser's wait before reconnecting, in milliseconds
LAST_ID_MAX = 2**63 - 1
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "A stream of events (see docs/LIVE.md); it stays open.",
    },
    503: {"description": "This worker has as many live streams open as it takes."},
}


class EventStream(Response):
    """A response that stays open: it writes what arrives for its subscription until the
    client leaves (uvicorn's `send` is silent after a disconnect, so `receive` is watched)."""

    media_type = "text/event-stream"

    def __init__(self, hub: Hub, opened: Opened, ready: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = b""
        self.hub = hub
        self.opened = opened
        self.ready = ready
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            # nginx buffers proxied responses unless told not to, which would hold events.
            (b"x-accel-buffering", b"no"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self.opened.subscription
        watcher = asyncio.ensure_future(_until_disconnect(receive, subscription))
        LIVE_STREAMS.inc()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            first = RETRY + b"".join(self.opened.replay) + self.ready
            await send({"type": "http.response.body", "body": first, "more_body": True})
            while (chunk := await subscription.next()) is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if not subscription.gone:  # ended here (a restart, a client too slow): say so
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            LIVE_STREAMS.dec()
            watcher.cancel()
            self.hub.unsubscribe(subscription)


async def _until_disconnect(receive: Receive, subscription: Subscription) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscription.close(gone=True)


def _last_event_id(request: Request) -> int | None:
    """The client's `Last-Event-ID` (or `last_event_id` in the query, for a first connect
    that knows where it stands); one that is not an id earns a reset."""
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if len(raw) > 19 or not (raw.isascii() and raw.isdigit()) or int(raw) > LAST_ID_MAX:
        return -1
    return int(raw)


async def _open(
    request: Request, rt: Runtime, topic: str, ready: Callable[[Opened], bytes]
) -> EventStream:
    """Subscribe before answering: a refusal is then an error in the one shape, not a
    stream cut short."""
    hub: Hub = request.app.state.hub
    if hub.count >= rt.settings.max_streams:
        raise ApiError(
            503,
            "This server has as many live streams open as it takes; try again shortly.",
            headers={"Retry-After": "10"},
        )
    try:
        opened = await hub.subscribe(topic, _last_event_id(request))
    except Exception as error:  # Redis is away: the page retries later
        log.warning("a live stream could not subscribe: %s", type(error).__name__)
        raise ApiError(
            503, "Live updates are unavailable just now.", headers={"Retry-After": "10"}
        ) from None
    return EventStream(hub, opened, ready(opened))


async def _discussion_stream(request: Request, rt: Runtime, article: Article) -> EventStream:
    def ready(opened: Opened) -> bytes:
        if opened.reset:
            return frame(opened.head, "reset", {"reason": "missed"})
        state = {"count": article.comment_count, "version": article.version}
        return frame(opened.head, "ready", state)

    return await _open(request, rt, article_topic(article.id), ready)


@router.get(
    "/api/v1/articles/{slug}/events",
    summary="Live updates of an article's discussion (Server-Sent Events)",
    response_class=Response,
    responses=_STREAM,
)
async def article_events(request: Request, slug: str, rt: RuntimeDep, site: SiteDep) -> Response:
    article = await run_in_threadpool(discussion.get_article, rt.db, site.id, slug)
    return await _discussion_stream(request, rt, article)


@router.get(
    "/api/v1/discussions/{article_id}/events",
    summary="Live updates of a discussion by its id (Server-Sent Events)",
    response_class=Response,
    responses=_STREAM,
)
async def discussion_events(
    request: Request, article_id: PathId, rt: RuntimeDep, site: SiteDep
) -> Response:
    article = await run_in_threadpool(
        discussion.get_article_by_id, rt.db, article_id, site_id=site.id
    )
    return await _discussion_stream(request, rt, article)


@router.get(
    "/embed/{site}/discussions/{article_id}/events",
    summary="Live updates of an embedded discussion, for the widget (Server-Sent Events)",
    response_class=Response,
    responses=_STREAM,
)
async def embed_events(request: Request, site: str, article_id: PathId, rt: RuntimeDep) -> Response:
    the_site = await run_in_threadpool(rt.site_named, site)
    article = await run_in_threadpool(
        discussion.get_article_by_id, rt.db, article_id, site_id=the_site.id
    )
    return await _discussion_stream(request, rt, article)


@router.get("/admin/events", include_in_schema=False)
async def desk_events(
    request: Request, rt: RuntimeDep, site: SiteDep, _staff: DeskStaffDep
) -> Response:
    counts = await run_in_threadpool(desk.read_counts, rt.db, site_id=site.id, now=utcnow())

    def ready(opened: Opened) -> bytes:
        kind = "reset" if opened.reset else "ready"
        return frame(opened.head, kind, {"counts": counts})

    return await _open(request, rt, desk_topic(site.id), ready)


class LiveFeed:
    """Turns the use cases' events into live events; runs in the thread that wrote."""

    def __init__(
        self,
        rt: Runtime,
        hub: Hub,
        render: Callable[..., str],
        languages: tuple[str, ...] = (SOURCE_LANGUAGE,),
    ) -> None:
        self.rt = rt
        self.hub = hub
        self.render = render
        self.languages = languages

    def _in_every_language(self, template: str, **context: Any) -> tuple[str, dict[str, str]]:
        """The template in English, and in every language a page may be in (the page takes
        the one of its `<html lang>`): one event reaches readers of every language."""
        each = {
            code: self.render(template, lang=code, **context).strip() for code in self.languages
        }
        return each.get(SOURCE_LANGUAGE) or self.render(template, **context).strip(), each

    def connect(self, events: Events) -> None:
        events.connect(COMMENT_POSTED, self.posted)
        events.connect(COMMENT_APPROVED, self.approved)
        events.connect(COMMENT_EDITED, self.edited)
        events.connect(COMMENT_DELETED, self.deleted)
        events.connect(COMMENT_REPORTED, self.reported)

    def posted(self, _name: str, *, comment: Comment, article: Article) -> None:
        # The path of every post: nothing is read or rendered for a discussion (or a desk)
        # that no stream follows (`Hub.wanted`).
        if comment.status is Status.HELD:  # for the desk only
            if self.hub.wanted(desk_topic(article.site_id)):
                self._queue(article.site_id, "held", comment.id)
        elif self.hub.wanted(article_topic(article.id)):
            self._comment("comment", comment.id)

    def approved(self, _name: str, *, comment: Comment, article: Article) -> None:
        self._comment("approved", comment.id)
        self._queue(article.site_id, "changed", comment.id)

    def edited(self, _name: str, *, comment: Comment, article: Article) -> None:
        on_page = self._comment("edited", comment.id)
        # Held by its edit, hidden by reports, or acted on at the desk: the queues moved.
        reason = "held" if comment.status is Status.HELD else "changed"
        if on_page is None and comment.status is Status.PUBLISHED:
            reason = "reported"
        self._queue(article.site_id, reason, comment.id)

    def deleted(self, _name: str, *, comment_id: int, article: Article) -> None:
        self._comment("deleted", comment_id)
        self._queue(article.site_id, "changed", comment_id)

    def reported(self, _name: str, *, comment_id: int, article: Article) -> None:
        self._queue(article.site_id, "reported", comment_id)

    def _comment(self, kind: str, comment_id: int) -> dict[str, Any] | None:
        """Publish the comment as its page shows it now, then the count; return the node's
        data (None when the page no longer shows it)."""
        on_page = live.comment_on_page(
            self.rt.db, comment_id, max_level=self.rt.settings.display_depth
        )
        article = on_page.article
        topic = article_topic(article.id)
        data: dict[str, Any] = {"id": comment_id, "html": None}
        if on_page.node is not None:
            comment = on_page.node.comment
            page = ThreadPage(nodes=[on_page.node], next_cursor=None, top_level_total=0)
            data = {
                "id": comment.id,
                "parent_id": comment.parent_id,
                "number": comment.number,
                "depth": comment.depth,
                "level": on_page.node.level,
            }
            data["html"], data["html_lang"] = self._in_every_language(
                "_comments.html", article=article, page=page
            )
        if on_page.node is not None or kind != "comment":
            self.hub.publish(topic, kind, {**data, "version": article.version})
        heading, headings = self._in_every_language("_count.html", article=article)
        self.hub.publish(
            topic,
            "count",
            {
                "count": article.comment_count,
                "heading": heading,
                "heading_lang": headings,
                "version": article.version,
            },
        )
        return data if on_page.node is not None else None

    def _queue(self, site_id: int, reason: str, comment_id: int) -> None:
        counts = desk.read_counts(self.rt.db, site_id=site_id, now=utcnow())
        self.hub.publish(
            desk_topic(site_id), "queue", {"reason": reason, "id": comment_id, "counts": counts}
        )
