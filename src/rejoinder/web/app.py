"""The app factory: settings in, a FastAPI app out. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rejoinder import __version__, metrics
from rejoinder.core.articlefile import ARTICLE_BODY_MAX
from rejoinder.live import make_hub
from rejoinder.runtime import Runtime, open_runtime, phrasebook_shelf, utcnow
from rejoinder.settings import Settings, load_settings
from rejoinder.usecases.privacy import purge
from rejoinder.web import (
    api_docs,
    desk,
    feeds,
    health,
    live,
    notify,
    pages,
    privacy,
    translations,
    verification,
)
from rejoinder.web.closing import ClosingRules
from rejoinder.web.cookies import Identity
from rejoinder.web.deferred import DeferredRoutes
from rejoinder.web.deps import LoginRequired
from rejoinder.web.errors import install_error_handlers
from rejoinder.web.hardening import BodyLimit, SecurityHeaders, body_limits
from rejoinder.web.i18n import load_languages, script_messages
from rejoinder.web.metrics import RequestMetrics
from rejoinder.web.metrics import router as metrics_router
from rejoinder.web.origins import EmbedCors
from rejoinder.web.params import QueryWithoutNul
from rejoinder.web.readcache import ReadCache
from rejoinder.web.rendering import site_renderer
from rejoinder.web.reports import router as reports_router
from rejoinder.web.sender import Elsewhere, flush_notices, make_outbox

STATIC = Path(__file__).with_name("static")
log = logging.getLogger("rejoinder.web")


async def _purge_daily(rt: Runtime) -> None:
    """The personal data of refused submissions and of held and rejected comments is kept for
    the retention period, then goes (`usecases.privacy.purge`): checked once a day."""
    while True:
        await asyncio.sleep(60)
        try:
            await run_in_threadpool(
                lambda: purge(rt.db, now=utcnow(), retention_days=rt.settings.retention_days)
            )
        except Exception:
            log.exception("daily purge of expired personal data failed")
        await asyncio.sleep(24 * 3600 - 60)


async def _to_login(_request: Request, exc: LoginRequired) -> Response:
    from rejoinder.web.desk.login import login_redirect  # raised by desk routes only

    return login_redirect(exc)


WARM_AFTER_SECONDS = 1.0


def _api_routers() -> list[APIRouter]:
    from rejoinder.web import api

    return [api.router]


#: The widget's paths: its scripts, its fragments and calls, and its admin API.
EMBED_PREFIXES = ("/embed", "/embed.js", "/embed.css", "/count.js", "/api/v1/admin/sites")


def _embed_routers() -> list[APIRouter]:
    from rejoinder.web import embed

    return [embed.router, embed.admin_router]


def _adopt_routes(app: FastAPI, router: APIRouter | DeferredRoutes) -> None:
    """Put a module's routes (or a placeholder for them) on the app as they are.
    `include_router` would have FastAPI build each route a second time for its place in the
    app (since 0.16x lazily, at the first request that walks past it: 10 ms a route, a
    quarter of a second before the first answer of a fresh worker); the modules' routers
    carry no prefix, tags or dependencies of their own to combine, so the routes built at
    import are already the app's."""
    if isinstance(router, DeferredRoutes):
        app.router.routes.append(router)
        return
    if router.on_startup or router.on_shutdown:
        raise ValueError("a router with its own lifespan must be included, not adopted")
    app.router.routes.extend(router.routes)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. With no arguments (as uvicorn's factory), settings come from the env."""
    settings = settings or (runtime.settings if runtime else load_settings())
    rt = runtime or open_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if rt.moderator is not None:
            # Every threat, insult and group-attack pattern before the first request (a
            # fraction of a second); the other phases' word lists in the background, and the
            # model on first use.
            rt.moderator.prepare(phrasebook_shelf(rt.settings))

        def warm_up() -> None:
            try:
                for routes in deferred:
                    try:
                        routes.load_now()
                    except Exception:  # the first request for them tries again, and answers
                        log.exception("routes under %s could not be made in the background", routes)
                if rt.moderator is not None:
                    rt.moderator.warm(utcnow())
            finally:
                if resume_collector:
                    # The start's objects are made: they are set aside for good, and the
                    # collector runs again, on what requests make.
                    gc.collect()
                    gc.freeze()
                    gc.enable()

        # The deferred routes and the moderation word lists are made in a thread that starts a
        # moment after the worker listens: started at once, it took the GIL from the first
        # requests (a first answer 0.1 s later). A request that comes before it ends makes
        # what it needs itself. `rejoinder serve` pauses the garbage collector for its start
        # (cli/serve.py): the thread resumes it when it is done.
        resume_collector = not gc.isenabled()
        warm = threading.Thread(target=warm_up, name="warm", daemon=True)
        asyncio.get_running_loop().call_later(WARM_AFTER_SECONDS, warm.start)
        purging = asyncio.create_task(_purge_daily(rt))
        if outbox is not None:
            sender = outbox.sender
            sending = asyncio.create_task(sender.run())
            loop = asyncio.get_running_loop()

            def wake(_name: str, **_: Any) -> None:
                # A write in this worker may have put something in the outbox: look at once
                # rather than at the next poll (events fire in the request's thread).
                if not loop.is_closed():
                    loop.call_soon_threadsafe(sender.wake)

            rt.events.connect_all(wake)
            flushing = asyncio.create_task(flush_notices(rt, sender))
        await hub.start()
        yield
        await hub.close()
        purging.cancel()
        if outbox is not None:
            flushing.cancel()
            with suppress(asyncio.CancelledError):
                await flushing  # its transaction ends before the runtime closes
            # A delivery cut short stays claimed until its lease ends, then is tried again.
            sender.stop()
            sending.cancel()
            with suppress(asyncio.CancelledError):
                await sending
            await sender.finish()  # its last transaction, before the runtime closes
            await outbox.close()
        metrics.worker_exited(os.getpid())
        if runtime is None:
            rt.close()

    app = FastAPI(
        title="Rejoinder API",
        version=__version__,
        summary="Articles, threaded comments and counts for the discussion under the news.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # a page of our own (api_docs.py): Swagger UI would load from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.languages = load_languages()
    app.state.script_messages = script_messages()
    render = site_renderer(rt, app.state.languages, app.state.script_messages)
    app.state.runtime = rt

    def render_page(template: str, /, **ctx: Any) -> str:
        return render(template, **{"site": rt.default_site, **ctx})

    app.state.render = render_page
    # Each worker sends, unless `rejoinder serve` runs the host's one sender process
    # (web/sender.py): then a worker only queues messages.
    outbox = None
    if settings.outbox_sender == "worker":
        outbox = make_outbox(rt, render, app.state.languages)
        app.state.sender = outbox.sender
        # The deliverers by kind, kept for whatever else sends the outbox's messages.
        app.state.deliverers = dict(outbox.deliverers)
    else:
        app.state.sender = Elsewhere()
        app.state.deliverers = {}
    hub = make_hub(settings.redis_url, rt.secret_key)
    app.state.hub = hub
    live.LiveFeed(rt, hub, render_page, tuple(app.state.languages)).connect(rt.events)
    app.state.identity = Identity(
        rt.secret_key,
        window_seconds=settings.edit_window_minutes * 60,
        secure=settings.cookies_secure,
    )
    app.state.api_cache = ReadCache(rt.changes, name="api")
    app.state.html_cache = ReadCache(rt.changes, name="html")
    app.state.closing = ClosingRules(rt.changes)
    install_error_handlers(app)
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    # The JSON API's, the widget's and the desk's routes are made when first asked for, or in
    # the background a moment after the worker listens (lifespan above), whichever comes
    # first; each placeholder stands where its routes go.
    api_routes = DeferredRoutes(app.router, ("/api/v1",), _api_routers)
    embed_routes = DeferredRoutes(app.router, EMBED_PREFIXES, _embed_routers)
    desk_routes = DeferredRoutes(app.router, desk.PREFIXES, desk.routers)
    deferred = (api_routes, embed_routes, desk_routes)
    app.state.deferred_routes = deferred
    for router in (
        api_routes,
        live.router,
        feeds.router,
        pages.router,
        translations.router,
        embed_routes,
        reports_router,
        health.router,
        metrics_router,
        verification.router,
        notify.router,
        privacy.router,
    ):
        _adopt_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _adopt_routes(app, api_docs.router)
    app.router.routes.append(desk_routes)
    whole_schema = app.openapi

    def openapi() -> dict[str, Any]:
        for routes in deferred:  # every route is part of the document
            routes.load_now()
        return whole_schema()

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(QueryWithoutNul)
    app.add_middleware(BodyLimit, limit_for=body_limits(settings.body_max, ARTICLE_BODY_MAX))
    app.add_middleware(EmbedCors, runtime=rt)
    app.add_middleware(SecurityHeaders, origins_for=lambda host: rt.site_for_host(host).origins)
    app.add_middleware(RequestMetrics)  # outermost of ours: it sees every answer's status
    return app
